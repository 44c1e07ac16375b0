import { IdempotencyAlreadyInProgressError, IdempotencyConfig, IdempotencyValidationError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ulid } from 'ulid';
import { z } from 'zod';
import { featuresOf } from '../../src/domain/datasets.js';
import { Conflict, LimitExceeded, NotFound, ServiceUnavailable } from '../../src/domain/errors.js';
import { inlineDataKey, inlineFeatureNames, type JobRecord, type JobSource, type JobView, type ModelRecord, toJobView } from '../../src/domain/jobs.js';
import { limitsFrom } from '../../src/domain/limits.js';
import { createJobBodySchema, type JobRequest, parseInput, toJobRequest } from '../../src/domain/schemas.js';
import { dynamodb, stepFunctions } from '../commons/clients.js';
import { DatasetStore } from '../commons/datasets.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, jsonBody, tenantOf } from '../commons/http.js';
import { logger, metrics } from '../commons/powertools.js';
import { s3 } from '../commons/s3.js';
import { JobStore, Lifecycle, ModelStore } from '../commons/store.js';

const env = readEnv({
  JOBS_TABLE_NAME: z.string().min(1),
  MODELS_TABLE_NAME: z.string().min(1),
  IDEMPOTENCY_TABLE_NAME: z.string().min(1),
  STATE_MACHINE_ARN: z.string().startsWith('arn:'),
  RETENTION_DAYS: z.coerce.number().int().positive().default(30),
  DATASETS_TABLE_NAME: z.string().min(1),
  DATASETS_BUCKET_NAME: z.string().min(1),
});
const limits = limitsFrom(process.env);
const CreateJobBody = createJobBodySchema(limits);
const jobs = new JobStore(env.JOBS_TABLE_NAME);
const lifecycle = new Lifecycle(jobs, new ModelStore(env.MODELS_TABLE_NAME));
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

/** Executions are named by their job id, so a retried start can never run a job twice. */
export function executionArnOf(stateMachineArn: string, jobId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${jobId}`;
}

/** A dataset job needs the caller's own READY dataset, with `target` one of its columns; answers the features. */
async function datasetFeatures(tenantId: string, source: { datasetId: string; target: string }): Promise<string[]> {
  const dataset = await datasets.get(tenantId, source.datasetId);
  if (!dataset) throw new NotFound('dataset');
  if (dataset.status !== 'READY') {
    throw new Conflict('DATASET_NOT_READY', `the dataset is ${dataset.status}; only a READY dataset can be trained on`);
  }
  return featuresOf(dataset.columns, source.target);
}

/** Inline points go to their own S3 object (the job item only names it); a dataset is referenced as it is. */
async function storeSource(tenantId: string, jobId: string, source: JobRequest['source']): Promise<JobSource> {
  if (source.type === 'dataset') return source;
  const key = inlineDataKey(tenantId, jobId);
  await s3.send(new PutObjectCommand({ Bucket: env.DATASETS_BUCKET_NAME, Key: key, Body: JSON.stringify(source.data), ContentType: 'application/json' }));
  return { type: 'inline', key, rows: source.data.length };
}

interface CreateInput {
  tenantId: string;
  request: JobRequest;
}

/**
 * Writes the QUEUED job and its TRAINING model together, then starts the training
 * workflow. If the start fails, the job is marked FAILED (WORKFLOW_START_FAILED)
 * at once rather than left QUEUED, and the caller gets a 503 to retry.
 */
async function createJob({ tenantId, request }: CreateInput): Promise<JobView> {
  const features =
    request.source.type === 'inline' ? inlineFeatureNames(request.source.data[0]?.x.length ?? 0) : await datasetFeatures(tenantId, request.source);
  // Inside the idempotent part, so replaying a request that created a job answers that job even at the limit.
  if ((await jobs.countActive(tenantId)) >= limits.maxActiveJobs) {
    throw new LimitExceeded('TOO_MANY_ACTIVE_JOBS', `at most ${limits.maxActiveJobs} jobs may be queued or running at once`);
  }
  const now = new Date();
  const createdAt = now.toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + env.RETENTION_DAYS * 86_400;
  const jobId = ulid(now.getTime());
  const modelId = ulid(now.getTime());
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
    expiresAt,
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
  await lifecycle.create(job, model);

  try {
    await stepFunctions.send(new StartExecutionCommand({ stateMachineArn: env.STATE_MACHINE_ARN, name: jobId, input: JSON.stringify({ tenantId, jobId }) }));
  } catch (error) {
    logger.error('could not start the training workflow', { jobId, error: error as Error });
    const failure = { code: 'WORKFLOW_START_FAILED', message: 'the training workflow could not be started; submit the job again' };
    await lifecycle.finish(job, 'FAILED', { error: failure, finishedAt: new Date().toISOString() }, { status: 'FAILED' });
    throw new ServiceUnavailable('WORKFLOW_START_FAILED', `${failure.message} (job ${jobId})`);
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

const IdempotencyKey = z.string().min(1).max(255).optional();

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
      if (error instanceof IdempotencyAlreadyInProgressError) {
        throw new Conflict('IDEMPOTENCY_CONFLICT', 'a request with this Idempotency-Key is still in progress');
      }
      throw error;
    }
  }
  return json(202, job, { Location: `${event.requestContext.path}/${job.jobId}` });
});
