import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/api/health.js';

const ddb = mockClient(DynamoDBDocumentClient);

beforeEach(() => ddb.reset());

describe('GET /health', () => {
  it('answers 200 {status:"ok", version} from APP_VERSION, as JSON with CORS', async () => {
    const result = await handler();
    expect(result).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' },
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

  beforeEach(() => {
    for (const client of [dynamodb, s3, sfn]) client.reset();
    dynamodb.on(DescribeTableCommand).resolves({ Table: { TableName: 'jobs-table' } });
    s3.on(HeadBucketCommand).resolves({});
    sfn.on(DescribeStateMachineCommand).resolves({});
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
