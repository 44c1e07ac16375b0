import { GetObjectCommand, HeadObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { type CsvSummary, NumericCsvReader, type NumericCsvSink } from '../../src/domain/csv.js';
import { TrainingSink, trainingFailureOf } from '../../src/domain/datasets.js';
import { TrainingFailed } from '../../src/domain/errors.js';
import type { JobRecord } from '../../src/domain/jobs.js';
import { limitsFrom } from '../../src/domain/limits.js';
import type { RegressionAccumulator } from '../../src/domain/regression.js';
import * as z from '../../src/domain/zod.js';
import { DatasetStore } from './datasets.js';
import { readEnv } from './env.js';
import { s3 } from './s3.js';

/**
 * Reading uploaded CSV objects from S3: one streaming pass of GetObject's body
 * through the numeric CSV reader, in chunks as they arrive, so memory stays
 * O(columns) however large the object. Used by the validation Lambda and by training.
 */

export interface ObjectHead {
  sizeBytes: number;
  /** Without the quotes S3 puts around it. */
  etag: string;
}

/**
 * Size and ETag of an object, or undefined when it no longer exists.
 *
 * Only a 404 (NotFound / NoSuchKey) means "missing". S3 answers 403 instead when the
 * caller may not list the bucket; the stack grants each reader `s3:ListBucket` on
 * its own prefix (lib/datasets.ts) so that a missing object is a 404. A 403 is
 * therefore never read as "missing": it is a real refusal (a policy, a key, a
 * misconfigured grant), and treating it as a vanished upload would silently skip
 * the dataset and hide the fault. It is thrown like any unexpected error, so the
 * invocation is retried and then recorded (INVALID with VALIDATION_FAILED), and the
 * error is in the logs.
 */
export async function headObject(bucket: string, key: string): Promise<ObjectHead | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { sizeBytes: head.ContentLength ?? 0, etag: (head.ETag ?? '').replaceAll('"', '') };
  } catch (error) {
    if (error instanceof S3ServiceException && (error.name === 'NotFound' || error.name === 'NoSuchKey')) return undefined;
    throw error;
  }
}

/** The object was replaced or removed since its ETag was recorded. */
export class ObjectChanged extends Error {
  constructor(key: string) {
    super(`the object ${key} changed or disappeared since it was validated`);
    this.name = 'ObjectChanged';
  }
}

/**
 * Streams the object through `sink` and answers the reader's summary. `etag` pins
 * the exact object version read (If-Match); `onProgress` gets the bytes read so far
 * after each chunk and is awaited, which also paces the download.
 */
export async function readCsvObject(
  object: { bucket: string; key: string; etag: string },
  sink: NumericCsvSink,
  maxColumns: number,
  onProgress?: (bytesRead: number) => Promise<void>,
): Promise<CsvSummary> {
  let body: AsyncIterable<Uint8Array>;
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key, IfMatch: `"${object.etag}"` }));
    // In Node the body is an IncomingMessage: an async iterable of Buffers.
    body = response.Body as AsyncIterable<Uint8Array>;
  } catch (error) {
    if (error instanceof S3ServiceException && ['PreconditionFailed', 'NoSuchKey', 'NotFound'].includes(error.name)) throw new ObjectChanged(object.key);
    throw error;
  }
  const reader = new NumericCsvReader(sink, { maxColumns });
  let bytesRead = 0;
  for await (const chunk of body) {
    reader.push(chunk);
    bytesRead += chunk.length;
    if (onProgress) await onProgress(bytesRead);
  }
  return reader.end();
}

/*
 * Training's configuration is read on the first dataset job rather than at import:
 * the train function imports this module for every job, and a deployment (or a
 * test) that trains inline data only needs none of it.
 */
let trainingConfig: { datasets: DatasetStore; bucket: string; maxColumns: number } | undefined;

function datasetsConfig() {
  if (!trainingConfig) {
    const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)), DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)) });
    trainingConfig = {
      datasets: new DatasetStore(env.DATASETS_TABLE_NAME),
      bucket: env.DATASETS_BUCKET_NAME,
      maxColumns: limitsFrom(process.env).maxDatasetColumns,
    };
  }
  return trainingConfig;
}

/**
 * One pass over a dataset job's CSV into a regression accumulator; `report` gets
 * the fraction of the object's bytes read. A row that cannot be read fails the job
 * (TrainingFailed INVALID_DATA naming the line and column); a dataset that expired
 * or changed since the job was accepted fails it as DATASET_NOT_READY.
 */
export async function accumulateDataset(
  job: Pick<JobRecord, 'tenantId' | 'fitIntercept'> & { source: { datasetId: string; target: string } },
  report: (fraction: number) => Promise<void>,
): Promise<{ accumulator: RegressionAccumulator; features: string[] }> {
  const { datasets, bucket, maxColumns } = datasetsConfig();
  const dataset = await datasets.get(job.tenantId, job.source.datasetId);
  if (dataset?.status !== 'READY' || !dataset.etag) {
    throw new TrainingFailed('DATASET_NOT_READY', `dataset ${job.source.datasetId} is ${dataset ? dataset.status : 'gone (expired or deleted)'}`);
  }
  const sink = new TrainingSink(dataset.columns, job.source.target, job.fitIntercept);
  const total = Math.max(1, dataset.sizeBytes ?? 1);
  try {
    await readCsvObject({ bucket, key: dataset.key, etag: dataset.etag }, sink, maxColumns, (bytesRead) => report(bytesRead / total));
  } catch (error) {
    if (error instanceof ObjectChanged) throw new TrainingFailed('DATASET_NOT_READY', `dataset ${job.source.datasetId}: ${error.message}`);
    throw trainingFailureOf(error);
  }
  return { accumulator: sink.accumulator, features: sink.features };
}
