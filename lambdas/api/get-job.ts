import { NotFound } from '../../src/domain/errors.js';
import { toJobView } from '../../src/domain/jobs.js';
import { JobId } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, pathId, tenantOf } from '../commons/http.js';
import { JobStore } from '../commons/store.js';

const env = readEnv({ JOBS_TABLE_NAME: z.string().check(z.minLength(1)) });
const jobs = new JobStore(env.JOBS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const job = await jobs.get(tenantOf(event), pathId(event, 'jobId', JobId, 'job'));
  if (!job) throw new NotFound('job');
  return json(200, toJobView(job));
});
