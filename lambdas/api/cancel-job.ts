import { httpHandler, json, pathId, tenantOf } from '#commons/http/http.js';
import { cancelJob } from '#commons/jobs/cancel-job.js';
import { JobStore, Lifecycle, ModelStore } from '#commons/jobs/store.js';
import { TenantStore } from '#commons/jobs/tenants.js';
import { stepFunctions } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { JobId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({
  JOBS_TABLE_NAME: z.string().check(z.minLength(1)),
  MODELS_TABLE_NAME: z.string().check(z.minLength(1)),
  TENANTS_TABLE_NAME: z.string().check(z.minLength(1)),
});
const lifecycle = new Lifecycle(new JobStore(env.JOBS_TABLE_NAME), new ModelStore(env.MODELS_TABLE_NAME), new TenantStore(env.TENANTS_TABLE_NAME));

/** POST /jobs/{jobId}/cancel (lambdas/commons/jobs/cancel-job.ts), answered 202 with the job as cancelled. */
export const handler = httpHandler(async (event) => {
  const job = await cancelJob({ lifecycle, stepFunctions }, { tenantId: tenantOf(event), jobId: pathId(event, 'jobId', JobId, 'job') });
  return json(202, job);
});
