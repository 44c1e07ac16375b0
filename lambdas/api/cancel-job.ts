import { JobId } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { stepFunctions } from '../commons/clients.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, pathId, tenantOf } from '../commons/http.js';
import { cancelJob } from '../commons/jobs/cancel-job.js';
import { JobStore, Lifecycle, ModelStore } from '../commons/store.js';
import { TenantStore } from '../commons/tenants.js';

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
