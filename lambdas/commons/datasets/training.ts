import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { readEnv } from '#commons/runtime/env.js';
import { InvalidCsv, NumericCsvReader } from '#domain/csv.js';
import { type DatasetRecord, schemaOfDataset } from '#domain/datasets.js';
import { type Design, designOf, isNumeric, levelsOf } from '#domain/design.js';
import { DesignSink } from '#domain/design-sink.js';
import { TrainingFailed, ValidationFailed } from '#domain/errors.js';
import type { JobRecord } from '#domain/jobs.js';
import { MAX_LINE_BYTES } from '#domain/range-scan.js';
import { aliasedFeatures, type FitSpec, type FittedModel, fitStateWithReport, type RegressionAccumulator, type TrainingState } from '#domain/regression.js';
import { type PatternStatistics, statisticsOver, trainingStateOf } from '#domain/statistics.js';
import * as z from '#domain/zod.js';
import { getJson, ObjectChanged, readBytes } from './scan.js';
import { StoredStatisticsObject } from './scan-objects.js';
import { DatasetStore } from './store.js';

/*
 * Read on the first dataset job rather than at import: the train function imports
 * this module for every job, and inline jobs need none of it.
 */
let config: { datasets: DatasetStore; bucket: string } | undefined;

function datasetsConfig() {
  if (!config) {
    const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)), DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)) });
    config = { datasets: new DatasetStore(env.DATASETS_TABLE_NAME), bucket: env.DATASETS_BUCKET_NAME };
  }
  return config;
}

/** Statistics stored before missing values were taken are one pattern: every column present. */
function byPattern(statistics: z.infer<typeof StoredStatisticsObject>['statistics']): PatternStatistics | null {
  if (statistics === null || 'patterns' in statistics) return statistics;
  return { patterns: [{ absent: [], statistics }], rowsLeftOut: 0 };
}

/** How a dataset job is fitted: one model per `spec`, from the same rows. */
export interface DatasetTraining {
  /** The model, and the training state it was fitted from (for the coefficient table). */
  fit(spec: FitSpec): { model: FittedModel; state: TrainingState };
  /** One name per coefficient, the columns read and the categories' levels (src/domain/design.ts). */
  features: string[];
  columns: string[];
  levels: Record<string, string[]>;
  /** Rows left out for a missing value in the target or a feature. */
  rowsDropped: number;
}

/**
 * A dataset job's training (docs/design.md, "The dataset scan"). A job on number
 * columns only fits from the statistics its scan stored, by missing-value pattern:
 * one GetItem and one small GetObject, the CSV is never read, and listwise deletion
 * is exact. A job with a category feature (or on a file whose patterns were too many
 * to keep) makes one pass over the file instead, building the design row by row, as
 * R's model.matrix does. Either way the rows are those R's `lm` keeps (na.omit).
 */
export async function datasetTraining(
  job: Pick<JobRecord, 'tenantId' | 'fitIntercept'> & { source: { datasetId: string; target: string; features?: string[] } },
  report: (fraction: number) => Promise<void>,
): Promise<DatasetTraining> {
  const { datasets, bucket } = datasetsConfig();
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
  let design: Design;
  try {
    design = designOf(schemaOfDataset(dataset), job.source, { maxDesignColumns: Number.MAX_SAFE_INTEGER });
  } catch (error) {
    // Checked when the job was created; only a dataset changed since could fail here.
    if (error instanceof ValidationFailed) throw new TrainingFailed('INVALID_DATA', error.message);
    throw error;
  }
  const stored = StoredStatisticsObject.parse(await getJson(bucket, dataset.statisticsKey));
  if (stored.etag !== dataset.etag || stored.datasetId !== dataset.datasetId) {
    throw new TrainingFailed('DATASET_NOT_READY', `dataset ${job.source.datasetId}: its statistics are not those of the file it validated`);
  }
  const statistics = byPattern(stored.statistics);
  if (!statistics) throw new TrainingFailed('NUMERIC_OVERFLOW', 'the data is too large or too small in magnitude for double precision');

  const columns = [...design.columns.map((column) => column.index), design.target.index];
  const names = { features: design.names, columns: design.columns.map((column) => column.name), levels: levelsOf(design) };
  if (isNumeric(design)) {
    const over = statisticsOver(statistics, columns);
    if (over.complete) {
      await report(1);
      const d = columns.length - 1;
      const selection = { features: Array.from({ length: d }, (_, i) => i), target: d };
      const fit = (spec: FitSpec) => fitChecked(trainingStateOf(over.statistics, selection, spec.fitIntercept), spec, design);
      return { fit, ...names, rowsDropped: stored.rows - over.rowsUsed };
    }
  }
  const { accumulator, rows } = await designPass({ bucket, dataset, design, fitIntercept: job.fitIntercept }, report);
  const fit = (spec: FitSpec) => {
    // state() needs a row; fitChecked refuses fewer than two.
    if (accumulator.count === 0) throw new TrainingFailed('INSUFFICIENT_DATA', 'at least 2 rows are needed, got 0');
    return fitChecked(accumulator.state(), spec, design);
  };
  return { fit, ...names, rowsDropped: rows - accumulator.count };
}

/**
 * Fits one model of a dataset job. A LINEAR fit of a rank-deficient design fails the
 * job, naming the columns that add nothing to those before them: R's `lm` would
 * report NA for their coefficients, and no single answer is the right one. It is a
 * FAILED job rather than a 400 because the rank depends on the rows kept, known only
 * once they are read. RIDGE and LASSO are well defined whatever the rank.
 */
function fitChecked(state: TrainingState, spec: FitSpec, design: Design): { model: FittedModel; state: TrainingState } {
  if (state.n < 2) throw new TrainingFailed('INSUFFICIENT_DATA', `at least 2 rows are needed, got ${state.n}`);
  if (spec.kind === 'LINEAR') {
    const aliased = aliasedFeatures(state).map((j) => design.names[j]!);
    if (aliased.length > 0) {
      throw new TrainingFailed(
        'RANK_DEFICIENT',
        `the design is rank-deficient: ${aliased.map((name) => JSON.stringify(name)).join(', ')} ${aliased.length === 1 ? 'is a linear combination' : 'are linear combinations'} of the columns before (as R's lm reports NA for them): leave ${aliased.length === 1 ? 'it' : 'them'} out, or use RIDGE`,
      );
    }
  }
  return { model: fitStateWithReport(state, spec).model, state };
}

/** One pass over the dataset's file (exactly the version validated), decompressed when it was gzip. */
async function designPass(
  { bucket, dataset, design, fitIntercept }: { bucket: string; dataset: DatasetRecord; design: Design; fitIntercept: boolean },
  report: (fraction: number) => Promise<void>,
): Promise<{ accumulator: RegressionAccumulator; rows: number }> {
  const sink = new DesignSink(design, dataset.columns, fitIntercept);
  const reader = new NumericCsvReader(sink, { maxColumns: dataset.columns.length, maxLineBytes: MAX_LINE_BYTES, ...dataset.format });
  const size = dataset.sizeBytes ?? 0;
  let read = 0;
  try {
    const body = await readBytes({ bucket, key: dataset.key, etag: dataset.etag! }, 0);
    async function* counted() {
      for await (const chunk of body) {
        read += chunk.length;
        yield chunk;
      }
    }
    // pipeline, not pipe: a failed download fails gunzip (and so the loop) rather than leaving it waiting for bytes.
    const bytes = dataset.compression === 'gzip' ? pipeline(Readable.from(counted()), createGunzip(), () => {}) : counted();
    try {
      for await (const chunk of bytes) {
        reader.push(chunk as Uint8Array);
        if (size > 0) await report(Math.min(read / size, 1));
      }
      reader.end();
    } catch (error) {
      // Leaving the loop early ends gunzip, not the download: stop that too.
      body.destroy?.();
      throw error;
    }
  } catch (error) {
    if (error instanceof ObjectChanged) throw new TrainingFailed('DATASET_NOT_READY', `${error.message}; create a new dataset`);
    // The file was read whole by the scan, so this is a file changed under the same ETag: not worth a retry.
    if (error instanceof InvalidCsv) throw new TrainingFailed('INVALID_DATA', `the dataset cannot be read: ${error.message}`);
    throw error;
  }
  return { accumulator: sink.accumulator, rows: sink.rows };
}
