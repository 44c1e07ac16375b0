import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateApiKey, hashApiKey } from '#commons/auth/api-keys.js';
import { context, EXPIRES_AT, stubRealtimeEnv, wsEvent } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
let handler: typeof import('../../../../lambdas/realtime/connect.js')['handler'];

beforeAll(async () => {
  stubRealtimeEnv();
  ({ handler } = await import('../../../../lambdas/realtime/connect.js'));
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

  it("keeps the key's id and expiry (epoch seconds) with the connection, for revoking and for the sweeper", async () => {
    ddb.on(PutCommand).resolves({});
    const event = wsEvent({ routeKey: '$connect', connectionId: 'conn-A=', tenantId: 'acme' });
    const authorizer = { tenantId: 'acme', principalId: 'acme', keyId: 'key_0123456789abcdef', expiresAt: '2026-01-01T13:00:00.500Z' };

    await handler({ ...event, requestContext: { ...event.requestContext, authorizer } }, context);

    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toEqual({
      pk: 'CONN#conn-A=',
      sk: 'META',
      tenantId: 'acme',
      keyId: 'key_0123456789abcdef',
      keyExpiresAt: Date.UTC(2026, 0, 1, 13, 0, 1) / 1000,
      expiresAt: EXPIRES_AT,
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

  describe('without the authorizer (an API deployed without it)', () => {
    const key = generateApiKey();
    const withToken = (token: string | undefined) => ({
      ...wsEvent({ routeKey: '$connect', connectionId: 'conn-B=', tenantId: null }),
      ...(token === undefined ? {} : { queryStringParameters: { token } }),
    });

    it('checks ?token= itself, as the authorizer would, and registers the connection under its tenant', async () => {
      ddb
        .on(GetCommand, { TableName: 'api-keys-table', Key: { keyHash: hashApiKey(key) } })
        .resolves({ Item: { keyHash: hashApiKey(key), tenantId: 'globex' } });
      ddb.on(PutCommand).resolves({});

      expect((await handler(withToken(key), context)).statusCode).toBe(200);
      expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toEqual({ pk: 'CONN#conn-B=', sk: 'META', tenantId: 'globex', expiresAt: EXPIRES_AT });
    });

    it('refuses an unknown token with 401 after looking it up, and writes nothing', async () => {
      ddb.on(GetCommand).resolves({});
      const unknown = generateApiKey();

      expect((await handler(withToken(unknown), context)).statusCode).toBe(401);
      expect(ddb.commandCalls(GetCommand).map((call) => call.args[0].input)).toEqual([{ TableName: 'api-keys-table', Key: { keyHash: hashApiKey(unknown) } }]);
      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    });
  });
});
