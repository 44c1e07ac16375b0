import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { httpHandler, json, jsonBody, pathId, tenantOf } from '#commons/http/http.js';
import { type CachedModel, ModelCache } from '#commons/jobs/model-cache.js';
import { ModelStore } from '#commons/jobs/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { metrics } from '#commons/runtime/powertools.js';
import { modelColumns } from '#domain/design.js';
import { Conflict, NotFound } from '#domain/errors.js';
import { toModelView } from '#domain/jobs.js';
import { limitsFrom } from '#domain/limits.js';
import { predict } from '#domain/regression.js';
import { checkPredictions, ModelId, parsePredictBody, predictBodySchema, predictionInputs } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({
  MODELS_TABLE_NAME: z.string().check(z.minLength(1)),
  // docs/operations.md, Predictions from memory: what the TRAINED models held in memory may weigh together (64 MiB by default).
  MODEL_CACHE_BYTES: z._default(z.coerce.number().check(z.int(), z.gte(0)), 64 * 1024 * 1024),
});
const limits = limitsFrom(process.env);
const PredictBody = predictBodySchema(limits);
const models = new ModelStore(env.MODELS_TABLE_NAME);

/** This environment's TRAINED models (lambdas/commons/jobs/model-cache.ts); exported for the tests to empty it. */
export const modelCache = new ModelCache(env.MODEL_CACHE_BYTES);

/** The tenant's TRAINED model: from memory when held, else from the table (and then held). */
async function trainedModel(tenantId: string, modelId: string): Promise<CachedModel> {
  const cached = modelCache.get(tenantId, modelId);
  if (cached) return cached;
  const model = await models.get(tenantId, modelId);
  if (!model) throw new NotFound('model');
  if (model.status !== 'TRAINED' || model.intercept === null) {
    throw new Conflict('MODEL_NOT_READY', `the model is ${model.status}; only a TRAINED model can predict`);
  }
  const { columns, levels } = toModelView(model);
  const trained = { coefficients: model.coefficients, intercept: model.intercept, expiresAt: model.expiresAt, columns: modelColumns({ columns, levels }) };
  modelCache.set(tenantId, modelId, trained);
  return trained;
}

export const handler = httpHandler(async (event) => {
  const tenantId = tenantOf(event);
  const modelId = pathId(event, 'modelId', ModelId, 'model');
  const model = await trainedModel(tenantId, modelId);
  const body = parsePredictBody(PredictBody, limits, jsonBody(event, limits.maxBodyBytes));
  const { inputs, single, path } = predictionInputs(body, model.coefficients.length, model.columns);
  const predictions = predict(model, inputs);
  checkPredictions(predictions, single, path);
  metrics.addMetric('Predictions', MetricUnit.Count, predictions.length);
  return json(200, {
    modelId,
    predictions,
    ...(single ? { value: predictions[0] } : {}),
    timestamp: new Date().toISOString(),
  });
});
