import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler, markFailed } from '../../../../lambdas/train/mark-failed.js';
import { transactionCanceled } from '../../helpers/aws-errors.js';
import { lambdaContext } from '../../helpers/events.js';
import { JOB_ID, JOBS_TABLE, jobRecord, MODEL_ID, MODELS_TABLE, releaseSlot, TENANT } from '../../helpers/records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const NOW = '2026-01-01T12:15:00.000Z';

beforeEach(() => {
  ddb.reset();
  vi.useFakeTimers({ toFake: ['Date'], now: new Date(NOW) });
});
afterEach(() => vi.useRealTimers());

// biome-ignore lint/suspicious/noShadowRestrictedNames: named as the field Step Functions sets (failure.Error).
const input = (Error: string, Cause = '{"errorMessage":"internal details"}') => ({ tenantId: TENANT, jobId: JOB_ID, failure: { Error, Cause } });

function failTransaction(error: { code: string; message: string }) {
  return {
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
            ':error': error,
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
  };
}

describe('mark-failed (the workflow’s Catch)', () => {
  it('marks a timed-out job FAILED with TRAINING_TIMEOUT and its model FAILED, in one transaction', async () => {
    ddb.on(GetCommand).resolves({ Item: jobRecord({ attempts: 1 }) });
    ddb.on(TransactWriteCommand).resolves({});

    expect(await markFailed(input('States.Timeout', ''))).toEqual({ jobId: JOB_ID, marked: true });

    expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: JOBS_TABLE, Key: { tenantId: TENANT, jobId: JOB_ID } });
    expect(ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input)).toEqual([
      failTransaction({ code: 'TRAINING_TIMEOUT', message: 'training took longer than allowed' }),
    ]);
  });

  it.each(['TransientError', 'Lambda.ServiceException', 'States.TaskFailed'])(
    'marks any other failure (%s) TRAINING_ERROR with the attempt count and the error name, never its cause',
    async (name) => {
      ddb.on(GetCommand).resolves({ Item: jobRecord({ attempts: 3 }) });
      ddb.on(TransactWriteCommand).resolves({});

      expect(await markFailed(input(name))).toEqual({ jobId: JOB_ID, marked: true });

      const written = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input;
      expect(written).toEqual(failTransaction({ code: 'TRAINING_ERROR', message: `training failed after 3 attempt(s) (${name})` }));
      expect(JSON.stringify(written)).not.toContain('internal details');
    },
  );

  it('leaves an already finished job alone: the conditional write fails and it answers marked false', async () => {
    ddb.on(GetCommand).resolves({ Item: jobRecord({ status: 'CANCELLED', finishedAt: '2026-01-01T12:10:00.000Z' }) });
    ddb.on(TransactWriteCommand).rejects(transactionCanceled('ConditionalCheckFailed', 'ConditionalCheckFailed'));

    expect(await markFailed(input('States.Timeout'))).toEqual({ jobId: JOB_ID, marked: false });
  });

  it('answers marked false for a job that no longer exists, writing nothing', async () => {
    ddb.on(GetCommand).resolves({});
    expect(await markFailed(input('States.Timeout'))).toEqual({ jobId: JOB_ID, marked: false });
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('refuses malformed input before touching the table', async () => {
    await expect(markFailed({ tenantId: TENANT, jobId: 'nope', failure: { Error: 'x' } })).rejects.toMatchObject({ name: '$ZodError' });
    await expect(markFailed({ tenantId: TENANT, jobId: JOB_ID })).rejects.toMatchObject({ name: '$ZodError' });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('works through the middy handler with a Lambda context', async () => {
    ddb.on(GetCommand).resolves({ Item: jobRecord() });
    ddb.on(TransactWriteCommand).resolves({});
    expect(await handler(input('States.Timeout'), lambdaContext('mark-failed'))).toEqual({ jobId: JOB_ID, marked: true });
  });
});

describe('mark-failed (EventBridge: an execution that ended without the Catch)', () => {
  /** The event EventBridge delivers for a state machine execution's status change. */
  const executionEnded = (status: string) => ({
    version: '0',
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: {
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:Training:${JOB_ID}`,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Training',
      name: JOB_ID,
      status,
      input: JSON.stringify({ tenantId: TENANT, jobId: JOB_ID }),
    },
  });

  it('marks the job of a TIMED_OUT execution FAILED with TRAINING_TIMEOUT', async () => {
    ddb.on(GetCommand).resolves({ Item: jobRecord({ attempts: 2 }) });
    ddb.on(TransactWriteCommand).resolves({});

    expect(await markFailed(executionEnded('TIMED_OUT'))).toEqual({ jobId: JOB_ID, marked: true });

    expect(ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input)).toEqual([
      failTransaction({ code: 'TRAINING_TIMEOUT', message: 'training took longer than allowed' }),
    ]);
  });

  it('marks the job of an ABORTED execution FAILED with TRAINING_ERROR naming it', async () => {
    ddb.on(GetCommand).resolves({ Item: jobRecord({ attempts: 1 }) });
    ddb.on(TransactWriteCommand).resolves({});

    await markFailed(executionEnded('ABORTED'));

    expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input).toEqual(
      failTransaction({ code: 'TRAINING_ERROR', message: 'training failed after 1 attempt(s) (ExecutionABORTED)' }),
    );
  });

  it('leaves a job the client cancelled (the execution was ABORTED by cancel) as it is', async () => {
    ddb.on(GetCommand).resolves({ Item: jobRecord({ status: 'CANCELLED', finishedAt: '2026-01-01T12:10:00.000Z' }) });
    ddb.on(TransactWriteCommand).rejects(transactionCanceled('ConditionalCheckFailed', 'ConditionalCheckFailed'));

    expect(await markFailed(executionEnded('ABORTED'))).toEqual({ jobId: JOB_ID, marked: false });
  });

  it('refuses a SUCCEEDED status or an input that is not a job', async () => {
    await expect(markFailed(executionEnded('SUCCEEDED'))).rejects.toMatchObject({ name: '$ZodError' });
    await expect(markFailed({ ...executionEnded('FAILED'), detail: { ...executionEnded('FAILED').detail, input: '{"jobId":"nope"}' } })).rejects.toMatchObject({
      name: '$ZodError',
    });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });
});
