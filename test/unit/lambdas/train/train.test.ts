import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TransientError } from '#commons/runtime/retryable.js';
import type { CoefficientTable } from '#domain/inference.js';
import type { InlinePoint, JobRecord, JobStatus } from '#domain/jobs.js';
import { fitModel, RegressionAccumulator } from '#domain/regression.js';
import { handler, train } from '../../../../lambdas/train/train.js';
import { conditionalCheckFailed, throttling, transactionCanceled } from '../../helpers/aws-errors.js';
import { lambdaContext } from '../../helpers/events.js';
import { expectRelativelyClose, rFit, rFixture } from '../../helpers/r-fixtures.js';
import { JOB_ID, JOBS_TABLE, jobRecord, MODEL_ID, MODELS_TABLE, releaseSlot, TENANT } from '../../helpers/records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const NOW = '2026-01-01T12:00:10.000Z';
const INPUT = { tenantId: TENANT, jobId: JOB_ID };

/** y = 1 + 2x, four points: training must find coefficients [2] and intercept 1. */
const LINE: InlinePoint[] = [
  { x: [0], y: 1 },
  { x: [1], y: 3 },
  { x: [2], y: 5 },
  { x: [3], y: 7 },
];

const s3 = mockClient(S3Client);

/** A job source whose inline points S3 answers (the object create-job stored). */
function inlineSource(points: InlinePoint[]): JobRecord['source'] {
  const key = `jobs/${TENANT}/${JOB_ID}.json`;
  // Only the part of GetObject's body stream that training reads.
  const Body = { transformToString: async () => JSON.stringify(points) } as unknown as GetObjectCommandOutput['Body'];
  s3.on(GetObjectCommand, { Bucket: 'datasets-bucket', Key: key }).resolves({ Body });
  return { type: 'inline', key, rows: points.length };
}

const queued = (overrides: Partial<JobRecord> = {}) =>
  jobRecord({ status: 'QUEUED', startedAt: null, progress: 0, attempts: 0, ...overrides, source: overrides.source ?? inlineSource(LINE) });
const running = (job: JobRecord) => ({ ...job, status: 'RUNNING' as const, startedAt: job.startedAt ?? NOW, progress: 0, attempts: job.attempts + 1 });

const START_ATTEMPT = { ConditionExpression: '#status IN (:from0, :from1)', ReturnValues: 'ALL_NEW' as const };
const PROGRESS = { UpdateExpression: 'SET progress = :progress ADD version :one' };

/** Stores `job`: the read answers it and the RUNNING write answers it RUNNING with one more attempt. */
function stored(job: JobRecord) {
  ddb.on(GetCommand).resolves({ Item: job });
  ddb.on(UpdateCommand, START_ATTEMPT).resolves({ Attributes: running(job) });
  ddb.on(UpdateCommand, PROGRESS).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
}

const updates = () => ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
const transactions = () => ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input);

beforeEach(() => {
  ddb.reset();
  s3.reset();
  // Only Date is faked: the clock stands still, so the progress throttle's half-way rule decides.
  vi.useFakeTimers({ toFake: ['Date'], now: new Date(NOW) });
});
afterEach(() => vi.useRealTimers());

describe('train: the happy path', () => {
  it('moves the job RUNNING (counting the attempt), reports progress, then writes the TRAINED model and the COMPLETED job together', async () => {
    stored(queued());

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: JOBS_TABLE, Key: { tenantId: TENANT, jobId: JOB_ID }, ConsistentRead: true });
    expect(updates()).toEqual([
      {
        TableName: JOBS_TABLE,
        Key: { tenantId: TENANT, jobId: JOB_ID },
        UpdateExpression: 'SET #status = :to, tenantStatus = :tenantStatus, #startedAt = :startedAt, #progress = :progress ADD version :one, attempts :one',
        ConditionExpression: '#status IN (:from0, :from1)',
        ExpressionAttributeNames: { '#status': 'status', '#startedAt': 'startedAt', '#progress': 'progress' },
        ExpressionAttributeValues: {
          ':to': 'RUNNING',
          ':tenantStatus': 'acme#RUNNING',
          ':startedAt': NOW,
          ':progress': 0,
          ':from0': 'QUEUED',
          ':from1': 'RUNNING',
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      },
      {
        TableName: JOBS_TABLE,
        Key: { tenantId: TENANT, jobId: JOB_ID },
        UpdateExpression: 'SET progress = :progress ADD version :one',
        ConditionExpression: '#status = :running AND progress < :progress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':progress': 0.5, ':running': 'RUNNING', ':one': 1 },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    ]);
    expect(transactions()).toEqual([
      {
        TransactItems: [
          {
            Update: {
              TableName: JOBS_TABLE,
              Key: { tenantId: TENANT, jobId: JOB_ID },
              UpdateExpression: 'SET #status = :to, tenantStatus = :tenantStatus, #progress = :progress, #finishedAt = :finishedAt ADD version :one',
              ConditionExpression: '#status IN (:from0)',
              ExpressionAttributeNames: { '#status': 'status', '#progress': 'progress', '#finishedAt': 'finishedAt' },
              ExpressionAttributeValues: {
                ':to': 'COMPLETED',
                ':tenantStatus': 'acme#COMPLETED',
                ':progress': 1,
                ':finishedAt': NOW,
                ':from0': 'RUNNING',
                ':one': 1,
              },
            },
          },
          {
            Update: {
              TableName: MODELS_TABLE,
              Key: { tenantId: TENANT, modelId: MODEL_ID },
              ConditionExpression: '#status = :training',
              // `metrics` is a DynamoDB reserved word: every attribute goes through a placeholder.
              ExpressionAttributeNames: {
                '#status': 'status',
                '#coefficients': 'coefficients',
                '#intercept': 'intercept',
                '#features': 'features',
                '#metrics': 'metrics',
                '#fittedAt': 'fittedAt',
                '#rowsDropped': 'rowsDropped',
                '#summary': 'summary',
              },
              UpdateExpression:
                'SET #status = :status, #coefficients = :coefficients, #intercept = :intercept, #features = :features, #metrics = :metrics, #fittedAt = :fittedAt, #rowsDropped = :rowsDropped, #summary = :summary',
              ExpressionAttributeValues: {
                ':status': 'TRAINED',
                ':training': 'TRAINING',
                ':coefficients': [expect.closeTo(2, 9)],
                ':intercept': expect.closeTo(1, 9),
                ':features': ['x0'],
                ':metrics': { n: 4, r2: expect.closeTo(1, 9), rmse: expect.closeTo(0, 6) }, // rmse comes from accumulated sums: the root of a rounding-level SSE
                ':fittedAt': NOW,
                ':rowsDropped': 0,
                // A LINEAR model's coefficient table, as JSON text (its figures: the test of the trees fit below).
                ':summary': expect.stringMatching(/^\{"coefficients":\[\{"term":"\(Intercept\)",.*\{"term":"x0",/),
              },
            },
          },
          releaseSlot(NOW),
        ],
      },
    ]);
  });

  it('keeps the first start time on a retried attempt of a RUNNING job', async () => {
    stored(queued({ status: 'RUNNING', startedAt: '2026-01-01T12:00:01.000Z', attempts: 1, progress: 0.5 }));

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({ ':startedAt': '2026-01-01T12:00:01.000Z', ':progress': 0 });
  });

  it('fits without an intercept when the job says so', async () => {
    stored(
      queued({
        fitIntercept: false,
        source: inlineSource([
          { x: [1], y: 2 },
          { x: [2], y: 4 },
          { x: [3], y: 6 },
        ]),
      }),
    );

    await train(INPUT);

    const values = transactions()[0]?.TransactItems?.[1]?.Update?.ExpressionAttributeValues;
    expect(values?.[':coefficients']).toEqual([expect.closeTo(2, 9)]);
    expect(values?.[':intercept']).toBe(0);
  });

  it('names the features of multi-feature inline data x0, x1, …', async () => {
    // y = 1 + 2·x0 − x1
    const data = [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [2, 3],
    ].map(([a = 0, b = 0]) => ({ x: [a, b], y: 1 + 2 * a - b }));
    stored(queued({ source: inlineSource(data) }));

    await train(INPUT);

    const values = transactions()[0]?.TransactItems?.[1]?.Update?.ExpressionAttributeValues;
    expect(values?.[':features']).toEqual(['x0', 'x1']);
    expect(values?.[':coefficients']).toEqual([expect.closeTo(2, 9), expect.closeTo(-1, 9)]);
    expect(values?.[':intercept']).toEqual(expect.closeTo(1, 9));
  });

  it('runs through the middy handler with a Lambda context', async () => {
    stored(queued());
    expect(await handler(INPUT, lambdaContext('train'))).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
  });
});

describe('train: jobs it must leave alone', () => {
  it.each<JobStatus>(['COMPLETED', 'FAILED', 'CANCELLED'])('answers a %s job as it is and writes nothing', async (status) => {
    ddb.on(GetCommand).resolves({ Item: jobRecord({ status }) });

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status });

    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddb.calls()).toHaveLength(1);
  });

  it('answers MISSING for a job that does not exist', async () => {
    ddb.on(GetCommand).resolves({});
    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'MISSING' });
    expect(ddb.calls()).toHaveLength(1);
  });

  it('stops (CANCELLED) when the job was cancelled before the RUNNING write', async () => {
    stored(queued());
    ddb.on(UpdateCommand, START_ATTEMPT).rejects(conditionalCheckFailed());

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'CANCELLED' });

    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('stops (CANCELLED) without further writes when the job is cancelled mid-training: the progress write fails its condition', async () => {
    stored(queued());
    ddb.on(UpdateCommand, PROGRESS).rejects(conditionalCheckFailed({ status: { S: 'CANCELLED' }, progress: { N: '0' } }));

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'CANCELLED' });

    expect(updates().map((update) => update.UpdateExpression)).toEqual([expect.stringContaining('attempts :one'), 'SET progress = :progress ADD version :one']);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers CANCELLED when the job is cancelled between the fit and the final write', async () => {
    stored(queued());
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: queued() })
      .resolves({ Item: jobRecord({ status: 'CANCELLED' }) });
    ddb.on(TransactWriteCommand).rejects(transactionCanceled('ConditionalCheckFailed', 'ConditionalCheckFailed'));

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'CANCELLED' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });
});

/*
 * The SDK retries a request that timed out, and the first try may have landed
 * (DynamoDB was slow, not down: the load bench pauses it). The retry then finds its
 * own write and fails its condition. Read as "cancelled", that once ended training
 * with the job left RUNNING for good.
 */
describe('train: a retried write that had already landed', () => {
  it('keeps training when the progress write fails its condition on a job still RUNNING (its own earlier try), and completes it', async () => {
    stored(queued());
    ddb.on(UpdateCommand, PROGRESS).rejects(conditionalCheckFailed({ status: { S: 'RUNNING' }, progress: { N: '0.5' } }));

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('answers COMPLETED when the final write fails its condition because its own earlier try completed the job', async () => {
    stored(queued());
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: queued() })
      .resolves({ Item: jobRecord({ status: 'COMPLETED', progress: 1 }) });
    ddb.on(TransactWriteCommand).rejects(transactionCanceled('ConditionalCheckFailed', 'ConditionalCheckFailed', 'None'));

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
  });
});

describe('train: data that cannot be fitted', () => {
  it('fails the job and its model with INSUFFICIENT_DATA for a single point, and does not throw', async () => {
    const single = [{ x: [3], y: 7 }];
    stored(queued({ source: inlineSource(single) }));
    const expected = expectedFailure(single, true);
    expect(expected.code).toBe('INSUFFICIENT_DATA');

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'FAILED' });

    expect(transactions()).toEqual([
      {
        TransactItems: [
          {
            Update: {
              TableName: JOBS_TABLE,
              Key: { tenantId: TENANT, jobId: JOB_ID },
              UpdateExpression: 'SET #status = :to, tenantStatus = :tenantStatus, #error = :error, #finishedAt = :finishedAt ADD version :one',
              ConditionExpression: '#status IN (:from0, :from1)',
              ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#finishedAt': 'finishedAt' },
              ExpressionAttributeValues: {
                ':to': 'FAILED',
                ':tenantStatus': 'acme#FAILED',
                ':error': { code: 'INSUFFICIENT_DATA', message: expected.message },
                ':finishedAt': NOW,
                ':from0': 'QUEUED',
                ':from1': 'RUNNING',
                ':one': 1,
              },
            },
          },
          {
            Update: {
              TableName: MODELS_TABLE,
              Key: { tenantId: TENANT, modelId: MODEL_ID },
              ConditionExpression: '#status = :training',
              ExpressionAttributeNames: { '#status': 'status' },
              UpdateExpression: 'SET #status = :status',
              ExpressionAttributeValues: { ':status': 'FAILED', ':training': 'TRAINING' },
            },
          },
          releaseSlot(NOW),
        ],
      },
    ]);
  });
});

describe('train: errors for the state machine', () => {
  it.each([
    ['the first read', () => ddb.on(GetCommand).rejects(throttling())],
    ['the RUNNING write', () => ddb.on(UpdateCommand, START_ATTEMPT).rejects(throttling())],
    ['a progress write', () => ddb.on(UpdateCommand, PROGRESS).rejects(throttling())],
    ['the final write', () => ddb.on(TransactWriteCommand).rejects(throttling())],
  ])('throws a TransientError (retried by the workflow) when DynamoDB throttles %s', async (_, throttle) => {
    stored(queued());
    throttle();

    const thrown = await handler(INPUT, lambdaContext('train')).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(thrown).toBeInstanceOf(TransientError);
    expect(thrown).toMatchObject({
      name: 'TransientError',
      message: 'transient failure: ThrottlingException: Rate of requests exceeds the allowed throughput.',
    });
    expect((thrown as Error).cause).toBeInstanceOf(Error);
  });

  it('also treats ProvisionedThroughputExceededException as transient', async () => {
    stored(queued());
    ddb.on(GetCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(handler(INPUT, lambdaContext('train'))).rejects.toMatchObject({ name: 'TransientError' });
  });

  it('lets an unknown error propagate as it is, for the Catch to mark the job failed', async () => {
    stored(queued());
    const boom = new Error('disk on fire');
    ddb.on(TransactWriteCommand).rejects(boom);

    await expect(handler(INPUT, lambdaContext('train'))).rejects.toBe(boom);
  });

  it('refuses malformed input before any read', async () => {
    await expect(train({ tenantId: TENANT, jobId: 'not-a-ulid' })).rejects.toMatchObject({ name: '$ZodError' });
    await expect(train({ jobId: JOB_ID })).rejects.toMatchObject({ name: '$ZodError' });
    expect(ddb.calls()).toHaveLength(0);
  });
});

/** The TrainingFailed the engine itself throws on `data`, so the test does not restate its message. */
function expectedFailure(data: InlinePoint[], fitIntercept: boolean): { code: string; message: string } {
  const accumulator = new RegressionAccumulator(data[0]?.x.length ?? 0, fitIntercept);
  for (const point of data) accumulator.add(point.x, point.y);
  let thrown: unknown;
  try {
    fitModel(accumulator, { kind: 'LINEAR', alpha: 0, fitIntercept });
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toMatchObject({ name: 'TrainingFailed' });
  return thrown as { code: string; message: string };
}

describe("train: a LINEAR model's coefficient table, as R's summary(lm) gives it", () => {
  it('writes the table of an inline LINEAR fit: trees, Volume ~ Girth + Height, to 1e-9 of R', async () => {
    const fit = rFit('trees', 'Volume ~ Girth + Height');
    const rows = rFixture('trees.r.csv')
      .toString('utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').slice(1).map(Number));
    stored(queued({ kind: 'LINEAR', alpha: null, source: inlineSource(rows.map(([girth, height, volume]) => ({ x: [girth!, height!], y: volume! }))) }));

    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });

    const model = transactions()[0]?.TransactItems?.[1]?.Update?.ExpressionAttributeValues ?? {};
    const table = JSON.parse(model[':summary'] as string) as CoefficientTable;
    expect(table.coefficients.map((row) => row.term)).toEqual(['(Intercept)', 'x0', 'x1']);
    const stats = Object.values(fit.coefficientStats);
    expectRelativelyClose(
      table.coefficients.map((row) => row.stdError!),
      stats.map((row) => row['std.error']),
    );
    expectRelativelyClose(
      table.coefficients.map((row) => row.statistic!),
      stats.map((row) => row['t.value']),
    );
    expectRelativelyClose(
      table.coefficients.map((row) => row.pValue!),
      stats.map((row) => row['p.value']),
    );
    expectRelativelyClose(
      table.coefficients.map((row) => row.confLow!),
      stats.map((row) => row['conf.low']),
    );
    expectRelativelyClose([table.sigma!, table.r2!, table.adjR2!], [fit.sigma, fit['r.squared'], fit['adj.r.squared']]);
    expect(table).toMatchObject({ dfResidual: 28, nobs: 31, level: 0.95 });
  });

  it('writes no table for RIDGE, whose penalised estimates have none', async () => {
    stored(queued({ kind: 'RIDGE', alpha: 1, source: inlineSource(LINE) }));
    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
    expect(transactions()[0]?.TransactItems?.[1]?.Update?.ExpressionAttributeValues).not.toHaveProperty(':summary');
  });

  it("takes the job's confidence level for the intervals", async () => {
    stored(queued({ kind: 'LINEAR', alpha: null, level: 0.99, source: inlineSource(LINE) }));
    expect(await train(INPUT)).toEqual({ jobId: JOB_ID, status: 'COMPLETED' });
    const model = transactions()[0]?.TransactItems?.[1]?.Update?.ExpressionAttributeValues ?? {};
    expect(JSON.parse(model[':summary'] as string)).toMatchObject({ level: 0.99 });
  });
});
