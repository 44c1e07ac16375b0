import { httpHandler, json, tenantOf } from '#commons/http/http.js';
import { ModelStore } from '#commons/jobs/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { toModelView } from '#domain/jobs.js';
import { ListQuery, parseInput } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({ MODELS_TABLE_NAME: z.string().check(z.minLength(1)) });
const models = new ModelStore(env.MODELS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const query = parseInput(ListQuery, event.queryStringParameters ?? {});
  const page = await models.list(tenantOf(event), query);
  return json(200, { items: page.items.map(toModelView), nextToken: page.nextToken });
});
