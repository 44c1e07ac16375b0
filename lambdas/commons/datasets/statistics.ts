import { readEnv } from '#commons/runtime/env.js';
import { TrainingFailed, ValidationFailed } from '#domain/errors.js';
import type { JobRecord } from '#domain/jobs.js';
import { type ColumnSelection, type ColumnStatistics, selectColumns } from '#domain/statistics.js';
import * as z from '#domain/zod.js';
import { getJson } from './scan.js';
import { DatasetStore } from './store.js';

/*
 * Read on the first dataset job rather than at import: the train function imports
 * this module for every job, and inline jobs need none of it.
 */
let config: { datasets: DatasetStore; bucket: string } | undefined;

function statisticsConfig() {
  if (!config) {
    const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)), DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)) });
    config = { datasets: new DatasetStore(env.DATASETS_TABLE_NAME), bucket: env.DATASETS_BUCKET_NAME };
  }
  return config;
}

const StoredStatistics = z.object({
  datasetId: z.string(),
  etag: z.string(),
  columns: z.array(z.string()),
  rows: z.number().check(z.int(), z.nonnegative()),
  statistics: z.nullable(z.object({ n: z.number().check(z.int(), z.nonnegative()), means: z.array(z.number()), triangle: z.array(z.number()) })),
});

/**
 * A dataset job's statistics (docs/design.md, "The dataset scan") and the columns it uses.
 * One GetItem and one small GetObject: the CSV itself is never read. The statistics
 * must name the object version the dataset was validated for; a READY dataset
 * without statistics fails the job (DATASET_NOT_READY: upload the file again).
 */
export async function datasetStatistics(
  job: Pick<JobRecord, 'tenantId'> & { source: { datasetId: string; target: string; features?: string[] } },
): Promise<{ statistics: ColumnStatistics; selection: ColumnSelection; features: string[] }> {
  const { datasets, bucket } = statisticsConfig();
  const dataset = await datasets.get(job.tenantId, job.source.datasetId);
  if (dataset?.status !== 'READY' || !dataset.etag) {
    throw new TrainingFailed('DATASET_NOT_READY', `dataset ${job.source.datasetId} is ${dataset ? dataset.status : 'gone (expired or deleted)'}`);
  }
  if (!dataset.statisticsKey) {
    throw new TrainingFailed(
      'DATASET_NOT_READY',
      `dataset ${job.source.datasetId} has no statistics to train from; create a new dataset and upload the file again`,
    );
  }
  const stored = StoredStatistics.parse(await getJson(bucket, dataset.statisticsKey));
  if (stored.etag !== dataset.etag || stored.datasetId !== dataset.datasetId) {
    throw new TrainingFailed('DATASET_NOT_READY', `dataset ${job.source.datasetId}: its statistics are not those of the file it validated`);
  }
  if (!stored.statistics) throw new TrainingFailed('NUMERIC_OVERFLOW', 'the data is too large or too small in magnitude for double precision');
  try {
    const { names, ...selection } = selectColumns(stored.columns, job.source.target, job.source.features);
    return { statistics: stored.statistics, selection, features: names };
  } catch (error) {
    if (error instanceof ValidationFailed) throw new TrainingFailed('INVALID_DATA', error.message);
    throw error;
  }
}
