import { ConnectionStore } from '#commons/realtime/connections.js';
import { lifecycleHandler } from '#commons/realtime/websocket.js';
import { readEnv } from '#commons/runtime/env.js';
import * as z from '#domain/zod.js';

/**
 * $disconnect: removes the connection and every subscription it made. API Gateway
 * calls it on a best-effort basis; when it does not, the items expire with the
 * connection (TTL) and the notifier removes them on its first 410.
 */
const env = readEnv({ CONNECTIONS_TABLE_NAME: z.string().check(z.minLength(1)) });
const connections = new ConnectionStore(env.CONNECTIONS_TABLE_NAME);

export const handler = lifecycleHandler(async (event) => {
  await connections.remove(event.requestContext.connectionId);
});
