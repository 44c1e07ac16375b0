import { connect as connectTcp } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_LIMITS } from '#domain/rate-limits.js';
import { api, createJob, expectError, finishedJob, type Reply, type RequestOptions, rateLimited, target } from './client.js';

/**
 * No numeric edge value in any field of any request gets a 5xx: every number a
 * body or query can carry is sent with each value of EDGES, written into the JSON
 * text as it is (so `1e400` is Infinity once parsed and `9007199254740993` loses
 * its last digit), and every answer must be below 500 and, when a 4xx, in the
 * error shape with a code. Every job created ends (COMPLETED, or FAILED with the
 * reason its data gives), never left QUEUED or RUNNING. The answers are also
 * checked against docs/openapi.json (client.ts), so a prediction that overflows
 * to a null would fail here too.
 */

const EDGES = [
  '0',
  '-0',
  '1e-320',
  '5e-324',
  '1e-200',
  '1e-130',
  '1e-100',
  '1e100',
  '1e126',
  '1e308',
  '-1e308',
  '1.7976931348623157e308',
  '9007199254740993',
  '-1',
  '0.5',
  '123456789012345678901234567890',
  '1e400',
  '-1e400',
] as const;

const NO_SUCH_DATASET = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2E';
const NO_SUCH_JOB = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C';
const ERROR_CODE = /^[A-Z][A-Z0-9_]*$/;

/** A request with one edge value in it: `@` in the body or path is replaced by the value's JSON text. */
interface Probe {
  field: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

const points = (x0: string, y0: string) => `[{"x":[${x0}],"y":${y0}},{"x":[1],"y":3},{"x":[2],"y":5},{"x":[3],"y":8}]`;

/** Every numeric field of every JSON body (and the page size of every list), as a template. */
function probes(modelId: string): Probe[] {
  return [
    { field: 'POST /jobs alpha', method: 'POST', path: '/jobs', body: `{"kind":"RIDGE","alpha":@,"data":${points('0', '1')}}` },
    { field: 'POST /jobs alphas', method: 'POST', path: '/jobs', body: `{"kind":"LASSO","alphas":[1,@],"data":${points('0', '1')}}` },
    {
      field: 'POST /jobs alphas (dataset)',
      method: 'POST',
      path: '/jobs',
      body: `{"kind":"RIDGE","datasetId":"${NO_SUCH_DATASET}","target":"y","alphas":[@]}`,
    },
    { field: 'POST /jobs data.x', method: 'POST', path: '/jobs', body: `{"kind":"LINEAR","data":${points('@', '1')}}` },
    { field: 'POST /jobs data.x (bare)', method: 'POST', path: '/jobs', body: `{"kind":"LINEAR","data":[{"x":@,"y":1},{"x":1,"y":3},{"x":2,"y":4}]}` },
    { field: 'POST /jobs data.y', method: 'POST', path: '/jobs', body: `{"kind":"RIDGE","alpha":0.5,"data":${points('0', '@')}}` },
    { field: 'predict x', method: 'POST', path: `/models/${modelId}/predict`, body: '{"x":@}' },
    { field: 'predict x (array)', method: 'POST', path: `/models/${modelId}/predict`, body: '{"x":[@]}' },
    { field: 'predict inputs', method: 'POST', path: `/models/${modelId}/predict`, body: '{"inputs":[[1],[@]]}' },
    { field: 'POST /datasets sizeBytes', method: 'POST', path: '/datasets', body: '{"sizeBytes":@}' },
    {
      field: 'POST /datasets/{id}/complete partNumber',
      method: 'POST',
      path: `/datasets/${NO_SUCH_DATASET}/complete`,
      body: '{"parts":[{"partNumber":@,"etag":"\\"0f343b0931126a20f133d67c2b018a3b\\""}]}',
    },
    { field: 'GET /jobs limit', method: 'GET', path: '/jobs?limit=@' },
    { field: 'GET /models limit', method: 'GET', path: '/models?limit=@' },
    { field: 'GET /jobs/{id}/events limit', method: 'GET', path: `/jobs/${NO_SUCH_JOB}/events?limit=@` },
  ];
}

/**
 * Sends a request as a client told to wait would: after a 429 RATE_LIMITED, again
 * after Retry-After; after TOO_MANY_ACTIVE_JOBS, again once the jobs created so far
 * have ended. At most 5 tries, so the loop is bounded.
 */
async function send(method: string, path: string, options: RequestOptions, waitForJobs: () => Promise<void>): Promise<Reply> {
  let reply = await api(method, path, options);
  for (let tries = 1; tries < 5 && reply.status === 429; tries++) {
    if (rateLimited(reply)) await new Promise((resolve) => setTimeout(resolve, 1000 * Number(reply.headers.get('retry-after') ?? 1)));
    else await waitForJobs();
    reply = await api(method, path, options);
  }
  return reply;
}

describe(`numeric edge values on ${target.name}: never a 5xx`, () => {
  let modelId: string;

  beforeAll(async () => {
    // A TRAINED one-feature model (y = 2x + 1) to predict with.
    const job = await createJob({ kind: 'LINEAR', data: [0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 1 })) });
    expect((await finishedJob(job.jobId)).status).toBe('COMPLETED');
    modelId = job.modelId;
  });

  it('answers every edge value in every numeric field below 500, in the error shape when refused, and ends every job it created', async () => {
    const created: string[] = [];
    const ended = new Map<string, { status: string; error: { code: string } | null }>();
    const waitForJobs = async () => {
      for (const jobId of created) if (!ended.has(jobId)) ended.set(jobId, await finishedJob(jobId));
    };
    const problems: string[] = [];

    for (const probe of probes(modelId)) {
      for (const value of EDGES) {
        const path = probe.path.replace('@', encodeURIComponent(value));
        const body = probe.body?.replace('@', value);
        const what = `${probe.field} = ${value}`;
        let reply: Reply;
        try {
          reply = await send(probe.method, path, { key: target.keyA, ...(body === undefined ? {} : { body }) }, waitForJobs);
        } catch (error) {
          // An answer that breaks docs/openapi.json (client.ts checks every one).
          problems.push(`${what}: ${(error as Error).message}`);
          continue;
        }
        if (reply.status >= 500) problems.push(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
        else if (reply.status >= 400 && !(ERROR_CODE.test(reply.body?.error?.code) && typeof reply.body?.error?.message === 'string')) {
          problems.push(`${what}: ${reply.status} without the error shape: ${JSON.stringify(reply.body)}`);
        }
        if (reply.status === 202 && probe.path === '/jobs') created.push(reply.body.jobId);
      }
    }
    await waitForJobs();
    // The sweep spends the tenant's burst: let its bucket refill before the tests after it (here and in the next
    // files, which use the same key) send theirs.
    const { burstLimit, rateLimit } = DEFAULT_TENANT_LIMITS;
    await new Promise((resolve) => setTimeout(resolve, (1000 * burstLimit) / rateLimit + 500));

    expect(problems).toEqual([]);
    // Edge data is trained or refused for its reason: never stuck, never an unexplained TRAINING_ERROR.
    const outcomes = [...ended.values()].map((job) => (job.status === 'FAILED' ? `FAILED ${job.error?.code}` : job.status));
    expect(outcomes.length).toBeGreaterThan(0);
    expect(new Set(outcomes)).toEqual(new Set(['COMPLETED', 'FAILED NUMERIC_OVERFLOW']));
  });

  it('answers alpha 1e308 with 400 VALIDATION_ERROR naming alpha, and creates no job', async () => {
    const newest = async () => (await api('GET', '/jobs?limit=1', { key: target.keyA })).body.items[0]?.jobId;
    const before = await newest();

    const reply = await api('POST', '/jobs', { key: target.keyA, body: `{"kind":"RIDGE","alpha":1e308,"data":${points('0', '1')}}` });

    expectError(reply, 400, 'VALIDATION_ERROR');
    expect(reply.body.error.details).toEqual([{ path: 'alpha', message: 'must be from 1e-100 to 1e+100' }]);
    expect(await newest()).toBe(before);
  });

  it('fails a job whose fit is finite but past what a model can store with NUMERIC_OVERFLOW', async () => {
    // y near 1e130: the triangle is finite (squares near 1e260), the slope and intercept are past 1e126.
    const job = await createJob({ kind: 'LINEAR', data: [2e130, 3e130, 5e130, 8e130].map((y, x) => ({ x, y })) });
    const finished = await finishedJob(job.jobId);
    expect({ status: finished.status, code: finished.error?.code }).toEqual({ status: 'FAILED', code: 'NUMERIC_OVERFLOW' });
    expect(finished.error.message).toMatch(/outside the range a model can store/);
  });

  it('answers a prediction that overflows with 400 VALIDATION_ERROR naming the input, not a null', async () => {
    const reply = await api('POST', `/models/${modelId}/predict`, { key: target.keyA, body: { inputs: [[1], [1e308]] } });
    expectError(reply, 400, 'VALIDATION_ERROR');
    expect(reply.body.error.details).toEqual([
      { path: 'inputs.1', message: 'the prediction for this input is not a finite number: its values are too large for this model' },
    ]);
  });
});

/** What the offline stack's HTTP server refuses before any route (local/http-server.ts); a deployed gateway answers these itself. */
describe.skipIf(target.name !== 'local')('requests the offline gateway cannot parse', () => {
  it('answers an oversized header with 431 REQUEST_HEADER_FIELDS_TOO_LARGE in the error shape', async () => {
    const reply = await api('GET', '/health', { headers: { 'X-Pad': 'a'.repeat(20_000) } });
    expectError(reply, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
  });

  it('answers an oversized request line the same way', async () => {
    expectError(await api('GET', `/jobs?nextToken=${'a'.repeat(20_000)}`, { key: target.keyA }), 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
  });

  it('answers a request that is not HTTP with 400 BAD_REQUEST in the error shape', async () => {
    const url = new URL(target.restUrl);
    const socket = connectTcp(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => {}); // what the server wrote before closing is what counts
    socket.write('POST /jobs HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n');
    await closed;
    const [head = '', body = ''] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(body)).toEqual({ error: { code: 'BAD_REQUEST', message: 'the request is not valid HTTP' } });
  });
});
