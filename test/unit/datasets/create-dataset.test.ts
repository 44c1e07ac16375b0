import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiEvent, context, stubDatasetEnv } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let handler: typeof import('../../../lambdas/datasets/create-dataset.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv();
  vi.stubEnv('LIMIT_MAX_DATASET_BYTES', '5000');
  ({ handler } = await import('../../../lambdas/datasets/create-dataset.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  s3.reset();
});

const post = (body: string | null, tenantId = 'acme') => handler(apiEvent({ method: 'POST', path: '/datasets', body, tenantId }), context);

describe('POST /datasets', () => {
  it('registers a PENDING_UPLOAD dataset and answers a presigned POST pinned to its key and the size limit', async () => {
    ddb.on(PutCommand).resolves({});
    const before = Date.now();

    const result = await post(JSON.stringify({ name: 'houses' }));

    expect(result.statusCode).toBe(201);
    const answer = JSON.parse(result.body) as Record<string, unknown> & { fields: Record<string, string> };
    const datasetId = answer.datasetId as string;
    expect(datasetId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(result.headers?.Location).toBe(`/v1/datasets/${datasetId}`);
    expect(answer).toMatchObject({ name: 'houses', status: 'PENDING_UPLOAD', sizeBytes: null, rows: null, columns: [], error: null, maxBytes: 5000 });
    expect(answer.uploadUrl).toBe('https://datasets-bucket-test.s3.eu-west-1.amazonaws.com/');
    const key = `datasets/acme/${datasetId}.csv`;
    expect(answer.fields.key).toBe(key);

    // The policy S3 enforces: this exact key, 1 byte to the limit, expiring in 15 minutes (inside the signing credentials).
    const policy = JSON.parse(Buffer.from(answer.fields.Policy!, 'base64').toString('utf8')) as { expiration: string; conditions: unknown[] };
    expect(policy.conditions).toContainEqual(['content-length-range', 1, 5000]);
    expect(policy.conditions).toContainEqual({ key });
    expect(policy.conditions).toContainEqual({ bucket: 'datasets-bucket-test' });
    const expiresIn = Date.parse(policy.expiration) - before;
    expect(expiresIn).toBeGreaterThan(890_000);
    expect(expiresIn).toBeLessThan(910_000);

    const puts = ddb.commandCalls(PutCommand);
    expect(puts).toHaveLength(1);
    const input = puts[0]!.args[0].input;
    expect(input).toMatchObject({ TableName: 'datasets-test', ConditionExpression: 'attribute_not_exists(datasetId)' });
    expect(input.Item).toMatchObject({ tenantId: 'acme', datasetId, name: 'houses', status: 'PENDING_UPLOAD', key, columns: [], error: null });
    // A week of retention by default (the table's TTL, in epoch seconds).
    const ttl = (input.Item as { expiresAt: number }).expiresAt;
    expect(ttl - Math.floor(before / 1000)).toBeGreaterThanOrEqual(7 * 86_400 - 1);
    expect(ttl - Math.floor(before / 1000)).toBeLessThanOrEqual(7 * 86_400 + 2);
    expect(answer.expiresAt).toBe(new Date(ttl * 1000).toISOString());
    expect(s3.calls()).toHaveLength(0);
  });

  it('tells the client when the upload expires: the policy expiry, 15 minutes after the dataset was created', async () => {
    ddb.on(PutCommand).resolves({});
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-01T10:00:00.000Z'));
    try {
      const answer = JSON.parse((await post(null)).body) as { uploadExpiresAt: string; createdAt: string; fields: Record<string, string> };
      const policy = JSON.parse(Buffer.from(answer.fields.Policy!, 'base64').toString('utf8')) as { expiration: string };
      expect(answer.createdAt).toBe('2026-03-01T10:00:00.000Z');
      expect(answer.uploadExpiresAt).toBe('2026-03-01T10:15:00.000Z');
      expect(Date.parse(policy.expiration)).toBe(Date.parse('2026-03-01T10:15:00.000Z'));
    } finally {
      vi.useRealTimers();
    }
  });

  it('accepts no body and an empty object', async () => {
    ddb.on(PutCommand).resolves({});
    for (const body of [null, '', '{}']) {
      const result = await post(body);
      expect(result.statusCode).toBe(201);
      expect(JSON.parse(result.body)).toMatchObject({ name: null, status: 'PENDING_UPLOAD' });
    }
  });

  it("keeps each tenant's uploads under its own prefix", async () => {
    ddb.on(PutCommand).resolves({});
    const result = await post(null, 'globex');
    const { fields, datasetId } = JSON.parse(result.body) as { fields: Record<string, string>; datasetId: string };
    expect(fields.key).toBe(`datasets/globex/${datasetId}.csv`);
  });

  it.each([
    ['an unknown field', '{"name":"a","bucket":"other"}', 'VALIDATION_ERROR'],
    ['an empty name', '{"name":""}', 'VALIDATION_ERROR'],
    ['a non-object', '[1]', 'VALIDATION_ERROR'],
    ['broken JSON', '{"name":', 'INVALID_JSON'],
  ])('refuses %s with a 400 and stores nothing', async (_, body, code) => {
    const result = await post(body);
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code } });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers a bare 500 when the table write fails, never the cause', async () => {
    ddb.on(PutCommand).rejects(new Error('table is on fire'));
    const result = await post(null);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('fire');
  });
});
