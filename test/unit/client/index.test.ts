import { describe, expect, it } from 'vitest';
import { ApiError, type Job, newerJob, RegressionJobsClient } from '../../../client/index.js';

/**
 * The typed client over a scripted `fetch` (the end-to-end suite runs it against
 * the real API through the CLI): what it sends, how it surfaces errors, retries,
 * and waiting by polling when there is no WebSocket.
 */

const job = (changes: Partial<Job> = {}): Job => ({
  jobId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C',
  modelId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D',
  status: 'QUEUED',
  kind: 'LINEAR',
  alpha: null,
  fitIntercept: true,
  name: null,
  progress: 0,
  createdAt: '2026-11-30T12:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  error: null,
  attempts: 0,
  datasetId: null,
  alphas: null,
  modelIds: ['01JH5Z3V8Q6K9W2X4Y7Z0A1B2D'],
  version: 1,
  ...changes,
});

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

/** A fetch that answers from a script, in order, and records every request. */
function scripted(...answers: Array<Response | Error>) {
  const requests: Request[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    requests.push(request);
    const answer = answers.shift();
    if (answer === undefined) throw new Error(`unscripted request ${request.method} ${request.url}`);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { requests, fetch: fetch as typeof globalThis.fetch };
}

const clientWith = (fetch: typeof globalThis.fetch) => new RegressionJobsClient({ baseUrl: 'https://api.example.com/v1/', apiKey: 'rj_key', fetch });

describe('RegressionJobsClient', () => {
  it('sends the key as a bearer token and a fresh Idempotency-Key on every createJob', async () => {
    const { requests, fetch } = scripted(json(202, job(), { Location: '/jobs/x' }), json(202, job(), { Location: '/jobs/x' }));
    const client = clientWith(fetch);
    await client.createJob({ kind: 'LINEAR', data: [{ x: 1, y: 2 }] });
    await client.createJob({ kind: 'LINEAR', data: [{ x: 1, y: 2 }] });
    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST https://api.example.com/v1/jobs',
      'POST https://api.example.com/v1/jobs',
    ]);
    expect(requests[0]?.headers.get('Authorization')).toBe('Bearer rj_key');
    const keys = requests.map((request) => request.headers.get('Idempotency-Key'));
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[0]).not.toBe(keys[1]);
    expect(await requests[0]?.json()).toEqual({ kind: 'LINEAR', data: [{ x: 1, y: 2 }] });
  });

  it("retries a 503 with the same key, after the server's Retry-After", async () => {
    const { requests, fetch } = scripted(
      json(503, { error: { code: 'SERVICE_UNAVAILABLE', message: 'retry' } }, { 'Retry-After': '0' }),
      json(202, job(), { Location: '/jobs/x' }),
    );
    expect(await clientWith(fetch).createJob({ kind: 'LINEAR', data: [{ x: 1, y: 2 }] }, { idempotencyKey: 'mine' })).toEqual(job());
    expect(requests.map((request) => request.headers.get('Idempotency-Key'))).toEqual(['mine', 'mine']);
  });

  it('never retries WORKFLOW_START_FAILED or a 4xx: the server error is thrown as it is', async () => {
    const details = [{ path: 'alpha', message: 'alpha is not allowed for LINEAR' }];
    const { requests, fetch } = scripted(
      json(400, { error: { code: 'VALIDATION_ERROR', message: 'the request is invalid', details } }),
      json(503, { error: { code: 'WORKFLOW_START_FAILED', message: 'submit again' } }),
    );
    const client = clientWith(fetch);
    const invalid = await client.createJob({ kind: 'LINEAR', alpha: 1, data: [{ x: 1, y: 2 }] }).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(ApiError);
    expect({ ...(invalid as ApiError), message: (invalid as ApiError).message }).toMatchObject({
      status: 400,
      code: 'VALIDATION_ERROR',
      message: 'the request is invalid',
      details,
    });
    await expect(client.createJob({ kind: 'LINEAR', data: [{ x: 1, y: 2 }] })).rejects.toMatchObject({ status: 503, code: 'WORKFLOW_START_FAILED' });
    expect(requests).toHaveLength(2);
  });

  it('turns a request that gets no answer into ApiError UNREACHABLE', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const { fetch } = scripted(refused);
    await expect(clientWith(fetch).getJob('01JH5Z3V8Q6K9W2X4Y7Z0A1B2C')).rejects.toMatchObject({
      status: 0,
      code: 'UNREACHABLE',
      message: 'cannot reach https://api.example.com: ECONNREFUSED',
    });
  });

  it('walks every page of a list with nextToken', async () => {
    const first = job({ jobId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B20' });
    const second = job({ jobId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B21' });
    const { requests, fetch } = scripted(json(200, { items: [first], nextToken: 'page 2' }), json(200, { items: [second], nextToken: null }));
    const seen: string[] = [];
    for await (const each of clientWith(fetch).jobs({ status: 'QUEUED', pageSize: 1 })) seen.push(each.jobId);
    expect(seen).toEqual([first.jobId, second.jobId]);
    expect(requests.map((request) => new URL(request.url).search)).toEqual(['?status=QUEUED&limit=1', '?status=QUEUED&limit=1&nextToken=page%202']);
  });

  it('waits by polling without a WebSocket URL, reporting each newer state once', async () => {
    const { fetch } = scripted(
      json(200, job({ status: 'RUNNING', progress: 0.5, version: 3 })),
      json(200, job({ status: 'RUNNING', progress: 0.5, version: 3 })),
      json(200, job({ status: 'COMPLETED', progress: 1, version: 4 })),
    );
    const progress: string[] = [];
    const final = await clientWith(fetch).waitForJob('01JH5Z3V8Q6K9W2X4Y7Z0A1B2C', {
      pollIntervalMs: 1,
      onProgress: (state) => progress.push(`${state.status} ${state.progress}`),
    });
    expect(final.status).toBe('COMPLETED');
    expect(progress).toEqual(['RUNNING 0.5', 'COMPLETED 1']);
  });

  it('stops waiting when the signal aborts, without touching the job', async () => {
    const { requests, fetch } = scripted(json(200, job({ status: 'RUNNING', progress: 0.1 })));
    const controller = new AbortController();
    const waiting = clientWith(fetch).waitForJob('01JH5Z3V8Q6K9W2X4Y7Z0A1B2C', {
      pollIntervalMs: 60_000,
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stop')),
    });
    await expect(waiting).rejects.toThrow('stop');
    expect(requests.map((request) => request.method)).toEqual(['GET']);
  });
});

describe('dataset format and predictions by rows', () => {
  const DATASET_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2E';
  const MODEL_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D';
  const dataset = (status: string) => ({
    datasetId: DATASET_ID,
    name: 'iris.tsv',
    status,
    sizeBytes: 8,
    rows: status === 'READY' ? 1 : null,
    columns: status === 'READY' ? ['a', 'b'] : [],
    format: { delimiter: '\t', decimal: ',' },
    schema: null,
    error: null,
    createdAt: '2026-11-30T12:00:00.000Z',
    validatedAt: null,
    expiresAt: '2026-12-07T12:00:00.000Z',
  });
  const postUpload = {
    ...dataset('PENDING_UPLOAD'),
    uploadMethod: 'POST',
    uploadUrl: 'https://s3.example.com/b',
    fields: { key: 'datasets/acme/d.csv' },
    uploadExpiresAt: '2026-11-30T12:15:00.000Z',
    maxBytes: 1000,
  };

  it('createDataset sends delimiter and decimal in the body, and nothing it was not given', async () => {
    const { requests, fetch } = scripted(json(201, postUpload), json(201, postUpload));
    const client = clientWith(fetch);
    await client.createDataset({ name: 'iris.tsv', sizeBytes: 8, delimiter: '\t', decimal: ',' });
    await client.createDataset();
    expect(`${requests[0]?.method} ${requests[0]?.url}`).toBe('POST https://api.example.com/v1/datasets');
    expect(await requests[0]?.json()).toEqual({ name: 'iris.tsv', sizeBytes: 8, delimiter: '\t', decimal: ',' });
    expect(await requests[1]?.json()).toEqual({});
  });

  it('uploadDataset passes delimiter and decimal to POST /datasets with the size, then uploads and waits', async () => {
    const { requests, fetch } = scripted(json(201, postUpload), new Response(null, { status: 204 }), json(200, dataset('READY')));
    const file = new File(['a\tb\n1,5\t2\n'], 'iris.tsv');
    const ready = await clientWith(fetch).uploadDataset(file, { name: 'iris.tsv', delimiter: '\t', decimal: ',' });
    expect(ready.format).toEqual({ delimiter: '\t', decimal: ',' });
    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST https://api.example.com/v1/datasets',
      'POST https://s3.example.com/b',
      `GET https://api.example.com/v1/datasets/${DATASET_ID}`,
    ]);
    expect(await requests[0]?.json()).toEqual({ name: 'iris.tsv', sizeBytes: file.size, delimiter: '\t', decimal: ',' });
  });

  it('uploadDataset without format options sends neither (the server decides: , and .)', async () => {
    const { requests, fetch } = scripted(json(201, postUpload), new Response(null, { status: 204 }), json(200, dataset('READY')));
    await clientWith(fetch).uploadDataset(new File(['a,b\n1,2\n'], 'd.csv'), { waitUntilChecked: false });
    expect(await requests[0]?.json()).toEqual({ sizeBytes: 8 });
  });

  it('predictRows sends the rows by column name; predict still sends x and inputs as given', async () => {
    const answer = { modelId: MODEL_ID, predictions: [5.1, 6.2], timestamp: '2026-11-30T12:00:02.000Z' };
    const { requests, fetch } = scripted(json(200, answer), json(200, { ...answer, predictions: [1], value: 1 }));
    const client = clientWith(fetch);
    const rows = [
      { 'Sepal.Width': 3, Species: 'setosa' },
      { 'Sepal.Width': 2.5, Species: 'virginica' },
    ];
    expect(await client.predictRows(MODEL_ID, rows)).toEqual(answer);
    expect(await client.predict(MODEL_ID, { x: [1, 2] })).toMatchObject({ value: 1 });
    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      `POST https://api.example.com/v1/models/${MODEL_ID}/predict`,
      `POST https://api.example.com/v1/models/${MODEL_ID}/predict`,
    ]);
    expect(await requests[0]?.json()).toEqual({ rows });
    expect(await requests[1]?.json()).toEqual({ x: [1, 2] });
  });

  it("predictRows surfaces the server's refusal of an unknown level as ApiError, details and all", async () => {
    const details = [{ path: 'rows.0.Species', message: 'unknown level "setosaa"' }];
    const { fetch } = scripted(json(400, { error: { code: 'VALIDATION_ERROR', message: 'the request is invalid', details } }));
    await expect(clientWith(fetch).predictRows(MODEL_ID, [{ Species: 'setosaa' }])).rejects.toMatchObject({ status: 400, code: 'VALIDATION_ERROR', details });
  });
});

describe('newerJob', () => {
  it('keeps the state with the higher version, whatever the status says', () => {
    expect(newerJob(job({ version: 3, status: 'RUNNING' }), job({ version: 2, status: 'COMPLETED' }))).toBe(false);
    expect(newerJob(job({ version: 3 }), job({ version: 4 }))).toBe(true);
    expect(newerJob(job({ version: 4 }), job({ version: 4 }))).toBe(false);
    expect(newerJob(undefined, job())).toBe(true);
  });
});
