import { ConnectionStore } from '#commons/realtime/connections.js';
import { connectionOf, frameOf, messageHandler, type WebSocketEvent } from '#commons/realtime/websocket.js';
import { readEnv } from '#commons/runtime/env.js';
import { type ServerMessage, subscriptionTarget } from '#domain/realtime.js';
import * as z from '#domain/zod.js';

const env = readEnv({ CONNECTIONS_TABLE_NAME: z.string().check(z.minLength(1)) });
const connections = new ConnectionStore(env.CONNECTIONS_TABLE_NAME);

/**
 * `{"action":"unsubscribe","jobId"?}` undoes the matching subscribe (without a job
 * id: the all-jobs one). Undoing what was never done is acknowledged too, so the
 * answer reveals nothing about other tenants' jobs.
 */
export async function unsubscribe(event: WebSocketEvent): Promise<ServerMessage> {
  const connection = connectionOf(event);
  const target = subscriptionTarget(frameOf(event));
  await connections.unsubscribe(connection, target);
  return { type: 'unsubscribed', jobId: target };
}

export const handler = messageHandler(unsubscribe);
