import { httpHandler, json, pathId, tenantOf } from '#commons/http/http.js';
import { JobStore } from '#commons/jobs/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { NotFound } from '#domain/errors.js';
import { toJobView } from '#domain/jobs.js';
import { JobId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({ JOBS_TABLE_NAME: z.string().check(z.minLength(1)) });
const jobs = new JobStore(env.JOBS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const job = await jobs.get(tenantOf(event), pathId(event, 'jobId', JobId, 'job'));
  if (!job) throw new NotFound('job');
  return json(200, toJobView(job));
});
