import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as getModel } from '../../../../lambdas/api/get-model.js';
import { handler as listModels } from '../../../../lambdas/api/list-models.js';
import { apiEvent, bodyOf, lambdaContext } from '../../helpers/events.js';
import { JOB_ID, MODEL_ID, MODELS_TABLE, modelRecord, OTHER_TENANT, pageToken, TENANT } from '../../helpers/records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const context = lambdaContext('models');
const OTHER_MODEL_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2N';

beforeEach(() => ddb.reset());

const MODEL_VIEW = {
  modelId: MODEL_ID,
  jobId: JOB_ID,
  status: 'TRAINED',
  kind: 'RIDGE',
  alpha: 0.5,
  fitIntercept: true,
  coefficients: [2, 3],
  intercept: 1,
  features: ['x0', 'x1'],
  columns: ['x0', 'x1'],
  levels: {},
  rowsDropped: 0,
  summary: null,
  metrics: { n: 4, r2: 1, rmse: 0 },
  createdAt: '2026-01-01T12:00:00.000Z',
  fittedAt: '2026-01-01T12:00:02.000Z',
};

describe('GET /models/{modelId}', () => {
  const get = (modelId: string, tenantId = TENANT) =>
    getModel(apiEvent({ method: 'GET', path: `/models/${modelId}`, resource: '/models/{modelId}', pathParameters: { modelId }, tenantId }), context);

  it("answers the caller's model without tenantId or expiresAt", async () => {
    ddb.on(GetCommand).resolves({ Item: modelRecord() });

    const result = await get(MODEL_ID);

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toStrictEqual(MODEL_VIEW);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(GetCommand, { TableName: MODELS_TABLE, Key: { tenantId: TENANT, modelId: MODEL_ID } });
  });

  it('answers a TRAINING model with its empty fields', async () => {
    ddb.on(GetCommand).resolves({ Item: modelRecord({ status: 'TRAINING', coefficients: [], intercept: null, metrics: null, fittedAt: null }) });
    expect(bodyOf(await get(MODEL_ID))).toMatchObject({ status: 'TRAINING', coefficients: [], intercept: null, metrics: null, fittedAt: null });
  });

  it("answers 404 for an unknown model and for another tenant's (looked up under the caller's key)", async () => {
    ddb.on(GetCommand).resolves({});
    const result = await get(MODEL_ID, OTHER_TENANT);
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual({ error: { code: 'NOT_FOUND', message: 'model not found' } });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { tenantId: OTHER_TENANT, modelId: MODEL_ID } });
  });

  it('answers 404 for a malformed id without reading', async () => {
    expect((await get('model-1')).statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });
});

describe('GET /models', () => {
  const list = (query: Record<string, string> | null = null, tenantId = TENANT) =>
    listModels(apiEvent({ method: 'GET', path: '/models', queryStringParameters: query, tenantId }), context);

  it("queries the caller's models newest first with the default limit and answers views", async () => {
    ddb.on(QueryCommand).resolves({ Items: [modelRecord({ modelId: OTHER_MODEL_ID }), modelRecord()] });

    const result = await list();

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toStrictEqual({ items: [{ ...MODEL_VIEW, modelId: OTHER_MODEL_ID }, MODEL_VIEW], nextToken: null });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(QueryCommand, {
      TableName: MODELS_TABLE,
      KeyConditionExpression: 'tenantId = :tenant',
      ExpressionAttributeValues: { ':tenant': TENANT },
      ScanIndexForward: false,
      Limit: 20,
      ExclusiveStartKey: undefined,
    });
  });

  it('round-trips nextToken', async () => {
    const lastKey = { tenantId: TENANT, modelId: MODEL_ID };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [modelRecord()], LastEvaluatedKey: lastKey })
      .resolvesOnce({ Items: [] });

    const first = bodyOf<{ nextToken: string }>(await list({ limit: '1' }));
    expect(first.nextToken).toBe(pageToken(lastKey));
    const second = await list({ limit: '1', nextToken: first.nextToken });

    expect(second.statusCode).toBe(200);
    expect(ddb.commandCalls(QueryCommand)[1]?.args[0].input).toMatchObject({ Limit: 1, ExclusiveStartKey: lastKey });
  });

  it.each([
    ["another tenant's token", pageToken({ tenantId: OTHER_TENANT, modelId: MODEL_ID })],
    ['a jobs token', pageToken({ tenantId: TENANT, jobId: JOB_ID })],
    ['a forged token', 'eyJ0ZW5hbnRJZCI6'],
  ])('answers 400 for %s', async (_, nextToken) => {
    const result = await list({ nextToken });
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ path: 'nextToken', message: 'invalid token' }] } });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it.each(['0', '101', 'abc', '1.5'])('answers 400 for limit=%s', async (limit) => {
    const result = await list({ limit });
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ path: 'limit' }] } });
  });
});
