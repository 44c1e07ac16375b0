import { createHash } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ulid } from 'ulid';
import type { DatasetStore } from '#commons/datasets/store.js';
import { logger, metrics } from '#commons/runtime/powertools.js';
import { schemaOfDataset } from '#domain/datasets.js';
import { designOf, levelsOf } from '#domain/design.js';
import { Conflict, IdempotencyInProgress, LimitExceeded, NotFound, ServiceUnavailable } from '#domain/errors.js';
import { executionArnOf, inlineFeatureNames, type JobRecord, type JobSource, type JobView, type ModelRecord, toJobView } from '#domain/jobs.js';
import type { Limits } from '#domain/limits.js';
import { inlineDataKey } from '#domain/object-keys.js';
import type { JobRequest } from '#domain/schemas.js';
import type { CreateOutcome, Lifecycle } from './store.js';

export interface JobSubmissionOptions {
  lifecycle: Lifecycle;
  datasets: DatasetStore;
  s3: S3Client;
  stepFunctions: SFNClient;
  /** Where inline points are kept (the datasets bucket). */
  bucketName: string;
  stateMachineArn: string;
  retentionDays: number;
  limits: Pick<Limits, 'maxActiveJobs' | 'maxDatasetColumns'>;
}

/** What a model says of its columns when it is created (src/domain/design.ts). */
type ModelColumns = Pick<ModelRecord, 'features' | 'columns' | 'levels'>;

export interface Submission {
  tenantId: string;
  request: JobRequest;
  /** The Idempotency-Key header: the same key and request within 24 h answers the job the first one created. */
  idempotencyKey?: string | undefined;
}

/** The request's fingerprint: a key bound to a job answers that job only for the same request. */
function requestHash(request: JobRequest): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('base64url');
}

/**
 * A counter no create or end has written for this long has no transaction in
 * flight, so a count of the tenant's jobs then is a fair measure of it.
 */
const COUNTER_QUIET_MS = 30_000;

/**
 * Submitting a job: admission against the tenant's active-jobs counter (and its
 * repair), the Idempotency-Key, the write of the job and its model, the start of
 * the training workflow, and the compensation when a step fails. POST /jobs
 * parses the request and calls `submit`; everything else is here.
 *
 * The Idempotency-Key has one record, `REQUEST#<key>` in the tenants table
 * (tenants.ts), written by the same transaction as the job, so a key is bound to
 * exactly the job it made. A replay answers that job as it is now (QUEUED,
 * RUNNING, COMPLETED…), whichever way it was caught.
 */
export class JobSubmissions {
  constructor(private readonly options: JobSubmissionOptions) {}

  private get lifecycle() {
    return this.options.lifecycle;
  }

  async submit({ tenantId, request, idempotencyKey }: Submission): Promise<JobView> {
    const bound = idempotencyKey === undefined ? undefined : { idempotencyKey, requestHash: requestHash(request) };
    if (await this.atLimit(tenantId)) {
      // A key that already made a job still answers that job, even at the limit.
      if (bound && (await this.lifecycle.tenants.request(tenantId, bound.idempotencyKey))) return this.replay(tenantId, bound);
      throw this.tooManyActiveJobs();
    }
    const { job, model } = await this.newJob(tenantId, request);
    let outcome: CreateOutcome;
    try {
      outcome = await this.admit({ job, model, maxActiveJobs: this.options.limits.maxActiveJobs, request: bound });
    } catch (error) {
      await this.discardSource(job, { mayExist: true });
      throw error;
    }
    // Refused by the transaction's conditions: this job was not written.
    if (outcome !== 'CREATED') await this.discardSource(job, { mayExist: false });
    if (outcome === 'LIMIT_REACHED') throw this.tooManyActiveJobs();
    if (outcome === 'KEY_TAKEN' && bound) return this.replay(tenantId, bound);
    await this.start(job, bound?.idempotencyKey);
    metrics.addMetric('JobCreated', MetricUnit.Count, 1);
    return toJobView(job);
  }

  /** The QUEUED job and its TRAINING model, with the inline points already stored. */
  private async newJob(tenantId: string, request: JobRequest): Promise<{ job: JobRecord; model: ModelRecord }> {
    const modelColumns: ModelColumns =
      request.source.type === 'inline'
        ? { features: inlineFeatureNames(request.source.data[0]?.x.length ?? 0) }
        : await this.datasetDesign(tenantId, request.source);
    const now = new Date();
    const createdAt = now.toISOString();
    const expiresAt = Math.floor(now.getTime() / 1000) + this.options.retentionDays * 86_400;
    const jobId = ulid(now.getTime());
    const modelId = ulid(now.getTime());
    // A regularisation path: one model per alpha. The first is written with the job, the others by training when it completes.
    const path = request.alphas === undefined ? {} : { alphas: request.alphas, modelIds: [modelId, ...request.alphas.slice(1).map(() => ulid(now.getTime()))] };
    const job: JobRecord = {
      tenantId,
      jobId,
      modelId,
      status: 'QUEUED',
      kind: request.kind,
      alpha: request.alpha,
      fitIntercept: request.fitIntercept,
      ...(request.name ? { name: request.name } : {}),
      ...(request.level === undefined ? {} : { level: request.level }),
      progress: 0,
      createdAt,
      startedAt: null,
      finishedAt: null,
      error: null,
      attempts: 0,
      executionArn: executionArnOf(this.options.stateMachineArn, jobId),
      source: await this.storeSource(tenantId, jobId, request.source),
      ...path,
      expiresAt,
      version: 1,
    };
    const model: ModelRecord = {
      tenantId,
      modelId,
      jobId,
      status: 'TRAINING',
      kind: request.kind,
      alpha: request.alpha,
      fitIntercept: request.fitIntercept,
      coefficients: [],
      intercept: null,
      ...modelColumns,
      metrics: null,
      createdAt,
      fittedAt: null,
      expiresAt,
    };
    return { job, model };
  }

  /**
   * A dataset job needs the caller's own READY dataset, and columns its schema can
   * model (src/domain/design.ts); answers the design's coefficient names, columns and levels.
   */
  private async datasetDesign(tenantId: string, source: Extract<JobRequest['source'], { type: 'dataset' }>): Promise<ModelColumns> {
    const dataset = await this.options.datasets.get(tenantId, source.datasetId);
    if (!dataset) throw new NotFound('dataset');
    if (dataset.status !== 'READY') {
      throw new Conflict('DATASET_NOT_READY', `the dataset is ${dataset.status}; only a READY dataset can be trained on`);
    }
    const design = designOf(schemaOfDataset(dataset), source, { maxDesignColumns: this.options.limits.maxDatasetColumns });
    return { features: design.names, columns: design.columns.map((column) => column.name), levels: levelsOf(design) };
  }

  /** Inline points go to their own S3 object (the job item only names it); a dataset is referenced as it is. */
  private async storeSource(tenantId: string, jobId: string, source: JobRequest['source']): Promise<JobSource> {
    if (source.type === 'dataset') return source;
    const key = inlineDataKey(tenantId, jobId);
    await this.options.s3.send(
      new PutObjectCommand({ Bucket: this.options.bucketName, Key: key, Body: JSON.stringify(source.data), ContentType: 'application/json' }),
    );
    return { type: 'inline', key, rows: source.data.length };
  }

  /**
   * Deletes the inline points of a job that was not created, so that a refused or
   * failed create leaves no object behind. After an error the transaction's outcome
   * may be unknown (a timeout whose write landed): the job is read back first, and
   * its points are kept when it exists or the read fails too. What is kept of a job
   * never created expires with the bucket's `jobs/` lifecycle rule (lib/regression-stack.ts).
   * Never throws: the create's own answer (429, 503, …) is what the caller needs.
   */
  private async discardSource(job: Pick<JobRecord, 'tenantId' | 'jobId' | 'source'>, options: { mayExist: boolean }): Promise<void> {
    if (job.source.type !== 'inline') return;
    try {
      if (options.mayExist && (await this.lifecycle.jobs.get(job.tenantId, job.jobId))) return;
      await this.options.s3.send(new DeleteObjectCommand({ Bucket: this.options.bucketName, Key: job.source.key }));
    } catch (error) {
      logger.warn('could not delete the inline points of a job not created', { jobId: job.jobId, error: error as Error });
    }
  }

  private tooManyActiveJobs() {
    return new LimitExceeded('TOO_MANY_ACTIVE_JOBS', `at most ${this.options.limits.maxActiveJobs} jobs may be queued or running at once`);
  }

  /**
   * A tenant at its limit is answered from one read of its counter, before any
   * write: under a burst most requests are refusals, and they then cost neither an
   * object nor a transaction that contends for the counter. The read can be stale
   * by the time the transaction would run, which is why the transaction keeps its
   * own condition; this only spares work.
   */
  private async atLimit(tenantId: string): Promise<boolean> {
    const counter = await this.lifecycle.tenants.activeCounter(tenantId);
    return counter.activeJobs >= this.options.limits.maxActiveJobs && !(await this.corrected(tenantId, counter));
  }

  /** Creates the job if the tenant has a free slot; the transaction's condition is what decides. */
  private async admit(options: Parameters<Lifecycle['create']>[0]): Promise<CreateOutcome> {
    const outcome = await this.lifecycle.create(options);
    if (outcome !== 'LIMIT_REACHED') return outcome;
    if (!(await this.corrected(options.job.tenantId, await this.lifecycle.tenants.activeCounter(options.job.tenantId)))) return outcome;
    return this.lifecycle.create(options);
  }

  /**
   * Whether a full counter was wrong and is now corrected. The counter can only
   * drift if a job was changed outside the lifecycle (by hand, or a restore); so a
   * refusal is checked against a consistent count of the tenant's active jobs, but
   * only once the counter has been quiet for a while: a count taken while creates
   * and ends are committing could miss some of them, and correcting from it would
   * admit too many. A counter above the count is corrected at the revision read.
   */
  private async corrected(tenantId: string, counter: { activeJobs: number; revision: number; changedAt: number }): Promise<boolean> {
    if (Date.now() - counter.changedAt < COUNTER_QUIET_MS) return false;
    const activeJobs = await this.lifecycle.jobs.countActive(tenantId);
    if (activeJobs >= counter.activeJobs) return false;
    logger.warn('active-jobs counter corrected', { counted: counter.activeJobs, actual: activeJobs });
    return this.lifecycle.tenants.correctActive(tenantId, { activeJobs, revision: counter.revision }, new Date());
  }

  /**
   * The job an Idempotency-Key already created, as it is now. A job still QUEUED
   * may never have been started (the first request's answer was lost between its
   * write and its start): starting it again is safe, executions are named by their
   * job id.
   */
  private async replay(tenantId: string, bound: { idempotencyKey: string; requestHash: string }): Promise<JobView> {
    const record = await this.lifecycle.tenants.request(tenantId, bound.idempotencyKey);
    // Bound a moment ago and gone now: the first request's job could not be started and it is freeing the key.
    if (!record) throw new IdempotencyInProgress();
    if (record.requestHash !== bound.requestHash) {
      throw new Conflict('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was already used with a different request body');
    }
    const job = await this.lifecycle.jobs.get(tenantId, record.jobId);
    if (!job) throw new NotFound('job');
    if (job.status === 'QUEUED') await this.startWorkflow(job);
    return toJobView(job);
  }

  /**
   * Starts the training workflow. If the start fails, the job is marked FAILED
   * (WORKFLOW_START_FAILED) at once rather than left QUEUED, its key is freed for
   * the resubmission, and the caller gets a 503 to retry.
   */
  private async start(job: JobRecord, idempotencyKey: string | undefined): Promise<void> {
    try {
      await this.startWorkflow(job);
    } catch (error) {
      logger.error('could not start the training workflow', { jobId: job.jobId, error: error as Error });
      const failure = { code: 'WORKFLOW_START_FAILED', message: 'the training workflow could not be started; submit the job again' };
      await this.lifecycle.finish(job, 'FAILED', { error: failure, finishedAt: new Date().toISOString() }, { status: 'FAILED' });
      if (idempotencyKey !== undefined) await this.lifecycle.tenants.releaseRequest(job.tenantId, idempotencyKey, job.jobId);
      throw new ServiceUnavailable('WORKFLOW_START_FAILED', `${failure.message} (job ${job.jobId})`, undefined, { cause: error });
    }
  }

  private async startWorkflow(job: Pick<JobRecord, 'tenantId' | 'jobId'>): Promise<void> {
    try {
      await this.options.stepFunctions.send(
        new StartExecutionCommand({
          stateMachineArn: this.options.stateMachineArn,
          name: job.jobId,
          input: JSON.stringify({ tenantId: job.tenantId, jobId: job.jobId }),
        }),
      );
    } catch (error) {
      // Started before: by the first attempt of this request, whose answer was lost.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  }
}
