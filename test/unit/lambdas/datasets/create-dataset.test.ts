import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiEvent, context, stubDatasetEnv, takes } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let handler: typeof import('../../../../lambdas/datasets/create-dataset.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv();
  vi.stubEnv('LIMIT_MAX_DATASET_BYTES', '5000');
  ({ handler } = await import('../../../../lambdas/datasets/create-dataset.js'));
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

  it("stores the file's format (delimiter and decimal separator) on the dataset and answers it", async () => {
    ddb.on(PutCommand).resolves({});
    const result = await post(JSON.stringify({ name: 'iris', delimiter: ';', decimal: ',' }));
    expect(result.statusCode).toBe(201);
    expect(JSON.parse(result.body)).toMatchObject({ name: 'iris', status: 'PENDING_UPLOAD', format: { delimiter: ';', decimal: ',' } });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toMatchObject({ format: { delimiter: ';', decimal: ',' } });
  });

  it.each<[string, Record<string, string>, { delimiter: string; decimal: string }]>([
    ['a tab delimiter, the decimal point by default', { delimiter: '\t' }, { delimiter: '\t', decimal: '.' }],
    ['a pipe delimiter', { delimiter: '|' }, { delimiter: '|', decimal: '.' }],
    ['a decimal comma with a tab delimiter', { delimiter: '\t', decimal: ',' }, { delimiter: '\t', decimal: ',' }],
    ['the defaults written out', { delimiter: ',', decimal: '.' }, { delimiter: ',', decimal: '.' }],
  ])('stores %s', async (_, format, stored) => {
    ddb.on(PutCommand).resolves({});
    const result = await post(JSON.stringify(format));
    expect(result.statusCode).toBe(201);
    expect(JSON.parse(result.body)).toMatchObject({ format: stored });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item!.format).toEqual(stored);
  });

  it('stores no format without one (comma and point), and answers the default', async () => {
    ddb.on(PutCommand).resolves({});
    const result = await post(JSON.stringify({ name: 'plain' }));
    expect(JSON.parse(result.body)).toMatchObject({ format: { delimiter: ',', decimal: '.' } });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).not.toHaveProperty('format');
  });

  it('stores the format of a multipart upload too', async () => {
    ddb.on(PutCommand).resolves({});
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-3' });
    const result = await post(JSON.stringify({ sizeBytes: 4500, delimiter: ';', decimal: ',' }));
    expect(JSON.parse(result.body)).toMatchObject({ uploadMethod: 'MULTIPART', format: { delimiter: ';', decimal: ',' } });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toMatchObject({
      multipart: { uploadId: 'upload-3' },
      format: { delimiter: ';', decimal: ',' },
    });
  });

  it.each([
    ['the default delimiter', { decimal: ',' }],
    ['a comma delimiter', { delimiter: ',', decimal: ',' }],
  ])('refuses a decimal comma with %s: 400 VALIDATION_ERROR on decimal, nothing stored', async (_, format) => {
    const result = await post(JSON.stringify(format));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({
      error: {
        code: 'VALIDATION_ERROR',
        details: [{ path: 'decimal', message: 'a decimal comma needs another delimiter (";" as R\'s write.csv2 writes)' }],
      },
    });
    expect(ddb.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  it.each([
    ['an unknown delimiter', { delimiter: ':' }, 'delimiter'],
    ['a delimiter of two characters', { delimiter: ';;' }, 'delimiter'],
    ['a space delimiter', { delimiter: ' ' }, 'delimiter'],
    ['a delimiter that is not a string', { delimiter: 59 }, 'delimiter'],
    ['an unknown decimal separator', { decimal: "'" }, 'decimal'],
  ])('refuses %s with 400 VALIDATION_ERROR naming the field, nothing stored', async (_, format, path) => {
    const result = await post(JSON.stringify(format));
    expect(result.statusCode).toBe(400);
    const { error } = JSON.parse(result.body) as { error: { code: string; details: { path: string }[] } };
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details.map((detail) => detail.path)).toEqual([path]);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers a bare 500 when the table write fails, never the cause', async () => {
    ddb.on(PutCommand).rejects(new Error('table is on fire'));
    const result = await post(null);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('fire');
  });

  it('answers a presigned POST up to the multipart threshold, even with a declared size', async () => {
    ddb.on(PutCommand).resolves({});
    const answer = JSON.parse((await post(JSON.stringify({ sizeBytes: 2000 }))).body) as Record<string, unknown>;
    expect(answer).toMatchObject({ uploadMethod: 'POST', maxBytes: 5000 });
    expect(answer.fields).toBeDefined();
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toMatchObject({ declaredSizeBytes: 2000 });
  });

  it('answers a multipart upload above the threshold: one presigned UploadPart URL per part, signed for its exact length', async () => {
    ddb.on(PutCommand).resolves({});
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });

    const result = await post(JSON.stringify({ name: 'big', sizeBytes: 4500 }));

    expect(result.statusCode).toBe(201);
    const answer = JSON.parse(result.body) as { datasetId: string; parts: { partNumber: number; url: string }[] } & Record<string, unknown>;
    const key = `datasets/acme/${answer.datasetId}.csv`;
    expect(answer).toMatchObject({ uploadMethod: 'MULTIPART', status: 'PENDING_UPLOAD', partSizeBytes: 1000, partCount: 5, maxBytes: 5000 });
    expect(answer.uploadUrl).toBeUndefined();
    expect(answer.parts.map((part) => part.partNumber)).toEqual([1, 2, 3, 4, 5]);
    for (const { partNumber, url } of answer.parts) {
      const parsed = new URL(url);
      expect(`${parsed.origin}${parsed.pathname}`).toBe(`https://datasets-bucket-test.s3.eu-west-1.amazonaws.com/${key}`);
      expect(parsed.searchParams.get('uploadId')).toBe('upload-1');
      expect(parsed.searchParams.get('partNumber')).toBe(String(partNumber));
      // Valid 15 minutes, like the POST policy; no checksum of an empty body signed in.
      expect(parsed.searchParams.get('X-Amz-Expires')).toBe('900');
      expect(parsed.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      expect([...parsed.searchParams.keys()].filter((name) => name.toLowerCase().includes('checksum'))).toEqual([]);
      // Signed for the part's exact length: 1,000 bytes, the last the 500 left of the 4,500 declared.
      const length = partNumber < 5 ? 1000 : 500;
      expect(parsed.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
      expect([takes(url, length - 1), takes(url, length), takes(url, length + 1)], `part ${partNumber}`).toEqual([false, true, false]);
    }
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input).toEqual({ Bucket: 'datasets-bucket-test', Key: key, ContentType: 'text/csv' });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toMatchObject({
      key,
      declaredSizeBytes: 4500,
      multipart: { uploadId: 'upload-1', partSizeBytes: 1000, partCount: 5, completedAt: null },
    });
  });

  it('refuses a declared size above the limit with 400 DATASET_TOO_LARGE, before anything is started', async () => {
    const result = await post(JSON.stringify({ sizeBytes: 5001 }));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toEqual({
      error: {
        code: 'DATASET_TOO_LARGE',
        message: 'the file is too large: at most 5000 bytes',
        details: [{ path: 'sizeBytes', message: 'must be at most 5000' }],
      },
    });
    expect(ddb.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  it.each([['0'], ['-1'], ['1.5'], ['"10"']])('refuses sizeBytes %s with 400 VALIDATION_ERROR', async (size) => {
    const result = await post(`{"sizeBytes":${size}}`);
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
  });

  it('aborts the multipart upload it started when the dataset cannot be recorded', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-2' });
    s3.on(AbortMultipartUploadCommand).resolves({});
    ddb.on(PutCommand).rejects(new Error('table is on fire'));
    const result = await post(JSON.stringify({ sizeBytes: 3000 }));
    expect(result.statusCode).toBe(500);
    const abort = s3.commandCalls(AbortMultipartUploadCommand);
    expect(abort).toHaveLength(1);
    expect(abort[0]!.args[0].input).toMatchObject({ Bucket: 'datasets-bucket-test', UploadId: 'upload-2' });
    expect(abort[0]!.args[0].input.Key).toMatch(/^datasets\/acme\/[0-9A-Z]{26}\.csv$/);
  });
});
