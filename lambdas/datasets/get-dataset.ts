import { toDatasetView } from '../../src/domain/datasets.js';
import { NotFound } from '../../src/domain/errors.js';
import { DatasetId } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { DatasetStore } from '../commons/datasets.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, pathId, tenantOf } from '../commons/http.js';

const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)) });
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const dataset = await datasets.get(tenantOf(event), pathId(event, 'datasetId', DatasetId, 'dataset'));
  if (!dataset) throw new NotFound('dataset');
  return json(200, toDatasetView(dataset));
});
