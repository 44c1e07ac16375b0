import { expect, inject } from 'vitest';
import WebSocket from 'ws';
import type { Check } from './checks.js';
import { checkRestResponse, checkWebSocketMessage } from './contract.js';

/**
 * The suite's only ways in: HTTP with fetch and WebSocket with ws. Nothing here
 * knows which target it talks to. Every answer is checked against the committed
 * documents (docs/openapi.json, docs/asyncapi.json) before a test sees it.
 */

export const target = inject('e2eTarget');

/** Why this target skips `check` (test/e2e/checks.ts), or undefined when it runs it. */
export const skipReason = (check: Check): string | undefined => target.skips[check];

/** A test's title, naming the reason when this target skips it. */
export function titled(title: string, check: Check): string {
  const reason = skipReason(check);
  return reason === undefined ? title : `${title} [skipped on ${target.label}: ${reason}]`;
}

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  // The body as JSON (undefined when empty); `any` so assertions read naturally, as in any HTTP test.
  body: T;
}

export interface RequestOptions {
  key?: string | undefined;
  /** Serialised as JSON unless it is already a string. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A request to the REST API; `path` is relative to its base URL (which ends with the stage on AWS). */
export async function api(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const base = target.restUrl.endsWith('/') ? target.restUrl : `${target.restUrl}/`;
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.Authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(new URL(path.replace(/^\//, ''), base), { method, headers, body });
  const text = await response.text();
  const reply = { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  checkRestResponse(method, path, reply.status, reply.headers, reply.body);
  return reply;
}

/** Asserts the error shape (docs/openapi.json) and the status and code. */
export function expectError(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body?.error?.code }).toEqual({ status, code });
  expect(typeof reply.body.error.message).toBe('string');
}

/** Polls until `probe` answers something, or fails at the deadline. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** A 429 from the tenant's usage plan (docs/operations.md, Rate limits): a poller waits and asks again, as clients are told to. */
export function rateLimited(reply: Reply): boolean {
  return reply.status === 429 && reply.body?.error?.code === 'RATE_LIMITED';
}

/** Waits for a job to end and answers it (many of these at once may meet the tenant's rate limit, and wait). */
export async function finishedJob(jobId: string, key = target.keyA): Promise<any> {
  return eventually(`job ${jobId} to finish`, async () => {
    const reply = await api('GET', `/jobs/${jobId}`, { key });
    if (rateLimited(reply)) return undefined;
    expect(reply.status).toBe(200);
    return TERMINAL.includes(reply.body.status) ? reply.body : undefined;
  });
}

/** Creates a job and answers the 202's body. */
export async function createJob(body: unknown, key = target.keyA, headers?: Record<string, string>): Promise<any> {
  const reply = await api('POST', '/jobs', { key, body, headers });
  expect(reply.status, JSON.stringify(reply.body)).toBe(202);
  return reply.body;
}

export const points = (xs: readonly (number | number[])[], f: (x: number[]) => number) => xs.map((x) => ({ x, y: f(typeof x === 'number' ? [x] : x) }));

export interface Message {
  type: string;
  [key: string]: any;
}

/** A connected WebSocket client that records every frame it receives, each checked against docs/asyncapi.json. */
export class SocketClient {
  readonly received: Message[] = [];
  /** Frames that broke the contract; `next` throws the first one, so a test waiting on messages fails with it. */
  private readonly violations: Error[] = [];
  private waiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message;
      try {
        checkWebSocketMessage(message);
      } catch (error) {
        this.violations.push(error as Error);
      }
      this.received.push(message);
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
      if (this.violations[0]) throw this.violations[0];
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

  /** Throws the first frame that broke the contract, if any (for tests that read `received` directly). */
  checkContract(): void {
    if (this.violations[0]) throw this.violations[0];
  }
}

const openSockets: WebSocket[] = [];

/** Closes every socket `connect` opened (call it after each test). */
export function closeSockets(): void {
  for (const socket of openSockets.splice(0)) socket.terminate();
}

/** Connects to the WebSocket API with `?token=`; rejects with the HTTP status when the handshake is refused. */
export function connect(token: string | undefined): Promise<SocketClient> {
  const url = new URL(target.wsUrl as string);
  if (token !== undefined) url.searchParams.set('token', token);
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    openSockets.push(socket);
    socket.once('open', () => resolve(new SocketClient(socket)));
    socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    socket.once('error', reject);
  });
}
