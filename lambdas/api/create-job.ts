import { createHash } from 'node:crypto';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, IdempotencyValidationError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ulid } from 'ulid';
import { Conflict, IdempotencyInProgress, LimitExceeded, NotFound, ServiceUnavailable } from '../../src/domain/errors.js';
import { inlineFeatureNames, type JobRecord, type JobSource, type JobView, type ModelRecord, toJobView } from '../../src/domain/jobs.js';
import { limitsFrom } from '../../src/domain/limits.js';
import { inlineDataKey } from '../../src/domain/object-keys.js';
import { createJobBodySchema, type JobRequest, parseInput, toJobRequest } from '../../src/domain/schemas.js';
import { selectColumns } from '../../src/domain/statistics.js';
import * as z from '../../src/domain/zod.js';
import { dynamodb, stepFunctions } from '../commons/clients.js';
import { DatasetStore } from '../commons/datasets.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, jsonBody, tenantOf } from '../commons/http.js';
import { logger, metrics } from '../commons/powertools.js';
import { s3 } from '../commons/s3.js';
import { type CreateOutcome, JobStore, Lifecycle, ModelStore } from '../commons/store.js';
import { TenantStore } from '../commons/tenants.js';

const env = readEnv({
  JOBS_TABLE_NAME: z.string().check(z.minLength(1)),
  MODELS_TABLE_NAME: z.string().check(z.minLength(1)),
  IDEMPOTENCY_TABLE_NAME: z.string().check(z.minLength(1)),
  STATE_MACHINE_ARN: z.string().check(z.startsWith('arn:')),
  RETENTION_DAYS: z._default(z.coerce.number().check(z.int(), z.positive()), 30),
  DATASETS_TABLE_NAME: z.string().check(z.minLength(1)),
  DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)),
  TENANTS_TABLE_NAME: z.string().check(z.minLength(1)),
});
const limits = limitsFrom(process.env);
const CreateJobBody = createJobBodySchema(limits);
const jobs = new JobStore(env.JOBS_TABLE_NAME);
const tenants = new TenantStore(env.TENANTS_TABLE_NAME);
const lifecycle = new Lifecycle(jobs, new ModelStore(env.MODELS_TABLE_NAME), tenants);
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

/** Executions are named by their job id, so a retried start can never run a job twice. */
export function executionArnOf(stateMachineArn: string, jobId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${jobId}`;
}

/** A dataset job needs the caller's own READY dataset, with `target` and `features` its columns; answers the features. */
async function datasetFeatures(tenantId: string, source: { datasetId: string; target: string; features?: string[] }): Promise<string[]> {
  const dataset = await datasets.get(tenantId, source.datasetId);
  if (!dataset) throw new NotFound('dataset');
  if (dataset.status !== 'READY') {
    throw new Conflict('DATASET_NOT_READY', `the dataset is ${dataset.status}; only a READY dataset can be trained on`);
  }
  return selectColumns(dataset.columns, source.target, source.features).names;
}

/** Inline points go to their own S3 object (the job item only names it); a dataset is referenced as it is. */
async function storeSource(tenantId: string, jobId: string, source: JobRequest['source']): Promise<JobSource> {
  if (source.type === 'dataset') return source;
  const key = inlineDataKey(tenantId, jobId);
  await s3.send(new PutObjectCommand({ Bucket: env.DATASETS_BUCKET_NAME, Key: key, Body: JSON.stringify(source.data), ContentType: 'application/json' }));
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
async function discardSource(job: Pick<JobRecord, 'tenantId' | 'jobId' | 'source'>, options: { mayExist: boolean }): Promise<void> {
  if (job.source.type !== 'inline') return;
  try {
    if (options.mayExist && (await jobs.get(job.tenantId, job.jobId))) return;
    await s3.send(new DeleteObjectCommand({ Bucket: env.DATASETS_BUCKET_NAME, Key: job.source.key }));
  } catch (error) {
    logger.warn('could not delete the inline points of a job not created', { jobId: job.jobId, error: error as Error });
  }
}

interface CreateInput {
  tenantId: string;
  request: JobRequest;
  idempotencyKey?: string | undefined;
}

const tooManyActiveJobs = () => new LimitExceeded('TOO_MANY_ACTIVE_JOBS', `at most ${limits.maxActiveJobs} jobs may be queued or running at once`);

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
 * Whether a full counter was wrong and is now corrected. The counter can only
 * drift if a job was changed outside the lifecycle (by hand, or a restore); so a
 * refusal is checked against a consistent count of the tenant's active jobs, but
 * only once the counter has been quiet for a while: a count taken while creates
 * and ends are committing could miss some of them, and correcting from it would
 * admit too many. A counter above the count is corrected at the revision read.
 */
async function corrected(tenantId: string, counter: Awaited<ReturnType<TenantStore['activeCounter']>>): Promise<boolean> {
  if (Date.now() - counter.changedAt < COUNTER_QUIET_MS) return false;
  const activeJobs = await jobs.countActive(tenantId);
  if (activeJobs >= counter.activeJobs) return false;
  logger.warn('active-jobs counter corrected', { counted: counter.activeJobs, actual: activeJobs });
  return tenants.correctActive(tenantId, { activeJobs, revision: counter.revision }, new Date());
}

/** Creates the job if the tenant has a free slot; the transaction's condition is what decides. */
async function admit(options: Parameters<Lifecycle['create']>[0]): Promise<CreateOutcome> {
  const outcome = await lifecycle.create(options);
  if (outcome !== 'LIMIT_REACHED') return outcome;
  if (!(await corrected(options.job.tenantId, await tenants.activeCounter(options.job.tenantId)))) return outcome;
  return lifecycle.create(options);
}

/**
 * A tenant at its limit is answered from one read of its counter, before any
 * write: under a burst most requests are refusals, and they then cost neither an
 * object nor a transaction that contends for the counter. The read can be stale
 * by the time the transaction would run, which is why the transaction keeps its
 * own condition; this only spares work. A key that already made a job still
 * answers that job.
 */
async function refuseEarly(tenantId: string, idempotencyKey: string | undefined): Promise<'REFUSED' | 'KEY_TAKEN' | undefined> {
  const counter = await tenants.activeCounter(tenantId);
  if (counter.activeJobs < limits.maxActiveJobs || (await corrected(tenantId, counter))) return undefined;
  if (idempotencyKey !== undefined && (await tenants.request(tenantId, idempotencyKey))) return 'KEY_TAKEN';
  return 'REFUSED';
}

/**
 * The job an Idempotency-Key already created (its create's outcome was unknown to
 * the caller, e.g. a timeout). A job still QUEUED may never have been started:
 * starting it again is safe, executions are named by their job id.
 */
async function replay(tenantId: string, idempotencyKey: string, hash: string): Promise<JobView> {
  const bound = await tenants.request(tenantId, idempotencyKey);
  if (!bound) throw new ServiceUnavailable('SERVICE_UNAVAILABLE', 'the request could not be completed; send it again');
  if (bound.requestHash !== hash) throw new Conflict('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was already used with a different request body');
  const job = await jobs.get(tenantId, bound.jobId);
  if (!job) throw new NotFound('job');
  if (job.status === 'QUEUED') await startWorkflow(job);
  return toJobView(job);
}

async function startWorkflow(job: Pick<JobRecord, 'tenantId' | 'jobId'>): Promise<void> {
  try {
    await stepFunctions.send(
      new StartExecutionCommand({
        stateMachineArn: env.STATE_MACHINE_ARN,
        name: job.jobId,
        input: JSON.stringify({ tenantId: job.tenantId, jobId: job.jobId }),
      }),
    );
  } catch (error) {
    // Started before: by the first attempt of this request, whose answer was lost.
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
}

/**
 * Writes the QUEUED job and its TRAINING model together, taking one of the
 * tenant's active-job slots in the same transaction, then starts the training
 * workflow. If the start fails, the job is marked FAILED (WORKFLOW_START_FAILED)
 * at once rather than left QUEUED, and the caller gets a 503 to retry.
 */
async function createJob({ tenantId, request, idempotencyKey }: CreateInput): Promise<JobView> {
  const hash = requestHash(request);
  const early = await refuseEarly(tenantId, idempotencyKey);
  if (early === 'REFUSED') throw tooManyActiveJobs();
  if (early === 'KEY_TAKEN') return replay(tenantId, idempotencyKey as string, hash);
  const features =
    request.source.type === 'inline' ? inlineFeatureNames(request.source.data[0]?.x.length ?? 0) : await datasetFeatures(tenantId, request.source);
  const now = new Date();
  const createdAt = now.toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + env.RETENTION_DAYS * 86_400;
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
    progress: 0,
    createdAt,
    startedAt: null,
    finishedAt: null,
    error: null,
    attempts: 0,
    executionArn: executionArnOf(env.STATE_MACHINE_ARN, jobId),
    source: await storeSource(tenantId, jobId, request.source),
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
    features,
    metrics: null,
    createdAt,
    fittedAt: null,
    expiresAt,
  };
  let outcome: CreateOutcome;
  try {
    outcome = await admit({
      job,
      model,
      maxActiveJobs: limits.maxActiveJobs,
      request: idempotencyKey === undefined ? undefined : { idempotencyKey, requestHash: hash },
    });
  } catch (error) {
    await discardSource(job, { mayExist: true });
    throw error;
  }
  // Refused by the transaction's conditions: this job was not written.
  if (outcome !== 'CREATED') await discardSource(job, { mayExist: false });
  if (outcome === 'LIMIT_REACHED') throw tooManyActiveJobs();
  if (outcome === 'KEY_TAKEN') return replay(tenantId, idempotencyKey as string, hash);

  try {
    await startWorkflow(job);
  } catch (error) {
    logger.error('could not start the training workflow', { jobId, error: error as Error });
    const failure = { code: 'WORKFLOW_START_FAILED', message: 'the training workflow could not be started; submit the job again' };
    await lifecycle.finish(job, 'FAILED', { error: failure, finishedAt: new Date().toISOString() }, { status: 'FAILED' });
    // The key is free again for the resubmission.
    if (idempotencyKey !== undefined) await tenants.releaseRequest(tenantId, idempotencyKey);
    throw new ServiceUnavailable('WORKFLOW_START_FAILED', `${failure.message} (job ${jobId})`, undefined, { cause: error });
  }
  metrics.addMetric('JobCreated', MetricUnit.Count, 1);
  return toJobView(job);
}

/*
 * The Idempotency-Key header: the same key and body within 24 h answers the job the
 * first request created; the same key with another body is a conflict. Keys are
 * scoped to the tenant, so two tenants can use the same key independently.
 */
const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: '[tenantId, idempotencyKey]',
  payloadValidationJmesPath: 'request',
  expiresAfterSeconds: 24 * 3600,
});
const createJobOnce = makeIdempotent(async (input: CreateInput & { idempotencyKey: string }) => createJob(input), {
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: env.IDEMPOTENCY_TABLE_NAME, awsSdkV3Client: dynamodb }),
  config: idempotencyConfig,
});

const IdempotencyKey = z.optional(z.string().check(z.minLength(1), z.maxLength(255)));

export const handler = httpHandler(async (event, context) => {
  const tenantId = tenantOf(event);
  const request = toJobRequest(parseInput(CreateJobBody, jsonBody(event, limits.maxBodyBytes)));
  const idempotencyKey = parseInput(IdempotencyKey, event.headers['idempotency-key']);

  let job: JobView;
  if (idempotencyKey === undefined) {
    job = await createJob({ tenantId, request });
  } else {
    idempotencyConfig.registerLambdaContext(context);
    try {
      job = await createJobOnce({ tenantId, request, idempotencyKey });
    } catch (error) {
      if (error instanceof IdempotencyValidationError) {
        throw new Conflict('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was already used with a different request body');
      }
      if (error instanceof IdempotencyAlreadyInProgressError) throw new IdempotencyInProgress();
      throw error;
    }
  }
  return json(202, job, { Location: `${event.requestContext.path}/${job.jobId}` });
});
