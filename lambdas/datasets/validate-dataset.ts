import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { InvalidCsv } from '../../src/domain/csv.js';
import { type DatasetStatus, datasetErrorOf, parseDatasetKey } from '../../src/domain/datasets.js';
import { limitsFrom } from '../../src/domain/limits.js';
import * as z from '../../src/domain/zod.js';
import { headObject, ObjectChanged, readCsvObject } from '../commons/csv-source.js';
import { DatasetStore } from '../commons/datasets.js';
import { readEnv } from '../commons/env.js';
import { logger, metrics } from '../commons/powertools.js';
import { S3Notification } from '../commons/s3-notification.js';

const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)) });
const limits = limitsFrom(process.env);
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

export type ValidationOutcome = { key: string; status: DatasetStatus | 'SKIPPED' };

/**
 * Checks an uploaded object once: its size (HeadObject: an S3 emulator may not
 * enforce the upload policy), then one streaming pass for the header, the column
 * count, every value and the row count. The dataset becomes READY with its rows and
 * columns, or INVALID with the first problem's line and column. Unexpected errors
 * are thrown so the asynchronous invocation is retried; the retry resumes the same
 * object's validation. After Lambda's two retries the event goes to the function's
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
    // Unknown or expired dataset, or an upload after the first one: only the first is ever validated.
    logger.info('not validating: the dataset is unknown or was validated already', { datasetId });
    return { key, status: 'SKIPPED' };
  }

  const invalid = async (error: { code: string; message: string; line?: number; column?: number }) => {
    await datasets.markInvalid(tenantId, datasetId, head.etag, error);
    metrics.addMetric('DatasetInvalid', MetricUnit.Count, 1);
    logger.info('dataset is invalid', { datasetId, error });
    return { key, status: 'INVALID' as const };
  };

  if (head.sizeBytes > limits.maxDatasetBytes) {
    return invalid({ code: 'DATASET_TOO_LARGE', message: `the file has ${head.sizeBytes} bytes; at most ${limits.maxDatasetBytes} are allowed` });
  }
  try {
    const summary = await readCsvObject({ bucket, key, etag: head.etag }, { header: () => undefined, row: () => undefined }, limits.maxDatasetColumns);
    await datasets.markReady(tenantId, datasetId, head.etag, { rows: summary.rows, columns: summary.columns });
    metrics.addMetric('DatasetReady', MetricUnit.Count, 1);
    metrics.addMetric('DatasetRows', MetricUnit.Count, summary.rows);
    return { key, status: 'READY' };
  } catch (error) {
    if (error instanceof InvalidCsv) return invalid(datasetErrorOf(error));
    if (error instanceof ObjectChanged)
      return invalid({ code: 'DATASET_CHANGED', message: 'the file was replaced while it was being validated; create a new dataset and upload once' });
    throw error;
  }
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

export const handler = middy(validateDatasets)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
