import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DatasetRecord, DatasetStatus } from '#domain/datasets.js';
import type { ColumnSchema } from '#domain/schema.js';
import { rCoefficients, readyScan, rFit, rFixture } from '../../helpers/r-fixtures.js';
import { apiEvent, context, DATASET_ID, datasetRecord, stubDatasetEnv } from '../datasets/fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
let handler: typeof import('../../../../lambdas/api/create-job.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv({
    JOBS_TABLE_NAME: 'jobs-test',
    MODELS_TABLE_NAME: 'models-test',
    STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:train',
  });
  ({ handler } = await import('../../../../lambdas/api/create-job.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  sfn.reset();
  // The tenant's active-jobs counter: no item yet, so no job is active.
  ddb.on(GetCommand, { TableName: 'tenants-table' }).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn' });
});

const submit = (body: unknown, tenantId = 'acme') => handler(apiEvent({ method: 'POST', path: '/jobs', body: JSON.stringify(body), tenantId }), context);

function datasetIs(status: DatasetStatus, columns = ['x0', 'x1', 'y']) {
  ddb.on(GetCommand, { TableName: 'datasets-test' }).resolves({ Item: datasetRecord({ status, columns }) });
}

/** A READY dataset with this schema (its columns the schema's names). */
function datasetWith(schema: ColumnSchema[], overrides: Partial<DatasetRecord> = {}) {
  ddb.on(GetCommand, { TableName: 'datasets-test' }).resolves({ Item: datasetRecord({ columns: schema.map((column) => column.name), schema, ...overrides }) });
}

/** The job and the TRAINING model the create wrote. */
function created() {
  const [jobPut, modelPut] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
  return { job: jobPut!.Put!.Item!, model: modelPut!.Put!.Item! };
}

/** Asserts a 400 VALIDATION_ERROR with exactly these details, and that nothing was created or started. */
async function expectRefused(result: { statusCode: number; body: string }, details: { path: string; message?: string }[]) {
  expect(result.statusCode).toBe(400);
  const { error } = JSON.parse(result.body) as { error: { code: string; details: { path: string; message: string }[] } };
  expect(error.code).toBe('VALIDATION_ERROR');
  expect(error.details).toHaveLength(details.length);
  details.forEach((detail, i) => expect(error.details[i]).toMatchObject(detail));
  expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  expect(sfn.calls()).toHaveLength(0);
}

/** The schemas R's exports scan to (test/fixtures/r): iris (row names, a factor), airquality (NA in Ozone and Solar.R). */
const IRIS_SCHEMA = readyScan(rFixture('iris.r.csv')).schema;
const AIRQUALITY_SCHEMA = readyScan(rFixture('airquality.r.csv')).schema;

/** Every kind of column a design may meet. */
const MIXED_SCHEMA: ColumnSchema[] = [
  { name: 'id', type: 'text', missing: 0, generated: true, reason: 'identifier' },
  { name: 'y', type: 'number', missing: 0 },
  { name: 'x', type: 'number', missing: 0 },
  {
    name: 'g',
    type: 'category',
    missing: 0,
    levels: [
      { value: 'a', count: 2 },
      { value: 'b', count: 3 },
    ],
  },
  { name: 'one', type: 'category', missing: 0, levels: [{ value: 'only', count: 5 }] },
  { name: 'note', type: 'text', missing: 0, reason: 'mixed', numbers: 2, texts: 3 },
  { name: 'code', type: 'text', missing: 0, reason: 'too-many-values', distinctOver: 100 },
];

describe('POST /jobs with a dataset', () => {
  it("queues a job on the caller's READY dataset; the model's features are the other columns in header order", async () => {
    datasetIs('READY', ['x0', 'price', 'x1']);

    const result = await submit({ kind: 'RIDGE', datasetId: DATASET_ID, target: 'price' });

    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body)).toMatchObject({ status: 'QUEUED', kind: 'RIDGE', alpha: 1, datasetId: DATASET_ID });
    expect(ddb.commandCalls(GetCommand, { TableName: 'datasets-test' })[0]?.args[0].input).toEqual({
      TableName: 'datasets-test',
      Key: { tenantId: 'acme', datasetId: DATASET_ID },
      ConsistentRead: true,
    });
    const [jobPut, modelPut] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(jobPut?.Put?.Item).toMatchObject({ source: { type: 'dataset', datasetId: DATASET_ID, target: 'price' } });
    expect(modelPut?.Put?.Item).toMatchObject({ status: 'TRAINING', features: ['x0', 'x1'] });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it.each(['PENDING_UPLOAD', 'VALIDATING', 'INVALID'] as const)('answers 409 DATASET_NOT_READY for a %s dataset and creates nothing', async (status) => {
    datasetIs(status);
    const result = await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'y' });
    expect(result.statusCode).toBe(409);
    expect(JSON.parse(result.body)).toEqual({
      error: { code: 'DATASET_NOT_READY', message: `the dataset is ${status}; only a READY dataset can be trained on` },
    });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it("answers 404 for an unknown dataset or another tenant's", async () => {
    ddb.on(GetCommand, { TableName: 'datasets-test', Key: { tenantId: 'acme', datasetId: DATASET_ID } }).resolves({});
    ddb
      .on(GetCommand, { TableName: 'datasets-test', Key: { tenantId: 'other', datasetId: DATASET_ID } })
      .resolves({ Item: datasetRecord({ tenantId: 'other' }) });
    const result = await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'y' }, 'acme');
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'NOT_FOUND', message: 'dataset not found' } });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 400 VALIDATION_ERROR when the target is not a column, listing the columns', async () => {
    datasetIs('READY');
    const result = await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'price' });
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toEqual({
      error: {
        code: 'VALIDATION_ERROR',
        message: 'target is not a column of the dataset',
        details: [{ path: 'target', message: "must be one of the dataset's columns: x0, x1, y" }],
      },
    });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('needs a target with a datasetId', async () => {
    const result = await submit({ kind: 'LINEAR', datasetId: DATASET_ID });
    expect(result.statusCode).toBe(400);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('POST /jobs with a dataset: the design', () => {
  const IRIS_FIT = rFit('iris', 'Sepal.Length ~ Sepal.Width + Petal.Length + Species');

  it("creates the model with R's coefficient names, the columns it reads and the category's levels", async () => {
    datasetWith(IRIS_SCHEMA);

    const result = await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'Sepal.Length', features: ['Sepal.Width', 'Petal.Length', 'Species'] });

    expect(result.statusCode).toBe(202);
    const { job, model } = created();
    // Sepal.Width, Petal.Length, Speciesversicolor, Speciesvirginica: setosa is the reference.
    expect(model.features).toEqual(rCoefficients(IRIS_FIT).names);
    expect(model.columns).toEqual(IRIS_FIT.features);
    expect(model.levels).toEqual(IRIS_FIT.levels);
    expect(model).toMatchObject({ status: 'TRAINING', coefficients: [], intercept: null });
    expect(job.source).toEqual({
      type: 'dataset',
      datasetId: DATASET_ID,
      target: 'Sepal.Length',
      features: ['Sepal.Width', 'Petal.Length', 'Species'],
      missing: 'drop',
    });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('takes every number and category column but the target by default, never the row names', async () => {
    datasetWith(IRIS_SCHEMA);

    expect((await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'Petal.Width' })).statusCode).toBe(202);

    const { model } = created();
    expect(model.features).toEqual(['Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Speciesversicolor', 'Speciesvirginica']);
    expect(model.columns).toEqual(['Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Species']);
    expect(model.levels).toEqual({ Species: ['setosa', 'versicolor', 'virginica'] });
  });

  it('creates a model of number columns with no levels', async () => {
    datasetWith(AIRQUALITY_SCHEMA);
    expect((await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'Ozone', features: ['Solar.R', 'Wind', 'Temp'] })).statusCode).toBe(202);
    const { model } = created();
    expect(model).toMatchObject({ features: ['Solar.R', 'Wind', 'Temp'], columns: ['Solar.R', 'Wind', 'Temp'], levels: {} });
  });

  it.each<[string, Record<string, unknown>, { path: string; message: string }[]]>([
    ['a category target', { target: 'g' }, [{ path: 'target', message: '"g" is a category column; a regression predicts a number column' }]],
    ['the row names as target', { target: 'id' }, [{ path: 'target', message: '"id" is a text column; a regression predicts a number column' }]],
    ['a target that is not a column', { target: 'price' }, [{ path: 'target', message: "must be one of the dataset's columns: id, y, x, g, one, note, code" }]],
    [
      'the row names as a feature',
      { target: 'y', features: ['x', 'id'] },
      [{ path: 'features.1', message: '"id" has no name in the file\'s header: it holds row names or an index, not data' }],
    ],
    [
      'a text feature (numbers mixed with text)',
      { target: 'y', features: ['note'] },
      [{ path: 'features.0', message: '"note" is a text column (numbers mixed with text): it cannot be a feature' }],
    ],
    [
      'a text feature (too many distinct values)',
      { target: 'y', features: ['x', 'g', 'code'] },
      [{ path: 'features.2', message: '"code" has more than 100 distinct values: too many levels for a category (at most 100)' }],
    ],
    [
      'a category of one level',
      { target: 'y', features: ['one', 'x'] },
      [{ path: 'features.0', message: '"one" has one level ("only"): it cannot tell rows apart' }],
    ],
    ['a feature that is not a column', { target: 'y', features: ['x', 'size'] }, [{ path: 'features.1', message: '"size" is not a column of the dataset' }]],
    [
      'the target among the features',
      { target: 'y', features: ['x', 'y'] },
      [{ path: 'features.1', message: 'is the target; a column cannot predict itself' }],
    ],
    ['a feature named twice', { target: 'y', features: ['g', 'x', 'g'] }, [{ path: 'features.2', message: '"g" is listed twice' }]],
    [
      'several bad features, each named',
      { target: 'y', features: ['id', 'x', 'size', 'one'] },
      [{ path: 'features.0' }, { path: 'features.2' }, { path: 'features.3' }].map((detail) => ({
        ...detail,
        message: expect.any(String) as unknown as string,
      })),
    ],
  ])('answers 400 VALIDATION_ERROR for %s, with its details, and creates nothing', async (_, request, details) => {
    datasetWith(MIXED_SCHEMA);
    await expectRefused(await submit({ kind: 'LINEAR', datasetId: DATASET_ID, ...request }), details);
  });

  it('leaves text columns and a category of one level out of the default features', async () => {
    datasetWith(MIXED_SCHEMA);
    expect((await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'y' })).statusCode).toBe(202);
    expect(created().model).toMatchObject({ features: ['x', 'gb'], columns: ['x', 'g'], levels: { g: ['a', 'b'] } });
  });

  it('answers 400 on features when no other column can be a feature and none is named', async () => {
    // The row names, a text column and a category of one level.
    datasetWith([MIXED_SCHEMA[0]!, MIXED_SCHEMA[1]!, MIXED_SCHEMA[4]!, MIXED_SCHEMA[5]!]);
    await expectRefused(await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'y' }), [
      { path: 'features', message: expect.stringContaining('name the features') as unknown as string },
    ]);
  });

  it("answers 400 on features when the categories' levels make more design columns than a dataset may have (1,000)", async () => {
    const levels = Array.from({ length: 100 }, (_, i) => ({ value: `l${String(i).padStart(2, '0')}`, count: 1 }));
    // 11 categories of 100 levels: 11 × 99 = 1,089 columns.
    const categories = Array.from({ length: 11 }, (_, i): ColumnSchema => ({ name: `c${i}`, type: 'category', missing: 0, levels }));
    datasetWith([{ name: 'y', type: 'number', missing: 0 }, ...categories]);
    const result = await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'y' });
    await expectRefused(result, [
      { path: 'features', message: 'each category adds one column per level but the first: choose fewer features or categories with fewer levels' },
    ]);
    expect(JSON.parse(result.body).error.message).toBe("the job's design has 1089 columns; at most 1000");
  });
});

describe('POST /jobs with a dataset: missing values', () => {
  it('answers 400 for missing: "error" when a column of the job has missing values, naming each with its count', async () => {
    datasetWith(AIRQUALITY_SCHEMA);
    const result = await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'Ozone', features: ['Wind', 'Solar.R', 'Temp'], missing: 'error' });
    // R's airquality: 37 NA in Ozone, 7 in Solar.R.
    await expectRefused(result, [
      { path: 'target', message: '"Ozone" has 37 missing value(s); use missing: "drop" to leave those rows out' },
      { path: 'features.1', message: '"Solar.R" has 7 missing value(s); use missing: "drop" to leave those rows out' },
    ]);
    expect(JSON.parse(result.body).error.message).toBe('the columns of this job have missing values (missing: "error")');
  });

  it('answers 400 for missing: "error" on the default features too, at their place in the header', async () => {
    datasetWith(AIRQUALITY_SCHEMA);
    // Features by default: Ozone, Solar.R, Wind, Temp, Month (the row names are left out).
    await expectRefused(await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'Day', missing: 'error' }), [
      { path: 'features.0', message: '"Ozone" has 37 missing value(s); use missing: "drop" to leave those rows out' },
      { path: 'features.1', message: '"Solar.R" has 7 missing value(s); use missing: "drop" to leave those rows out' },
    ]);
  });

  it('accepts missing: "error" when the columns of the job have no missing value, and keeps it on the job', async () => {
    datasetWith(AIRQUALITY_SCHEMA);
    expect((await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'Temp', features: ['Wind', 'Month'], missing: 'error' })).statusCode).toBe(202);
    expect(created().job.source).toEqual({ type: 'dataset', datasetId: DATASET_ID, target: 'Temp', features: ['Wind', 'Month'], missing: 'error' });
  });

  it('accepts the missing values of a job with missing: "drop" (the default)', async () => {
    datasetWith(AIRQUALITY_SCHEMA);
    expect((await submit({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'Ozone', missing: 'drop' })).statusCode).toBe(202);
    expect(created().job.source).toMatchObject({ missing: 'drop' });
  });

  it.each<[string, Record<string, unknown>]>([
    [
      'with inline data',
      {
        data: [
          { x: [1], y: 2 },
          { x: [2], y: 4 },
        ],
        missing: 'drop',
      },
    ],
    [
      'with inline data (error)',
      {
        data: [
          { x: [1], y: 2 },
          { x: [2], y: 4 },
        ],
        missing: 'error',
      },
    ],
    ['of an unknown rule', { datasetId: DATASET_ID, target: 'y', missing: 'omit' }],
  ])('answers 400 VALIDATION_ERROR on missing for a missing %s, without reading anything', async (_, request) => {
    const result = await submit({ kind: 'LINEAR', ...request });
    expect(result.statusCode).toBe(400);
    const { error } = JSON.parse(result.body) as { error: { code: string; details: { path: string }[] } };
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details.map((detail) => detail.path)).toEqual(['missing']);
    expect(ddb.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });
});
