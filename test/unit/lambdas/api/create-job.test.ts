import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { executionArnOf, type JobView } from '#domain/jobs.js';
import { handler } from '../../../../lambdas/api/create-job.js';
import { conditionalCheckFailed, throttling, transactionCanceled } from '../../helpers/aws-errors.js';
import { apiEvent, bodyOf, lambdaContext } from '../../helpers/events.js';
import { JOBS_TABLE, jobRecord, MODELS_TABLE, OTHER_TENANT, STATE_MACHINE_ARN, TENANT, TENANTS_TABLE } from '../../helpers/records.js';

const documents = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
/** The inline points each job stored, by object key. */
const storedPoints = () =>
  Object.fromEntries(s3.commandCalls(PutObjectCommand).map((call) => [call.args[0].input.Key, JSON.parse(String(call.args[0].input.Body))]));
const context = lambdaContext('create-job');

const NOW = '2026-01-01T12:00:00.000Z';
const NOW_MS = Date.parse(NOW);
const NOW_SECONDS = Date.parse(NOW) / 1000;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const BODY = {
  kind: 'RIDGE',
  alpha: 0.5,
  data: [
    { x: [0, 1], y: 1 },
    { x: [1, 0], y: 3 },
    { x: [2, 2], y: 9 },
  ],
  name: 'house prices',
};

beforeEach(() => {
  documents.reset();
  sfn.reset();
  s3.reset();
  s3.on(PutObjectCommand).resolves({});
  vi.useFakeTimers({ toFake: ['Date'], now: new Date(NOW) });
  documents.on(TransactWriteCommand).resolves({});
  // The tenant's counter: no item yet, so no job is active.
  documents.on(GetCommand, { TableName: TENANTS_TABLE }).resolves({});
  sfn
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: executionArnOf(STATE_MACHINE_ARN, input.name), startDate: new Date(NOW) }));
});
afterEach(() => vi.useRealTimers());

interface Submit {
  body?: unknown;
  tenantId?: string;
  idempotencyKey?: string;
  isBase64Encoded?: boolean;
}

const submit = ({ body = BODY, tenantId = TENANT, idempotencyKey, isBase64Encoded }: Submit = {}) =>
  handler(
    apiEvent({
      method: 'POST',
      path: '/jobs',
      body,
      tenantId,
      isBase64Encoded,
      headers: idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey },
    }),
    context,
  );

const transactions = () => documents.commandCalls(TransactWriteCommand).map((call) => call.args[0].input);

describe('POST /jobs: creating a job', () => {
  it('writes the QUEUED job and its TRAINING model in one conditional transaction, starts the execution named by the job id, and answers 202 + Location', async () => {
    const result = await submit();

    expect(result.statusCode).toBe(202);
    const job = bodyOf<JobView>(result);
    expect(job.jobId).toMatch(ULID);
    expect(job.modelId).toMatch(ULID);
    expect(job.modelId).not.toBe(job.jobId);
    expect(job).toStrictEqual({
      jobId: job.jobId,
      modelId: job.modelId,
      status: 'QUEUED',
      kind: 'RIDGE',
      alpha: 0.5,
      fitIntercept: true,
      name: 'house prices',
      progress: 0,
      createdAt: NOW,
      startedAt: null,
      finishedAt: null,
      error: null,
      attempts: 0,
      datasetId: null,
      alphas: null,
      modelIds: [job.modelId],
      version: 1,
    });
    expect(result.headers).toEqual({
      'Content-Type': 'application/json',
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': 'Location, Retry-After',
      Location: `/v1/jobs/${job.jobId}`,
    });

    const expiresAt = NOW_SECONDS + 30 * 86_400;
    expect(transactions()).toEqual([
      {
        TransactItems: [
          {
            Put: {
              TableName: JOBS_TABLE,
              ConditionExpression: 'attribute_not_exists(jobId)',
              Item: {
                tenantId: TENANT,
                jobId: job.jobId,
                modelId: job.modelId,
                status: 'QUEUED',
                tenantStatus: 'acme#QUEUED',
                kind: 'RIDGE',
                alpha: 0.5,
                fitIntercept: true,
                name: 'house prices',
                progress: 0,
                createdAt: NOW,
                startedAt: null,
                finishedAt: null,
                error: null,
                attempts: 0,
                executionArn: `arn:aws:states:us-east-1:123456789012:execution:Training:${job.jobId}`,
                source: { type: 'inline', key: `jobs/${TENANT}/${job.jobId}.json`, rows: 3 },
                expiresAt,
                version: 1,
              },
            },
          },
          {
            Put: {
              TableName: MODELS_TABLE,
              ConditionExpression: 'attribute_not_exists(modelId)',
              Item: {
                tenantId: TENANT,
                modelId: job.modelId,
                jobId: job.jobId,
                status: 'TRAINING',
                kind: 'RIDGE',
                alpha: 0.5,
                fitIntercept: true,
                coefficients: [],
                intercept: null,
                features: ['x0', 'x1'],
                metrics: null,
                createdAt: NOW,
                fittedAt: null,
                expiresAt,
              },
            },
          },
          // One of the tenant's active-job slots, taken in the same write.
          {
            Update: {
              TableName: TENANTS_TABLE,
              Key: { tenantId: TENANT, sk: 'ACTIVE_JOBS' },
              UpdateExpression: 'SET changedAt = :now ADD activeJobs :one, revision :one',
              ConditionExpression: 'attribute_not_exists(activeJobs) OR activeJobs < :limit',
              ExpressionAttributeValues: { ':one': 1, ':limit': 20, ':now': NOW_MS },
            },
          },
        ],
      },
    ]);
    expect(sfn).toHaveReceivedCommandExactlyOnceWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: job.jobId,
      input: JSON.stringify({ tenantId: TENANT, jobId: job.jobId }),
    });
  });

  it('normalises bare-number x, stores alpha null for LINEAR, defaults RIDGE alpha to 1 and keeps fitIntercept false', async () => {
    await submit({
      body: {
        kind: 'LINEAR',
        data: [
          { x: 1, y: 2 },
          { x: 2, y: 4 },
        ],
        fitIntercept: false,
      },
    });
    await submit({ body: { kind: 'RIDGE', data: [{ x: 1, y: 2 }] } });

    const [linear, ridge] = transactions().map((transaction) => transaction.TransactItems?.[0]?.Put?.Item);
    expect(linear).toMatchObject({ kind: 'LINEAR', alpha: null, fitIntercept: false, source: { type: 'inline', rows: 2 } });
    // The points themselves go to S3, one object per job under the tenant's prefix, x always an array.
    expect(storedPoints()[`jobs/${TENANT}/${linear?.jobId}.json`]).toEqual([
      { x: [1], y: 2 },
      { x: [2], y: 4 },
    ]);
    expect(linear).not.toHaveProperty('name');
    expect(ridge).toMatchObject({ kind: 'RIDGE', alpha: 1, fitIntercept: true });
  });

  it('gives each job its own ids', async () => {
    const first = bodyOf<JobView>(await submit());
    const second = bodyOf<JobView>(await submit());
    expect(new Set([first.jobId, first.modelId, second.jobId, second.modelId]).size).toBe(4);
  });

  it('reads a base64-encoded body', async () => {
    const result = await submit({ body: Buffer.from(JSON.stringify(BODY)).toString('base64'), isBase64Encoded: true });
    expect(result.statusCode).toBe(202);
  });
});

describe('POST /jobs: refusals', () => {
  it.each([
    ['broken JSON', '{"kind":'],
    ['an empty body', ''],
    ['a bare word', 'LINEAR'],
  ])('answers 400 INVALID_JSON for %s and writes nothing', async (_, body) => {
    const result = await handler(apiEvent({ method: 'POST', path: '/jobs', body }), context);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({ error: { code: 'INVALID_JSON', message: 'the request body is not valid JSON' } });
    expect(documents).not.toHaveReceivedAnyCommand();
  });

  it('answers 400 INVALID_JSON for a request without a body', async () => {
    const result = await handler(apiEvent({ method: 'POST', path: '/jobs', body: null }), context);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'INVALID_JSON' } });
  });

  it.each<[string, unknown, string]>([
    ['an unknown kind', { kind: 'POLY', data: BODY.data }, 'kind'],
    ['alpha for LINEAR', { kind: 'LINEAR', alpha: 1, data: BODY.data }, 'alpha'],
    ['alpha 0', { kind: 'LASSO', alpha: 0, data: BODY.data }, 'alpha'],
    ['neither data nor datasetId', { kind: 'LINEAR' }, 'data'],
    [
      'mixed widths',
      {
        kind: 'LINEAR',
        data: [
          { x: [1, 2], y: 1 },
          { x: [1], y: 1 },
        ],
      },
      'data',
    ],
    ['an unknown field', { ...BODY, priority: 'high' }, 'priority'],
  ])('answers 400 VALIDATION_ERROR for %s, naming the field, and writes nothing', async (_, body, path) => {
    const result = await submit({ body });
    expect(result.statusCode).toBe(400);
    const { error } = bodyOf<{ error: { code: string; message: string; details: { path: string }[] } }>(result);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toBe('the request is invalid');
    expect(error.details.map((detail) => detail.path)).toEqual([path]);
    expect(documents).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('answers 413 PAYLOAD_TOO_LARGE for a body over 1 MB, before parsing it', async () => {
    const result = await submit({ body: 'x'.repeat(1024 * 1024 + 1) });
    expect(result.statusCode).toBe(413);
    expect(bodyOf(result)).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'the request body must be at most 1048576 bytes' } });
    expect(documents).not.toHaveReceivedAnyCommand();
  });

  it('accepts a body of exactly 1 MB', async () => {
    const json = JSON.stringify(BODY);
    const result = await submit({ body: json + ' '.repeat(1024 * 1024 - json.length) });
    expect(result.statusCode).toBe(202);
  });

  it('counts the limit in bytes, after base64 decoding', async () => {
    const json = JSON.stringify({ ...BODY, name: 'é'.repeat(200) });
    const padded = json + ' '.repeat(1024 * 1024 - json.length); // 1 MB of characters, 200 bytes more than 1 MB
    const result = await submit({ body: Buffer.from(padded).toString('base64'), isBase64Encoded: true });
    expect(result.statusCode).toBe(413);
  });

  it('answers 429 TOO_MANY_ACTIVE_JOBS from the full counter (read consistently) before writing anything, when a recount agrees', async () => {
    documents
      .on(GetCommand, { TableName: TENANTS_TABLE })
      .resolves({ Item: { tenantId: TENANT, sk: 'ACTIVE_JOBS', activeJobs: 20, revision: 57, changedAt: NOW_MS - 31_000 } });
    documents.on(QueryCommand).resolves({ Count: 20 });

    const result = await submit();

    expect(result.statusCode).toBe(429);
    expect(bodyOf(result)).toEqual({ error: { code: 'TOO_MANY_ACTIVE_JOBS', message: 'at most 20 jobs may be queued or running at once' } });
    expect(documents).toHaveReceivedCommandWith(GetCommand, { TableName: TENANTS_TABLE, Key: { tenantId: TENANT, sk: 'ACTIVE_JOBS' }, ConsistentRead: true });
    expect(documents).toHaveReceivedCommandWith(QueryCommand, {
      TableName: JOBS_TABLE,
      KeyConditionExpression: 'tenantId = :tenant',
      FilterExpression: '#status IN (:active0, :active1)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':tenant': TENANT, ':active0': 'QUEUED', ':active1': 'RUNNING' },
      Select: 'COUNT',
      ConsistentRead: true,
    });
    expect(documents).not.toHaveReceivedCommand(UpdateCommand);
    expect(documents).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(s3).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('still answers 429 when the transaction refuses the slot (the counter filled up after it was read)', async () => {
    documents.on(TransactWriteCommand).rejects(transactionCanceled('None', 'None', 'ConditionalCheckFailed'));
    documents
      .on(GetCommand, { TableName: TENANTS_TABLE })
      .resolvesOnce({ Item: { tenantId: TENANT, sk: 'ACTIVE_JOBS', activeJobs: 19, revision: 56, changedAt: NOW_MS - 1_000 } })
      .resolves({ Item: { tenantId: TENANT, sk: 'ACTIVE_JOBS', activeJobs: 20, revision: 57, changedAt: NOW_MS } });

    const result = await submit();

    expect(result.statusCode).toBe(429);
    expect(documents).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    // A busy counter (written in the last 30 s) is not recounted: a count then could miss writes still committing.
    expect(documents).not.toHaveReceivedCommand(QueryCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('corrects a counter that drifted above the real count (at the revision it read), then admits the job', async () => {
    documents
      .on(GetCommand, { TableName: TENANTS_TABLE })
      .resolves({ Item: { tenantId: TENANT, sk: 'ACTIVE_JOBS', activeJobs: 20, revision: 57, changedAt: NOW_MS - 31_000 } });
    // Counted across pages: 15 + 3 active jobs.
    documents
      .on(QueryCommand)
      .resolvesOnce({ Count: 15, LastEvaluatedKey: { tenantId: TENANT, jobId: 'A' } })
      .resolves({ Count: 3 });
    documents.on(UpdateCommand).resolves({});

    const result = await submit();

    expect(result.statusCode).toBe(202);
    expect(documents.commandCalls(QueryCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual({ tenantId: TENANT, jobId: 'A' });
    expect(documents).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TENANTS_TABLE,
      Key: { tenantId: TENANT, sk: 'ACTIVE_JOBS' },
      UpdateExpression: 'SET activeJobs = :active, changedAt = :now ADD revision :one',
      ConditionExpression: 'revision = :revision',
      ExpressionAttributeValues: { ':active': 18, ':revision': 57, ':one': 1, ':now': NOW_MS },
    });
    expect(documents).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('answers 429 when the correction loses to a concurrent write (the revision moved)', async () => {
    documents
      .on(GetCommand, { TableName: TENANTS_TABLE })
      .resolves({ Item: { tenantId: TENANT, sk: 'ACTIVE_JOBS', activeJobs: 20, revision: 57, changedAt: NOW_MS - 31_000 } });
    documents.on(QueryCommand).resolves({ Count: 19 });
    documents.on(UpdateCommand).rejects(conditionalCheckFailed());

    expect((await submit()).statusCode).toBe(429);
    expect(documents).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('tries a transaction again while it is cancelled only by concurrent ones (the counter is one item)', async () => {
    documents
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCanceled('None', 'None', 'TransactionConflict'))
      .rejectsOnce(transactionCanceled('TransactionConflict', 'None', 'None'))
      .resolves({});

    expect((await submit()).statusCode).toBe(202);
    expect(documents).toHaveReceivedCommandTimes(TransactWriteCommand, 3);
  });
});

describe('POST /jobs: dependencies that fail', () => {
  it.each([
    ['a request timeout', Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' })],
    ['throttling', throttling()],
    ['a transaction still conflicting after every try', transactionCanceled('None', 'None', 'TransactionConflict')],
  ])('answers 503 SERVICE_UNAVAILABLE with Retry-After for %s, never 500', async (_, error) => {
    documents.on(TransactWriteCommand).rejects(error);

    const result = await submit();

    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBe('2');
    expect(bodyOf(result)).toEqual({
      error: {
        code: 'SERVICE_UNAVAILABLE',
        message: 'the service could not complete the request in time; retry it (with the same Idempotency-Key) after Retry-After seconds',
      },
    });
  });
});

describe('POST /jobs: a create that fails leaves no object behind', () => {
  /** The key the job's inline points were written to (the one PutObject). */
  const storedKey = () => s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key;
  const deletedKeys = () => s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input.Key);
  /** DynamoDB's refusal of a number outside its range, as the SDK deserialises it. */
  const numberOverflow = () =>
    Object.assign(new Error('Number overflow. Attempting to store a number with magnitude larger than supported range'), {
      name: 'ValidationException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });

  /** The counter read had a free slot, but it filled up before the transaction (as in 'still answers 429' above). */
  const refuseTheSlot = () => {
    documents.on(TransactWriteCommand).rejects(transactionCanceled('None', 'None', 'ConditionalCheckFailed'));
    documents
      .on(GetCommand, { TableName: TENANTS_TABLE })
      .resolvesOnce({ Item: { tenantId: TENANT, sk: 'ACTIVE_JOBS', activeJobs: 19, revision: 56, changedAt: NOW_MS - 1_000 } })
      .resolves({ Item: { tenantId: TENANT, sk: 'ACTIVE_JOBS', activeJobs: 20, revision: 57, changedAt: NOW_MS } });
  };

  beforeEach(() => {
    s3.on(DeleteObjectCommand).resolves({});
  });

  it('answers alpha 1e308 with 400 VALIDATION_ERROR naming alpha, before storing anything (no object, no job)', async () => {
    const result = await submit({ body: { ...BODY, alpha: 1e308 } });

    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({
      error: { code: 'VALIDATION_ERROR', message: 'the request is invalid', details: [{ path: 'alpha', message: 'must be from 1e-100 to 1e+100' }] },
    });
    expect(s3).not.toHaveReceivedAnyCommand();
    expect(documents).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('deletes the inline points when the transaction refuses the slot (429), and writes nothing else', async () => {
    refuseTheSlot();

    const result = await submit();

    expect(result.statusCode).toBe(429);
    expect(storedKey()).toMatch(new RegExp(`^jobs/${TENANT}/[0-9A-HJKMNP-TV-Z]{26}\\.json$`));
    expect(s3).toHaveReceivedCommandExactlyOnceWith(DeleteObjectCommand, { Bucket: 'datasets-bucket', Key: storedKey() });
    // Refused by its conditions, the job was certainly not written: no read-back.
    expect(documents).not.toHaveReceivedCommandWith(GetCommand, { TableName: JOBS_TABLE });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('deletes them when the transaction fails outright (a number DynamoDB refuses) once a read shows no job', async () => {
    documents.on(TransactWriteCommand).rejects(numberOverflow());
    documents.on(GetCommand, { TableName: JOBS_TABLE }).resolves({});

    const result = await submit();

    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
    const jobId = /([0-9A-HJKMNP-TV-Z]{26})\.json$/.exec(storedKey() ?? '')?.[1];
    expect(documents).toHaveReceivedCommandWith(GetCommand, { TableName: JOBS_TABLE, Key: { tenantId: TENANT, jobId }, ConsistentRead: true });
    expect(deletedKeys()).toEqual([storedKey()]);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('keeps them when the outcome was unknown and the job was written after all (a timeout whose write landed)', async () => {
    documents.on(TransactWriteCommand).rejects(Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' }));
    documents.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: jobRecord() });

    const result = await submit();

    expect(result.statusCode).toBe(503);
    expect(s3).not.toHaveReceivedCommand(DeleteObjectCommand);
  });

  it('keeps them when the read-back fails too (the lifecycle rule removes them later), still answering 503', async () => {
    documents.on(TransactWriteCommand).rejects(Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' }));
    documents.on(GetCommand, { TableName: JOBS_TABLE }).rejects(throttling());

    expect((await submit()).statusCode).toBe(503);
    expect(s3).not.toHaveReceivedCommand(DeleteObjectCommand);
  });

  it('still answers 429 when the delete fails', async () => {
    refuseTheSlot();
    s3.on(DeleteObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));

    const result = await submit();

    expect(result.statusCode).toBe(429);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'TOO_MANY_ACTIVE_JOBS' } });
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectCommand, 1);
  });

  it('deletes the points of a job whose key was taken meanwhile, and answers the job the key made', async () => {
    await submit({ idempotencyKey: 'order-42' });
    const bound = transactions()[0]?.TransactItems?.[3]?.Put?.Item as { jobId: string; requestHash: string };
    s3.resetHistory();
    documents.on(TransactWriteCommand).rejects(transactionCanceled('None', 'None', 'None', 'ConditionalCheckFailed'));
    documents.on(GetCommand, { TableName: TENANTS_TABLE }).resolves({ Item: { tenantId: TENANT, sk: 'REQUEST#order-42', ...bound } });
    documents.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: jobRecord({ jobId: bound.jobId, status: 'RUNNING', version: 4 }) });

    const retried = await submit({ idempotencyKey: 'order-42' });

    expect(retried.statusCode).toBe(202);
    expect(bodyOf<JobView>(retried).jobId).toBe(bound.jobId);
    expect(storedKey()).not.toBe(`jobs/${TENANT}/${bound.jobId}.json`);
    expect(deletedKeys()).toEqual([storedKey()]);
  });
});

describe('POST /jobs: when the workflow cannot start', () => {
  it('marks the job and its model FAILED with WORKFLOW_START_FAILED in one conditional transaction and answers 503', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('Step Functions is unavailable'));

    const result = await submit();

    expect(result.statusCode).toBe(503);
    const [create, fail] = transactions();
    const job = create?.TransactItems?.[0]?.Put?.Item as { jobId: string; modelId: string };
    expect(bodyOf(result)).toEqual({
      error: { code: 'WORKFLOW_START_FAILED', message: `the training workflow could not be started; submit the job again (job ${job.jobId})` },
    });
    expect(fail).toEqual({
      TransactItems: [
        {
          Update: {
            TableName: JOBS_TABLE,
            Key: { tenantId: TENANT, jobId: job.jobId },
            UpdateExpression: 'SET #status = :to, tenantStatus = :tenantStatus, #error = :error, #finishedAt = :finishedAt ADD version :one',
            ConditionExpression: '#status IN (:from0, :from1)',
            ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#finishedAt': 'finishedAt' },
            ExpressionAttributeValues: {
              ':to': 'FAILED',
              ':tenantStatus': 'acme#FAILED',
              ':error': { code: 'WORKFLOW_START_FAILED', message: 'the training workflow could not be started; submit the job again' },
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
            Key: { tenantId: TENANT, modelId: job.modelId },
            ConditionExpression: '#status = :training',
            ExpressionAttributeNames: { '#status': 'status' },
            UpdateExpression: 'SET #status = :status',
            ExpressionAttributeValues: { ':status': 'FAILED', ':training': 'TRAINING' },
          },
        },
        // The slot goes back with the job's end.
        {
          Update: {
            TableName: TENANTS_TABLE,
            Key: { tenantId: TENANT, sk: 'ACTIVE_JOBS' },
            UpdateExpression: 'SET changedAt = :now ADD activeJobs :minusOne, revision :one',
            ExpressionAttributeValues: { ':minusOne': -1, ':one': 1, ':now': NOW_MS },
          },
        },
      ],
    });
    expect(transactions()).toHaveLength(2);
  });
});

describe('POST /jobs: Idempotency-Key', () => {
  /**
   * The key's one record and the jobs, as the create transactions leave them: a
   * transaction is refused (its request item's condition) while a live record binds
   * the key, as DynamoDB would; reads and the release see what was written.
   */
  let requests: Map<string, Record<string, unknown>>;
  let jobs: Map<string, Record<string, unknown>>;
  let counter: Record<string, unknown>;
  let started: Set<string>;
  const requestKey = (item: Record<string, unknown>) => `${item.tenantId}|${item.sk}`;

  beforeEach(() => {
    requests = new Map();
    jobs = new Map();
    counter = {};
    documents.on(TransactWriteCommand).callsFake((input: { TransactItems: { Put?: { TableName: string; Item: Record<string, unknown> } }[] }) => {
      const reasons = input.TransactItems.map(({ Put }) => {
        if (Put?.TableName !== TENANTS_TABLE) return 'None';
        const bound = requests.get(requestKey(Put.Item));
        return bound && (bound.expiresAt as number) >= NOW_SECONDS ? 'ConditionalCheckFailed' : 'None';
      });
      if (reasons.includes('ConditionalCheckFailed')) throw transactionCanceled(...reasons);
      for (const { Put } of input.TransactItems) {
        if (Put?.TableName === TENANTS_TABLE) requests.set(requestKey(Put.Item), Put.Item);
        if (Put?.TableName === JOBS_TABLE) jobs.set(`${Put.Item.tenantId}|${Put.Item.jobId}`, Put.Item);
      }
      return {};
    });
    documents.on(GetCommand, { TableName: TENANTS_TABLE }).callsFake((input: { Key: Record<string, unknown> }) => ({
      Item: input.Key.sk === 'ACTIVE_JOBS' ? counter : requests.get(requestKey(input.Key)),
    }));
    documents.on(GetCommand, { TableName: JOBS_TABLE }).callsFake((input: { Key: { tenantId: string; jobId: string } }) => ({
      Item: jobs.get(`${input.Key.tenantId}|${input.Key.jobId}`),
    }));
    documents
      .on(DeleteCommand, { TableName: TENANTS_TABLE })
      .callsFake((input: { Key: Record<string, unknown>; ExpressionAttributeValues: { ':jobId': string } }) => {
        if (requests.get(requestKey(input.Key))?.jobId !== input.ExpressionAttributeValues[':jobId']) throw conditionalCheckFailed();
        requests.delete(requestKey(input.Key));
        return {};
      });
    // Step Functions refuses a second execution of one name, as it does for a running or finished one.
    started = new Set<string>();
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => {
      if (started.has(input.name)) throw new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
      started.add(input.name);
      return { executionArn: executionArnOf(STATE_MACHINE_ARN, input.name), startDate: new Date(NOW) };
    });
  });

  const createTransactions = () => transactions().filter((transaction) => transaction.TransactItems?.[0]?.Put);

  it('binds the key to the job in the create transaction: a fingerprint of the request, a 24 h expiry, and a condition an expired record does not hold', async () => {
    const job = bodyOf<JobView>(await submit({ idempotencyKey: 'order-42' }));

    expect(transactions()[0]?.TransactItems?.[3]?.Put).toEqual({
      TableName: TENANTS_TABLE,
      Item: {
        tenantId: TENANT,
        sk: 'REQUEST#order-42',
        jobId: job.jobId,
        requestHash: expect.stringMatching(/^[\w-]{43}$/),
        expiresAt: NOW_SECONDS + 24 * 3600,
      },
      ConditionExpression: 'attribute_not_exists(sk) OR expiresAt < :now',
      ExpressionAttributeValues: { ':now': NOW_SECONDS },
    });
  });

  it('answers a replay with the same job (202 and Location again): no second job, and its start is refused by the execution name', async () => {
    const first = await submit({ idempotencyKey: 'order-42' });
    const replay = await submit({ idempotencyKey: 'order-42' });

    expect(replay.statusCode).toBe(202);
    expect(replay.body).toBe(first.body);
    expect(replay.headers?.Location).toBe(first.headers?.Location);
    expect(jobs.size).toBe(1);
    const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
    expect(new Set(names)).toEqual(new Set([bodyOf<JobView>(first).jobId]));
    // The replay's own points were stored before the refusal, and deleted after it.
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input.Key)).toEqual([s3.commandCalls(PutObjectCommand)[1]?.args[0].input.Key]);
  });

  it('answers a replay with the job as it is now: COMPLETED after training, without starting it again', async () => {
    const first = bodyOf<JobView>(await submit({ idempotencyKey: 'order-42' }));
    const key = `${TENANT}|${first.jobId}`;
    jobs.set(key, { ...jobs.get(key), status: 'COMPLETED', progress: 1, finishedAt: NOW, version: 5 });
    sfn.resetHistory();

    const replay = await submit({ idempotencyKey: 'order-42' });

    expect(replay.statusCode).toBe(202);
    expect(bodyOf<JobView>(replay)).toMatchObject({ jobId: first.jobId, status: 'COMPLETED', progress: 1, finishedAt: NOW, version: 5 });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('answers a replay even when the caller is now at the active-job limit, writing nothing', async () => {
    const first = await submit({ idempotencyKey: 'order-42' });
    counter = { tenantId: TENANT, sk: 'ACTIVE_JOBS', activeJobs: 20, revision: 9, changedAt: NOW_MS };
    s3.resetHistory();

    const replay = await submit({ idempotencyKey: 'order-42' });

    expect(replay.statusCode).toBe(202);
    expect(replay.body).toBe(first.body);
    expect(createTransactions()).toHaveLength(1);
    expect(s3).not.toHaveReceivedAnyCommand();
  });

  it('answers 409 IDEMPOTENCY_CONFLICT for the same key with another body, creating nothing more', async () => {
    await submit({ idempotencyKey: 'order-42' });

    const conflict = await submit({ idempotencyKey: 'order-42', body: { ...BODY, alpha: 0.7 } });

    expect(conflict.statusCode).toBe(409);
    expect(bodyOf(conflict)).toEqual({
      error: { code: 'IDEMPOTENCY_CONFLICT', message: 'this Idempotency-Key was already used with a different request body' },
    });
    expect(jobs.size).toBe(1);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('creates a new job for a key whose record has expired but is not deleted yet (TTL deletes late), and reads it as absent', async () => {
    requests.set(`${TENANT}|REQUEST#order-42`, { tenantId: TENANT, sk: 'REQUEST#order-42', jobId: 'old', requestHash: 'old', expiresAt: NOW_SECONDS - 1 });

    const result = await submit({ idempotencyKey: 'order-42', body: { ...BODY, alpha: 0.7 } });

    expect(result.statusCode).toBe(202);
    expect(requests.get(`${TENANT}|REQUEST#order-42`)).toMatchObject({ jobId: bodyOf<JobView>(result).jobId });
  });

  it('answers 429 at the limit for a key whose record has expired, rather than replaying the job it named', async () => {
    requests.set(`${TENANT}|REQUEST#order-42`, { tenantId: TENANT, sk: 'REQUEST#order-42', jobId: 'old', requestHash: 'old', expiresAt: NOW_SECONDS - 1 });
    counter = { tenantId: TENANT, sk: 'ACTIVE_JOBS', activeJobs: 20, revision: 9, changedAt: NOW_MS };

    const result = await submit({ idempotencyKey: 'order-42' });

    expect(result.statusCode).toBe(429);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'TOO_MANY_ACTIVE_JOBS' } });
  });

  it('answers 409 IDEMPOTENCY_IN_PROGRESS with Retry-After when the key was bound a moment ago and is being released', async () => {
    documents.on(TransactWriteCommand).rejects(transactionCanceled('None', 'None', 'None', 'ConditionalCheckFailed'));

    const concurrent = await submit({ idempotencyKey: 'order-42' });

    expect(concurrent.statusCode).toBe(409);
    expect(concurrent.headers?.['Retry-After']).toBe('1');
    expect(bodyOf(concurrent)).toEqual({
      error: { code: 'IDEMPOTENCY_IN_PROGRESS', message: 'a request with this Idempotency-Key is still in progress; retry it after Retry-After seconds' },
    });
  });

  it('answers 503 when the key’s record cannot be read (a DynamoDB timeout), never 500', async () => {
    await submit({ idempotencyKey: 'order-42' });
    documents.on(GetCommand, { TableName: TENANTS_TABLE }).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));

    const result = await submit({ idempotencyKey: 'order-42' });

    expect(result.statusCode).toBe(503);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
  });

  it('scopes keys to the tenant: the same key from another tenant creates its own job', async () => {
    const mine = bodyOf<JobView>(await submit({ idempotencyKey: 'order-42' }));
    const theirs = bodyOf<JobView>(await submit({ idempotencyKey: 'order-42', tenantId: OTHER_TENANT }));

    expect(theirs.jobId).not.toBe(mine.jobId);
    expect(requests.size).toBe(2);
    expect(createTransactions().map((transaction) => transaction.TransactItems?.[0]?.Put?.Item?.tenantId)).toEqual([TENANT, OTHER_TENANT]);
  });

  it('frees a key whose job could not be started (only while it still names that job), so a retry with the same key creates the job', async () => {
    sfn.on(StartExecutionCommand).rejectsOnce(new Error('Step Functions is unavailable'));

    const failed = await submit({ idempotencyKey: 'order-42' });
    expect(failed.statusCode).toBe(503);
    const failedJob = createTransactions()[0]?.TransactItems?.[0]?.Put?.Item?.jobId;
    expect(documents).toHaveReceivedCommandExactlyOnceWith(DeleteCommand, {
      TableName: TENANTS_TABLE,
      Key: { tenantId: TENANT, sk: 'REQUEST#order-42' },
      ConditionExpression: 'jobId = :jobId',
      ExpressionAttributeValues: { ':jobId': failedJob },
    });
    expect(requests.size).toBe(0);

    const retried = await submit({ idempotencyKey: 'order-42' });
    expect(retried.statusCode).toBe(202);
    const retriedJob = createTransactions()[1]?.TransactItems?.[0]?.Put?.Item?.jobId;
    expect(bodyOf<JobView>(retried).jobId).toBe(retriedJob);
    expect(retriedJob).not.toBe(failedJob);
  });

  it('answers the job the key made and starts it if still QUEUED (the first request stopped between its write and its start)', async () => {
    const first = bodyOf<JobView>(await submit({ idempotencyKey: 'order-42' }));
    // As if that request had stopped before StartExecution: no execution has the job's name yet.
    started.clear();
    sfn.resetHistory();

    const retried = await submit({ idempotencyKey: 'order-42' });

    expect(retried.statusCode).toBe(202);
    expect(bodyOf<JobView>(retried)).toMatchObject({ jobId: first.jobId, status: 'QUEUED' });
    expect(sfn).toHaveReceivedCommandExactlyOnceWith(StartExecutionCommand, { name: first.jobId });
  });

  it('does not read or bind a key without the header', async () => {
    await submit();
    expect(transactions()[0]?.TransactItems).toHaveLength(3);
    expect(documents).not.toHaveReceivedCommandWith(GetCommand, { Key: { tenantId: TENANT, sk: 'REQUEST#order-42' } });
  });

  it('answers 400 for an Idempotency-Key over 255 characters, before any read or write', async () => {
    const result = await submit({ idempotencyKey: 'k'.repeat(256) });
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
    expect(documents).not.toHaveReceivedAnyCommand();
  });
});

describe('executionArnOf', () => {
  it('derives the execution ARN from the state machine ARN and the job id', () => {
    expect(executionArnOf(STATE_MACHINE_ARN, '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C')).toBe(
      'arn:aws:states:us-east-1:123456789012:execution:Training:01JH5Z3V8Q6K9W2X4Y7Z0A1B2C',
    );
  });
});
