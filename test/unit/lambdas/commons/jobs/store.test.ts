import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JobStore, Lifecycle, ModelStore } from '#commons/jobs/store.js';
import { TenantStore } from '#commons/jobs/tenants.js';
import { transactionCanceled } from '../../../helpers/aws-errors.js';
import { JOB_ID, JOBS_TABLE, jobRecord, MODELS_TABLE, modelRecord, TENANT, TENANTS_TABLE } from '../../../helpers/records.js';

/*
 * A write whose answer is late is tried again by the SDK, and the first try may
 * have landed: DynamoDB was slow, not down (the load bench pauses DynamoDB Local
 * and saw exactly this). The retry then fails its condition against its own
 * write. These tests run the real SDK client and its retries against a one-item
 * DynamoDB on loopback that applies the first try but answers it too late.
 */

/** The job item, and how UpdateItem behaves: the first answer comes after the client has given up. */
let item: { status: string; progress: number };
let requests = 0;
let server: Server;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      requests += 1;
      const input = JSON.parse(body) as {
        ExpressionAttributeValues: Record<string, { N?: string; S?: string }>;
        ReturnValuesOnConditionCheckFailure?: string;
      };
      const progress = Number(input.ExpressionAttributeValues[':progress']?.N);
      const answer = (status: number, payload: unknown) => {
        response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(payload));
      };
      // The item's condition, as the store's setProgress states it: RUNNING and progress moving forward.
      if (item.status === 'RUNNING' && item.progress < progress) {
        item.progress = progress;
        const delay = requests === 1 ? 400 : 0; // the first try lands, its answer is late
        setTimeout(() => answer(200, {}), delay);
        return;
      }
      const old = { status: { S: item.status }, progress: { N: String(item.progress) } };
      answer(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed',
        ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? { Item: old } : {}),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDUNITTEST', secretAccessKey: 'unit-test-secret' },
      maxAttempts: 2,
      requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true },
    }),
  );
});

afterAll(async () => {
  client.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = 0;
});

describe('JobStore.setProgress when the SDK retries a write that had landed', () => {
  it('answers true (still RUNNING): the retry found its own progress, not a cancelled job', async () => {
    item = { status: 'RUNNING', progress: 0 };

    expect(await new JobStore(JOBS_TABLE, client).setProgress(TENANT, JOB_ID, 0.5)).toBe(true);

    expect(requests).toBe(2); // the late try and the SDK's retry
    expect(item).toEqual({ status: 'RUNNING', progress: 0.5 });
  });

  it('answers false once the job is no longer RUNNING', async () => {
    item = { status: 'CANCELLED', progress: 0.2 };

    expect(await new JobStore(JOBS_TABLE, client).setProgress(TENANT, JOB_ID, 0.5)).toBe(false);
    expect(requests).toBe(1);
  });
});

describe('Lifecycle.create when the SDK retries a transaction that had landed', () => {
  // This instance only: the loopback client above stays real.
  const mocked = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const documents = mockClient(mocked);
  beforeEach(() => documents.reset());
  const lifecycle = () => new Lifecycle(new JobStore(JOBS_TABLE, mocked), new ModelStore(MODELS_TABLE, mocked), new TenantStore(TENANTS_TABLE, mocked), mocked);

  it('answers CREATED when every condition failed against the transaction itself (a new job id exists only if this write made it)', async () => {
    documents.on(TransactWriteCommand).rejects(transactionCanceled('ConditionalCheckFailed', 'ConditionalCheckFailed', 'ConditionalCheckFailed'));

    const outcome = await lifecycle().create({ job: jobRecord({ status: 'QUEUED' }), model: modelRecord({ status: 'TRAINING' }), maxActiveJobs: 20 });

    expect(outcome).toBe('CREATED');
  });

  it('still answers LIMIT_REACHED when only the tenant counter refused', async () => {
    documents.on(TransactWriteCommand).rejects(transactionCanceled('None', 'None', 'ConditionalCheckFailed'));

    const outcome = await lifecycle().create({ job: jobRecord({ status: 'QUEUED' }), model: modelRecord({ status: 'TRAINING' }), maxActiveJobs: 20 });

    expect(outcome).toBe('LIMIT_REACHED');
  });
});
