import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelStatus } from '#domain/jobs.js';
import { handler, modelCache } from '../../../../lambdas/api/predict.js';
import { apiEvent, bodyOf, lambdaContext } from '../../helpers/events.js';
import { expectRelativelyClose, rCoefficients, rFit } from '../../helpers/r-fixtures.js';
import { MODEL_ID, MODELS_TABLE, modelRecord, OTHER_TENANT, TENANT } from '../../helpers/records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const context = lambdaContext('predict');
const NOW = '2026-01-02T08:30:00.000Z';

beforeEach(() => {
  ddb.reset();
  modelCache.clear();
  vi.useFakeTimers({ toFake: ['Date'], now: new Date(NOW) });
  // y = 1 + 2·x0 + 3·x1
  ddb.on(GetCommand).resolves({ Item: modelRecord() });
});
afterEach(() => vi.useRealTimers());

const predict = (body: unknown, { modelId = MODEL_ID, tenantId = TENANT } = {}) =>
  handler(
    apiEvent({ method: 'POST', path: `/models/${modelId}/predict`, resource: '/models/{modelId}/predict', pathParameters: { modelId }, body, tenantId }),
    context,
  );

describe('POST /models/{modelId}/predict', () => {
  it('predicts one input and answers predictions, value and timestamp', async () => {
    const result = await predict({ x: [1, 2] });

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toStrictEqual({ modelId: MODEL_ID, predictions: [9], value: 9, timestamp: NOW });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(GetCommand, { TableName: MODELS_TABLE, Key: { tenantId: TENANT, modelId: MODEL_ID } });
  });

  it('predicts a batch in order, without value', async () => {
    const result = await predict({
      inputs: [
        [1, 2],
        [0, 0],
        [-1, 0.5],
      ],
    });

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toStrictEqual({ modelId: MODEL_ID, predictions: [9, 1, 0.5], timestamp: NOW });
  });

  it('accepts a bare number for a one-feature model', async () => {
    ddb.on(GetCommand).resolves({ Item: modelRecord({ coefficients: [2], features: ['x0'] }) });
    expect(bodyOf(await predict({ x: 5 }))).toMatchObject({ predictions: [11], value: 11 });
  });

  it('uses an intercept of 0 as stored for a model fitted without one', async () => {
    ddb.on(GetCommand).resolves({ Item: modelRecord({ fitIntercept: false, intercept: 0 }) });
    expect(bodyOf(await predict({ x: [1, 1] }))).toMatchObject({ value: 5 });
  });

  it.each<[string, unknown, { path: string; message: string }]>([
    ['an x of the wrong width', { x: [1, 2, 3] }, { path: 'x', message: 'expected 2 values, got 3' }],
    ['a batch input of the wrong width', { inputs: [[1, 2], [1]] }, { path: 'inputs.1', message: 'expected 2 values, got 1' }],
    ['a bare number for a two-feature model', { x: 5 }, { path: 'x', message: 'expected 2 values' }],
  ])('answers 400 VALIDATION_ERROR for %s', async (_, body, detail) => {
    const result = await predict(body);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [detail] } });
  });

  it.each<[string, unknown, string]>([
    ['both x and inputs', { x: [1, 2], inputs: [[1, 2]] }, 'x'],
    ['neither', {}, 'x'],
    ['10,001 inputs', { inputs: Array.from({ length: 10_001 }, () => [1, 2]) }, 'inputs'],
  ])('answers 400 VALIDATION_ERROR for %s', async (_, body, path) => {
    const result = await predict(body);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ path }] } });
  });

  it.each<[string, unknown, string]>([
    ['x whose prediction overflows', { x: [1e308, 0] }, 'x'],
    ['x whose prediction is Infinity - Infinity', { x: [1.7976931348623157e308, 1.7976931348623157e308] }, 'x'],
    [
      'the first batch input whose prediction overflows',
      {
        inputs: [
          [1, 2],
          [-1e308, 1],
          [1e308, 0],
        ],
      },
      'inputs.1',
    ],
  ])('answers 400 VALIDATION_ERROR for %s, never a null prediction', async (_, body, path) => {
    // y = 1 + 2·x0 + 3·x1: 2·1e308 is past the largest double.
    const result = await predict(body);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({
      error: {
        code: 'VALIDATION_ERROR',
        message: 'a prediction overflows double precision',
        details: [{ path, message: 'the prediction for this input is not a finite number: its values are too large for this model' }],
      },
    });
  });

  it('answers a finite prediction however large', async () => {
    expect(bodyOf(await predict({ x: [5e307, 0] }))).toMatchObject({ predictions: [1e308], value: 1e308 });
  });

  it('answers 400 INVALID_JSON for a broken body', async () => {
    const result = await predict('{"x": [1,');
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({ error: { code: 'INVALID_JSON', message: 'the request body is not valid JSON' } });
  });

  it.each<ModelStatus>(['TRAINING', 'FAILED'])('answers 409 MODEL_NOT_READY for a %s model', async (status) => {
    ddb.on(GetCommand).resolves({ Item: modelRecord({ status, coefficients: [], intercept: null, metrics: null, fittedAt: null }) });

    const result = await predict({ x: [1, 2] });

    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toEqual({ error: { code: 'MODEL_NOT_READY', message: `the model is ${status}; only a TRAINED model can predict` } });
  });

  it("answers 404 for an unknown model or another tenant's, looked up under the caller's key", async () => {
    ddb.on(GetCommand).resolves({});
    const result = await predict({ x: [1, 2] }, { tenantId: OTHER_TENANT });
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual({ error: { code: 'NOT_FOUND', message: 'model not found' } });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { tenantId: OTHER_TENANT, modelId: MODEL_ID } });
  });

  it('answers 404 for a malformed model id without reading', async () => {
    expect((await predict({ x: [1, 2] }, { modelId: 'latest' })).statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });
});

describe('POST /models/{modelId}/predict: TRAINED models from memory', () => {
  it('reads a TRAINED model once: the next predictions of it read nothing', async () => {
    expect(bodyOf(await predict({ x: [1, 2] }))).toMatchObject({ value: 9 });
    expect(bodyOf(await predict({ inputs: [[0, 0]] }))).toMatchObject({ predictions: [1] });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(modelCache.size.models).toBe(1);
  });

  it("answers 404 for another tenant asking for a model held in memory, reading under that tenant's key", async () => {
    await predict({ x: [1, 2] });
    ddb.on(GetCommand, { Key: { tenantId: OTHER_TENANT, modelId: MODEL_ID } }).resolves({});

    const result = await predict({ x: [1, 2] }, { tenantId: OTHER_TENANT });

    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual({ error: { code: 'NOT_FOUND', message: 'model not found' } });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { tenantId: OTHER_TENANT, modelId: MODEL_ID } });
    expect((await predict({ x: [1, 2] })).statusCode).toBe(200); // the owner's is still held
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('holds no model that is not TRAINED: once trained, it is read again', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: modelRecord({ status: 'TRAINING', coefficients: [], intercept: null, metrics: null, fittedAt: null }) })
      .resolves({ Item: modelRecord() });
    expect((await predict({ x: [1, 2] })).statusCode).toBe(409);
    expect(bodyOf(await predict({ x: [1, 2] }))).toMatchObject({ value: 9 });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('drops an expired model and asks the table again: a deleted one is then 404', async () => {
    await predict({ x: [1, 2] });
    vi.setSystemTime(new Date(modelRecord().expiresAt * 1000));
    ddb.on(GetCommand).resolves({});

    expect((await predict({ x: [1, 2] })).statusCode).toBe(404);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });
});

describe('POST /models/{modelId}/predict by rows (columns by name)', () => {
  const IRIS_FIT = rFit('iris', 'Sepal.Length ~ Sepal.Width + Petal.Length + Species');
  const SPECIES_FIT = rFit('iris', 'Petal.Width ~ Species');

  /** The TRAINED model of an R fit, as training writes it: coefficients by design column, the columns read, the levels. */
  function modelOf(fit: ReturnType<typeof rFit>) {
    const { intercept, names, values } = rCoefficients(fit);
    return modelRecord({ kind: 'LINEAR', alpha: null, coefficients: values, intercept, features: names, columns: fit.features, levels: fit.levels });
  }

  beforeEach(() => {
    ddb.on(GetCommand).resolves({ Item: modelOf(IRIS_FIT) });
  });

  it("predicts R's iris rows by name: R's own predictions to 1e-9", async () => {
    // head(iris, 3), every column of it: the columns the model does not read are ignored.
    const rows = IRIS_FIT.predictions.map((prediction) => prediction.values);

    const result = await predict({ rows });

    expect(result.statusCode).toBe(200);
    const answer = bodyOf<{ predictions: number[] }>(result);
    expect(answer).toStrictEqual({ modelId: MODEL_ID, predictions: expect.any(Array), timestamp: NOW });
    expectRelativelyClose(
      answer.predictions,
      // iris has no missing value: R predicts every row.
      IRIS_FIT.predictions.map((prediction) => prediction.predicted!),
    );
  });

  it('encodes each level against the reference (setosa): versicolor and virginica add their coefficients', async () => {
    const c = IRIS_FIT.coefficients as Record<string, number>;
    const base = (width: number, length: number) => c['(Intercept)']! + c['Sepal.Width']! * width + c['Petal.Length']! * length;

    const result = await predict({
      rows: [
        { 'Sepal.Width': 3, 'Petal.Length': 4.5, Species: 'versicolor' },
        { 'Sepal.Width': 2.5, 'Petal.Length': 5.5, Species: 'virginica' },
        { Species: 'setosa', 'Petal.Length': 1.5, 'Sepal.Width': 3.4 },
      ],
    });

    expect(result.statusCode).toBe(200);
    expectRelativelyClose(bodyOf<{ predictions: number[] }>(result).predictions, [
      base(3, 4.5) + c.Speciesversicolor!,
      base(2.5, 5.5) + c.Speciesvirginica!,
      base(3.4, 1.5),
    ]);
  });

  it("predicts a model of a category alone: each species' mean (R's Petal.Width ~ Species)", async () => {
    ddb.on(GetCommand).resolves({ Item: modelOf(SPECIES_FIT) });
    const result = await predict({ rows: [{ Species: 'setosa' }, { Species: 'versicolor' }, { Species: 'virginica' }] });
    // R: 0.246, 1.326, 2.026 (the means of iris$Petal.Width by species).
    expectRelativelyClose(bodyOf<{ predictions: number[] }>(result).predictions, [0.246, 1.326, 2.026]);
    expectRelativelyClose([bodyOf<{ predictions: number[] }>(result).predictions[0]!], [SPECIES_FIT.predictions[0]!.predicted!]);
  });

  it('still predicts the same model by design columns (x, inputs): one value per coefficient', async () => {
    const [setosa] = IRIS_FIT.predictions;
    const x = [setosa!.values['Sepal.Width'] as number, setosa!.values['Petal.Length'] as number, 0, 0];
    const result = await predict({ x });
    expect(result.statusCode).toBe(200);
    expectRelativelyClose([bodyOf<{ value: number }>(result).value], [setosa!.predicted!]);
  });

  it('keeps the columns with the model in memory: the next prediction by rows reads nothing', async () => {
    const row = { 'Sepal.Width': 3, 'Petal.Length': 1.4, Species: 'setosa' };
    expect((await predict({ rows: [row] })).statusCode).toBe(200);
    const result = await predict({ rows: [{ ...row, Species: 'virginica' }] });
    expect(result.statusCode).toBe(200);
    expect(bodyOf<{ predictions: number[] }>(result).predictions).toHaveLength(1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it.each<[string, unknown, { path: string; message: string }]>([
    [
      'a row without a column the model reads',
      {
        rows: [
          { 'Sepal.Width': 3, 'Petal.Length': 1.4, Species: 'setosa' },
          { 'Sepal.Width': 3, Species: 'setosa' },
        ],
      },
      { path: 'rows.1', message: '"Petal.Length" is missing' },
    ],
    [
      'a level the model does not know',
      { rows: [{ 'Sepal.Width': 3, 'Petal.Length': 1.4, Species: 'Setosa' }] },
      { path: 'rows.0.Species', message: 'must be one of "setosa", "versicolor", "virginica"' },
    ],
    [
      'a string for a number column',
      { rows: [{ 'Sepal.Width': '3', 'Petal.Length': 1.4, Species: 'setosa' }] },
      { path: 'rows.0.Sepal.Width', message: '"Sepal.Width" is a number column' },
    ],
    [
      'a number for a category column',
      { rows: [{ 'Sepal.Width': 3, 'Petal.Length': 1.4, Species: 1 }] },
      { path: 'rows.0.Species', message: 'must be a string' },
    ],
    [
      'an empty string for a number column (no missing value in a prediction)',
      { rows: [{ 'Sepal.Width': '', 'Petal.Length': 1.4, Species: 'setosa' }] },
      { path: 'rows.0.Sepal.Width', message: '"Sepal.Width" is a number column' },
    ],
  ])('answers 400 VALIDATION_ERROR for %s, naming it', async (_, body, detail) => {
    const result = await predict(body);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [detail] } });
  });

  it.each<[string, unknown, string]>([
    ['both rows and inputs', { rows: [{ 'Sepal.Width': 3, 'Petal.Length': 1.4, Species: 'setosa' }], inputs: [[3, 1.4, 0, 0]] }, 'x'],
    ['both rows and x', { rows: [{ 'Sepal.Width': 3, 'Petal.Length': 1.4, Species: 'setosa' }], x: [3, 1.4, 0, 0] }, 'x'],
    ['no row', { rows: [] }, 'rows'],
    ['a row that is not an object', { rows: [[3, 1.4, 'setosa']] }, 'rows.0'],
    ['a null value', { rows: [{ 'Sepal.Width': null, 'Petal.Length': 1.4, Species: 'setosa' }] }, 'rows.0.Sepal.Width'],
    ['a value that is neither number nor string', { rows: [{ 'Sepal.Width': 3, 'Petal.Length': 1.4, Species: true }] }, 'rows.0.Species'],
  ])('answers 400 VALIDATION_ERROR for %s', async (_, body, path) => {
    const result = await predict(body);
    expect(result.statusCode).toBe(400);
    const { error } = bodyOf<{ error: { code: string; details: { path: string }[] } }>(result);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details.map((detail) => detail.path)).toEqual([path]);
  });

  it('names the row whose prediction overflows', async () => {
    const result = await predict({
      rows: [
        { 'Sepal.Width': 3, 'Petal.Length': 1.4, Species: 'setosa' },
        { 'Sepal.Width': 1.7e308, 'Petal.Length': 1.7e308, Species: 'setosa' },
      ],
    });
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ path: 'rows.1' }] } });
  });

  it('reads a column named like a member of Object.prototype ("constructor") as the number column it is', async () => {
    ddb.on(GetCommand).resolves({ Item: modelRecord({ features: ['constructor', 'x1'], columns: ['constructor', 'x1'], levels: {} }) });
    expect(bodyOf(await predict({ rows: [{ constructor: 1, x1: 2 }] }))).toMatchObject({ predictions: [9] });
    const result = await predict({ rows: [{ x1: 2 }] });
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ path: 'rows.0', message: '"constructor" is missing' }] } });
  });

  it('predicts a model trained before columns were kept by rows named after its features', async () => {
    // y = 1 + 2·x0 + 3·x1, no columns nor levels stored.
    const older = modelRecord();
    expect(older).not.toHaveProperty('columns');
    ddb.on(GetCommand).resolves({ Item: older });

    const result = await predict({
      rows: [
        { x0: 1, x1: 2 },
        { x1: 0.5, x0: -1 },
      ],
    });

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toStrictEqual({ modelId: MODEL_ID, predictions: [9, 0.5], timestamp: NOW });
  });

  it('answers 400 for a row of a model trained before columns were kept that misses one of its features', async () => {
    ddb.on(GetCommand).resolves({ Item: modelRecord() });
    const result = await predict({ rows: [{ x0: 1 }] });
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ path: 'rows.0', message: '"x1" is missing' }] } });
  });
});
