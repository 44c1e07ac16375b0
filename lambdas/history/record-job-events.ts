import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { JobEventStore } from '#commons/jobs/job-events.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, metrics } from '#commons/runtime/powertools.js';
import { jobEventFor } from '#domain/job-events.js';
import type { JobRecord } from '#domain/jobs.js';
import { StoredJob } from '#domain/realtime.js';
import * as z from '#domain/zod.js';

/**
 * Records each job's history from the jobs table's stream: every status change and
 * every retried attempt becomes one event (src/domain/job-events.ts), keyed by the
 * job and the stream record's sequence number (lambdas/commons/jobs/job-events.ts).
 *
 * Why from the stream rather than in the same transaction as each change: every
 * writer of a job (create-job, train, mark-failed, cancel, the sweeper) would
 * otherwise need its own event write and grant, in transactions that already carry
 * the job, its model and the active-jobs counter; the stream sees every change once,
 * in order per job, with its old and new image, whoever made it. Keyed by sequence
 * number with a conditional put, a redelivered record is a no-op and the order is
 * the key's, so retries (bisect, partial batch failures) can neither duplicate nor
 * reorder events, and a record is only dropped after its retries are spent, into
 * the on-failure queue an alarm watches.
 */
const env = readEnv({ JOB_EVENTS_TABLE_NAME: z.string().check(z.minLength(1)) });
const events = new JobEventStore(env.JOB_EVENTS_TABLE_NAME);
const processor = new BatchProcessor(EventType.DynamoDBStreams);

const ChangeRecord = z.object({
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.object({
    SequenceNumber: z.string(),
    ApproximateCreationDateTime: z.optional(z.number()),
    NewImage: z.optional(z.record(z.string(), z.unknown())),
    OldImage: z.optional(z.record(z.string(), z.unknown())),
  }),
});

function jobOf(image: Record<string, unknown>): JobRecord {
  return StoredJob.parse(unmarshall(image as Record<string, AttributeValue>, { wrapNumbers: Number }));
}

async function recordChange(record: DynamoDBRecord): Promise<void> {
  const { eventName, dynamodb } = ChangeRecord.parse(record);
  // REMOVE is the TTL deleting an expired job; its events expire with it.
  if (eventName === 'REMOVE' || dynamodb.NewImage === undefined) return;
  const after = jobOf(dynamodb.NewImage);
  const before = eventName === 'INSERT' || dynamodb.OldImage === undefined ? undefined : jobOf(dynamodb.OldImage);
  const recordedAt = new Date((dynamodb.ApproximateCreationDateTime ?? Date.now() / 1000) * 1000).toISOString();
  const event = jobEventFor(before, after, recordedAt);
  if (!event) return;
  const written = await events.record(after.tenantId, after.jobId, dynamodb.SequenceNumber, event, after.expiresAt);
  metrics.addMetric(written ? 'JobEventRecorded' : 'JobEventRepeated', MetricUnit.Count, 1);
}

export const handler = eventHandler(async (event: DynamoDBStreamEvent, context: Context) =>
  processPartialResponse(event, recordChange, processor, { context, processInParallel: false }),
);
