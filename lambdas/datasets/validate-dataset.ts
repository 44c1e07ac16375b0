import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { type DatasetStatus, parseDatasetKey } from '../../src/domain/datasets.js';
import { limitsFrom } from '../../src/domain/limits.js';
import * as z from '../../src/domain/zod.js';
import { stepFunctions } from '../commons/clients.js';
import { headObject } from '../commons/csv-source.js';
import { DatasetStore } from '../commons/datasets.js';
import { readEnv } from '../commons/env.js';
import { logger, metrics } from '../commons/powertools.js';
import { S3Notification } from '../commons/s3-notification.js';

const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)), SCAN_STATE_MACHINE_ARN: z.string().check(z.minLength(1)) });
const limits = limitsFrom(process.env);
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

export type ValidationOutcome = { key: string; status: DatasetStatus | 'SKIPPED' | 'SCANNING' };

/**
 * Starts the check of an uploaded object, once: its size (HeadObject: an S3
 * emulator may not enforce the upload policy), then the dataset scan (a Step
 * Functions execution named after the dataset, so a repeated notification never
 * starts a second one) that reads the object in parallel ranges and marks the
 * dataset READY with its statistics, or INVALID with the first bad line (README,
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
    await stepFunctions.send(
      new StartExecutionCommand({
        stateMachineArn: env.SCAN_STATE_MACHINE_ARN,
        name: datasetId,
        input: JSON.stringify({ tenantId, datasetId, key, etag: head.etag, sizeBytes: head.sizeBytes }),
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

export const handler = middy(validateDatasets)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
