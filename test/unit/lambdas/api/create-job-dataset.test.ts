import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DatasetStatus } from '#domain/datasets.js';
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
