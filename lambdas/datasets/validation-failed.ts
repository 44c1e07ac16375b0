import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { S3Notification } from '#commons/datasets/s3-notification.js';
import { DatasetStore } from '#commons/datasets/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger, metrics } from '#commons/runtime/powertools.js';
import type { DatasetError } from '#domain/datasets.js';
import { parseDatasetKey } from '#domain/object-keys.js';
import * as z from '#domain/zod.js';

const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)) });
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);
const processor = new BatchProcessor(EventType.SQS);

/** The code a dataset gets when its validation never completed. */
export const VALIDATION_FAILED = 'VALIDATION_FAILED';

/**
 * What Lambda sends to an on-failure destination once it gives up on an
 * asynchronous invocation: the original event (`requestPayload`, here S3's
 * notification), why it gave up, and the last error.
 */
const FailedInvocation = z.object({
  requestContext: z.object({
    // RetriesExhausted, EventAgeExceeded, …
    condition: z.string(),
    approximateInvokeCount: z.number().check(z.int(), z.nonnegative()),
  }),
  requestPayload: S3Notification,
  responsePayload: z.nullish(z.object({ errorType: z.optional(z.string()), errorMessage: z.optional(z.string()) })),
});

const MessageBody = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', message: 'the message body is not JSON', input: text });
      return z.NEVER;
    }
  }),
);

export type FailureOutcome = { key: string; status: 'INVALID' | 'UNCHANGED' | 'SKIPPED' };

/**
 * One failed validation: every dataset object its S3 notification named becomes
 * INVALID with VALIDATION_FAILED, unless it settled meanwhile (READY or INVALID:
 * left as it is). The client sees the code on `GET /datasets/{datasetId}` and
 * starts again with a new dataset; the operator finds the cause in the log line.
 */
export async function recordValidationFailure(body: string): Promise<FailureOutcome[]> {
  const failure = FailedInvocation.parse(MessageBody.parse(body));
  const { condition, approximateInvokeCount } = failure.requestContext;
  const outcomes: FailureOutcome[] = [];
  for (const record of failure.requestPayload.Records) {
    const key = record.s3.object.key;
    const owner = parseDatasetKey(key);
    if (!owner) {
      outcomes.push({ key, status: 'SKIPPED' });
      continue;
    }
    const error: DatasetError = {
      code: VALIDATION_FAILED,
      message: 'the file could not be validated (the check failed repeatedly); create a new dataset and upload the file again',
    };
    const marked = await datasets.markValidationFailed(owner.tenantId, owner.datasetId, error);
    logger.warn(marked ? 'dataset validation failed for good: marked INVALID' : 'dataset validation failed for good; the dataset had settled already', {
      datasetId: owner.datasetId,
      condition,
      attempts: approximateInvokeCount,
      errorType: failure.responsePayload?.errorType,
      errorMessage: failure.responsePayload?.errorMessage,
    });
    if (marked) metrics.addMetric('DatasetValidationFailed', MetricUnit.Count, 1);
    outcomes.push({ key, status: marked ? 'INVALID' : 'UNCHANGED' });
  }
  return outcomes;
}

/** A record that cannot be read or recorded is reported failed: SQS redelivers it, then moves it to the dead-letter queue. */
const recordHandler = async (record: SQSRecord) => recordValidationFailure(record.body);

export const handler = eventHandler(async (event: SQSEvent, context: Context) => processPartialResponse(event, recordHandler, processor, { context }));
