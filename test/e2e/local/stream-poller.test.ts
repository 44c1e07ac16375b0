import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalResolver, type StreamMappingDefinition, streamMappingsOf, type TableDefinition, tablesOf } from '../../../local/cloudformation/template.js';
import { createTables, LOCAL_CREDENTIALS, type LocalDynamoDb, localDynamoDbClient, startDynamoDb } from '../../../local/dynamodb/server.js';
import { FunctionError } from '../../../local/lambda/functions.js';
import { inLanes, StreamPoller } from '../../../local/lambda/stream-poller.js';
import { account, template } from '../../unit/local/fixtures.js';
import { target } from '../client.js';

/**
 * The stream poller against a real DynamoDB Local stream (Java): Lambda's record
 * shape, order, partial batch failures and bounded retries, filters.
 */

const region = account.region;
const resolver = new LocalResolver(template, account);
const jobsTable = tablesOf(resolver).find((table) => table.logicalId === 'JobsTable') as TableDefinition;
const mapping = streamMappingsOf(template)[0] as StreamMappingDefinition;

describe.skipIf(target.name !== 'local')('local stack: DynamoDB stream poller', () => {
  let dynamo: LocalDynamoDb;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  let streams: DynamoDBStreamsClient;
  let poller: StreamPoller | undefined;
  let tableName: string;
  let tables = 0;
  let received: DynamoDBStreamEvent['Records'][];

  beforeAll(async () => {
    dynamo = await startDynamoDb({ region });
    client = localDynamoDbClient(dynamo.endpoint, region);
    documents = DynamoDBDocumentClient.from(client);
    streams = new DynamoDBStreamsClient({ endpoint: dynamo.endpoint, region, credentials: LOCAL_CREDENTIALS });
  });

  afterAll(async () => {
    streams?.destroy();
    client?.destroy();
    await dynamo?.stop();
  });

  afterEach(async () => {
    await poller?.stop();
  });

  /** A fresh table and a poller on it, with `handle` standing in for the mapped function. */
  async function poll(handle: (event: DynamoDBStreamEvent) => unknown, overrides: Partial<StreamMappingDefinition> = {}): Promise<void> {
    received = [];
    tableName = `Jobs${++tables}`;
    await createTables(client, [{ ...jobsTable, tableName }]);
    const functions = {
      invoke: async (fn: string, event: unknown) => {
        expect(fn).toBe(mapping.functionLogicalId);
        received.push((event as DynamoDBStreamEvent).Records);
        return handle(event as DynamoDBStreamEvent);
      },
    };
    poller = new StreamPoller(streams, client, functions, region, () => undefined);
    await poller.start([{ mapping: { ...mapping, ...overrides }, tableName }]);
  }

  const put = (jobId: string, status: string) => documents.send(new PutCommand({ TableName: tableName, Item: { tenantId: 't', jobId, status } }));

  async function until(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`not within 15 s; received ${JSON.stringify(received.map((batch) => batch.map((r) => r.eventName)))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const delivered = () =>
    received
      .flat()
      .map(
        (record) =>
          `${record.eventName} ${record.dynamodb?.NewImage?.jobId?.S ?? record.dynamodb?.Keys?.jobId?.S} ${record.dynamodb?.NewImage?.status?.S ?? '-'}`,
      );

  it('delivers inserts, changes and removals in order, shaped as Lambda receives them', async () => {
    await poll(() => ({ batchItemFailures: [] }));
    await put('a', 'QUEUED');
    await put('a', 'RUNNING');
    await documents.send(new DeleteCommand({ TableName: tableName, Key: { tenantId: 't', jobId: 'a' } }));
    await until(() => received.flat().length === 3);

    expect(delivered()).toEqual(['INSERT a QUEUED', 'MODIFY a RUNNING', 'REMOVE a -']);
    const [insert, modify] = received.flat();
    expect(insert).toMatchObject({
      eventSource: 'aws:dynamodb',
      awsRegion: region,
      eventSourceARN: expect.stringContaining(`table/${tableName}/stream/`),
      dynamodb: {
        Keys: { tenantId: { S: 't' }, jobId: { S: 'a' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        SequenceNumber: expect.any(String),
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
    expect(modify?.dynamodb?.OldImage?.status).toEqual({ S: 'QUEUED' });
  });

  it('reads a shard whose first record comes after writes to other tables', async () => {
    // DynamoDB Local numbers stream records across tables: this once stopped the poller with TrimmedDataAccessException.
    await poll(() => null);
    const keysTable = tablesOf(resolver).find((table) => table.logicalId === 'KeysTable') as TableDefinition;
    const other = `${keysTable.tableName}-${tables}`;
    await createTables(client, [{ ...keysTable, tableName: other }]);
    await documents.send(new PutCommand({ TableName: other, Item: { keyHash: 'h' } }));
    await put('late', 'QUEUED');
    await until(() => delivered().includes('INSERT late QUEUED'));
  });

  it('retries a batch from the first record the function reports as failed', async () => {
    let failOnce = true;
    await poll((event): DynamoDBBatchResponse => {
      const second = event.Records[1];
      if (failOnce && second) {
        failOnce = false;
        return { batchItemFailures: [{ itemIdentifier: second.dynamodb?.SequenceNumber as string }] };
      }
      return { batchItemFailures: [] };
    });
    // One transaction, so the three records reach the stream, and the first batch, together.
    const item = (jobId: string) => ({ Put: { TableName: tableName, Item: { tenantId: 't', jobId, status: 'QUEUED' } } });
    await documents.send(new TransactWriteCommand({ TransactItems: [item('a'), item('b'), item('c')] }));
    await until(() => received.length >= 2);

    const [first, retried] = received;
    const sequence = (batch: typeof first) => batch?.map((record) => record.dynamodb?.SequenceNumber);
    expect(first).toHaveLength(3);
    // The retry starts at the failed record: the one before it is not delivered again.
    expect(sequence(retried)).toEqual(sequence(first)?.slice(1));
  });

  it('gives up on a failing batch after MaximumRetryAttempts and goes on with the next records', async () => {
    await poll((event) => {
      if (event.Records.some((record) => record.dynamodb?.NewImage?.status?.S === 'POISON')) throw new FunctionError('Error', 'cannot handle it', []);
      return null;
    });
    await put('p', 'POISON');
    await until(() => received.length === 3); // the first try and mapping.maximumRetryAttempts (2) retries
    await put('q', 'QUEUED');
    await until(() => delivered().includes('INSERT q QUEUED'));
    expect(received.filter((batch) => batch.some((record) => record.dynamodb?.NewImage?.jobId?.S === 'p'))).toHaveLength(3);
  });

  it('keeps delivering other partition keys while one lane retries a failing batch (ParallelizationFactor)', async () => {
    // Two tenants in different lanes of 10.
    const [stuck, other] = ['t', 'u'];
    const record = (tenantId: string) => ({ dynamodb: { Keys: { tenantId: { S: tenantId } } } });
    expect(inLanes([record(stuck), record(other)], 10, 'tenantId')).toHaveLength(2);
    let failures = 0;
    await poll(
      (event) => {
        if (event.Records.some((each) => each.dynamodb?.NewImage?.status?.S === 'POISON')) {
          failures += 1;
          throw new FunctionError('Error', 'cannot handle it', []);
        }
        return null;
      },
      { parallelizationFactor: 10, maximumRetryAttempts: 5 },
    );
    await documents.send(new PutCommand({ TableName: tableName, Item: { tenantId: stuck, jobId: 'p', status: 'POISON' } }));
    await until(() => failures >= 1);
    await documents.send(new PutCommand({ TableName: tableName, Item: { tenantId: other, jobId: 'q', status: 'QUEUED' } }));
    await until(() => delivered().includes('INSERT q QUEUED'));
    // Delivered while the stuck lane was still in its retries (five, backing off 0.5 + 1 + 2 + 4 + 8 s).
    expect(failures).toBeLessThan(4);
  });

  it('delivers only the records the mapping’s FilterCriteria match', async () => {
    await poll(() => null, { filterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['MODIFY'] }) }] } });
    await put('f', 'QUEUED');
    await put('f', 'RUNNING');
    await until(() => received.flat().length === 1);
    expect(delivered()).toEqual(['MODIFY f RUNNING']);
  });
});
