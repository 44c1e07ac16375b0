import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { S3Notification } from '#commons/datasets/s3-notification.js';
import { headObject } from '#commons/datasets/scan.js';
import { DatasetStore } from '#commons/datasets/store.js';
import { stepFunctions } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger, metrics } from '#commons/runtime/powertools.js';
import { s3 } from '#commons/runtime/s3.js';
import { DEFAULT_CSV_FORMAT } from '#domain/csv.js';
import type { DatasetError, DatasetRecord, DatasetStatus } from '#domain/datasets.js';
import { limitsFrom } from '#domain/limits.js';
import { parseDatasetKey } from '#domain/object-keys.js';
import * as z from '#domain/zod.js';

const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)), SCAN_STATE_MACHINE_ARN: z.string().check(z.minLength(1)) });
const limits = limitsFrom(process.env);
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

export type ValidationOutcome = { key: string; status: DatasetStatus | 'SKIPPED' | 'SCANNING' };

/**
 * Why an object of `sizeBytes` is too large for `dataset`, or undefined: over the size limit, or, for a multipart
 * upload, over the size declared when the dataset was created (its parts were planned and their URLs signed for it;
 * `POST …/complete` checked them, and this catches what was changed between that check and the completion).
 */
function tooLargeError(sizeBytes: number, dataset: DatasetRecord): DatasetError | undefined {
  const removed = 'it was deleted; upload it again to a new dataset';
  if (sizeBytes > limits.maxDatasetBytes) {
    return { code: 'DATASET_TOO_LARGE', message: `the file has ${sizeBytes} bytes; at most ${limits.maxDatasetBytes} are allowed (${removed})` };
  }
  const declared = dataset.multipart ? dataset.declaredSizeBytes : undefined;
  if (declared !== undefined && sizeBytes > declared) {
    return { code: 'DATASET_TOO_LARGE', message: `the file has ${sizeBytes} bytes, more than the ${declared} declared for its upload (${removed})` };
  }
  return undefined;
}

/**
 * Removes an object no dataset may use, so that it does not stay for the datasets' retention. The bucket is
 * versioned: the deletion leaves a delete marker, and the bucket's lifecycle rule expires the version a day later.
 */
async function deleteObject(bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  metrics.addMetric('DatasetObjectDeleted', MetricUnit.Count, 1);
  logger.info('deleted an object over its size limit', { key });
}

/**
 * Starts the check of an uploaded object, once: its size (HeadObject: an S3
 * emulator may not enforce the upload policy or a part URL's signed length; an
 * object too large is deleted), then the dataset scan (a Step Functions execution
 * named after the dataset, so a repeated notification never starts a second one) that reads the object in parallel ranges and marks the
 * dataset READY with its statistics, or INVALID with the first bad line (docs/design.md,
 * "The dataset scan"). Unexpected errors are thrown so the asynchronous invocation
 * is retried; after Lambda's two retries the event goes to the function's
 * on-failure queue, where validation-failed.ts marks the dataset INVALID.
 */
async function validateObject(bucket: string, key: string): Promise<ValidationOutcome> {
  const owner = parseDatasetKey(key);
  if (!owner) {
    logger.warn('ignoring an object outside the dataset key layout', { key });
    return { key, status: 'SKIPPED' };
  }
  const { tenantId, datasetId } = owner;
  const head = await headObject(bucket, key);
  if (!head) return { key, status: 'SKIPPED' };
  const started = await datasets.beginValidation(tenantId, datasetId, head.etag, head.sizeBytes);
  if (!started) {
    // Unknown or expired dataset, or an upload after the first one: only the first is ever validated. One over the
    // limit is never of use, whatever its dataset: this may also be a retry whose first attempt marked it INVALID and
    // could not delete it.
    logger.info('not validating: the dataset is unknown or was validated already', { datasetId });
    if (head.sizeBytes > limits.maxDatasetBytes) await deleteObject(bucket, key);
    return { key, status: 'SKIPPED' };
  }

  const tooLarge = tooLargeError(head.sizeBytes, started);
  if (tooLarge) {
    // Marked INVALID first: if the deletion fails, the retry finds the dataset settled and deletes the object again
    // (above); the other way round, a failed write after the deletion would leave the dataset VALIDATING for good.
    await datasets.markInvalid(tenantId, datasetId, head.etag, tooLarge);
    metrics.addMetric('DatasetInvalid', MetricUnit.Count, 1);
    logger.info('dataset is invalid', { datasetId, error: tooLarge });
    await deleteObject(bucket, key);
    return { key, status: 'INVALID' };
  }
  try {
    await stepFunctions.send(
      new StartExecutionCommand({
        stateMachineArn: env.SCAN_STATE_MACHINE_ARN,
        name: datasetId,
        input: JSON.stringify({ tenantId, datasetId, key, etag: head.etag, sizeBytes: head.sizeBytes, format: started.format ?? DEFAULT_CSV_FORMAT }),
      }),
    );
  } catch (error) {
    // Started already, by an earlier delivery of this notification.
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
  metrics.addMetric('DatasetScanStarted', MetricUnit.Count, 1);
  return { key, status: 'SCANNING' };
}

export async function validateDatasets(event: unknown): Promise<ValidationOutcome[]> {
  const { Records } = S3Notification.parse(event);
  const outcomes: ValidationOutcome[] = [];
  // Sequentially: a notification carries one record in practice, and each read is a full stream.
  for (const record of Records) {
    if (!record.eventName.startsWith('ObjectCreated:')) continue;
    outcomes.push(await validateObject(record.s3.bucket.name, record.s3.object.key));
  }
  return outcomes;
}

export const handler = eventHandler(validateDatasets);
