import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException } from '@aws-sdk/client-apigatewaymanagementapi';
import { ConnectionStore } from '#commons/realtime/connections.js';
import { BACKGROUND_CLIENT_DEFAULTS, backgroundDocuments } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger, metrics } from '#commons/runtime/powertools.js';
import * as z from '#domain/zod.js';

/**
 * The connections sweeper, run on a schedule like the jobs sweeper: closes every
 * WebSocket connection opened with an API key that has expired since. API
 * Gateway checks a key at $connect only and keeps the authorizer's answer for
 * the connection's life, so without this a connection would keep receiving its
 * tenant's job changes until its two-hour limit. Until the sweep closes it, its
 * messages are answered UNAUTHORIZED (lambdas/commons/realtime/websocket.ts).
 *
 * Closing runs the connection's $disconnect, which removes its items; a
 * connection already gone (410) has its items removed here instead.
 */
const env = readEnv({
  CONNECTIONS_TABLE_NAME: z.string().check(z.minLength(1)),
  // The stage's callback URL, as the notifier has it (lambdas/realtime/notify.ts).
  CONNECTIONS_ENDPOINT: z.url(),
});
const connections = new ConnectionStore(env.CONNECTIONS_TABLE_NAME, backgroundDocuments);
const gateway = new ApiGatewayManagementApiClient({ ...BACKGROUND_CLIENT_DEFAULTS, endpoint: env.CONNECTIONS_ENDPOINT });

export interface ConnectionSweepSummary {
  closed: number;
  gone: number;
}

export async function sweepConnections(now: Date = new Date()): Promise<ConnectionSweepSummary> {
  const summary: ConnectionSweepSummary = { closed: 0, gone: 0 };
  for await (const connectionId of connections.openedWithExpiredKeys(Math.floor(now.getTime() / 1000))) {
    try {
      await gateway.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      summary.closed++;
    } catch (error) {
      if (!(error instanceof GoneException)) throw new Error(`could not close connection ${connectionId}`, { cause: error });
      await connections.remove(connectionId);
      summary.gone++;
    }
  }
  metrics.addMetric('ExpiredKeyConnectionsClosed', MetricUnit.Count, summary.closed);
  logger.info('connection sweep done', { ...summary });
  return summary;
}

export const handler = eventHandler(async () => sweepConnections());
