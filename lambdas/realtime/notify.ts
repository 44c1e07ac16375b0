import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import { type JobRecord, type JobView, toJobView } from '../../src/domain/jobs.js';
import { type JobMessage, StoredJob } from '../../src/domain/realtime.js';
import { ConnectionStore } from '../commons/connections.js';
import { readEnv } from '../commons/env.js';
import { logger, metrics, tracer } from '../commons/powertools.js';

/**
 * Consumes the Jobs table stream and pushes every visible change of a job to the
 * connections subscribed to it (or to all of its tenant's jobs) through the
 * WebSocket API's @connections endpoint.
 *
 * Delivery is at least once: a record whose post fails is retried whole, so a
 * connection that already got it may get it again. Every message is the job's full
 * state, so a repeat is harmless.
 */
const env = readEnv({
  CONNECTIONS_TABLE_NAME: z.string().min(1),
  // The stage's callback URL (https://{apiId}.execute-api.{region}.amazonaws.com/v1): per API, so set explicitly.
  CONNECTIONS_ENDPOINT: z.url(),
});
const connections = new ConnectionStore(env.CONNECTIONS_TABLE_NAME);
const gateway = tracer.captureAWSv3Client(new ApiGatewayManagementApiClient({ endpoint: env.CONNECTIONS_ENDPOINT }));
const processor = new BatchProcessor(EventType.DynamoDBStreams);

const ChangeRecord = z.object({
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.object({
    NewImage: z.record(z.string(), z.unknown()).optional(),
    OldImage: z.record(z.string(), z.unknown()).optional(),
  }),
});

type Image = Record<string, unknown>;

/**
 * The job an image holds. Numbers become plain JS numbers (as JSON would read them)
 * rather than BigInt, which the default unmarshall returns, or throws on, for large values.
 */
export function jobOf(image: Image): JobRecord {
  // The stream event's AttributeValue and the SDK's are the same wire shape under two type declarations.
  return StoredJob.parse(unmarshall(image as Record<string, AttributeValue>, { wrapNumbers: Number }));
}

/** The message a change produces, or undefined when it changes nothing a client sees. */
export function messageFor(record: DynamoDBRecord): { job: JobRecord; message: JobMessage } | undefined {
  const { eventName, dynamodb } = ChangeRecord.parse(record);
  // REMOVE is the TTL deleting an expired job: nothing a subscriber can act on.
  if (eventName === 'REMOVE' || dynamodb.NewImage === undefined) return undefined;
  const job = jobOf(dynamodb.NewImage);
  const view = toJobView(job);
  if (eventName === 'MODIFY' && dynamodb.OldImage !== undefined && sameView(dynamodb.OldImage, view)) return undefined;
  return { job, message: { type: 'job', job: view } };
}

/** Whether the old image shows the same job; an old image that no longer parses counts as a change. */
function sameView(oldImage: Image, view: JobView): boolean {
  try {
    return JSON.stringify(toJobView(jobOf(oldImage))) === JSON.stringify(view);
  } catch {
    return false;
  }
}

/**
 * Posts `data` to every connection. A 410 means the client is gone without a
 * $disconnect: its items are removed and it counts as delivered. Any other
 * failure fails the whole record, after every connection has been tried.
 */
async function postToAll(connectionIds: string[], data: string): Promise<void> {
  const results = await Promise.allSettled(
    connectionIds.map(async (ConnectionId) => {
      try {
        await gateway.send(new PostToConnectionCommand({ ConnectionId, Data: data }));
        metrics.addMetric('NotificationSent', MetricUnit.Count, 1);
      } catch (error) {
        if (!isGone(error)) throw error;
        logger.info('removing a stale connection', { connectionId: ConnectionId });
        await connections.remove(ConnectionId);
        metrics.addMetric('StaleConnectionRemoved', MetricUnit.Count, 1);
      }
    }),
  );
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length > 0) {
    throw new AggregateError(
      failures.map((failure) => failure.reason),
      `${failures.length} of ${connectionIds.length} posts failed`,
    );
  }
}

function isGone(error: unknown): boolean {
  return error instanceof GoneException || (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode === 410;
}

/**
 * One invocation's records, in stream order. Once a record of a job fails, that
 * job's later records in the batch fail too without being sent: Lambda retries
 * from the first failure anyway, and a client must never see a job's newer state
 * before an older one.
 */
function recordHandlerFor(): (record: DynamoDBRecord) => Promise<void> {
  const failedJobs = new Set<string>();
  return async (record) => {
    const change = messageFor(record);
    if (!change) return;
    const { tenantId, jobId } = change.job;
    const key = `${tenantId}#${jobId}`;
    if (failedJobs.has(key)) throw new Error(`an earlier change of job ${jobId} failed in this batch`);
    try {
      const subscribers = await connections.subscribers(tenantId, jobId);
      if (subscribers.length > 0) await postToAll(subscribers, JSON.stringify(change.message));
    } catch (error) {
      failedJobs.add(key);
      logger.warn('notification failed; the record will be retried', { jobId, error: error as Error });
      throw error;
    }
  };
}

export const handler = middy(async (event: DynamoDBStreamEvent, context: Context) =>
  // In order (not in parallel), so a job's changes reach a client in the order they happened.
  processPartialResponse(event, recordHandlerFor(), processor, { context, processInParallel: false }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics));
