import { toModelView } from '../../src/domain/jobs.js';
import { ListQuery, parseInput } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, tenantOf } from '../commons/http.js';
import { ModelStore } from '../commons/store.js';

const env = readEnv({ MODELS_TABLE_NAME: z.string().check(z.minLength(1)) });
const models = new ModelStore(env.MODELS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const query = parseInput(ListQuery, event.queryStringParameters ?? {});
  const page = await models.list(tenantOf(event), query);
  return json(200, { items: page.items.map(toModelView), nextToken: page.nextToken });
});
