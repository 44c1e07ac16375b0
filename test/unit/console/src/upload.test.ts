import { describe, expect, it } from 'vitest';
import { partRanges, RegressionJobsClient, type UploadProgress } from '../../../../client/index.js';

/**
 * Dataset uploads in the typed client over a fake API and S3 (the end-to-end suite
 * runs the real thing offline): the upload the server chose, parts sliced and
 * retried, URLs renewed, resumption from the parts S3 holds, and progress.
 */

const DATASET_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C';
const API = 'https://api.example.com/v1';
const S3 = 'https://s3.example.com/b/datasets/acme/d.csv';
const CONTENT = 'a,b\n1,2\n3,4\n'; // 12 bytes: parts of 5 are 5, 5 and 2
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const dataset = (status: string) => ({
  datasetId: DATASET_ID,
  name: null,
  status,
  sizeBytes: 12,
  rows: status === 'READY' ? 2 : null,
  columns: status === 'READY' ? ['a', 'b'] : [],
  error: null,
  createdAt: '2026-11-30T12:00:00.000Z',
  validatedAt: null,
  expiresAt: '2026-12-07T12:00:00.000Z',
});
const partUrl = (partNumber: number, generation = 1) => ({ partNumber, url: `${S3}?partNumber=${partNumber}&uploadId=u&gen=${generation}` });

/** A fake of the API and S3, routed by method and URL; `failures` scripts the answers of given part PUTs first. */
function fakeService(options: { failures?: Record<string, Array<Response | Error>>; uploaded?: number[] } = {}) {
  const requests: string[] = [];
  const stored = new Map<number, string>();
  let completed: unknown;
  let generation = 1;
  const fetch = async (input: string | URL | Request) => {
    const request = input as Request;
    const url = new URL(request.url);
    const line = `${request.method} ${url.origin}${url.pathname}${url.search}`;
    requests.push(line);
    if (request.method === 'POST' && url.pathname === '/v1/datasets') {
      const body = (await request.json()) as { sizeBytes: number };
      return json(201, {
        ...dataset('PENDING_UPLOAD'),
        uploadMethod: 'MULTIPART',
        partSizeBytes: 5,
        partCount: Math.ceil(body.sizeBytes / 5),
        parts: [1, 2, 3].map((n) => partUrl(n)),
        uploadExpiresAt: '2026-11-30T12:15:00.000Z',
        maxBytes: 1000,
      });
    }
    if (request.method === 'GET' && url.pathname.endsWith('/parts')) {
      generation++;
      const have = options.uploaded ?? [];
      return json(200, {
        datasetId: DATASET_ID,
        partSizeBytes: 5,
        partCount: 3,
        uploaded: have.map((n) => ({ partNumber: n, etag: `"server-${n}"`, sizeBytes: partRanges(12, 5)[n - 1]!.end - partRanges(12, 5)[n - 1]!.start })),
        parts: [1, 2, 3].filter((n) => !have.includes(n)).map((n) => partUrl(n, generation)),
        uploadExpiresAt: '2026-11-30T12:30:00.000Z',
      });
    }
    if (request.method === 'PUT' && url.origin === 'https://s3.example.com') {
      const partNumber = Number(url.searchParams.get('partNumber'));
      const scripted = options.failures?.[`${partNumber}@${url.searchParams.get('gen')}`]?.shift();
      if (scripted instanceof Error) throw scripted;
      if (scripted) return scripted;
      stored.set(partNumber, await request.text());
      return new Response(null, { status: 200, headers: { ETag: `"etag-${partNumber}"` } });
    }
    if (request.method === 'POST' && url.pathname.endsWith('/complete')) {
      completed = await request.json();
      return json(200, dataset('VALIDATING'));
    }
    if (request.method === 'GET' && url.pathname === `/v1/datasets/${DATASET_ID}`) return json(200, dataset('READY'));
    throw new Error(`unexpected ${line}`);
  };
  return { requests, stored, completed: () => completed, fetch: fetch as typeof globalThis.fetch };
}

const clientWith = (fetch: typeof globalThis.fetch) => new RegressionJobsClient({ baseUrl: `${API}/`, apiKey: 'rj_key', fetch });

describe('uploadDataset, multipart', () => {
  it('declares the size, PUTs each slice to its URL, completes with every ETag in order, and reports bytes sent', async () => {
    const service = fakeService();
    const progress: UploadProgress[] = [];
    const done = await clientWith(service.fetch).uploadDataset(new Blob([CONTENT]), { name: 'd', onUploadProgress: (p) => progress.push(p) });

    expect(done).toMatchObject({ status: 'READY', rows: 2 });
    expect(service.requests[0]).toBe(`POST ${API}/datasets`);
    expect([...service.stored.entries()].sort()).toEqual([
      [1, 'a,b\n1'],
      [2, ',2\n3,'],
      [3, '4\n'],
    ]);
    expect(service.completed()).toEqual({
      parts: [
        { partNumber: 1, etag: '"etag-1"' },
        { partNumber: 2, etag: '"etag-2"' },
        { partNumber: 3, etag: '"etag-3"' },
      ],
    });
    expect(progress[0]).toEqual({ bytesSent: 0, totalBytes: 12, datasetId: DATASET_ID, uploadMethod: 'MULTIPART' });
    expect(progress.map((p) => p.bytesSent).sort((a, b) => a - b)).toEqual(progress.map((p) => p.bytesSent));
    expect(progress.at(-1)?.bytesSent).toBe(12);
  });

  it('sends a failed part again (a network error, then a 503), and fails after partAttempts', async () => {
    const flaky = fakeService({ failures: { '2@1': [new TypeError('fetch failed'), new Response('<Error><Code>SlowDown</Code></Error>', { status: 503 })] } });
    await clientWith(flaky.fetch).uploadDataset(new Blob([CONTENT]), { partConcurrency: 1, partRetryDelayMs: 1 });
    expect(flaky.requests.filter((line) => line.includes('partNumber=2'))).toHaveLength(3);
    expect(flaky.stored.get(2)).toBe(',2\n3,');

    const broken = fakeService({ failures: { '2@1': [new TypeError('fetch failed'), new TypeError('fetch failed')] } });
    await expect(
      clientWith(broken.fetch).uploadDataset(new Blob([CONTENT]), { partConcurrency: 1, partAttempts: 2, partRetryDelayMs: 1 }),
    ).rejects.toMatchObject({
      status: 0,
      code: 'UNREACHABLE',
    });
    expect(broken.completed()).toBeUndefined();
  });

  it("renews the URLs after a 403 (an expired URL) and does not retry S3's 400s", async () => {
    const expired = fakeService({
      failures: { '3@1': [new Response('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', { status: 403 })] },
    });
    await clientWith(expired.fetch).uploadDataset(new Blob([CONTENT]), { partConcurrency: 1, partRetryDelayMs: 1 });
    expect(expired.requests.filter((line) => line.includes('partNumber=3'))).toEqual([
      `PUT ${S3}?partNumber=3&uploadId=u&gen=1`,
      `PUT ${S3}?partNumber=3&uploadId=u&gen=2`,
    ]);
    expect(expired.requests).toContain(`GET ${API}/datasets/${DATASET_ID}/parts`);

    const refused = fakeService({
      failures: { '1@1': [new Response('<Error><Code>EntityTooLarge</Code><Message>too big</Message></Error>', { status: 400 })] },
    });
    await expect(clientWith(refused.fetch).uploadDataset(new Blob([CONTENT]), { partConcurrency: 1, partRetryDelayMs: 1 })).rejects.toMatchObject({
      status: 400,
      code: 'EntityTooLarge',
      message: 'upload refused: too big',
    });
    expect(refused.requests.filter((line) => line.includes('partNumber=1'))).toHaveLength(1);
  });

  it('resumes: keeps the parts S3 holds, sends only the others, completes with the ETags the server listed', async () => {
    const service = fakeService({ uploaded: [1, 3] });
    const progress: number[] = [];
    await clientWith(service.fetch).uploadDataset(new Blob([CONTENT]), { resumeDatasetId: DATASET_ID, onUploadProgress: (p) => progress.push(p.bytesSent) });
    expect(service.requests.some((line) => line === `POST ${API}/datasets`)).toBe(false);
    expect(service.requests.filter((line) => line.startsWith('PUT'))).toEqual([`PUT ${S3}?partNumber=2&uploadId=u&gen=2`]);
    expect(service.completed()).toEqual({
      parts: [
        { partNumber: 1, etag: '"server-1"' },
        { partNumber: 2, etag: '"etag-2"' },
        { partNumber: 3, etag: '"server-3"' },
      ],
    });
    // Parts 1 and 3 (5 + 2 bytes) count from the start.
    expect(progress).toEqual([7, 12]);
  });

  it('refuses to resume with a file of another size, or from a stream', async () => {
    const service = fakeService({ uploaded: [1] });
    await expect(clientWith(service.fetch).uploadDataset(new Blob(['a,b\n1,2\n']), { resumeDatasetId: DATASET_ID })).rejects.toMatchObject({
      code: 'SIZE_MISMATCH',
    });
    const stream = { stream: new Blob([CONTENT]).stream(), size: 12 };
    await expect(clientWith(service.fetch).uploadDataset(stream, { resumeDatasetId: DATASET_ID })).rejects.toMatchObject({ code: 'RESUME_NEEDS_A_FILE' });
    expect(service.requests.filter((line) => line.startsWith('PUT'))).toEqual([]);
  });

  it('cuts a stream into parts read in order', async () => {
    const service = fakeService();
    await clientWith(service.fetch).uploadDataset({ stream: new Blob([CONTENT]).stream(), size: 12 });
    expect([...service.stored.values()]).toEqual(['a,b\n1', ',2\n3,', '4\n']);
  });
});

describe('uploadDataset, presigned POST', () => {
  it('declares the size, sends the form, and reports bytes as they are read', async () => {
    const requests: Request[] = [];
    const fetch = (async (input: Request) => {
      requests.push(input);
      if (input.url === `${API}/datasets`)
        return json(201, {
          ...dataset('PENDING_UPLOAD'),
          uploadMethod: 'POST',
          uploadUrl: 'https://s3.example.com/b',
          fields: { key: 'datasets/acme/d.csv' },
          uploadExpiresAt: '2026-11-30T12:15:00.000Z',
          maxBytes: 1000,
        });
      if (input.url === 'https://s3.example.com/b') {
        await input.arrayBuffer();
        return new Response(null, { status: 204 });
      }
      return json(200, dataset('READY'));
    }) as typeof globalThis.fetch;
    const progress: number[] = [];
    await clientWith(fetch).uploadDataset(new Blob([CONTENT]), { onUploadProgress: (p) => progress.push(p.bytesSent) });
    expect(await requests[0]!.clone().json()).toEqual({ sizeBytes: 12 });
    expect(requests[1]!.headers.get('content-length')).not.toBeNull();
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(12);
  });
});

describe('partRanges', () => {
  it('cuts a size into parts, the last one shorter; an empty file is one empty part', () => {
    expect(partRanges(12, 5)).toEqual([
      { start: 0, end: 5 },
      { start: 5, end: 10 },
      { start: 10, end: 12 },
    ]);
    expect(partRanges(10, 5)).toHaveLength(2);
    expect(partRanges(0, 5)).toEqual([{ start: 0, end: 0 }]);
  });
});
