import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler, READINESS_CACHE_MS } from '../../../../lambdas/api/health.js';

const ddb = mockClient(DynamoDBDocumentClient);

beforeEach(() => ddb.reset());

describe('GET /health', () => {
  it('answers 200 {status:"ok", version} from APP_VERSION, as JSON with CORS', async () => {
    const result = await handler();
    expect(result).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Location, Retry-After' },
      body: JSON.stringify({ status: 'ok', version: '1.2.3-test' }),
    });
  });

  it('touches no table, so it answers while DynamoDB is down', async () => {
    ddb.rejects(new Error('DynamoDB is down'));
    expect((await handler()).statusCode).toBe(200);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });
});

describe('GET /health?deep=true (readiness)', () => {
  const dynamodb = mockClient(DynamoDBClient);
  const s3 = mockClient(S3Client);
  const sfn = mockClient(SFNClient);
  const deep = { queryStringParameters: { deep: 'true' } };

  // Only Date is faked (timeouts stay real): each test starts a minute after the last, past any cached answer.
  let clock = Date.UTC(2030, 0, 1);
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    clock += 60_000;
    vi.setSystemTime(clock);
    for (const client of [dynamodb, s3, sfn]) client.reset();
    dynamodb.on(DescribeTableCommand).resolves({ Table: { TableName: 'jobs-table' } });
    s3.on(HeadBucketCommand).resolves({});
    sfn.on(DescribeStateMachineCommand).resolves({});
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const calls = () => [dynamodb, s3, sfn].map((client) => client.calls().length);

  it(`makes one set of calls per ${READINESS_CACHE_MS / 1000} s however many requests come, the next set after the window`, async () => {
    const first = await Promise.all([handler(deep), handler(deep), handler(deep)]);
    expect(first.map((result) => result.statusCode)).toEqual([200, 200, 200]);
    vi.setSystemTime(clock + READINESS_CACHE_MS - 1);
    expect((await handler(deep)).statusCode).toBe(200);
    expect(calls()).toEqual([1, 1, 1]);

    vi.setSystemTime(clock + READINESS_CACHE_MS);
    expect((await handler(deep)).statusCode).toBe(200);
    expect((await handler(deep)).statusCode).toBe(200);
    expect(calls()).toEqual([2, 2, 2]);
  });

  it('keeps a failure for the window too, then checks again', async () => {
    s3.on(HeadBucketCommand).rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    expect((await handler(deep)).statusCode).toBe(503);
    vi.setSystemTime(clock + 1_000);
    expect((await handler(deep)).statusCode).toBe(503);
    expect(calls()).toEqual([1, 1, 1]);

    vi.setSystemTime(clock + READINESS_CACHE_MS + 1_000);
    expect((await handler(deep)).statusCode).toBe(200);
    expect(calls()).toEqual([2, 2, 2]);
  });

  it('leaves liveness uncached and free of calls', async () => {
    await handler(deep);
    expect(JSON.parse((await handler()).body)).toEqual({ status: 'ok', version: '1.2.3-test' });
    expect(calls()).toEqual([1, 1, 1]);
  });

  it('answers 200 "ready" after one metadata call to each dependency', async () => {
    const result = await handler(deep);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ status: 'ready', version: '1.2.3-test', checks: { dynamodb: 'ok', s3: 'ok', stepfunctions: 'ok' } });
    expect(dynamodb).toHaveReceivedCommandWith(DescribeTableCommand, { TableName: 'jobs-table' });
    expect(s3).toHaveReceivedCommandWith(HeadBucketCommand, { Bucket: 'datasets-bucket' });
    expect(sfn).toHaveReceivedCommandWith(DescribeStateMachineCommand, { stateMachineArn: process.env.STATE_MACHINE_ARN });
  });

  it('answers 503 SERVICE_UNAVAILABLE naming the dependency that failed', async () => {
    s3.on(HeadBucketCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const result = await handler(deep);
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toEqual({
      error: {
        code: 'SERVICE_UNAVAILABLE',
        message: 'not ready: s3 did not answer',
        details: [{ path: 's3', message: 'failed: AccessDenied' }],
      },
    });
  });

  it('fails a dependency that does not answer within a second', async () => {
    sfn.on(DescribeStateMachineCommand).callsFake(() => new Promise((resolve) => setTimeout(resolve, 1_500)));
    const result = await handler(deep);
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body).error.details).toEqual([{ path: 'stepfunctions', message: 'failed: no answer within 1000 ms' }]);
  });

  it('stays shallow without deep=true', async () => {
    expect((await handler({ queryStringParameters: { deep: 'no' } })).statusCode).toBe(200);
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });
});
