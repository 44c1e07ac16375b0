import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
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
