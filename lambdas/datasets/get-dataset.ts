import { DatasetStore } from '#commons/datasets/store.js';
import { httpHandler, json, pathId, tenantOf } from '#commons/http/http.js';
import { readEnv } from '#commons/runtime/env.js';
import { toDatasetView } from '#domain/datasets.js';
import { NotFound } from '#domain/errors.js';
import { DatasetId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)) });
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const dataset = await datasets.get(tenantOf(event), pathId(event, 'datasetId', DatasetId, 'dataset'));
  if (!dataset) throw new NotFound('dataset');
  return json(200, toDatasetView(dataset));
});
