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
