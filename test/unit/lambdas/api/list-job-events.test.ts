import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobEventStore, sequenceKey } from '#commons/jobs/job-events.js';
import { handler } from '../../../../lambdas/api/list-job-events.js';
import { apiEvent, bodyOf, lambdaContext } from '../../helpers/events.js';
import { JOB_ID, JOBS_TABLE, jobRecord, OTHER_TENANT, TENANT } from '../../helpers/records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const context = lambdaContext('list-job-events');
const EVENTS_TABLE = 'job-events-table';
const JOB_KEY = `${TENANT}#${JOB_ID}`;

const created = { type: 'CREATED', at: '2026-11-30T10:00:00.000Z', from: null, to: 'QUEUED', attempt: 0, error: null, progress: 0 };
const started = { type: 'STATUS_CHANGED', at: '2026-11-30T10:00:01.000Z', from: 'QUEUED', to: 'RUNNING', attempt: 1, error: null, progress: 0 };
const stored = (event: object, seq: string) => ({ jobKey: JOB_KEY, seq: sequenceKey(seq), expiresAt: 1_800_000_000, ...event });
const tokenOf = (key: object) => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

const request = (query: Record<string, string> | null = null, tenantId = TENANT) =>
  handler(
    apiEvent({
      method: 'GET',
      path: `/jobs/${JOB_ID}/events`,
      resource: '/jobs/{jobId}/events',
      pathParameters: { jobId: JOB_ID },
      queryStringParameters: query,
      tenantId,
    }),
    context,
  );

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand).resolves({});
  ddb.on(GetCommand, { TableName: JOBS_TABLE, Key: { tenantId: TENANT, jobId: JOB_ID } }).resolves({ Item: jobRecord() });
});

describe('GET /jobs/{jobId}/events', () => {
  it("answers the job's events oldest first, without storage keys, and a token for the next page", async () => {
    const last = { jobKey: JOB_KEY, seq: sequenceKey('200') };
    ddb.on(QueryCommand).resolves({ Items: [stored(created, '100'), stored(started, '200')], LastEvaluatedKey: last });
    const result = await request({ limit: '2' });
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ items: [created, started], nextToken: tokenOf(last) });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: EVENTS_TABLE,
      KeyConditionExpression: 'jobKey = :jobKey',
      ExpressionAttributeValues: { ':jobKey': JOB_KEY },
      ScanIndexForward: true,
      Limit: 2,
      ExclusiveStartKey: undefined,
    });
  });

  it('continues from a token it gave', async () => {
    const last = { jobKey: JOB_KEY, seq: sequenceKey('200') };
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(bodyOf(await request({ nextToken: tokenOf(last) }))).toEqual({ items: [], nextToken: null });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { ExclusiveStartKey: last, Limit: 20 });
  });

  it("answers 404 for another tenant's job, as for one that does not exist, without reading any event", async () => {
    const result = await request(null, OTHER_TENANT);
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual({ error: { code: 'NOT_FOUND', message: 'job not found' } });
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ["another job's token", tokenOf({ jobKey: `${TENANT}#01JH5Z3V8Q6K9W2X4Y7Z0A1B2D`, seq: sequenceKey('1') })],
    ['a token with other keys', tokenOf({ tenantId: TENANT, jobId: JOB_ID })],
  ])('answers 400 for a bad cursor: %s', async (_, nextToken) => {
    const result = await request({ nextToken });
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ path: 'nextToken', message: 'invalid token' }] } });
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('answers 400 for a bad limit', async () => {
    expect((await request({ limit: '0' })).statusCode).toBe(400);
  });
});

describe('JobEventStore.record', () => {
  it('writes the event once, keyed by the zero-padded sequence number; the same record again is a no-op', async () => {
    ddb
      .on(PutCommand)
      .resolvesOnce({})
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    const events = new JobEventStore(EVENTS_TABLE);
    expect(await events.record(TENANT, JOB_ID, '4200', created as never, 1_800_000_000)).toBe(true);
    expect(await events.record(TENANT, JOB_ID, '4200', created as never, 1_800_000_000)).toBe(false);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: EVENTS_TABLE,
      Item: stored(created, '4200'),
      ConditionExpression: 'attribute_not_exists(seq)',
    });
    expect(sequenceKey('4200')).toBe(`${'0'.repeat(36)}4200`);
  });
});
