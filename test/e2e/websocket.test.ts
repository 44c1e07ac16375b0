import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createJob, finishedJob, points, skipReason, TERMINAL, target } from './client.js';

/**
 * Live job status over the WebSocket API (SPEC section 4), end to end: connect
 * with a key, subscribe, and see every change of a job as it happens, the job
 * shape identical to GET /jobs/{jobId}, and nothing of another tenant's.
 * A target without API Gateway v2 (LocalStack without a licence) skips it, with the reason.
 */

const wsUrl = skipReason('websocket') === undefined ? target.wsUrl : undefined;
const skipped = skipReason('websocket') ?? `${target.label} reports no WebSocket URL`;
const STATUS_ORDER = ['QUEUED', 'RUNNING', ...TERMINAL];

interface Message {
  type: string;
  [key: string]: any;
}

/** A connected client that records every frame it receives. */
class Client {
  readonly received: Message[] = [];
  private waiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as Message);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first message received since `from` (an index into `received`) that matches, waiting up to `timeoutMs`. */
  async next(matches: (message: Message) => boolean, from = 0, timeoutMs = 30_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(from).find(matches);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs / 1000} s; got ${JSON.stringify(this.received.slice(from))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a frame and answers the first message that follows it and matches. */
  async request(frame: unknown, matches: (message: Message) => boolean = () => true): Promise<Message> {
    const from = this.received.length;
    this.send(frame);
    return this.next(matches, from);
  }

  jobMessages(jobId: string): Message[] {
    return this.received.filter((message) => message.type === 'job' && message.job.jobId === jobId);
  }
}

const open: WebSocket[] = [];

afterEach(() => {
  for (const socket of open.splice(0)) socket.terminate();
});

/** Connects with `?token=`; rejects with the HTTP status when the handshake is refused. */
function connect(token: string | undefined): Promise<Client> {
  const url = new URL(wsUrl as string);
  if (token !== undefined) url.searchParams.set('token', token);
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    open.push(socket);
    socket.once('open', () => resolve(new Client(socket)));
    socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    socket.once('error', reject);
  });
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
