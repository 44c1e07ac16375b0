import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand, DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { stubRealtimeEnv } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const gateway = mockClient(ApiGatewayManagementApiClient);
let sweepConnections: typeof import('../../../../lambdas/realtime/sweep-connections.js')['sweepConnections'];

beforeAll(async () => {
  stubRealtimeEnv();
  ({ sweepConnections } = await import('../../../../lambdas/realtime/sweep-connections.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  gateway.reset();
});

const NOW = new Date('2026-01-01T13:00:00.000Z');

describe('the connections sweeper', () => {
  it('closes every connection whose key has expired, found by its META item', async () => {
    ddb.on(ScanCommand).resolves({ Items: [{ pk: 'CONN#conn-A=' }, { pk: 'CONN#conn-B=' }] });
    gateway.on(DeleteConnectionCommand).resolves({});

    expect(await sweepConnections(NOW)).toEqual({ closed: 2, gone: 0 });

    expect(ddb.commandCalls(ScanCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'connections-test',
      FilterExpression: 'sk = :meta AND keyExpiresAt <= :now',
      ExpressionAttributeValues: { ':meta': 'META', ':now': NOW.getTime() / 1000 },
    });
    expect(gateway.commandCalls(DeleteConnectionCommand).map((call) => call.args[0].input)).toEqual([{ ConnectionId: 'conn-A=' }, { ConnectionId: 'conn-B=' }]);
  });

  it('removes the items of a connection that is already gone (410), as its $disconnect would have', async () => {
    ddb.on(ScanCommand).resolves({ Items: [{ pk: 'CONN#conn-A=' }] });
    ddb.on(DeleteCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    gateway.on(DeleteConnectionCommand).rejects(new GoneException({ message: 'Gone', $metadata: {} }));

    expect(await sweepConnections(NOW)).toEqual({ closed: 0, gone: 1 });
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({ TableName: 'connections-test', Key: { pk: 'CONN#conn-A=', sk: 'META' } });
  });

  it('fails the sweep, naming the connection, when the gateway cannot be reached', async () => {
    ddb.on(ScanCommand).resolves({ Items: [{ pk: 'CONN#conn-A=' }] });
    const outage = new Error('socket hang up');
    gateway.on(DeleteConnectionCommand).rejects(outage);
    await expect(sweepConnections(NOW)).rejects.toMatchObject({ message: 'could not close connection conn-A=', cause: outage });
  });
});
