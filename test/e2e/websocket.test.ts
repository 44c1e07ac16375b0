import { afterEach, describe, expect, it } from 'vitest';
import { closeSockets, connect as connectSocket, createJob, finishedJob, points, type SocketClient, skipReason, TERMINAL, target } from './client.js';

/**
 * Live job status over the WebSocket API (docs/api.md, docs/asyncapi.json), end to end: connect
 * with a key, subscribe, and see every change of a job as it happens, the job
 * shape identical to GET /jobs/{jobId}, and nothing of another tenant's.
 * A target without API Gateway v2 (LocalStack without a licence) skips it, with the reason.
 */

const wsUrl = skipReason('websocket') === undefined ? target.wsUrl : undefined;
const skipped = skipReason('websocket') ?? `${target.label} reports no WebSocket URL`;
const STATUS_ORDER = ['QUEUED', 'RUNNING', ...TERMINAL];

afterEach(() => {
  for (const client of clients.splice(0)) client.checkContract();
  closeSockets();
});

/** Every client a test opened, so each one's frames are checked against docs/asyncapi.json at the end. */
const clients: SocketClient[] = [];
async function connect(token: string | undefined): Promise<SocketClient> {
  const client = await connectSocket(token);
  clients.push(client);
  return client;
}

const line = points(
  Array.from({ length: 50 }, (_, i) => i),
  ([x]) => 3 - 0.5 * (x as number),
);

describe.skipIf(wsUrl === undefined)(`WebSocket API on ${target.name}`, () => {
  it('refuses a connection without a key, or with an unknown one, during the handshake', async () => {
    await expect(connect(undefined)).rejects.toThrow('HTTP 401');
    await expect(connect('rj_0000000000000000000000000000000000000000000')).rejects.toThrow('HTTP 401');
  });

  it("streams every change of the caller's jobs, in order, ending in the state GET returns", async () => {
    const client = await connect(target.keyA);
    expect(await client.request({ action: 'subscribe' })).toEqual({ type: 'subscribed', jobId: null });

    const job = await createJob({ kind: 'LINEAR', data: line });
    const final = await client.next((message) => message.type === 'job' && message.job.jobId === job.jobId && TERMINAL.includes(message.job.status));
    expect(final.job).toEqual(await finishedJob(job.jobId));
    expect(final.job.status).toBe('COMPLETED');

    // Changes close together may be coalesced into the newest, but never arrive older than one already sent.
    const seen = client.jobMessages(job.jobId).map((message) => message.job);
    const versions = seen.map((view) => view.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions.at(-1)).toBe(final.job.version);
    const ranks = seen.map((view) => STATUS_ORDER.indexOf(view.status));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const progress = seen.map((view) => view.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('answers a subscribe with the current state, so a job that already finished is not missed', async () => {
    const job = await createJob({ kind: 'RIDGE', alpha: 0.5, data: line });
    const finished = await finishedJob(job.jobId);

    const client = await connect(target.keyA);
    expect(await client.request({ action: 'subscribe', jobId: job.jobId })).toEqual({ type: 'job', job: finished });
  });

  it('follows one job after subscribing to it until it ends', async () => {
    const client = await connect(target.keyA);
    const job = await createJob({ kind: 'LASSO', alpha: 0.01, data: line });
    const snapshot = await client.request({ action: 'subscribe', jobId: job.jobId });
    expect(snapshot).toMatchObject({ type: 'job', job: { jobId: job.jobId, modelId: job.modelId, kind: 'LASSO' } });
    const final = TERMINAL.includes(snapshot.job.status)
      ? snapshot
      : await client.next((message) => message.type === 'job' && message.job.jobId === job.jobId && TERMINAL.includes(message.job.status));
    expect(final.job).toEqual(await finishedJob(job.jobId));
  });

  it('sends nothing more after an unsubscribe', async () => {
    const client = await connect(target.keyA);
    const witness = await connect(target.keyA);
    await client.request({ action: 'subscribe' });
    await witness.request({ action: 'subscribe' });
    expect(await client.request({ action: 'unsubscribe' })).toEqual({ type: 'unsubscribed', jobId: null });

    const job = await createJob({ kind: 'LINEAR', data: line });
    await witness.next((message) => message.type === 'job' && message.job.jobId === job.jobId && TERMINAL.includes(message.job.status));
    expect(client.jobMessages(job.jobId)).toEqual([]);
  });

  it("answers NOT_FOUND for another tenant's job, an unknown one or a malformed id, and never shows another tenant's changes", async () => {
    const owner = await connect(target.keyA);
    const other = await connect(target.keyB);
    expect(await other.request({ action: 'subscribe' })).toEqual({ type: 'subscribed', jobId: null });

    const job = await createJob({ kind: 'LINEAR', data: line });
    for (const jobId of [job.jobId, '01ARZ3NDEKTSV4RRFFQ69G5FAV', 'not-an-id']) {
      expect(await other.request({ action: 'subscribe', jobId })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    }
    expect(await owner.request({ action: 'subscribe', jobId: job.jobId })).toMatchObject({ type: 'job', job: { jobId: job.jobId } });
    await owner.next((message) => message.type === 'job' && message.job.jobId === job.jobId && TERMINAL.includes(message.job.status));

    expect(other.jobMessages(job.jobId)).toEqual([]);
  });

  it('answers UNKNOWN_ACTION for anything it does not understand, invalid JSON included', async () => {
    const client = await connect(target.keyA);
    for (const frame of ['not json', JSON.stringify({ action: 'cancel' }), JSON.stringify({ jobId: 'x' })]) {
      const answer = await client.request(frame);
      expect(answer).toMatchObject({ type: 'error', code: 'UNKNOWN_ACTION' });
      expect(typeof answer.message).toBe('string');
    }
  });
});

if (wsUrl === undefined) {
  describe(`WebSocket API on ${target.name}`, () => {
    it.skip(`is not checked: ${skipped}`, () => undefined);
  });
}
