import { httpHandler, json, tenantOf } from '#commons/http/http.js';
import { JobStore } from '#commons/jobs/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { toJobView } from '#domain/jobs.js';
import { ListJobsQuery, parseInput } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({ JOBS_TABLE_NAME: z.string().check(z.minLength(1)) });
const jobs = new JobStore(env.JOBS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const query = parseInput(ListJobsQuery, event.queryStringParameters ?? {});
  const page = await jobs.list(tenantOf(event), query);
  return json(200, { items: page.items.map(toJobView), nextToken: page.nextToken });
});
