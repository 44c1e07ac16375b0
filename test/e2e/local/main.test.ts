import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateApiKey } from '#commons/auth/api-keys.js';
import { PROJECT_ROOT } from '../../../local/stack.js';
import { eventually, target } from '../client.js';
import { startLocalChild } from '../target.js';

/** `npm start` as a process: what it writes, what it prints without Java, and that it leaves nothing running. */

const serves = (url: string) =>
  fetch(url).then(
    () => true,
    () => false,
  );

describe.skipIf(target.name !== 'local')('local stack: the npm start process', () => {
  it('says how to install Java when there is none', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PATH: '/nonexistent', PORT: '0', WS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('DynamoDB Local needs Java 17 or newer');
    expect(stderr).toContain('apt-get install openjdk-17-jre-headless');
  });

  it('writes its endpoints file, and on SIGTERM stops everything and removes it', async () => {
    const child = await startLocalChild();
    expect(child.state).toMatchObject({
      pid: child.process.pid,
      restUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      dynamodbEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      region: expect.any(String),
      apiKeysTable: expect.any(String),
    });
    expect(Object.values(child.state.tables)).toContain(child.state.apiKeysTable);
    // It holds the dev tenant's key: readable by this user only.
    expect((await stat(child.stateFile)).mode & 0o777).toBe(0o600);
    expect(await serves(`${child.state.restUrl}/health`)).toBe(true);

    const exited = once(child.process, 'exit');
    child.process.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    expect(existsSync(child.stateFile)).toBe(false);
    await child.stop();
    expect(await serves(child.state.dynamodbEndpoint)).toBe(false);
    expect(await serves(child.state.restUrl)).toBe(false);
  });

  it('keeps its data across restarts with DATA_DIR, the same DEV_API_KEY included', async () => {
    const dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'local-data-')), 'not-yet-created');
    const env = { DATA_DIR: dataDir, DEV_API_KEY: generateApiKey() };
    const headers = { Authorization: `Bearer ${env.DEV_API_KEY}` };
    try {
      const first = await startLocalChild(env);
      const created = await fetch(`${first.state.restUrl}/jobs`, { method: 'POST', headers, body: JSON.stringify({ kind: 'LINEAR', data: [{ x: 0, y: 1 }] }) });
      expect(created.status).toBe(202);
      const { jobId } = (await created.json()) as { jobId: string };
      expect(await first.stop()).toBe(0);

      const second = await startLocalChild(env);
      const job = await fetch(`${second.state.restUrl}/jobs/${jobId}`, { headers });
      expect(job.status).toBe(200);
      expect(await second.stop()).toBe(0);
    } finally {
      await rm(path.dirname(dataDir), { recursive: true, force: true });
    }
  });

  it('exits non-zero, naming it, when DynamoDB Local dies under it (instead of answering 500 forever)', async () => {
    const child = await startLocalChild();
    const exited = once(child.process, 'exit');
    process.kill(child.state.dynamodbPid, 'SIGKILL');
    const [code] = await exited;
    expect(code).toBe(1);
    expect(child.output()).toMatch(
      new RegExp(`DynamoDB Local \\(pid ${child.state.dynamodbPid}\\) exited on SIGKILL: the stack cannot serve without it, stopping`),
    );
    expect(existsSync(child.stateFile)).toBe(false);
    expect(await serves(child.state.restUrl)).toBe(false);
    await child.stop();
  });

  it('does not leave DynamoDB Local running when it is killed outright', async () => {
    const child = await startLocalChild();
    expect(await serves(child.state.dynamodbEndpoint)).toBe(true);
    child.process.kill('SIGKILL');
    await eventually(
      'DynamoDB Local to stop after its parent was killed',
      async () => ((await serves(child.state.dynamodbEndpoint)) ? undefined : true),
      15_000,
    );
    await child.stop();
  });
});
