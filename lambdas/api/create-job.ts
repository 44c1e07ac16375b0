import { DatasetStore } from '#commons/datasets/store.js';
import { httpHandler, json, jsonBody, tenantOf } from '#commons/http/http.js';
import { JobStore, Lifecycle, ModelStore } from '#commons/jobs/store.js';
import { JobSubmissions } from '#commons/jobs/submit-job.js';
import { TenantStore } from '#commons/jobs/tenants.js';
import { stepFunctions } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { s3 } from '#commons/runtime/s3.js';
import { limitsFrom } from '#domain/limits.js';
import { createJobBodySchema, parseInput, toJobRequest } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({
  JOBS_TABLE_NAME: z.string().check(z.minLength(1)),
  MODELS_TABLE_NAME: z.string().check(z.minLength(1)),
  STATE_MACHINE_ARN: z.string().check(z.startsWith('arn:')),
  RETENTION_DAYS: z._default(z.coerce.number().check(z.int(), z.positive()), 30),
  DATASETS_TABLE_NAME: z.string().check(z.minLength(1)),
  DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)),
  TENANTS_TABLE_NAME: z.string().check(z.minLength(1)),
});
const limits = limitsFrom(process.env);
const CreateJobBody = createJobBodySchema(limits);
const submissions = new JobSubmissions({
  lifecycle: new Lifecycle(new JobStore(env.JOBS_TABLE_NAME), new ModelStore(env.MODELS_TABLE_NAME), new TenantStore(env.TENANTS_TABLE_NAME)),
  datasets: new DatasetStore(env.DATASETS_TABLE_NAME),
  s3,
  stepFunctions,
  bucketName: env.DATASETS_BUCKET_NAME,
  stateMachineArn: env.STATE_MACHINE_ARN,
  retentionDays: env.RETENTION_DAYS,
  limits,
});

const IdempotencyKey = z.optional(z.string().check(z.minLength(1), z.maxLength(255)));

/** POST /jobs: the job is submitted (lambdas/commons/jobs/submit-job.ts) and answered 202 with its Location. */
export const handler = httpHandler(async (event) => {
  const job = await submissions.submit({
    tenantId: tenantOf(event),
    request: toJobRequest(parseInput(CreateJobBody, jsonBody(event, limits.maxBodyBytes))),
    idempotencyKey: parseInput(IdempotencyKey, event.headers['idempotency-key']),
  });
  return json(202, job, { Location: `${event.requestContext.path}/${job.jobId}` });
});
