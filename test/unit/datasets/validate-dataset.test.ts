import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { body, context, DATASET_ID, datasetRecord, KEY, s3Event, stubDatasetEnv } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let handler: typeof import('../../../lambdas/datasets/validate-dataset.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv();
  vi.stubEnv('LIMIT_MAX_DATASET_BYTES', '1000');
  vi.stubEnv('LIMIT_MAX_DATASET_COLUMNS', '4');
  ({ handler } = await import('../../../lambdas/datasets/validate-dataset.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  s3.reset();
});

function uploaded(text: string, size = Buffer.byteLength(text)) {
  s3.on(HeadObjectCommand).resolves({ ContentLength: size, ETag: '"etag-1"' });
  s3.on(GetObjectCommand).resolves({ Body: body(text) });
}

function updates() {
  return ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
}

describe('validate-dataset (S3 ObjectCreated)', () => {
  it('marks a well-formed file READY with its rows and columns, reading the object it checked (If-Match)', async () => {
    uploaded('x0,x1,y\n1,2,3\n4,5,6\n7,8,9\n');
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });

    const outcomes = await handler(s3Event(KEY), context);

    expect(outcomes).toEqual([{ key: KEY, status: 'READY' }]);
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({ Bucket: 'datasets-bucket-test', Key: KEY });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({ Bucket: 'datasets-bucket-test', Key: KEY, IfMatch: '"etag-1"' });
    const [begin, ready] = updates();
    expect(begin).toMatchObject({
      TableName: 'datasets-test',
      Key: { tenantId: 'acme', datasetId: DATASET_ID },
      ConditionExpression: 'attribute_exists(datasetId) AND (#status = :pending OR (#status = :validating AND etag = :etag))',
      ExpressionAttributeValues: { ':validating': 'VALIDATING', ':pending': 'PENDING_UPLOAD', ':etag': 'etag-1', ':size': 26 },
    });
    expect(ready).toMatchObject({
      ConditionExpression: 'attribute_exists(datasetId) AND (#status = :validating AND etag = :etag)',
      ExpressionAttributeValues: { ':ready': 'READY', ':rows': 3, ':columns': ['x0', 'x1', 'y'], ':etag': 'etag-1', ':null': null },
    });
  });

  it('marks a file with a bad value INVALID with the first bad line and column', async () => {
    uploaded('x0,x1,y\n1,2,3\n4,five,6\n7,8,oops\n');
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });

    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'INVALID' }]);

    const [, invalid] = updates();
    expect(invalid?.ExpressionAttributeValues).toMatchObject({
      ':invalid': 'INVALID',
      ':error': { code: 'NOT_A_NUMBER', message: 'line 3, column 2 ("x1"): "five" is not a finite number', line: 3, column: 2 },
    });
  });

  it('marks a file with more columns than allowed INVALID', async () => {
    uploaded('a,b,c,d,y\n1,2,3,4,5\n');
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
    await handler(s3Event(KEY), context);
    expect(updates()[1]?.ExpressionAttributeValues?.[':error']).toMatchObject({ code: 'TOO_MANY_COLUMNS', line: 1, column: 5 });
  });

  it('marks a file over the size limit INVALID without reading it (a local S3 may not enforce the upload policy)', async () => {
    uploaded('x,y\n1,2\n', 1001);
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });

    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'INVALID' }]);

    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(updates()[1]?.ExpressionAttributeValues?.[':error']).toEqual({
      code: 'DATASET_TOO_LARGE',
      message: 'the file has 1001 bytes; at most 1000 are allowed',
    });
  });

  it('validates only the first upload: a later object (or a settled dataset) is skipped', async () => {
    uploaded('x,y\n1,2\n');
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'condition', $metadata: {} }));

    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'SKIPPED' }]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(updates()).toHaveLength(1);
  });

  it('ignores keys this service never hands out, and removals', async () => {
    for (const key of ['datasets/acme/not-a-ulid.csv', 'elsewhere/file.csv', `datasets/acme/${DATASET_ID}.txt`, `datasets/a%2Fb/${DATASET_ID}.csv`]) {
      expect(await handler(s3Event(key), context)).toEqual([{ key: decodeURIComponent(key), status: 'SKIPPED' }]);
    }
    expect(await handler(s3Event(KEY, 'ObjectRemoved:Delete'), context)).toEqual([]);
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('skips an object deleted before it could be checked', async () => {
    s3.on(HeadObjectCommand).rejects(new NotFound({ message: 'gone', $metadata: {} }));
    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'SKIPPED' }]);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('never takes a 403 AccessDenied for a missing object: it is thrown, so the invocation is retried and then recorded', async () => {
    // With s3:ListBucket on its prefix, S3 answers a missing object 404; a 403 is a real refusal, not a vanished upload.
    const accessDenied = () => new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } });
    s3.on(HeadObjectCommand).rejects(accessDenied());
    await expect(handler(s3Event(KEY), context)).rejects.toThrow('Access Denied');
    expect(ddb.calls()).toHaveLength(0);

    s3.reset();
    ddb.reset();
    s3.on(HeadObjectCommand).resolves({ ContentLength: 8, ETag: '"etag-1"' });
    s3.on(GetObjectCommand).rejects(accessDenied());
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
    await expect(handler(s3Event(KEY), context)).rejects.toThrow('Access Denied');
    // Not DATASET_CHANGED: only the begin-validation write happened.
    expect(updates()).toHaveLength(1);
  });

  it('marks the dataset INVALID when the object is replaced during validation', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 8, ETag: '"etag-1"' });
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', message: 'etag', $metadata: {} }));
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
    await handler(s3Event(KEY), context);
    expect(updates()[1]?.ExpressionAttributeValues?.[':error']).toMatchObject({ code: 'DATASET_CHANGED' });
  });

  it('throws on an unexpected failure so the invocation is retried, leaving the dataset VALIDATING for the retry', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 8, ETag: '"etag-1"' });
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'slow down', $metadata: {} }));
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
    await expect(handler(s3Event(KEY), context)).rejects.toThrow('slow down');
    expect(updates()).toHaveLength(1);
  });

  it('refuses an event that is not an S3 notification', async () => {
    await expect(handler({ Records: [{ nope: true }] }, context)).rejects.toThrow();
  });
});
