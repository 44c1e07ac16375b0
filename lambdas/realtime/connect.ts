import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { ConnectionStore } from '../commons/connections.js';
import { readEnv } from '../commons/env.js';
import { metrics } from '../commons/powertools.js';
import { connectionOf, lifecycleHandler } from '../commons/websocket.js';

/**
 * $connect, after the authorizer accepted `?token=`: remembers the connection's
 * tenant until API Gateway's two-hour limit. If this write fails the connection is
 * refused, so every open connection is registered.
 */
const env = readEnv({ CONNECTIONS_TABLE_NAME: z.string().min(1) });
const connections = new ConnectionStore(env.CONNECTIONS_TABLE_NAME);

export const handler = lifecycleHandler(async (event) => {
  await connections.register(connectionOf(event));
  metrics.addMetric('WebSocketConnected', MetricUnit.Count, 1);
});
