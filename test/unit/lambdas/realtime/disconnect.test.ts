import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { context, JOB_ID, stubRealtimeEnv, wsEvent } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
let handler: typeof import('../../../../lambdas/realtime/disconnect.js')['handler'];

beforeAll(async () => {
  stubRealtimeEnv();
  ({ handler } = await import('../../../../lambdas/realtime/disconnect.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  ddb.on(DeleteCommand).resolves({});
  ddb.on(BatchWriteCommand).resolves({});
});

const subscriptionItem = (target: string) => ({ pk: 'CONN#conn-A=', sk: `SUB#${target}`, tenantId: 'acme', target, expiresAt: 1 });

describe('$disconnect', () => {
  it('removes the connection first, then every subscription it made (both items of each)', async () => {
    ddb.on(QueryCommand).resolves({ Items: [subscriptionItem(JOB_ID), subscriptionItem('*')] });

    const result = await handler(wsEvent({ routeKey: '$disconnect' }), context);

    expect(result.statusCode).toBe(200);
    const [first] = ddb.calls();
    expect(first?.args[0]).toBeInstanceOf(DeleteCommand);
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({ TableName: 'connections-test', Key: { pk: 'CONN#conn-A=', sk: 'META' } });
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({ ExpressionAttributeValues: { ':pk': 'CONN#conn-A=' }, ConsistentRead: true });
    const deleted = ddb.commandCalls(BatchWriteCommand).flatMap((call) => call.args[0].input.RequestItems?.['connections-test'] ?? []);
    expect(deleted.map((request) => request.DeleteRequest?.Key)).toEqual([
      { pk: `SUB#acme#${JOB_ID}`, sk: 'conn-A=' },
      { pk: 'CONN#conn-A=', sk: `SUB#${JOB_ID}` },
      { pk: 'SUB#acme#*', sk: 'conn-A=' },
      { pk: 'CONN#conn-A=', sk: 'SUB#*' },
    ]);
  });

  it('pages through many subscriptions, deletes in batches of 25 and retries unprocessed deletes', async () => {
    const targets = Array.from({ length: 30 }, (_, index) => `${JOB_ID.slice(0, -2)}${String(index).padStart(2, '0')}`);
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: targets.slice(0, 20).map(subscriptionItem), LastEvaluatedKey: { pk: 'CONN#conn-A=', sk: 'x' } })
      .resolvesOnce({ Items: targets.slice(20).map(subscriptionItem) });
    const unprocessed = { DeleteRequest: { Key: { pk: 'CONN#conn-A=', sk: `SUB#${targets[0]}` } } };
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { 'connections-test': [unprocessed] } })
      .resolves({});

    await handler(wsEvent({ routeKey: '$disconnect' }), context);

    const batches = ddb.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems?.['connections-test'] ?? []);
    expect(batches.map((batch) => batch.length)).toEqual([25, 1, 25, 10]);
    expect(batches[1]).toEqual([unprocessed]);
  });

  it('fails (for API Gateway to log) when the cleanup fails; the TTL still removes the items', async () => {
    ddb.on(QueryCommand).rejects(new Error('unavailable'));

    await expect(handler(wsEvent({ routeKey: '$disconnect' }), context)).rejects.toThrow('unavailable');
  });

  it('ignores an item that is not a subscription', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'CONN#conn-A=', sk: 'SOMETHING-ELSE' }] });

    await handler(wsEvent({ routeKey: '$disconnect' }), context);

    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });
});
