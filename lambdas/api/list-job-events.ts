import { httpHandler, json, pathId, tenantOf } from '#commons/http/http.js';
import { JobEventStore } from '#commons/jobs/job-events.js';
import { JobStore } from '#commons/jobs/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { NotFound } from '#domain/errors.js';
import { JobId, ListQuery, parseInput } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({ JOBS_TABLE_NAME: z.string().check(z.minLength(1)), JOB_EVENTS_TABLE_NAME: z.string().check(z.minLength(1)) });
const jobs = new JobStore(env.JOBS_TABLE_NAME);
const events = new JobEventStore(env.JOB_EVENTS_TABLE_NAME);

/** `GET /jobs/{jobId}/events`: the job's history, oldest first, paged like the other lists; another tenant's job is a 404. */
export const handler = httpHandler(async (event) => {
  const tenantId = tenantOf(event);
  const jobId = pathId(event, 'jobId', JobId, 'job');
  const query = parseInput(ListQuery, event.queryStringParameters ?? {});
  if (!(await jobs.get(tenantId, jobId))) throw new NotFound('job');
  const page = await events.list(tenantId, jobId, query);
  return json(200, { items: page.items, nextToken: page.nextToken });
});
