import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobRecord } from '#domain/jobs.js';
import { body, context, DATASET_ID, datasetRecord, stubDatasetEnv } from '../datasets/fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let handler: typeof import('../../../../lambdas/train/train.js')['handler'];

const JOB_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D';

function job(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    tenantId: 'acme',
    jobId: JOB_ID,
    modelId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2E',
    status: 'QUEUED',
    kind: 'LINEAR',
    alpha: null,
    fitIntercept: true,
    progress: 0,
    createdAt: '2026-01-01T12:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    error: null,
    attempts: 0,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:train:${JOB_ID}`,
    source: { type: 'dataset', datasetId: DATASET_ID, target: 'y' },
    expiresAt: 4_102_444_800,
    version: 3,
    ...overrides,
  };
}

/** y = 1 + 2·x0 − 3·x1 exactly, so a LINEAR fit has known coefficients. */
const EXACT_CSV = 'x0,x1,y\n0,0,1\n1,0,3\n0,1,-2\n1,1,0\n2,1,2\n3,5,-8\n';

beforeAll(async () => {
  stubDatasetEnv({ JOBS_TABLE_NAME: 'jobs-test', MODELS_TABLE_NAME: 'models-test' });
  ({ handler } = await import('../../../../lambdas/train/train.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  s3.reset();
  ddb.on(GetCommand, { TableName: 'jobs-test' }).resolves({ Item: job() });
  ddb.on(UpdateCommand, { TableName: 'jobs-test' }).resolves({ Attributes: job({ status: 'RUNNING', attempts: 1, startedAt: '2026-01-01T12:00:01.000Z' }) });
  ddb.on(GetCommand, { TableName: 'datasets-test' }).resolves({ Item: datasetRecord({ sizeBytes: EXACT_CSV.length }) });
  ddb.on(TransactWriteCommand).resolves({});
});

/** The values the finishing transaction wrote to the job and to its model. */
function finish() {
  const [jobUpdate, modelUpdate] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
  return { job: jobUpdate!.Update!.ExpressionAttributeValues!, model: modelUpdate!.Update!.ExpressionAttributeValues! };
}

describe('train (dataset source)', () => {
  it('fails the job with DATASET_NOT_READY when the dataset expired after the job was accepted', async () => {
    ddb.on(GetCommand, { TableName: 'datasets-test' }).resolves({});
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });
    expect(finish().job[':error']).toMatchObject({ code: 'DATASET_NOT_READY' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('fails the job with DATASET_NOT_READY, telling to upload the file again, when a READY dataset has no statistics', async () => {
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });
    const { job: jobValues, model } = finish();
    expect(jobValues[':to']).toBe('FAILED');
    expect(jobValues[':error']).toEqual({
      code: 'DATASET_NOT_READY',
      message: `dataset ${DATASET_ID} has no statistics to train from; create a new dataset and upload the file again`,
    });
    expect(model[':status']).toBe('FAILED');
    // Nothing is read from the bucket: the uploaded CSV is never a source of training.
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('train (dataset with scanned statistics)', () => {
  const STATISTICS_KEY = `scans/acme/${DATASET_ID}/etag-1/statistics.json`;

  /** The statistics the scan stores for EXACT_CSV (all three columns), computed as the scan computes them. */
  async function storedStatistics(etag = 'etag-1') {
    const { RangeScan } = await import('#domain/range-scan.js');
    const scan = new RangeScan({ index: 0, start: 0, end: EXACT_CSV.length }, { maxColumns: 10 });
    scan.push(new TextEncoder().encode(EXACT_CSV), 0);
    const partial = scan.finish();
    return JSON.stringify({ datasetId: DATASET_ID, etag, columns: partial.columns, rows: partial.rows, statistics: partial.statistics });
  }

  beforeEach(() => {
    ddb.on(GetCommand, { TableName: 'datasets-test' }).resolves({ Item: datasetRecord({ sizeBytes: EXACT_CSV.length, statisticsKey: STATISTICS_KEY }) });
  });

  it('fits from the statistics without reading the CSV; features are the non-target columns', async () => {
    s3.on(GetObjectCommand, { Key: STATISTICS_KEY }).resolves({ Body: body(await storedStatistics()) });

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([{ Bucket: 'datasets-bucket-test', Key: STATISTICS_KEY }]);
    const { job: jobValues, model } = finish();
    expect(jobValues[':to']).toBe('COMPLETED');
    expect(model[':features']).toEqual(['x0', 'x1']);
    expect(model[':metrics']).toMatchObject({ n: 6 });
    const coefficients = model[':coefficients'] as number[];
    expect(coefficients).toHaveLength(2);
    expect(coefficients[0]).toBeCloseTo(2, 9);
    expect(coefficients[1]).toBeCloseTo(-3, 9);
    expect(model[':intercept']).toBeCloseTo(1, 9);
  });

  it('lets an unexpected S3 failure reach the state machine (Retry / Catch)', async () => {
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'InternalError', $fault: 'server', message: 'boom', $metadata: {} }));
    await expect(handler({ tenantId: 'acme', jobId: JOB_ID }, context)).rejects.toThrow('boom');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('fits from the statistics without reading the CSV: another target, a feature subset, one model per alpha', async () => {
    s3.on(GetObjectCommand, { Key: STATISTICS_KEY }).resolves({ Body: body(await storedStatistics()) });
    const extra = ['01JH5Z3V8Q6K9W2X4Y7Z0A1B2F', '01JH5Z3V8Q6K9W2X4Y7Z0A1B2G'];
    const pathJob = job({
      kind: 'RIDGE',
      alpha: 0.1,
      alphas: [0.1, 1, 10],
      modelIds: ['01JH5Z3V8Q6K9W2X4Y7Z0A1B2E', ...extra],
      source: { type: 'dataset', datasetId: DATASET_ID, target: 'x0', features: ['y', 'x1'] },
    });
    ddb.on(GetCommand, { TableName: 'jobs-test' }).resolves({ Item: pathJob });
    ddb.on(UpdateCommand, { TableName: 'jobs-test' }).resolves({ Attributes: { ...pathJob, status: 'RUNNING', attempts: 1 } });
    ddb.on(PutCommand).resolves({});

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    // One read: the statistics object. The CSV is never read.
    expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key)).toEqual([STATISTICS_KEY]);
    const { RegressionAccumulator, fitModel } = await import('#domain/regression.js');
    const rows = EXACT_CSV.trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').map(Number));
    const expected = [0.1, 1, 10].map((alpha) => {
      const accumulator = new RegressionAccumulator(2, true);
      for (const [x0, x1, y] of rows) accumulator.add([y!, x1!], x0!);
      return fitModel(accumulator, { kind: 'RIDGE', alpha, fitIntercept: true });
    });
    const close = (actual: number[], wanted: number[]) =>
      actual.forEach((value, j) => expect(Math.abs(value - wanted[j]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(wanted[j]!))));
    const { model } = finish();
    expect(model[':features']).toEqual(['y', 'x1']);
    close(model[':coefficients'] as number[], expected[0]!.coefficients);
    const puts = ddb.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(puts.map((put) => [put.TableName, put.Item?.modelId, put.Item?.alpha, put.Item?.status, put.ConditionExpression])).toEqual([
      ['models-test', extra[0], 1, 'TRAINED', 'attribute_not_exists(modelId)'],
      ['models-test', extra[1], 10, 'TRAINED', 'attribute_not_exists(modelId)'],
    ]);
    close(puts[0]!.Item!.coefficients as number[], expected[1]!.coefficients);
    close(puts[1]!.Item!.coefficients as number[], expected[2]!.coefficients);
    expect(puts[1]!.Item!.features).toEqual(['y', 'x1']);
  });

  it('fails the job DATASET_NOT_READY when the statistics name another object version', async () => {
    s3.on(GetObjectCommand, { Key: STATISTICS_KEY }).resolves({ Body: body(await storedStatistics('etag-0')) });
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });
    expect(finish().job[':error']).toMatchObject({ code: 'DATASET_NOT_READY' });
  });
});
