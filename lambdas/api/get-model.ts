import { httpHandler, json, pathId, tenantOf } from '#commons/http/http.js';
import { ModelStore } from '#commons/jobs/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { NotFound } from '#domain/errors.js';
import { toModelView } from '#domain/jobs.js';
import { ModelId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({ MODELS_TABLE_NAME: z.string().check(z.minLength(1)) });
const models = new ModelStore(env.MODELS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const model = await models.get(tenantOf(event), pathId(event, 'modelId', ModelId, 'model'));
  if (!model) throw new NotFound('model');
  return json(200, toModelView(model));
});
