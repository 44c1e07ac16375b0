import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { datasetTraining } from '#commons/datasets/training.js';
import { Lifecycle } from '#commons/jobs/store.js';
import { backgroundDocuments } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger, metrics } from '#commons/runtime/powertools.js';
import { s3 } from '#commons/runtime/s3.js';
import { TrainingFailed } from '#domain/errors.js';
import { coefficientTable } from '#domain/inference.js';
import { type InlinePoint, inlineFeatureNames, isTerminal, type JobRecord, type JobStatus, type ModelRecord } from '#domain/jobs.js';
import { ProgressThrottle, roundProgress } from '#domain/progress.js';
import { type FittedModel, fitModel, RegressionAccumulator, type TrainingState } from '#domain/regression.js';
import { JobId, TenantId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({
  JOBS_TABLE_NAME: z.string().check(z.minLength(1)),
  MODELS_TABLE_NAME: z.string().check(z.minLength(1)),
  TENANTS_TABLE_NAME: z.string().check(z.minLength(1)),
  DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)),
});
const lifecycle = Lifecycle.onTables({ jobs: env.JOBS_TABLE_NAME, models: env.MODELS_TABLE_NAME, tenants: env.TENANTS_TABLE_NAME }, backgroundDocuments);
const { jobs } = lifecycle;

const TrainInput = z.object({ tenantId: TenantId, jobId: JobId });

export interface TrainResult {
  jobId: string;
  status: JobStatus | 'MISSING';
}

const InlinePoints = z.array(z.object({ x: z.array(z.number()), y: z.number() })).check(z.minLength(1));

/** A job's inline points, as create-job stored them (checked again: an object is a boundary too). */
async function readInlinePoints(key: string): Promise<InlinePoint[]> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: env.DATASETS_BUCKET_NAME, Key: key }));
  if (!Body) throw new Error(`the object ${key} has no body`);
  return InlinePoints.parse(JSON.parse(await Body.transformToString('utf8')));
}

/** Feeds an inline job's points into the accumulator, reporting the fraction read. */
async function accumulate(
  job: Pick<JobRecord, 'fitIntercept'> & { source: { type: 'inline'; key: string } },
  report: (fraction: number) => Promise<void>,
): Promise<{ accumulator: RegressionAccumulator; features: string[] }> {
  const data = await readInlinePoints(job.source.key);
  const width = data[0]?.x.length ?? 0;
  const accumulator = new RegressionAccumulator(width, job.fitIntercept);
  for (const [index, point] of data.entries()) {
    accumulator.add(point.x, point.y);
    await report((index + 1) / data.length);
  }
  return { accumulator, features: inlineFeatureNames(width) };
}

/**
 * Fits the job's model, or one per value of its `alphas`: a dataset job from the
 * dataset's statistics (no read of the CSV: docs/design.md, "The dataset scan"), an
 * inline job from one pass over its points.
 */
async function fitJob(
  job: JobRecord,
  report: (fraction: number) => Promise<void>,
): Promise<{ fitted: FittedModel[]; names: Pick<ModelRecord, 'features' | 'columns' | 'levels'>; rowsDropped: number; summary?: string }> {
  const alphas = job.alphas ?? [job.alpha ?? 0];
  const spec = (alpha: number) => ({ kind: job.kind, alpha, fitIntercept: job.fitIntercept });
  let fits: { model: FittedModel; state: TrainingState }[];
  let names: Pick<ModelRecord, 'features' | 'columns' | 'levels'>;
  let rowsDropped = 0;
  if (job.source.type === 'dataset') {
    const training = await datasetTraining({ tenantId: job.tenantId, fitIntercept: job.fitIntercept, source: job.source }, report);
    const { features, columns, levels } = training;
    fits = alphas.map((alpha) => training.fit(spec(alpha)));
    names = { features, columns, levels };
    rowsDropped = training.rowsDropped;
  } else {
    const { accumulator, features } = await accumulate({ fitIntercept: job.fitIntercept, source: job.source }, report);
    fits = alphas.map((alpha) => ({ model: fitModel(accumulator, spec(alpha)), state: accumulator.state() }));
    names = { features, columns: features, levels: {} };
  }
  const fitted = fits.map((fit) => fit.model);
  // A LINEAR job has one model (alphas are for RIDGE and LASSO): its coefficient table, from the same state.
  if (job.kind !== 'LINEAR') return { fitted, names, rowsDropped };
  const [{ model, state }] = fits as [(typeof fits)[number]];
  const table = coefficientTable(state, model, {
    fitIntercept: job.fitIntercept,
    names: names.features,
    ...(job.level === undefined ? {} : { level: job.level }),
  });
  return { fitted, names, rowsDropped, summary: JSON.stringify(table) };
}

/**
 * Trains one job: QUEUED -> RUNNING, one pass over the data, fit, then the model
 * (TRAINED) and the job (COMPLETED) in one write. Bad data fails the job here with
 * its error code; only unexpected errors reach the state machine (Retry / Catch).
 * Every AWS call counts, the first read and the RUNNING write included: `handler`
 * (eventHandler) rethrows a throttled or failed call as the TransientError the
 * state machine retries. Every write is conditional, so a cancelled job stops at its next write.
 */
export async function train(input: unknown): Promise<TrainResult> {
  const { tenantId, jobId } = TrainInput.parse(input);
  const job = await jobs.get(tenantId, jobId);
  if (!job) return { jobId, status: 'MISSING' };
  if (isTerminal(job.status)) return { jobId, status: job.status };

  const running = await jobs.startAttempt(tenantId, jobId, job.startedAt ?? new Date().toISOString());
  if (!running) return { jobId, status: 'CANCELLED' };
  logger.appendKeys({ jobId, attempt: running.attempts });

  const throttle = new ProgressThrottle();
  let stillRunning = true;
  const report = async (fraction: number) => {
    if (stillRunning && throttle.shouldReport(fraction)) {
      stillRunning = await jobs.setProgress(tenantId, jobId, roundProgress(fraction));
    }
  };

  try {
    const { fitted: models, names, rowsDropped, summary } = await fitJob(running, report);
    if (!stillRunning) return { jobId, status: 'CANCELLED' };
    const fitted = models[0]!;
    const finishedAt = new Date().toISOString();
    // The models of a regularisation path past the first exist before the job says COMPLETED.
    await lifecycle.models.putTrained(
      (running.modelIds ?? []).slice(1).map((modelId, i) => {
        const model = models[i + 1]!;
        return {
          tenantId,
          modelId,
          jobId,
          status: 'TRAINED' as const,
          kind: running.kind,
          alpha: running.alphas?.[i + 1] ?? null,
          fitIntercept: running.fitIntercept,
          ...model,
          ...names,
          rowsDropped,
          createdAt: running.createdAt,
          fittedAt: finishedAt,
          expiresAt: running.expiresAt,
        };
      }),
    );
    const completed = await lifecycle.finish(
      running,
      'COMPLETED',
      { progress: 1, finishedAt },
      { status: 'TRAINED', fields: { ...fitted, features: names.features, rowsDropped, fittedAt: finishedAt, ...(summary === undefined ? {} : { summary }) } },
    );
    // Not written: cancelled meanwhile, or the SDK's retry of a write that landed found it done; the table says which.
    if (!completed) return { jobId, status: (await jobs.get(tenantId, jobId))?.status ?? 'MISSING' };
    metrics.addMetric('JobCompleted', MetricUnit.Count, 1);
    metrics.addMetric('RowsTrained', MetricUnit.Count, fitted.metrics.n);
    return { jobId, status: 'COMPLETED' };
  } catch (error) {
    if (error instanceof TrainingFailed) {
      logger.info('training failed on its data', { code: error.code });
      await lifecycle.finish(
        running,
        'FAILED',
        { error: { code: error.code, message: error.message }, finishedAt: new Date().toISOString() },
        { status: 'FAILED' },
      );
      metrics.addMetric('JobFailed', MetricUnit.Count, 1);
      return { jobId, status: 'FAILED' };
    }
    throw error;
  }
}

export const handler = eventHandler(train);
