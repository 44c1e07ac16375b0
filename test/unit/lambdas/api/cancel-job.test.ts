import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobStatus } from '#domain/jobs.js';
import { handler } from '../../../../lambdas/api/cancel-job.js';
import { executionDoesNotExist, transactionCanceled } from '../../helpers/aws-errors.js';
import { apiEvent, bodyOf, lambdaContext } from '../../helpers/events.js';
import { EXECUTION_ARN, JOB_ID, JOBS_TABLE, jobRecord, MODEL_ID, MODELS_TABLE, OTHER_TENANT, TENANT, TENANTS_TABLE } from '../../helpers/records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const context = lambdaContext('cancel-job');
const NOW = '2026-01-01T12:00:05.000Z';
const NOW_MS = Date.parse(NOW);

beforeEach(() => {
  ddb.reset();
  sfn.reset();
  vi.useFakeTimers({ toFake: ['Date'], now: new Date(NOW) });
});
afterEach(() => vi.useRealTimers());

const cancel = (jobId = JOB_ID, tenantId = TENANT) =>
  handler(apiEvent({ method: 'POST', path: `/jobs/${jobId}/cancel`, resource: '/jobs/{jobId}/cancel', pathParameters: { jobId }, tenantId }), context);

function storedJob(status: JobStatus) {
  const job = jobRecord({ status, ...(status === 'QUEUED' ? { startedAt: null, progress: 0, attempts: 0 } : {}) });
  // The first read, then the read-back after the cancel (which moved the version on).
  ddb
    .on(GetCommand)
    .resolvesOnce({ Item: job })
    .resolves({ Item: { ...job, status: 'CANCELLED', finishedAt: NOW, version: job.version + 1 } });
}

/** The transaction that ends a job as CANCELLED and fails its TRAINING model, both conditionally. */
const CANCEL_TRANSACTION = {
  TransactItems: [
    {
      Update: {
        TableName: JOBS_TABLE,
        Key: { tenantId: TENANT, jobId: JOB_ID },
        UpdateExpression: 'SET #status = :to, tenantStatus = :tenantStatus, #finishedAt = :finishedAt ADD version :one',
        ConditionExpression: '#status IN (:from0, :from1)',
        ExpressionAttributeNames: { '#status': 'status', '#finishedAt': 'finishedAt' },
        ExpressionAttributeValues: {
          ':to': 'CANCELLED',
          ':tenantStatus': 'acme#CANCELLED',
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
    {
      Update: {
        TableName: TENANTS_TABLE,
        Key: { tenantId: TENANT, sk: 'ACTIVE_JOBS' },
        UpdateExpression: 'SET changedAt = :now ADD activeJobs :minusOne, revision :one',
        ExpressionAttributeValues: { ':minusOne': -1, ':one': 1, ':now': NOW_MS },
      },
    },
  ],
};

describe('POST /jobs/{jobId}/cancel', () => {
  it.each(['QUEUED', 'RUNNING'] as const)(
    'cancels a %s job: one conditional transaction, then StopExecution of the stored execution, 202 with the job',
    async (status) => {
      storedJob(status);
      ddb.on(TransactWriteCommand).resolves({});
      sfn.on(StopExecutionCommand).resolves({ stopDate: new Date(NOW) });

      const result = await cancel();

      expect(result.statusCode).toBe(202);
      expect(bodyOf(result)).toMatchObject({ jobId: JOB_ID, status: 'CANCELLED', finishedAt: NOW, error: null, version: 4 });
      expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: JOBS_TABLE, Key: { tenantId: TENANT, jobId: JOB_ID } });
      expect(ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input)).toEqual([CANCEL_TRANSACTION]);
      expect(sfn).toHaveReceivedCommandExactlyOnceWith(StopExecutionCommand, { executionArn: EXECUTION_ARN, cause: 'cancelled by the client' });
    },
  );

  it('writes before it stops the execution, so the answer is final whatever StopExecution does', async () => {
    storedJob('RUNNING');
    const order: string[] = [];
    ddb.on(TransactWriteCommand).callsFake(() => order.push('transaction'));
    sfn.on(StopExecutionCommand).callsFake(() => order.push('stop'));
    await cancel();
    expect(order).toEqual(['transaction', 'stop']);
  });

  it.each(['COMPLETED', 'FAILED', 'CANCELLED'] as const)('answers 409 JOB_NOT_CANCELLABLE for a %s job and writes nothing', async (status) => {
    storedJob(status);

    const result = await cancel();

    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toEqual({ error: { code: 'JOB_NOT_CANCELLABLE', message: `the job is ${status}; only QUEUED or RUNNING jobs can be cancelled` } });
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('answers 409 when the job ended between the read and the write (conditional failure), and stops nothing', async () => {
    storedJob('RUNNING');
    ddb.on(TransactWriteCommand).rejects(transactionCanceled('ConditionalCheckFailed', 'None'));

    const result = await cancel();

    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toEqual({ error: { code: 'JOB_NOT_CANCELLABLE', message: 'the job is RUNNING; only QUEUED or RUNNING jobs can be cancelled' } });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('still answers 202 CANCELLED when StopExecution fails', async () => {
    storedJob('RUNNING');
    ddb.on(TransactWriteCommand).resolves({});
    sfn.on(StopExecutionCommand).rejects(new Error('Step Functions is unavailable'));

    const result = await cancel();

    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toMatchObject({ status: 'CANCELLED' });
  });

  it('answers 202 when the execution does not exist (never started or already over)', async () => {
    storedJob('QUEUED');
    ddb.on(TransactWriteCommand).resolves({});
    sfn.on(StopExecutionCommand).rejects(executionDoesNotExist());

    expect((await cancel()).statusCode).toBe(202);
  });

  it("answers 404 for an unknown job or another tenant's, reading under the caller's key", async () => {
    ddb.on(GetCommand).resolves({});

    const result = await cancel(JOB_ID, OTHER_TENANT);

    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual({ error: { code: 'NOT_FOUND', message: 'job not found' } });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { tenantId: OTHER_TENANT, jobId: JOB_ID } });
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('answers 404 for a malformed id without reading', async () => {
    const result = await cancel('nope');
    expect(result.statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('answers 503 SERVICE_UNAVAILABLE (not 409, not 500) when the transaction is throttled', async () => {
    storedJob('RUNNING');
    ddb.on(TransactWriteCommand).rejects(transactionCanceled('None', 'ThrottlingError'));
    const result = await cancel();
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBe('2');
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('answers 500 when the transaction fails for a reason no retry mends', async () => {
    storedJob('RUNNING');
    ddb.on(TransactWriteCommand).rejects(transactionCanceled('None', 'ValidationError'));
    expect((await cancel()).statusCode).toBe(500);
  });
});
