import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DatasetStatus } from '#domain/datasets.js';
import type { ColumnSchema } from '#domain/schema.js';
import { apiEvent, context, DATASET_ID, datasetRecord, stubDatasetEnv } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
let handler: typeof import('../../../../lambdas/datasets/get-dataset.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv();
  ({ handler } = await import('../../../../lambdas/datasets/get-dataset.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => ddb.reset());

const get = (datasetId: string, tenantId = 'acme') =>
  handler(apiEvent({ method: 'GET', path: `/datasets/${datasetId}`, pathParameters: { datasetId }, tenantId }), context);

describe('GET /datasets/{datasetId}', () => {
  it("answers the caller's dataset, read under its tenant only", async () => {
    ddb.on(GetCommand).resolves({ Item: datasetRecord() });

    const result = await get(DATASET_ID);

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({
      datasetId: DATASET_ID,
      name: null,
      status: 'READY',
      sizeBytes: 42,
      rows: 3,
      columns: ['x0', 'x1', 'y'],
      format: { delimiter: ',', decimal: '.' },
      schema: [
        { name: 'x0', type: 'number', missing: 0, generated: false, levelCount: null, levels: null },
        { name: 'x1', type: 'number', missing: 0, generated: false, levelCount: null, levels: null },
        { name: 'y', type: 'number', missing: 0, generated: false, levelCount: null, levels: null },
      ],
      error: null,
      createdAt: '2026-01-01T12:00:00.000Z',
      validatedAt: '2026-01-01T12:00:05.000Z',
      expiresAt: '2100-01-01T00:00:00.000Z',
    });
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'datasets-test',
      Key: { tenantId: 'acme', datasetId: DATASET_ID },
      ConsistentRead: true,
    });
  });

  it('shows why a dataset is INVALID, with line and column', async () => {
    const error = { code: 'NOT_A_NUMBER', message: 'line 7, column 2 ("x1"): "abc" is not a finite number', line: 7, column: 2 };
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ status: 'INVALID', rows: null, columns: [], error }) });
    expect(JSON.parse((await get(DATASET_ID)).body)).toMatchObject({ status: 'INVALID', error });
  });

  it("answers 404 for another tenant's dataset (never found under the caller's key)", async () => {
    ddb.on(GetCommand, { Key: { tenantId: 'acme', datasetId: DATASET_ID } }).resolves({});
    ddb.on(GetCommand, { Key: { tenantId: 'other', datasetId: DATASET_ID } }).resolves({ Item: datasetRecord({ tenantId: 'other' }) });
    const result = await get(DATASET_ID, 'acme');
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'NOT_FOUND', message: 'dataset not found' } });
  });

  it('answers 404 for a dataset past its expiry that the TTL sweep has not removed yet', async () => {
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ expiresAt: Math.floor(Date.now() / 1000) - 1 }) });
    expect((await get(DATASET_ID)).statusCode).toBe(404);
  });

  it('answers 404 for a malformed id without reading the table', async () => {
    expect((await get('not-an-id')).statusCode).toBe(404);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('GET /datasets/{datasetId}: format and schema', () => {
  /** 25 levels, "level-00" … "level-24", sorted as the scan sorts them. */
  const LEVELS = Array.from({ length: 25 }, (_, i) => ({ value: `level-${String(i).padStart(2, '0')}`, count: i + 1 }));
  const SCHEMA: ColumnSchema[] = [
    { name: 'Unnamed: 0', type: 'text', missing: 0, generated: true, reason: 'identifier' },
    { name: 'Ozone', type: 'number', missing: 37 },
    { name: 'grade', type: 'category', missing: 2, levels: LEVELS },
    {
      name: 'Species',
      type: 'category',
      missing: 0,
      levels: [
        { value: 'setosa', count: 50 },
        { value: 'versicolor', count: 50 },
        { value: 'virginica', count: 50 },
      ],
    },
    { name: 'note', type: 'text', missing: 1, reason: 'mixed', numbers: 3, texts: 4 },
  ];
  const COLUMNS = SCHEMA.map((column) => column.name);

  it("shows a READY dataset's schema: each column's type and missing values, a category's level count and its first 20 levels", async () => {
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ columns: COLUMNS, schema: SCHEMA, rows: 153 }) });

    const view = JSON.parse((await get(DATASET_ID)).body) as { schema: unknown[] };

    expect(view.schema).toEqual([
      { name: 'Unnamed: 0', type: 'text', missing: 0, generated: true, levelCount: null, levels: null },
      { name: 'Ozone', type: 'number', missing: 37, generated: false, levelCount: null, levels: null },
      { name: 'grade', type: 'category', missing: 2, generated: false, levelCount: 25, levels: LEVELS.slice(0, 20) },
      {
        name: 'Species',
        type: 'category',
        missing: 0,
        generated: false,
        levelCount: 3,
        levels: [
          { value: 'setosa', count: 50 },
          { value: 'versicolor', count: 50 },
          { value: 'virginica', count: 50 },
        ],
      },
      { name: 'note', type: 'text', missing: 1, generated: false, levelCount: null, levels: null },
    ]);
    // The first 20 in the schema's order, "level-00" to "level-19", with their counts.
    expect((view.schema[2] as { levels: { value: string; count: number }[] }).levels.at(-1)).toEqual({ value: 'level-19', count: 20 });
  });

  it('shows a category of exactly 20 levels whole', async () => {
    const twenty: ColumnSchema[] = [
      { name: 'grade', type: 'category', missing: 0, levels: LEVELS.slice(0, 20) },
      { name: 'y', type: 'number', missing: 0 },
    ];
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ columns: ['grade', 'y'], schema: twenty }) });
    const view = JSON.parse((await get(DATASET_ID)).body) as { schema: { levelCount: number | null; levels: unknown[] | null }[] };
    expect(view.schema[0]).toMatchObject({ levelCount: 20, levels: LEVELS.slice(0, 20) });
  });

  it('shows a dataset scanned before schemas (no schema stored) as number columns without missing values', async () => {
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ columns: ['a', 'b'] }) });
    expect(JSON.parse((await get(DATASET_ID)).body).schema).toEqual([
      { name: 'a', type: 'number', missing: 0, generated: false, levelCount: null, levels: null },
      { name: 'b', type: 'number', missing: 0, generated: false, levelCount: null, levels: null },
    ]);
  });

  it.each<DatasetStatus>(['PENDING_UPLOAD', 'VALIDATING', 'INVALID'])('shows schema null for a %s dataset, whatever is stored', async (status) => {
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ status, columns: COLUMNS, schema: SCHEMA }) });
    const view = JSON.parse((await get(DATASET_ID)).body);
    expect(view.status).toBe(status);
    expect(view.schema).toBeNull();
  });

  it("shows the dataset's format as stored, and the default (comma and point) for a dataset without one", async () => {
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ format: { delimiter: ';', decimal: ',' } }) });
    expect(JSON.parse((await get(DATASET_ID)).body).format).toEqual({ delimiter: ';', decimal: ',' });
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ status: 'PENDING_UPLOAD', format: { delimiter: '\t', decimal: '.' } }) });
    expect(JSON.parse((await get(DATASET_ID)).body).format).toEqual({ delimiter: '\t', decimal: '.' });
    ddb.on(GetCommand).resolves({ Item: datasetRecord() });
    expect(JSON.parse((await get(DATASET_ID)).body).format).toEqual({ delimiter: ',', decimal: '.' });
  });

  it('does not show how the object was stored (compression) nor where its statistics are', async () => {
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ compression: 'gzip', statisticsKey: 'scans/acme/x/statistics.json' }) });
    const view = JSON.parse((await get(DATASET_ID)).body);
    expect(view).not.toHaveProperty('compression');
    expect(view).not.toHaveProperty('statisticsKey');
    expect(view).not.toHaveProperty('etag');
  });
});
