import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createJob, eventually, expectError, finishedJob, target } from './client.js';
import { rj } from './rj.js';

/**
 * Uploads past the multipart threshold, end to end: the CLI on the typed client
 * sends the parts to presigned URLs and completes the upload, the bucket announces
 * the object, and it is validated and trained on like a POST upload. The offline
 * stack of the run uses a 1 MiB threshold and 256 KiB parts (test/e2e/target.ts);
 * a target whose threshold is higher (AWS: 5 GiB) answers a presigned POST for this
 * file, and these checks are skipped there.
 */

let dir: string;
let file: string;
let bytes: Buffer;
const ROWS = 100_000;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rj-multipart-'));
  file = path.join(dir, 'line.csv');
  // y = 2x + 1 exactly, 1.23 MB: five parts of 256 KiB, the last shorter.
  const lines = Array.from({ length: ROWS }, (_, i) => `${i},${2 * i + 1}`);
  await writeFile(file, `x,y\n${lines.join('\n')}\n`);
  bytes = await readFile(file);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** POST /datasets declaring the file's size: the dataset, or undefined when the target answers a presigned POST. */
async function createMultipart(key = target.keyA): Promise<any> {
  const created = await api('POST', '/datasets', { key, body: { sizeBytes: bytes.length } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.uploadMethod === 'MULTIPART' ? created.body : undefined;
}

const settled = (datasetId: string) =>
  eventually(`dataset ${datasetId} to be validated`, async () => {
    const reply = await api('GET', `/datasets/${datasetId}`, { key: target.keyA });
    return reply.body.status === 'READY' || reply.body.status === 'INVALID' ? reply.body : undefined;
  });

describe(`multipart uploads on ${target.name}`, () => {
  it('rj datasets upload: parts with a progress line, completed, validated READY, trained on exactly', async (context) => {
    const probe = await createMultipart();
    if (!probe) return context.skip(`the target answers a presigned POST for ${bytes.length} bytes: its multipart threshold is higher`);

    const run = await rj(['datasets', 'upload', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^uploaded 0% \(0 B of 1\.\d MB\)$/m);
    expect(run.stderr).toMatch(/^uploaded 100% \(1\.\d MB of 1\.\d MB\)$/m);
    const [datasetId, status, rows] = run.stdout.trim().split(/\s+/);
    expect([status, rows]).toEqual(['READY', String(ROWS)]);
    expect((await api('GET', `/datasets/${datasetId}`, { key: target.keyA })).body).toMatchObject({ sizeBytes: bytes.length, columns: ['x', 'y'] });

    // The parts were put together in order: y = 2x + 1 comes back exactly.
    const job = await finishedJob((await createJob({ kind: 'LINEAR', datasetId, target: 'y' })).jobId);
    expect(job.status).toBe('COMPLETED');
    const model = (await api('GET', `/models/${job.modelId}`, { key: target.keyA })).body;
    expect(model.coefficients[0]).toBeCloseTo(2, 6);
    expect(model.intercept).toBeCloseTo(1, 6);
  });

  it('a part longer than its URL was signed for is refused by S3 (403 SignatureDoesNotMatch) and nothing of it is kept', async (context) => {
    const dataset = await createMultipart();
    if (!dataset) return context.skip('the target answers a presigned POST for this size');
    const { datasetId, partSizeBytes, partCount, parts } = dataset as { datasetId: string; partSizeBytes: number; partCount: number; parts: { url: string }[] };
    const put = async (url: string, body: Uint8Array) => {
      const response = await fetch(url, { method: 'PUT', body });
      return { status: response.status, text: await response.text() };
    };

    // 10% over the part size, as a 110 MiB PUT to a 100 MiB part URL.
    const oversized = await put(parts[0]!.url, Buffer.alloc(Math.ceil(partSizeBytes * 1.1), 0x31));
    expect(oversized.status, oversized.text).toBe(403);
    expect(oversized.text).toContain('<Code>SignatureDoesNotMatch</Code>');
    // The last part's URL is signed for the rest of the declared size: one byte more is refused as well.
    const rest = bytes.length - (partCount - 1) * partSizeBytes;
    const lastUrl = parts[partCount - 1]!.url;
    const longLast = await put(lastUrl, Buffer.concat([bytes.subarray(bytes.length - rest), Buffer.from('\n')]));
    expect(longLast.status, longLast.text).toBe(403);
    expect(longLast.text).toContain('<Code>SignatureDoesNotMatch</Code>');

    // Nothing kept: S3 holds no part, and the dataset has no object to validate.
    const state = await api('GET', `/datasets/${datasetId}/parts`, { key: target.keyA });
    expect(state.status).toBe(200);
    expect(state.body.uploaded).toEqual([]);
    expect((await api('GET', `/datasets/${datasetId}`, { key: target.keyA })).body).toMatchObject({ status: 'PENDING_UPLOAD', sizeBytes: null });

    // The same URLs take their parts at their exact lengths.
    expect((await put(parts[0]!.url, bytes.subarray(0, partSizeBytes))).status).toBe(200);
    expect((await put(lastUrl, bytes.subarray(bytes.length - rest))).status).toBe(200);
    const held = await api('GET', `/datasets/${datasetId}/parts`, { key: target.keyA });
    expect(held.body.uploaded.map((part: { partNumber: number; sizeBytes: number }) => [part.partNumber, part.sizeBytes])).toEqual([
      [1, partSizeBytes],
      [partCount, rest],
    ]);
  });

  it('completion checks every ETag and the tenant, happens once, and an interrupted upload resumes from the parts S3 holds', async (context) => {
    const dataset = await createMultipart();
    if (!dataset) return context.skip('the target answers a presigned POST for this size');
    const { datasetId, partSizeBytes, partCount, parts } = dataset as { datasetId: string; partSizeBytes: number; partCount: number; parts: { url: string }[] };
    expect(partCount).toBe(Math.ceil(bytes.length / partSizeBytes));

    // Part 1 only, then the upload "stops".
    const first = await fetch(parts[0]!.url, { method: 'PUT', body: bytes.subarray(0, partSizeBytes) });
    expect(first.status, await first.text()).toBe(200);
    const etag = first.headers.get('etag') as string;
    const all = (etag1: string) =>
      Array.from({ length: partCount }, (_, index) => ({ partNumber: index + 1, etag: index === 0 ? etag1 : '"0123456789abcdef0123456789abcdef"' }));

    const state = await api('GET', `/datasets/${datasetId}/parts`, { key: target.keyA });
    expect(state.status).toBe(200);
    expect(state.body.uploaded).toEqual([{ partNumber: 1, etag, sizeBytes: partSizeBytes }]);
    expect(state.body.parts.map((part: { partNumber: number }) => part.partNumber)).toEqual(Array.from({ length: partCount - 1 }, (_, index) => index + 2));

    expectError(await api('POST', `/datasets/${datasetId}/complete`, { key: target.keyA, body: { parts: [{ partNumber: 1, etag }] } }), 400, 'INVALID_PART');
    expectError(await api('POST', `/datasets/${datasetId}/complete`, { key: target.keyA, body: { parts: all(etag) } }), 400, 'INVALID_PART');
    expectError(await api('POST', `/datasets/${datasetId}/complete`, { key: target.keyA, body: { parts: [{ partNumber: 1 }] } }), 400, 'VALIDATION_ERROR');
    expectError(await api('POST', `/datasets/${datasetId}/complete`, { key: target.keyB, body: { parts: all(etag) } }), 404, 'NOT_FOUND');
    expectError(await api('GET', `/datasets/${datasetId}/parts`, { key: target.keyB }), 404, 'NOT_FOUND');

    const resumed = await rj(['datasets', 'upload', file, '--resume', datasetId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    // Part 1 was kept: the first figure is its bytes, not 0.
    expect(resumed.stderr).not.toMatch(/^uploaded 0% /m);
    expect(resumed.stdout).toMatch(new RegExp(`^${datasetId}  READY  ${ROWS} rows`));

    expectError(await api('POST', `/datasets/${datasetId}/complete`, { key: target.keyA, body: { parts: all(etag) } }), 409, 'UPLOAD_ALREADY_COMPLETE');
    expectError(await api('GET', `/datasets/${datasetId}/parts`, { key: target.keyA }), 409, 'UPLOAD_ALREADY_COMPLETE');
    const posted = await api('POST', '/datasets', { key: target.keyA, body: {} });
    expect(posted.body.uploadMethod).toBe('POST');
    expectError(
      await api('POST', `/datasets/${posted.body.datasetId}/complete`, { key: target.keyA, body: { parts: all(etag) } }),
      409,
      'NOT_A_MULTIPART_UPLOAD',
    );
    await settled(datasetId);
  });
});
