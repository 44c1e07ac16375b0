import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { context, JOB_ID, stubRealtimeEnv, wsEvent } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
let handler: typeof import('../../../../lambdas/realtime/unsubscribe.js')['handler'];

beforeAll(async () => {
  stubRealtimeEnv();
  ({ handler } = await import('../../../../lambdas/realtime/unsubscribe.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  ddb.on(TransactWriteCommand).resolves({});
});

async function send(frame: unknown) {
  const result = await handler(wsEvent({ routeKey: 'unsubscribe', body: JSON.stringify(frame) }), context);
  return JSON.parse(result.body ?? '') as Record<string, unknown>;
}

describe('unsubscribe', () => {
  it('removes both items of a job subscription and acknowledges', async () => {
    expect(await send({ action: 'unsubscribe', jobId: JOB_ID })).toEqual({ type: 'unsubscribed', jobId: JOB_ID });
    expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input).toEqual({
      TransactItems: [
        { Delete: { TableName: 'connections-test', Key: { pk: `SUB#acme#${JOB_ID}`, sk: 'conn-A=' } } },
        { Delete: { TableName: 'connections-test', Key: { pk: 'CONN#conn-A=', sk: `SUB#${JOB_ID}` } } },
      ],
    });
  });

  it('without a job id, removes the all-jobs subscription', async () => {
    expect(await send({ action: 'unsubscribe' })).toEqual({ type: 'unsubscribed', jobId: null });
    expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.map((item) => item.Delete?.Key)).toEqual([
      { pk: 'SUB#acme#*', sk: 'conn-A=' },
      { pk: 'CONN#conn-A=', sk: 'SUB#*' },
    ]);
  });

  it('answers NOT_FOUND for a malformed job id and changes nothing', async () => {
    expect(await send({ action: 'unsubscribe', jobId: '../../etc' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(ddb.calls()).toHaveLength(0);
  });
});
