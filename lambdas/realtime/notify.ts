import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ConnectionStore } from '#commons/realtime/connections.js';
import { BACKGROUND_CLIENT_DEFAULTS, backgroundDocuments } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger, metrics } from '#commons/runtime/powertools.js';
import { type JobRecord, type JobView, toJobView } from '#domain/jobs.js';
import { type JobMessage, StoredJob } from '#domain/realtime.js';
import * as z from '#domain/zod.js';

/**
 * Consumes the Jobs table stream and pushes every visible change of a job to the
 * connections subscribed to it (or to all of its tenant's jobs) through the
 * WebSocket API's @connections endpoint.
 *
 * Delivery is at least once: a record whose post fails is retried whole, so a
 * connection that already got it may get it again. Every message is the job's full
 * state with its `version`, so a repeat is harmless and a client keeps the highest.
 */
const env = readEnv({
  CONNECTIONS_TABLE_NAME: z.string().check(z.minLength(1)),
  // The stage's callback URL (https://{apiId}.execute-api.{region}.amazonaws.com/v1): per API, so set explicitly.
  CONNECTIONS_ENDPOINT: z.url(),
});
const connections = new ConnectionStore(env.CONNECTIONS_TABLE_NAME, backgroundDocuments);
const gateway = new ApiGatewayManagementApiClient({ ...BACKGROUND_CLIENT_DEFAULTS, endpoint: env.CONNECTIONS_ENDPOINT });

const ChangeRecord = z.object({
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.object({
    NewImage: z.optional(z.record(z.string(), z.unknown())),
    OldImage: z.optional(z.record(z.string(), z.unknown())),
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

/** The newest state of one job in a batch, and the first record of that job (where a retry must start). */
export interface NewestChange {
  job: JobRecord;
  message: JobMessage;
  firstSequenceNumber: string;
}

export interface CoalescedBatch {
  /** By `<tenantId>#<jobId>`, in the order the jobs first appear in the batch. */
  changes: Map<string, NewestChange>;
  /** Records that could not be read: each fails, so the batch is retried (then bisected, then sent to the on-failure queue). */
  unreadable: string[];
}

/**
 * Reduces a batch to the newest state of each job. A job's full state is in every
 * record, so only the last one matters to a client; of two states the one with the
 * higher `version` is the newer, so an older state is never chosen over one
 * already seen in the batch, whatever order the records came in.
 */
export function coalesce(records: readonly DynamoDBRecord[]): CoalescedBatch {
  const changes = new Map<string, NewestChange>();
  const unreadable: string[] = [];
  for (const record of records) {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
    let change: ReturnType<typeof messageFor>;
    try {
      change = messageFor(record);
    } catch (error) {
      logger.error('unreadable stream record', { sequenceNumber, error: error as Error });
      unreadable.push(sequenceNumber);
      continue;
    }
    if (!change) continue;
    const key = `${change.job.tenantId}#${change.job.jobId}`;
    const seen = changes.get(key);
    if (seen && seen.job.version > change.job.version) continue;
    changes.set(key, { ...change, firstSequenceNumber: seen?.firstSequenceNumber ?? sequenceNumber });
  }
  return { changes, unreadable };
}

/** Jobs whose newest state is being sent at once (each to all its connections at once). */
const JOB_CONCURRENCY = 25;

/** Runs `work` on every item, at most `limit` at a time; answers the items whose work failed, with the reason. */
async function eachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<Array<{ item: T; reason: unknown }>> {
  const failures: Array<{ item: T; reason: unknown }> = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (reason) {
        failures.push({ item, reason });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failures;
}

/**
 * One invocation: the batch is coalesced to one message per job, and the jobs are
 * sent concurrently (a job's connections concurrently too). Order per job holds
 * because each job gets one message per batch and batches of a partition key
 * (a tenant) run one after another. A job whose message fails reports its first
 * record in the batch: Lambda retries from the lowest reported record, so the
 * failed job's newest state is sent again (with, at worst, repeats of others').
 *
 * Not Powertools' BatchProcessor: it handles records one by one, and coalescing
 * needs the whole batch.
 */
export async function notifySubscribers(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { changes, unreadable } = coalesce(event.Records);
  // A batch holds several jobs of a tenant: its all-jobs subscribers are looked up once (and beside each job's own).
  const tenantWide = new Map<string, Promise<string[]>>();
  const subscribedToTenant = (tenantId: string) => {
    let lookup = tenantWide.get(tenantId);
    if (!lookup) {
      lookup = connections.subscribedTo(tenantId, null);
      tenantWide.set(tenantId, lookup);
      lookup.catch(() => tenantWide.delete(tenantId)); // a failed lookup is tried again by the next job
    }
    return lookup;
  };
  const failures = await eachConcurrently([...changes.values()], JOB_CONCURRENCY, async ({ job, message }) => {
    const [ofJob, ofTenant] = await Promise.all([connections.subscribedTo(job.tenantId, job.jobId), subscribedToTenant(job.tenantId)]);
    const subscribers = [...new Set([...ofJob, ...ofTenant])];
    if (subscribers.length > 0) await postToAll(subscribers, JSON.stringify(message));
  });
  for (const { item, reason } of failures) {
    logger.warn('notification failed; the job will be sent again', { jobId: item.job.jobId, error: reason as Error });
  }
  metrics.addMetric('JobChangesCoalesced', MetricUnit.Count, event.Records.length - changes.size);
  const failed = [...unreadable, ...failures.map(({ item }) => item.firstSequenceNumber)];
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = eventHandler(async (event: DynamoDBStreamEvent) => notifySubscribers(event));
