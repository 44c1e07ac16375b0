import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { toJobView } from '#domain/jobs.js';
import { context, EXPIRES_AT, JOB_ID, jobRecord, stubRealtimeEnv, wsEvent } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
let handler: typeof import('../../../../lambdas/realtime/subscribe.js')['handler'];

beforeAll(async () => {
  stubRealtimeEnv();
  ({ handler } = await import('../../../../lambdas/realtime/subscribe.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => ddb.reset());

async function send(frame: unknown, tenantId = 'acme') {
  const result = await handler(wsEvent({ routeKey: 'subscribe', body: JSON.stringify(frame), tenantId }), context);
  expect(result.statusCode).toBe(200);
  return JSON.parse(result.body ?? '') as Record<string, unknown>;
}

const subscriptionWrite = (tenantId: string, target: string) => ({
  TransactItems: [
    { ConditionCheck: { TableName: 'connections-test', Key: { pk: 'CONN#conn-A=', sk: 'META' }, ConditionExpression: 'attribute_exists(pk)' } },
    { Put: { TableName: 'connections-test', Item: { pk: `SUB#${tenantId}#${target}`, sk: 'conn-A=', expiresAt: EXPIRES_AT } } },
    { Put: { TableName: 'connections-test', Item: { pk: 'CONN#conn-A=', sk: `SUB#${target}`, tenantId, target, expiresAt: EXPIRES_AT } } },
  ],
});

describe('subscribe', () => {
  it('answers UNAUTHORIZED and writes nothing once the key that opened the connection has expired', async () => {
    const event = wsEvent({ routeKey: 'subscribe', body: JSON.stringify({ action: 'subscribe' }) });
    const withKey = (expiresAt: string) => ({
      ...event,
      requestContext: { ...event.requestContext, authorizer: { tenantId: 'acme', principalId: 'acme', keyId: 'key_0123456789abcdef', expiresAt } },
    });
    ddb.on(TransactWriteCommand).resolves({});

    const expired = await handler(withKey(new Date(Date.now() - 1_000).toISOString()), context);
    expect(JSON.parse(expired.body ?? '')).toEqual({ type: 'error', code: 'UNAUTHORIZED', message: 'missing or unknown API key' });
    expect(ddb.calls()).toHaveLength(0);

    const valid = await handler(withKey(new Date(Date.now() + 60_000).toISOString()), context);
    expect(JSON.parse(valid.body ?? '')).toEqual({ type: 'subscribed', jobId: null });
  });

  it('subscribes to an own job and answers its current state, read after the subscription is stored', async () => {
    const job = jobRecord({ status: 'COMPLETED', progress: 1, finishedAt: '2026-01-01T12:00:05.000Z' });
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: job });

    const answer = await send({ action: 'subscribe', jobId: JOB_ID });

    expect(answer).toEqual({ type: 'job', job: toJobView(job) });
    expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input).toEqual(subscriptionWrite('acme', JOB_ID));
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'jobs-test',
      Key: { tenantId: 'acme', jobId: JOB_ID },
      ConsistentRead: true,
    });
    const [write, read] = ddb.calls();
    expect(write?.args[0]).toBeInstanceOf(TransactWriteCommand);
    expect(read?.args[0]).toBeInstanceOf(GetCommand);
  });

  it("answers NOT_FOUND for another tenant's job, looking only under the caller's tenant, and keeps no subscription", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand, { Key: { tenantId: 'acme', jobId: JOB_ID } }).resolves({});
    ddb.on(GetCommand, { Key: { tenantId: 'other', jobId: JOB_ID } }).resolves({ Item: jobRecord({ tenantId: 'other' }) });

    const answer = await send({ action: 'subscribe', jobId: JOB_ID }, 'acme');

    expect(answer).toEqual({ type: 'error', code: 'NOT_FOUND', message: 'job not found' });
    const gets = ddb.commandCalls(GetCommand);
    expect(gets.map((call) => call.args[0].input.Key)).toEqual([{ tenantId: 'acme', jobId: JOB_ID }]);
    const [, rollback] = ddb.commandCalls(TransactWriteCommand);
    expect(rollback?.args[0].input).toEqual({
      TransactItems: [
        { Delete: { TableName: 'connections-test', Key: { pk: `SUB#acme#${JOB_ID}`, sk: 'conn-A=' } } },
        { Delete: { TableName: 'connections-test', Key: { pk: 'CONN#conn-A=', sk: `SUB#${JOB_ID}` } } },
      ],
    });
  });

  it('answers NOT_FOUND for an unknown job', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({});

    expect(await send({ action: 'subscribe', jobId: JOB_ID })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  it.each([['not-an-id'], [42], [{ jobId: 'x' }], ['01jh5z3v8q6k9w2x4y7z0a1b2c']])(
    'answers NOT_FOUND for a malformed job id %j without touching the tables',
    async (jobId) => {
      expect(await send({ action: 'subscribe', jobId })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it.each([[{ action: 'subscribe' }], [{ action: 'subscribe', jobId: null }]])(
    'subscribes to all jobs of the tenant for %j and acknowledges',
    async (frame) => {
      ddb.on(TransactWriteCommand).resolves({});

      expect(await send(frame)).toEqual({ type: 'subscribed', jobId: null });
      expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input).toEqual(subscriptionWrite('acme', '*'));
      expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
    },
  );

  it('answers CONNECTION_CLOSED when the connection was already removed', async () => {
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'None' }],
      }),
    );

    expect(await send({ action: 'subscribe', jobId: JOB_ID })).toMatchObject({ type: 'error', code: 'CONNECTION_CLOSED' });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers INTERNAL_ERROR, without details, when a table fails', async () => {
    ddb.on(TransactWriteCommand).rejects(new Error('secret internal detail'));

    const answer = await send({ action: 'subscribe', jobId: JOB_ID });

    expect(answer).toEqual({ type: 'error', code: 'INTERNAL_ERROR', message: 'internal error' });
  });
});
