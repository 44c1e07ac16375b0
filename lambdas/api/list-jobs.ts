import { toJobView } from '../../src/domain/jobs.js';
import { ListJobsQuery, parseInput } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, tenantOf } from '../commons/http.js';
import { JobStore } from '../commons/store.js';

const env = readEnv({ JOBS_TABLE_NAME: z.string().check(z.minLength(1)) });
const jobs = new JobStore(env.JOBS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const query = parseInput(ListJobsQuery, event.queryStringParameters ?? {});
  const page = await jobs.list(tenantOf(event), query);
  return json(200, { items: page.items.map(toJobView), nextToken: page.nextToken });
});
