import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CsvFormat } from '#domain/csv.js';
import type { DatasetRecord } from '#domain/datasets.js';
import type { JobRecord } from '#domain/jobs.js';
import { expectRelativelyClose, rCoefficients, readyScan, rFit, rFixture } from '../../helpers/r-fixtures.js';
import { random } from '../../helpers/random.js';
import { body, bytesBody, context, DATASET_ID, datasetRecord, KEY, stubDatasetEnv } from '../datasets/fixtures.js';

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

describe('train (dataset with a schema): missing values and categories, against R', () => {
  const STATISTICS_KEY = `scans/acme/${DATASET_ID}/etag-1/statistics.json`;
  const AIRQUALITY = rFixture('airquality.r.csv');
  const IRIS = rFixture('iris.r.csv');
  const IRIS_CSV2 = rFixture('iris.r2.csv');
  const CSV2: CsvFormat = { delimiter: ';', decimal: ',' };
  const IRIS_FIT = rFit('iris', 'Sepal.Length ~ Sepal.Width + Petal.Length + Species');
  const IRIS_SPECIES_FIT = rFit('iris', 'Petal.Width ~ Species');
  const OZONE_FIT = rFit('airquality', 'Ozone ~ Solar.R + Wind + Temp');
  const OZONE_WIND_FIT = rFit('airquality', 'Ozone ~ Wind + Temp');

  /**
   * A READY dataset of the file `csv` (its text), scanned as the dataset scan does it (the domain's RangeScan in
   * ranges of 1,000 bytes, mergePartials): the record, and the statistics object it names. The object in the
   * bucket is `uploaded` (the file itself, or its gzip).
   */
  function scanned(
    csv: Buffer,
    options: { format?: CsvFormat; uploaded?: Buffer; compression?: 'gzip'; edit?: (stored: Record<string, unknown>) => void } = {},
  ) {
    const outcome = readyScan(csv, { rangeBytes: 1_000, ...(options.format ? { format: options.format } : {}) });
    const stored: Record<string, unknown> = {
      datasetId: DATASET_ID,
      etag: 'etag-1',
      columns: outcome.columns,
      rows: outcome.rows,
      schema: outcome.schema,
      statistics: outcome.statistics,
    };
    options.edit?.(stored);
    const uploaded = options.uploaded ?? csv;
    const record: DatasetRecord = datasetRecord({
      sizeBytes: uploaded.length,
      rows: outcome.rows,
      columns: outcome.columns,
      schema: outcome.schema,
      statisticsKey: STATISTICS_KEY,
      ...(options.format ? { format: options.format } : {}),
      ...(options.compression ? { compression: options.compression } : {}),
    });
    ddb.on(GetCommand, { TableName: 'datasets-test' }).resolves({ Item: record });
    s3.on(GetObjectCommand, { Key: STATISTICS_KEY }).callsFake(() => ({ Body: body(JSON.stringify(stored), 64 * 1024) }));
    s3.on(GetObjectCommand, { Key: KEY }).callsFake(() => ({ Body: bytesBody(uploaded, 1_000) }));
    return { outcome, record };
  }

  /** The job to train (the read and the RUNNING write answer it). */
  function jobIs(overrides: Partial<JobRecord>) {
    ddb.on(GetCommand, { TableName: 'jobs-test' }).resolves({ Item: job(overrides) });
    ddb.on(UpdateCommand, { TableName: 'jobs-test' }).resolves({ Attributes: job({ ...overrides, status: 'RUNNING', attempts: 1 }) });
  }

  const datasetJob = (target: string, features: string[], more: Partial<JobRecord> = {}) =>
    jobIs({ source: { type: 'dataset', datasetId: DATASET_ID, target, features, missing: 'drop' }, ...more });

  const keysRead = () => s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key);

  /** Asserts the model the finishing transaction wrote is R's fit: names, coefficients and intercept to 1e-9 relative, rows used and dropped. */
  function expectRFit(model: Record<string, unknown>, fit: ReturnType<typeof rFit>) {
    const expected = rCoefficients(fit);
    expect(model[':status']).toBe('TRAINED');
    expect(model[':features']).toEqual(expected.names);
    expectRelativelyClose(model[':coefficients'] as number[], expected.values);
    expectRelativelyClose([model[':intercept'] as number], [expected.intercept]);
    expect(model[':metrics']).toMatchObject({ n: fit.n });
    expect(model[':rowsDropped']).toBe(fit.rowsDropped);
  }

  it("fits a number-only job from the statistics by missing-value pattern, leaving out R's na.omit rows: airquality, 42 dropped", async () => {
    scanned(AIRQUALITY);
    datasetJob('Ozone', ['Solar.R', 'Wind', 'Temp']);

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    // Listwise deletion from the stored patterns: the CSV is never read.
    expect(keysRead()).toEqual([STATISTICS_KEY]);
    const { job: jobValues, model } = finish();
    expect(jobValues[':to']).toBe('COMPLETED');
    expectRFit(model, OZONE_FIT);
    expect(OZONE_FIT.rowsDropped).toBe(42);
  });

  it('drops only the rows missing a column the job uses: Ozone ~ Wind + Temp keeps the rows missing Solar.R (37 dropped)', async () => {
    scanned(AIRQUALITY);
    datasetJob('Ozone', ['Wind', 'Temp']);
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
    expect(keysRead()).toEqual([STATISTICS_KEY]);
    expectRFit(finish().model, OZONE_WIND_FIT);
  });

  it('makes a pass over the file when the statistics left rows out of their patterns, with the same answer', async () => {
    scanned(AIRQUALITY, {
      edit: (stored) => {
        (stored.statistics as { rowsLeftOut: number }).rowsLeftOut = 1;
      },
    });
    datasetJob('Ozone', ['Solar.R', 'Wind', 'Temp']);

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    expect(keysRead()).toEqual([STATISTICS_KEY, KEY]);
    expectRFit(finish().model, OZONE_FIT);
  });

  it("fits a job with a category feature by a design pass over the file, pinned to the ETag: R's iris fit", async () => {
    scanned(IRIS);
    datasetJob('Sepal.Length', ['Sepal.Width', 'Petal.Length', 'Species']);

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    const reads = s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input);
    expect(reads).toEqual([
      { Bucket: 'datasets-bucket-test', Key: STATISTICS_KEY },
      // Exactly the object validated: a replaced object answers 412.
      { Bucket: 'datasets-bucket-test', Key: KEY, IfMatch: '"etag-1"', Range: 'bytes=0-' },
    ]);
    expectRFit(finish().model, IRIS_FIT);
    expect(IRIS_FIT.features).toEqual(['Sepal.Width', 'Petal.Length', 'Species']);
  });

  it("fits a category alone (Petal.Width ~ Species): the intercept is setosa's mean", async () => {
    scanned(IRIS);
    datasetJob('Petal.Width', ['Species']);
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
    expectRFit(finish().model, IRIS_SPECIES_FIT);
  });

  it("reads a write.csv2 file with the dataset's format: the same fit", async () => {
    scanned(IRIS_CSV2, { format: CSV2 });
    datasetJob('Sepal.Length', ['Sepal.Width', 'Petal.Length', 'Species']);
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
    expectRFit(finish().model, IRIS_FIT);
  });

  it('makes the design pass of a gzip dataset through gunzip: the same fit', async () => {
    scanned(IRIS, { uploaded: gzipSync(IRIS), compression: 'gzip' });
    datasetJob('Sepal.Length', ['Sepal.Width', 'Petal.Length', 'Species']);

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    expect(s3.commandCalls(GetObjectCommand).at(-1)!.args[0].input).toMatchObject({ Key: KEY, IfMatch: '"etag-1"', Range: 'bytes=0-' });
    expectRFit(finish().model, IRIS_FIT);
  });

  it('makes the design pass of a gzip write.csv2 dataset with its format: the same fit', async () => {
    scanned(IRIS_CSV2, { format: CSV2, uploaded: gzipSync(IRIS_CSV2), compression: 'gzip' });
    datasetJob('Sepal.Length', ['Sepal.Width', 'Petal.Length', 'Species']);
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
    expectRFit(finish().model, IRIS_FIT);
  });

  it('leaves out the rows missing a category or a number in the design pass, and counts them', async () => {
    // y = 1 + 2·x + 3·[g = b] exactly on the complete rows; rows 4 (g missing) and 6 (x missing) are left out.
    const csv = Buffer.from('"","x","g","y"\n"1",0,"a",1\n"2",1,"a",3\n"3",0,"b",4\n"4",5,NA,0\n"5",2,"b",8\n"6",NA,"a",9\n"7",3,"a",7\n');
    scanned(csv);
    datasetJob('y', ['x', 'g']);

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    const { model } = finish();
    expect(model[':features']).toEqual(['x', 'gb']);
    expect(model[':rowsDropped']).toBe(2);
    expect(model[':metrics']).toMatchObject({ n: 5 });
    expectRelativelyClose(model[':coefficients'] as number[], [2, 3]);
    expectRelativelyClose([model[':intercept'] as number], [1]);
  });

  it('fails a LINEAR job RANK_DEFICIENT when a level repeats a number column (as R reports NA for it), naming that column', async () => {
    // g is b exactly where x is 1: [g = b] is x, a column that adds nothing to the ones before it.
    const csv = Buffer.from('x,g,y\n0,a,1\n1,b,4\n0,a,1.5\n1,b,3\n0,a,0.5\n1,b,4.5\n');
    scanned(csv);
    datasetJob('y', ['x', 'g'], { kind: 'LINEAR', alpha: null });

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });

    const error = finish().job[':error'] as { code: string; message: string };
    expect(error.code).toBe('RANK_DEFICIENT');
    expect(error.message).toContain('"gb" is a linear combination of the columns before');
  });

  it('fits the same rank-deficient design with RIDGE: the penalty makes it well defined', async () => {
    const csv = Buffer.from('x,g,y\n0,a,1\n1,b,4\n0,a,1.5\n1,b,3\n0,a,0.5\n1,b,4.5\n');
    scanned(csv);
    datasetJob('y', ['x', 'g'], { kind: 'RIDGE', alpha: 1 });

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
    // The two identical columns share the effect equally.
    const coefficients = finish().model[':coefficients'] as number[];
    expectRelativelyClose([coefficients[0]!], [coefficients[1]!], 1e-12);
  });

  it('writes every model of a regularisation path with its coefficient names, columns, levels and rows dropped', async () => {
    scanned(IRIS);
    const extra = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2F';
    datasetJob('Sepal.Length', ['Sepal.Width', 'Petal.Length', 'Species'], {
      kind: 'RIDGE',
      alpha: 0.5,
      alphas: [0.5, 2],
      modelIds: ['01JH5Z3V8Q6K9W2X4Y7Z0A1B2E', extra],
    });
    ddb.on(PutCommand).resolves({});

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    const names = rCoefficients(IRIS_FIT).names;
    const { model } = finish();
    expect(model[':features']).toEqual(names);
    expect(model[':rowsDropped']).toBe(0);
    const puts = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item!);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({
      modelId: extra,
      status: 'TRAINED',
      alpha: 2,
      features: names,
      columns: ['Sepal.Width', 'Petal.Length', 'Species'],
      levels: { Species: ['setosa', 'versicolor', 'virginica'] },
      rowsDropped: 0,
    });
    expect(puts[0]!.coefficients).toHaveLength(4);
  });

  it('writes the rows dropped on every model of a path from the statistics too (airquality, 42)', async () => {
    scanned(AIRQUALITY);
    datasetJob('Ozone', ['Solar.R', 'Wind', 'Temp'], {
      kind: 'RIDGE',
      alpha: 1,
      alphas: [1, 10],
      modelIds: ['01JH5Z3V8Q6K9W2X4Y7Z0A1B2E', '01JH5Z3V8Q6K9W2X4Y7Z0A1B2F'],
    });
    ddb.on(PutCommand).resolves({});

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    expect(finish().model[':rowsDropped']).toBe(42);
    const [put] = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item!);
    expect(put).toMatchObject({ features: ['Solar.R', 'Wind', 'Temp'], columns: ['Solar.R', 'Wind', 'Temp'], levels: {}, rowsDropped: 42 });
    expect(put!.metrics).toMatchObject({ n: 111 });
  });

  it('fails the job DATASET_NOT_READY when the object changed since it was validated (412 on IfMatch)', async () => {
    scanned(IRIS);
    s3.on(GetObjectCommand, { Key: KEY }).rejects(
      new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        message: 'At least one of the pre-conditions you specified did not hold',
        $metadata: { httpStatusCode: 412 },
      }),
    );
    datasetJob('Sepal.Length', ['Sepal.Width', 'Petal.Length', 'Species']);

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });

    const { job: jobValues, model } = finish();
    expect(jobValues[':to']).toBe('FAILED');
    expect(jobValues[':error']).toEqual({
      code: 'DATASET_NOT_READY',
      message: `the object ${KEY} changed or disappeared since it was validated; create a new dataset`,
    });
    expect(model[':status']).toBe('FAILED');
  });

  it('fails the job DATASET_NOT_READY when the object is gone (404 on the design pass)', async () => {
    scanned(IRIS);
    s3.on(GetObjectCommand, { Key: KEY }).rejects(
      new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', message: 'gone', $metadata: { httpStatusCode: 404 } }),
    );
    datasetJob('Sepal.Length', ['Species']);
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });
    expect(finish().job[':error']).toMatchObject({ code: 'DATASET_NOT_READY' });
  });

  it.each([
    ['plain', undefined],
    ['gzip', 'gzip' as const],
  ])('fails the job INVALID_DATA when the %s file read has another header than the one validated, and lets go of the download', async (_, compression) => {
    // The record and statistics of iris; the object another file: a renamed column, then 20,000 rows of random numbers
    // (which compress poorly), so that it is still being read when its header is refused.
    const uniform = random(11);
    const rows = Array.from({ length: 20_000 }, (_, i) => `"${i + 1}",${uniform()},${uniform()},${uniform()},${uniform()},"setosa"`);
    const other = Buffer.from(`"","Sepal.Length","Sepal.W","Petal.Length","Petal.Width","Species"\n${rows.join('\n')}\n`);
    const uploaded = compression ? gzipSync(other) : other;
    expect(uploaded.length).toBeGreaterThan(500_000);
    scanned(IRIS, { uploaded, ...(compression ? { compression } : {}) });
    const served: { destroyed: boolean }[] = [];
    s3.on(GetObjectCommand, { Key: KEY }).callsFake(() => {
      const response = bytesBody(uploaded, 1_000);
      served.push(response as unknown as { destroyed: boolean });
      return { Body: response };
    });
    datasetJob('Sepal.Length', ['Petal.Length', 'Species']);

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });

    expect(finish().job[':error']).toEqual({ code: 'INVALID_DATA', message: 'the dataset header differs from the one validated' });
    expect(served.map((response) => response.destroyed)).toEqual([true]);
  });

  it('fails the job, never a model, when no row has every column of the job (a feature missing everywhere)', async () => {
    scanned(Buffer.from('x,z,y\nNA,1,1\nNA,2,2.5\nNA,3,2\nNA,4,5\n'));
    datasetJob('y', ['x', 'z']);
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });
    const { job: jobValues, model } = finish();
    expect(jobValues[':error']).toEqual({ code: 'INSUFFICIENT_DATA', message: 'at least 2 rows are needed, got 0' });
    expect(model[':status']).toBe('FAILED');
  });

  it.each([
    ['plain', undefined],
    ['gzip', 'gzip' as const],
  ])(
    'lets a download that fails half-way (%s) reach the state machine (Retry), rather than wait for more bytes',
    { timeout: 5_000 },
    async (_, compression) => {
      const bytes = compression ? gzipSync(Buffer.concat(Array.from({ length: 50 }, () => IRIS))) : IRIS;
      scanned(IRIS, { uploaded: bytes, ...(compression ? { compression } : {}) });
      const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      s3.on(GetObjectCommand, { Key: KEY }).callsFake(() => ({
        Body: Readable.from(
          (async function* () {
            yield Buffer.from(bytes.subarray(0, 1_000));
            throw reset;
          })(),
        ),
      }));
      datasetJob('Sepal.Length', ['Petal.Length', 'Species']);

      const outcome = await Promise.race([
        handler({ tenantId: 'acme', jobId: JOB_ID }, context).then(
          () => 'resolved',
          (error: Error) => error.message,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 2 s'), 2_000)),
      ]);

      expect(outcome).toContain('ECONNRESET');
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    },
  );

  it('fails the job NUMERIC_OVERFLOW when the statistics overflowed (stored as null)', async () => {
    scanned(AIRQUALITY, {
      edit: (stored) => {
        stored.statistics = null;
      },
    });
    datasetJob('Ozone', ['Wind']);
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });
    expect(finish().job[':error']).toMatchObject({ code: 'NUMERIC_OVERFLOW' });
  });

  it('fails the job INVALID_DATA when its columns cannot be modelled any more (a job naming a text column)', async () => {
    scanned(IRIS);
    datasetJob('Sepal.Length', ['Unnamed: 0']);
    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'FAILED' });
    expect(finish().job[':error']).toMatchObject({ code: 'INVALID_DATA' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('trains from statistics stored before missing values were kept (one ColumnStatistics, no schema): one pattern', async () => {
    // A dataset scanned before schemas: no schema on the record, the statistics one object of every column.
    const { RangeScan } = await import('#domain/range-scan.js');
    const scan = new RangeScan({ index: 0, start: 0, end: EXACT_CSV.length }, { maxColumns: 10 });
    scan.push(new TextEncoder().encode(EXACT_CSV), 0);
    const partial = scan.finish();
    const [complete] = partial.statistics!.patterns;
    expect(complete!.absent).toEqual([]);
    const old = { datasetId: DATASET_ID, etag: 'etag-1', columns: partial.columns, rows: partial.rows, statistics: complete!.statistics };
    expect(old.statistics).toEqual({ n: 6, means: expect.any(Array), triangle: expect.any(Array) });
    ddb.on(GetCommand, { TableName: 'datasets-test' }).resolves({ Item: datasetRecord({ sizeBytes: EXACT_CSV.length, statisticsKey: STATISTICS_KEY }) });
    s3.on(GetObjectCommand, { Key: STATISTICS_KEY }).resolves({ Body: body(JSON.stringify(old)) });

    expect(await handler({ tenantId: 'acme', jobId: JOB_ID }, context)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    expect(keysRead()).toEqual([STATISTICS_KEY]);
    const { model } = finish();
    expect(model[':features']).toEqual(['x0', 'x1']);
    expect(model[':rowsDropped']).toBe(0);
    expectRelativelyClose(model[':coefficients'] as number[], [2, -3]);
    expectRelativelyClose([model[':intercept'] as number], [1]);
  });
});
