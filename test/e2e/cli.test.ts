import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob, target } from './client.js';
import { finished, rj, start } from './rj.js';

let dir: string;
let houses: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rj-cli-'));
  houses = path.join(dir, 'houses.csv');
  // price = 2 size + 3 rooms + 1, exactly: LINEAR recovers it.
  const rows = Array.from({ length: 40 }, (_, i) => [i, (i * 7) % 5]).map(([size, rooms]) => `${size},${rooms},${2 * size! + 3 * rooms! + 1}`);
  await writeFile(houses, `size,rooms,price\n${rows.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe(`rj CLI on ${target.name}`, () => {
  it('jobs create --csv … --target … --wait: uploads, trains with live progress, prints the fitted model', async () => {
    const run = await rj(['jobs', 'create', '--kind', 'LINEAR', '--csv', houses, '--target', 'price', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/uploading .*houses\.csv/);
    expect(run.stderr).toMatch(/dataset \w{26}: 40 rows, columns size, rooms, price/);
    expect(run.stderr).toMatch(/^COMPLETED 100%$/m); // the progress line of the final state
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\w{26} {2}COMPLETED {2}LINEAR/);
    expect(lines[1]).toMatch(/^model \w{26} {2}TRAINED {2}LINEAR$/);
    const coefficient = (name: string) =>
      Number(
        lines
          .find((line) => line.trim().startsWith(`${name} `))
          ?.trim()
          .split(/\s+/)[1],
      );
    expect(coefficient('intercept')).toBeCloseTo(1, 6);
    expect(coefficient('size')).toBeCloseTo(2, 6);
    expect(coefficient('rooms')).toBeCloseTo(3, 6);
    expect(run.stdout).toMatch(/n=40 {2}r2=1 {2}rmse=/);
  });

  it('--json prints the final job and model for scripts, and predict uses the model', async () => {
    const run = await rj(['jobs', 'create', '--kind', 'RIDGE', '--alpha', '0.5', '--csv', houses, '--target', 'price', '--wait', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { job, model } = JSON.parse(run.stdout);
    expect(job).toMatchObject({ status: 'COMPLETED', kind: 'RIDGE', alpha: 0.5, progress: 1 });
    expect(model).toMatchObject({ modelId: job.modelId, status: 'TRAINED', features: ['size', 'rooms'] });

    const predicted = await rj(['predict', model.modelId, '--x', '10,2', '--json']);
    expect(predicted.code, predicted.stderr).toBe(0);
    const expected = model.intercept + 10 * model.coefficients[0] + 2 * model.coefficients[1];
    expect(JSON.parse(predicted.stdout).value).toBeCloseTo(expected, 9);

    const listed = await rj(['jobs', 'list', '--limit', '1', '--json']);
    expect(JSON.parse(listed.stdout).map((item: { jobId: string }) => item.jobId)).toEqual([job.jobId]);
  });

  it.each([
    [
      'a missing file',
      ['jobs', 'create', '--kind', 'LINEAR', '--csv', '/nonexistent/houses.csv', '--target', 'price'],
      {},
      2,
      /^rj: no such file: \/nonexistent\/houses\.csv/,
    ],
    ['an unknown flag', ['jobs', 'list', '--colour'], {}, 2, /^rj: Unknown option '--colour'/],
    ['a bad number', ['predict', '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C', '--x', '1,two'], {}, 2, /^rj: --x must be a number, not "two"/],
    ['an unknown key (401)', ['jobs', 'list'], { RJ_API_KEY: 'rj_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 3, /^rj: 401 UNAUTHORIZED: /],
    ['an unreachable API', ['jobs', 'list'], { RJ_API_URL: 'http://127.0.0.1:9' }, 3, /^rj: UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:9/],
    [
      'a server-side validation error',
      ['jobs', 'create', '--kind', 'LINEAR', '--alpha', '1', '--dataset', '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C', '--target', 'y'],
      {},
      3,
      /^rj: 400 VALIDATION_ERROR: the request is invalid: alpha /,
    ],
  ])('%s: one line, no stack trace, the documented exit code', async (_, args, env, code, line) => {
    const run = await rj(args, env);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(line);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 when the job it waits for fails', async () => {
    const failing = await createJob({ kind: 'LINEAR', data: [{ x: 1, y: 1 }] }); // one point: INSUFFICIENT_DATA
    const run = await rj(['jobs', 'watch', failing.jobId]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAILED .*INSUFFICIENT_DATA/);
  });

  describe('Ctrl-C while waiting', () => {
    // A WebSocket endpoint that accepts the connection and never answers: the CLI waits until interrupted.
    let silent: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      silent = createServer((socket) => sockets.push(socket));
      silent.listen(0, '127.0.0.1');
      await once(silent, 'listening');
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });

    it('stops waiting, not the job, and says how to resume watching', async () => {
      const job = await createJob({
        kind: 'LINEAR',
        data: [
          { x: 0, y: 1 },
          { x: 1, y: 3 },
          { x: 2, y: 5 },
        ],
      });
      const address = silent.address() as { port: number };
      const child = start(['jobs', 'watch', job.jobId], { RJ_WS_URL: `ws://127.0.0.1:${address.port}` });
      const result = finished(child);
      // Interrupt once the CLI is connected to the silent socket, i.e. waiting.
      const deadline = Date.now() + 20_000;
      while (sockets.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sockets.length).toBeGreaterThan(0);
      child.kill('SIGINT');
      const run = await result;
      expect(run.code).toBe(130);
      expect(run.stderr).toContain(`stopped waiting; job ${job.jobId} keeps running. Resume with: npx rj jobs watch ${job.jobId}`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
