import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { context, EXPIRES_AT, stubRealtimeEnv, wsEvent } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
let handler: typeof import('../../../lambdas/realtime/connect.js')['handler'];

beforeAll(async () => {
  stubRealtimeEnv();
  ({ handler } = await import('../../../lambdas/realtime/connect.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => ddb.reset());

describe('$connect', () => {
  it('registers the connection under the tenant the authorizer found, expiring with the connection', async () => {
    ddb.on(PutCommand).resolves({});

    const result = await handler(wsEvent({ routeKey: '$connect', connectionId: 'conn-A=', tenantId: 'acme' }), context);

    expect(result.statusCode).toBe(200);
    const puts = ddb.commandCalls(PutCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args[0].input).toEqual({
      TableName: 'connections-test',
      Item: { pk: 'CONN#conn-A=', sk: 'META', tenantId: 'acme', expiresAt: EXPIRES_AT },
    });
  });

  it('refuses a connection without an authorizer context and writes nothing', async () => {
    const result = await handler(wsEvent({ routeKey: '$connect', tenantId: null }), context);

    expect(result.statusCode).toBe(401);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses the connection (the invocation fails) when it cannot be registered', async () => {
    ddb.on(PutCommand).rejects(new Error('throttled'));

    await expect(handler(wsEvent({ routeKey: '$connect' }), context)).rejects.toThrow('throttled');
  });
});
