import { NotFound } from '../../src/domain/errors.js';
import { toModelView } from '../../src/domain/jobs.js';
import { ModelId } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, pathId, tenantOf } from '../commons/http.js';
import { ModelStore } from '../commons/store.js';

const env = readEnv({ MODELS_TABLE_NAME: z.string().check(z.minLength(1)) });
const models = new ModelStore(env.MODELS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const model = await models.get(tenantOf(event), pathId(event, 'modelId', ModelId, 'model'));
  if (!model) throw new NotFound('model');
  return json(200, toModelView(model));
});
