import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Conflict, NotFound } from '../../src/domain/errors.js';
import { limitsFrom } from '../../src/domain/limits.js';
import { predict } from '../../src/domain/regression.js';
import { ModelId, parseInput, predictBodySchema, predictionInputs } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, jsonBody, pathId, tenantOf } from '../commons/http.js';
import { metrics } from '../commons/powertools.js';
import { ModelStore } from '../commons/store.js';

const env = readEnv({ MODELS_TABLE_NAME: z.string().check(z.minLength(1)) });
const limits = limitsFrom(process.env);
const PredictBody = predictBodySchema(limits);
const models = new ModelStore(env.MODELS_TABLE_NAME);

export const handler = httpHandler(async (event) => {
  const model = await models.get(tenantOf(event), pathId(event, 'modelId', ModelId, 'model'));
  if (!model) throw new NotFound('model');
  if (model.status !== 'TRAINED' || model.intercept === null) {
    throw new Conflict('MODEL_NOT_READY', `the model is ${model.status}; only a TRAINED model can predict`);
  }
  const { inputs, single } = predictionInputs(parseInput(PredictBody, jsonBody(event, limits.maxBodyBytes)), model.coefficients.length);
  const predictions = predict({ coefficients: model.coefficients, intercept: model.intercept }, inputs);
  metrics.addMetric('Predictions', MetricUnit.Count, predictions.length);
  return json(200, {
    modelId: model.modelId,
    predictions,
    ...(single ? { value: predictions[0] } : {}),
    timestamp: new Date().toISOString(),
  });
});
