import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { authenticateKey } from '#commons/auth/authentication.js';
import { ConnectionStore } from '#commons/realtime/connections.js';
import { connectionOf, lifecycleHandler, type WebSocketEvent } from '#commons/realtime/websocket.js';
import { readEnv } from '#commons/runtime/env.js';
import { metrics } from '#commons/runtime/powertools.js';
import { Unauthorized } from '#domain/errors.js';
import * as z from '#domain/zod.js';

/**
 * $connect, after the authorizer accepted `?token=`: remembers the connection's
 * tenant until API Gateway's two-hour limit. If this write fails the connection is
 * refused, so every open connection is registered.
 */
const env = readEnv({ CONNECTIONS_TABLE_NAME: z.string().check(z.minLength(1)) });
const connections = new ConnectionStore(env.CONNECTIONS_TABLE_NAME);

/**
 * A $connect that reached the function without the authorizer (an API deployed
 * without it) checks `?token=` itself, with the REST handlers' code and answers
 * (lambdas/commons/auth/authentication.ts); with the authorizer's context it is trusted.
 */
async function authenticated(event: WebSocketEvent): Promise<WebSocketEvent> {
  if (event.requestContext.authorizer?.tenantId !== undefined) return event;
  const tenantId = await authenticateKey(event.queryStringParameters?.token);
  if (tenantId === undefined) throw new Unauthorized();
  return { ...event, requestContext: { ...event.requestContext, authorizer: { tenantId } } };
}

export const handler = lifecycleHandler(async (event) => {
  await connections.register(connectionOf(await authenticated(event)));
  metrics.addMetric('WebSocketConnected', MetricUnit.Count, 1);
});
