import { expect, inject } from 'vitest';
import type { Check } from './checks.js';

/**
 * The suite's only ways in: HTTP with fetch (and WebSocket with ws). Nothing here
 * knows which target it talks to.
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
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** Asserts the SPEC's error shape and answers the code. */
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

/** Waits for a job to end and answers it. */
export async function finishedJob(jobId: string, key = target.keyA): Promise<any> {
  return eventually(`job ${jobId} to finish`, async () => {
    const reply = await api('GET', `/jobs/${jobId}`, { key });
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
