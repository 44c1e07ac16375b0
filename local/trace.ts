import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Timed spans of the offline stack's own parts (gateway, authorizer, each
 * function's invocations, every DynamoDB, S3 and Step Functions call, the stream
 * poller, @connections posts), written as JSON lines to the file named by
 * `LOCAL_TRACE_FILE` so that `bench/latency-budget.ts` can say where a job's
 * milliseconds go. Off (and free) unless that variable is set. Times are epoch
 * milliseconds with a fraction, comparable with another process's on this machine.
 */

export interface Span {
  name: string;
  start: number;
  end: number;
  /** Who made the call (a function's name), when the part knows it. */
  caller?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

const file = process.env.LOCAL_TRACE_FILE;
let out: WriteStream | undefined;

/** Now, in epoch milliseconds with a fraction. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export const tracing = file !== undefined && file !== '';

/** Records a span that started at `start` and ends now (or at `end`). */
export function span(name: string, start: number, options: { end?: number; caller?: string | undefined; detail?: Record<string, unknown> } = {}): void {
  if (!tracing) return;
  out ??= createWriteStream(file as string, { flags: 'a' });
  const line: Span = { name, start, end: options.end ?? now(), caller: options.caller, detail: options.detail };
  out.write(`${JSON.stringify(line)}\n`);
}

/** Runs `work` and records its span, whether it succeeds or fails. */
export async function traced<T>(
  name: string,
  work: () => Promise<T>,
  options: { caller?: string | undefined; detail?: Record<string, unknown> } = {},
): Promise<T> {
  if (!tracing) return work();
  const start = now();
  try {
    return await work();
  } finally {
    span(name, start, options);
  }
}

/** Records a span for every request a server answers, named `name`, with what `describe` reads from the request. */
export function traceRequests(
  server: Server,
  name: string,
  describe: (request: IncomingMessage) => { caller?: string | undefined; detail?: Record<string, unknown> } = () => ({}),
): void {
  if (!tracing) return;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const start = now();
    const { caller, detail } = describe(request);
    response.on('close', () => span(name, start, { caller, detail: { ...detail, status: response.statusCode } }));
  });
}
