import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type JobRecord, toJobView } from '#domain/jobs.js';
import { context, JOB_ID, jobRecord, OTHER_JOB_ID, streamRecord, stubRealtimeEnv } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const gateway = mockClient(ApiGatewayManagementApiClient);
let handler: typeof import('../../../../lambdas/realtime/notify.js')['handler'];

beforeAll(async () => {
  stubRealtimeEnv();
  ({ handler } = await import('../../../../lambdas/realtime/notify.js'));
});
afterAll(() => vi.unstubAllEnvs());

/** Subscribers per subscription partition key; anything else has none. */
let subscriptions: Record<string, string[]>;

beforeEach(() => {
  ddb.reset();
  gateway.reset();
  subscriptions = {};
  ddb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: { ':pk': string } }) => {
    const pk = input.ExpressionAttributeValues[':pk'];
    if (pk.startsWith('CONN#')) return { Items: [] };
    return { Items: (subscriptions[pk] ?? []).map((sk) => ({ sk })) };
  });
  ddb.on(DeleteCommand).resolves({});
  ddb.on(BatchWriteCommand).resolves({});
  gateway.on(PostToConnectionCommand).resolves({});
});

const run = (...records: DynamoDBRecord[]) => handler({ Records: records }, context);

function posts(): Array<{ connectionId: string | undefined; message: unknown }> {
  return gateway.commandCalls(PostToConnectionCommand).map((call) => ({
    connectionId: call.args[0].input.ConnectionId,
    message: JSON.parse(String(call.args[0].input.Data)),
  }));
}

const change = (job: JobRecord) => ({ type: 'job', job: toJobView(job) });

describe('notify', () => {
  it('sends an inserted job to its subscribers and to all-jobs subscribers of its tenant, once each', async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['c1', 'c2'], 'SUB#acme#*': ['c2', 'c3'] };
    const job = jobRecord({ status: 'QUEUED', progress: 0, startedAt: null, attempts: 0 });

    const result = await run(streamRecord('INSERT', { newJob: job }));

    expect(result.batchItemFailures).toEqual([]);
    expect(posts().sort((a, b) => String(a.connectionId).localeCompare(String(b.connectionId)))).toEqual(
      ['c1', 'c2', 'c3'].map((connectionId) => ({ connectionId, message: change(job) })),
    );
  });

  it("never reaches another tenant's connections: the lookup is keyed by the job's own tenant", async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['acme-conn'], 'SUB#acme#*': ['acme-all'], [`SUB#globex#${JOB_ID}`]: ['globex-conn'] };

    await run(streamRecord('MODIFY', { newJob: jobRecord({ tenantId: 'globex', progress: 0.5 }), oldJob: jobRecord({ tenantId: 'globex' }) }));

    expect(posts().map((post) => post.connectionId)).toEqual(['globex-conn']);
    const keys = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':pk']);
    expect(keys).toEqual([`SUB#globex#${JOB_ID}`, 'SUB#globex#*']);
  });

  it('sends a modified job as the view built from its new image', async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['c1'] };
    const before = jobRecord({ progress: 0.5 });
    const after = jobRecord({ status: 'COMPLETED', progress: 1, finishedAt: '2026-01-01T12:00:09.000Z' });

    await run(streamRecord('MODIFY', { newJob: after, oldJob: before }));

    expect(posts()).toEqual([{ connectionId: 'c1', message: change(after) }]);
  });

  it('skips REMOVE records (TTL expiry) and changes no client can see', async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['c1'] };
    const job = jobRecord();

    const result = await run(
      streamRecord('REMOVE', { oldJob: job }),
      streamRecord('MODIFY', { newJob: { ...job, expiresAt: job.expiresAt + 60 }, oldJob: job }),
    );

    expect(result.batchItemFailures).toEqual([]);
    expect(ddb.calls()).toHaveLength(0);
    expect(gateway.calls()).toHaveLength(0);
  });

  it('removes a connection that answers 410 and counts the record as delivered', async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['gone', 'alive'] };
    gateway.on(PostToConnectionCommand, { ConnectionId: 'gone' }).rejects(new GoneException({ message: 'Gone', $metadata: { httpStatusCode: 410 } }));
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'CONN#gone' } }).resolves({
      Items: [{ pk: 'CONN#gone', sk: `SUB#${JOB_ID}`, tenantId: 'acme', target: JOB_ID }],
    });

    const result = await run(streamRecord('MODIFY', { newJob: jobRecord({ progress: 0.5 }), oldJob: jobRecord() }));

    expect(result.batchItemFailures).toEqual([]);
    expect(
      posts()
        .map((post) => post.connectionId)
        .sort(),
    ).toEqual(['alive', 'gone']);
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input.Key).toEqual({ pk: 'CONN#gone', sk: 'META' });
    const deleted = ddb.commandCalls(BatchWriteCommand).flatMap((call) => call.args[0].input.RequestItems?.['connections-test'] ?? []);
    expect(deleted.map((request) => request.DeleteRequest?.Key)).toEqual([
      { pk: `SUB#acme#${JOB_ID}`, sk: 'gone' },
      { pk: 'CONN#gone', sk: `SUB#${JOB_ID}` },
    ]);
  });

  it("reports the failed job's first record in the batch, and still delivers the other jobs' changes", async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['c1'], [`SUB#acme#${OTHER_JOB_ID}`]: ['c2'] };
    gateway.on(PostToConnectionCommand, { ConnectionId: 'c1' }).rejects(new Error('socket hang up'));
    const first = streamRecord('MODIFY', { newJob: jobRecord({ progress: 0.5, version: 4 }), oldJob: jobRecord() });
    const second = streamRecord('MODIFY', { newJob: jobRecord({ progress: 0.75, version: 5 }), oldJob: jobRecord({ progress: 0.5, version: 4 }) });
    const other = jobRecord({ jobId: OTHER_JOB_ID, progress: 0.5, version: 4 });
    const records = [
      streamRecord('INSERT', { newJob: jobRecord({ jobId: OTHER_JOB_ID, progress: 0, version: 1 }) }),
      first,
      streamRecord('MODIFY', { newJob: other, oldJob: jobRecord({ jobId: OTHER_JOB_ID }) }),
      second,
    ];

    const result = await run(...records);

    // Lambda retries from the lowest reported record: the failed job's newest state is sent again.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: first.dynamodb?.SequenceNumber }]);
    expect(posts().filter((post) => post.connectionId === 'c2')).toEqual([{ connectionId: 'c2', message: change(other) }]);
  });

  it('reports every failed job, and an unreadable record, so nothing is lost when all fail', async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['c1'] };
    gateway.on(PostToConnectionCommand).rejects(new Error('down'));
    const record = streamRecord('INSERT', { newJob: jobRecord() });

    expect((await run(record)).batchItemFailures).toEqual([{ itemIdentifier: record.dynamodb?.SequenceNumber }]);
  });
});

describe('notify: coalescing and order', () => {
  it('sends only the newest state of each job in a batch, once per connection', async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['c1'], 'SUB#acme#*': ['all'] };
    const states = [
      jobRecord({ status: 'QUEUED', progress: 0, startedAt: null, attempts: 0, version: 1 }),
      jobRecord({ status: 'RUNNING', progress: 0, version: 2 }),
      jobRecord({ status: 'RUNNING', progress: 0.5, version: 3 }),
      jobRecord({ status: 'COMPLETED', progress: 1, finishedAt: '2026-01-01T12:00:02.000Z', version: 4 }),
    ];
    const records = states.map((job, index) =>
      index === 0 ? streamRecord('INSERT', { newJob: job }) : streamRecord('MODIFY', { newJob: job, oldJob: states[index - 1] }),
    );

    const result = await run(...records);

    expect(result.batchItemFailures).toEqual([]);
    expect(posts().sort((a, b) => String(a.connectionId).localeCompare(String(b.connectionId)))).toEqual([
      { connectionId: 'all', message: change(states[3] as JobRecord) },
      { connectionId: 'c1', message: change(states[3] as JobRecord) },
    ]);
    // One lookup per job, not per record.
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(2);
  });

  it("looks up a tenant's all-jobs subscribers once per batch, whatever number of its jobs the batch holds", async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['c1'], 'SUB#acme#*': ['all'] };

    await run(
      streamRecord('INSERT', { newJob: jobRecord({ status: 'QUEUED', progress: 0, version: 1 }) }),
      streamRecord('INSERT', { newJob: jobRecord({ jobId: OTHER_JOB_ID, status: 'QUEUED', progress: 0, version: 1 }) }),
    );

    const keys = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':pk']);
    expect(keys.sort()).toEqual([`SUB#acme#${JOB_ID}`, `SUB#acme#${OTHER_JOB_ID}`, 'SUB#acme#*'].sort());
    expect(
      posts()
        .map((post) => `${post.connectionId} ${(post.message as { job: { jobId: string } }).job.jobId}`)
        .sort(),
    ).toEqual([`all ${JOB_ID}`, `all ${OTHER_JOB_ID}`, `c1 ${JOB_ID}`].sort());
  });

  it('never sends an older version than one seen for the job in the batch, whatever the record order', async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['c1'] };
    const newer = jobRecord({ status: 'COMPLETED', progress: 1, finishedAt: '2026-01-01T12:00:02.000Z', version: 7 });
    const older = jobRecord({ status: 'RUNNING', progress: 0.5, version: 5 });

    await run(streamRecord('MODIFY', { newJob: newer, oldJob: older }), streamRecord('MODIFY', { newJob: older, oldJob: jobRecord({ version: 4 }) }));

    expect(posts()).toEqual([{ connectionId: 'c1', message: change(newer) }]);
  });

  it('sends the jobs of a batch concurrently, not one after another', async () => {
    const jobIds = [...'ABCDEFGHJK'].map((letter) => `01JH5Z3V8Q6K9W2X4Y7Z0A1B${letter}Z`);
    subscriptions = Object.fromEntries(jobIds.map((jobId) => [`SUB#acme#${jobId}`, [`conn-${jobId}`]]));
    let inFlight = 0;
    let mostInFlight = 0;
    gateway.on(PostToConnectionCommand).callsFake(async () => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight -= 1;
      return {};
    });

    const result = await run(...jobIds.map((jobId) => streamRecord('INSERT', { newJob: jobRecord({ jobId, version: 1 }) })));

    expect(result.batchItemFailures).toEqual([]);
    expect(posts()).toHaveLength(10);
    expect(mostInFlight).toBe(10);
  });
});

describe('coalesce', () => {
  it('keeps, per job, the highest version and the first record of the job (where a retry starts)', async () => {
    const { coalesce } = await import('../../../../lambdas/realtime/notify.js');
    const a1 = streamRecord('INSERT', { newJob: jobRecord({ version: 1, status: 'QUEUED', progress: 0 }) });
    const b1 = streamRecord('INSERT', { newJob: jobRecord({ jobId: OTHER_JOB_ID, version: 1, status: 'QUEUED', progress: 0 }) });
    const a3 = streamRecord('MODIFY', { newJob: jobRecord({ version: 3, progress: 0.5 }), oldJob: jobRecord({ version: 2, progress: 0 }) });
    const a2 = streamRecord('MODIFY', { newJob: jobRecord({ version: 2, progress: 0 }), oldJob: jobRecord({ version: 1, status: 'QUEUED', progress: 0 }) });

    const { changes, unreadable } = coalesce([a1, b1, a3, a2]);

    expect(unreadable).toEqual([]);
    expect([...changes.keys()]).toEqual([`acme#${JOB_ID}`, `acme#${OTHER_JOB_ID}`]);
    expect(changes.get(`acme#${JOB_ID}`)).toMatchObject({ firstSequenceNumber: a1.dynamodb?.SequenceNumber, message: { job: { version: 3, progress: 0.5 } } });
    expect(changes.get(`acme#${OTHER_JOB_ID}`)).toMatchObject({ firstSequenceNumber: b1.dynamodb?.SequenceNumber, message: { job: { version: 1 } } });
  });
});

describe('notify: records that cannot be read', () => {
  it('fails a record whose image is not a job, for the on-failure destination to keep', async () => {
    const broken = streamRecord('INSERT', { newJob: jobRecord() });
    delete broken.dynamodb?.NewImage?.status;
    const fine = streamRecord('INSERT', { newJob: jobRecord({ jobId: OTHER_JOB_ID }) });

    const result = await run(broken, fine);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: broken.dynamodb?.SequenceNumber }]);
  });

  it('builds the view whatever numbers the image holds', async () => {
    subscriptions = { [`SUB#acme#${JOB_ID}`]: ['c1'] };
    const job = jobRecord({ alpha: 1e21, source: { type: 'inline', key: 'jobs/acme/big.json', rows: 3 } });
    const record = streamRecord('INSERT', { newJob: job });
    // As DynamoDB returns them: integers written out in full, which the default unmarshall turns into BigInt or rejects.
    const image = record.dynamodb?.NewImage as Record<string, { N?: string }>;
    image.alpha = { N: '1000000000000000000000' };

    const result = await run(record);

    expect(result.batchItemFailures).toEqual([]);
    expect(posts()).toEqual([{ connectionId: 'c1', message: change(job) }]);
  });
});
