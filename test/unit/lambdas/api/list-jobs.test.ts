import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../../lambdas/api/list-jobs.js';
import { apiEvent, bodyOf, lambdaContext } from '../../helpers/events.js';
import { JOB_ID, JOBS_TABLE, jobRecord, OTHER_JOB_ID, OTHER_TENANT, pageToken, TENANT } from '../../helpers/records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const context = lambdaContext('list-jobs');

beforeEach(() => ddb.reset());

const queryInput = () => ddb.commandCalls(QueryCommand).at(-1)?.args[0].input;

describe('GET /jobs', () => {
  it("queries the caller's partition newest first with the default limit 20 and answers the views and no token", async () => {
    const newer = jobRecord({ jobId: OTHER_JOB_ID, status: 'QUEUED', startedAt: null, progress: 0, attempts: 0 });
    ddb.on(QueryCommand).resolves({ Items: [newer, jobRecord()] });

    const result = await handler(apiEvent({ method: 'GET', path: '/jobs' }), context);

    expect(result.statusCode).toBe(200);
    const body = bodyOf<{ items: { jobId: string; status: string }[]; nextToken: string | null }>(result);
    expect(body.items.map((job) => [job.jobId, job.status])).toEqual([
      [OTHER_JOB_ID, 'QUEUED'],
      [JOB_ID, 'RUNNING'],
    ]);
    expect(body.items[0]).not.toHaveProperty('tenantId');
    expect(body.items[0]).not.toHaveProperty('source');
    expect(body.nextToken).toBeNull();
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(QueryCommand, {
      TableName: JOBS_TABLE,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'tenantId' },
      ExpressionAttributeValues: { ':pk': TENANT },
      ScanIndexForward: false,
      Limit: 20,
      ExclusiveStartKey: undefined,
    });
  });

  it('passes the limit and filters by status through the byStatus index on tenant#status', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    const result = await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { status: 'RUNNING', limit: '5' } }), context);

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ items: [], nextToken: null });
    expect(queryInput()).toEqual({
      TableName: JOBS_TABLE,
      IndexName: 'byStatus',
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'tenantStatus' },
      ExpressionAttributeValues: { ':pk': 'acme#RUNNING' },
      ScanIndexForward: false,
      Limit: 5,
      ExclusiveStartKey: undefined,
    });
  });

  it('round-trips nextToken: the last key of a page is the start of the next', async () => {
    const lastKey = { tenantId: TENANT, jobId: JOB_ID };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [jobRecord()], LastEvaluatedKey: lastKey })
      .resolvesOnce({ Items: [jobRecord({ jobId: OTHER_JOB_ID })] });

    const first = bodyOf<{ nextToken: string }>(await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { limit: '1' } }), context));
    expect(first.nextToken).toBe(pageToken(lastKey));

    const second = await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { limit: '1', nextToken: first.nextToken } }), context);
    expect(second.statusCode).toBe(200);
    expect(bodyOf(second)).toMatchObject({ items: [{ jobId: OTHER_JOB_ID }], nextToken: null });
    expect(queryInput()?.ExclusiveStartKey).toEqual(lastKey);
  });

  it('round-trips a status page token, which carries the index key too', async () => {
    const lastKey = { tenantId: TENANT, jobId: JOB_ID, tenantStatus: 'acme#FAILED' };
    ddb.on(QueryCommand).resolvesOnce({ Items: [], LastEvaluatedKey: lastKey }).resolvesOnce({ Items: [] });

    const first = bodyOf<{ nextToken: string }>(
      await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { status: 'FAILED' } }), context),
    );
    const second = await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { status: 'FAILED', nextToken: first.nextToken } }), context);

    expect(second.statusCode).toBe(200);
    expect(queryInput()?.ExclusiveStartKey).toEqual(lastKey);
  });

  it.each([
    ['garbage', 'not a token at all'],
    ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['a key with an extra attribute', pageToken({ tenantId: TENANT, jobId: JOB_ID, status: 'RUNNING' })],
    ['a key without the sort key', pageToken({ tenantId: TENANT })],
    ['a key with a malformed job id', pageToken({ tenantId: TENANT, jobId: 'zzz' })],
    ["another tenant's key", pageToken({ tenantId: OTHER_TENANT, jobId: JOB_ID })],
  ])('answers 400 for %s and never queries', async (_, nextToken) => {
    const result = await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { nextToken } }), context);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({
      error: { code: 'VALIDATION_ERROR', message: 'nextToken is not a token this API gave you', details: [{ path: 'nextToken', message: 'invalid token' }] },
    });
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it("refuses a token of another tenant's status page, and a status token used without the status", async () => {
    const foreign = pageToken({ tenantId: OTHER_TENANT, jobId: JOB_ID, tenantStatus: 'globex#RUNNING' });
    const forged = pageToken({ tenantId: TENANT, jobId: JOB_ID, tenantStatus: 'globex#RUNNING' });
    const otherStatus = pageToken({ tenantId: TENANT, jobId: JOB_ID, tenantStatus: 'acme#FAILED' });
    for (const nextToken of [foreign, forged, otherStatus]) {
      const result = await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { status: 'RUNNING', nextToken } }), context);
      expect(result.statusCode).toBe(400);
    }
    const withoutStatus = await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { nextToken: otherStatus } }), context);
    expect(withoutStatus.statusCode).toBe(400);
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it.each(['0', '101', 'abc', '1.5'])('answers 400 VALIDATION_ERROR for limit=%s', async (limit) => {
    const result = await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { limit } }), context);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({
      error: { code: 'VALIDATION_ERROR', message: 'the request is invalid', details: [{ path: 'limit', message: 'must be an integer from 1 to 100' }] },
    });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('answers 400 for an unknown status', async () => {
    const result = await handler(apiEvent({ method: 'GET', path: '/jobs', queryStringParameters: { status: 'DONE' } }), context);
    expect(result.statusCode).toBe(400);
    expect(bodyOf<{ error: { details: { path: string }[] } }>(result).error.details.map((detail) => detail.path)).toEqual(['status']);
  });

  it("only ever queries the caller's own partition", async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await handler(apiEvent({ method: 'GET', path: '/jobs', tenantId: OTHER_TENANT }), context);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { ExpressionAttributeValues: { ':pk': OTHER_TENANT } });
  });
});
