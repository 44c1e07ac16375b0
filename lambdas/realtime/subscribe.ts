import { JobStore } from '#commons/jobs/store.js';
import { ConnectionStore } from '#commons/realtime/connections.js';
import { connectionOf, frameOf, messageHandler, type WebSocketEvent } from '#commons/realtime/websocket.js';
import { readEnv } from '#commons/runtime/env.js';
import { NotFound } from '#domain/errors.js';
import { toJobView } from '#domain/jobs.js';
import { type ServerMessage, subscriptionTarget } from '#domain/realtime.js';
import * as z from '#domain/zod.js';

const env = readEnv({ CONNECTIONS_TABLE_NAME: z.string().check(z.minLength(1)), JOBS_TABLE_NAME: z.string().check(z.minLength(1)) });
const connections = new ConnectionStore(env.CONNECTIONS_TABLE_NAME);
const jobs = new JobStore(env.JOBS_TABLE_NAME);

/**
 * `{"action":"subscribe","jobId"?}`. With a job id the answer is the job's current
 * state; without one, an ack, and from then on every change of the caller's jobs.
 *
 * The subscription is stored BEFORE the job is read (strongly consistent): a change
 * committed before the read is in the snapshot, one committed after it reaches the
 * connection through the stream, so nothing falls between the two. A job that is
 * unknown or another tenant's is NOT_FOUND, exactly like GET /jobs/{jobId}.
 */
export async function subscribe(event: WebSocketEvent): Promise<ServerMessage> {
  const connection = connectionOf(event);
  const target = subscriptionTarget(frameOf(event));
  if (!(await connections.subscribe(connection, target))) {
    return { type: 'error', code: 'CONNECTION_CLOSED', message: 'this connection is closing; connect again' };
  }
  if (target === null) return { type: 'subscribed', jobId: null };

  const job = await jobs.get(connection.tenantId, target);
  if (!job) {
    await connections.unsubscribe(connection, target);
    throw new NotFound('job');
  }
  return { type: 'job', job: toJobView(job) };
}

export const handler = messageHandler(subscribe);
