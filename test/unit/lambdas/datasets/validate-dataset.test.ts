import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { body, context, DATASET_ID, datasetRecord, KEY, s3Event, stubDatasetEnv } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const SCAN_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:scan';
let handler: typeof import('../../../../lambdas/datasets/validate-dataset.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv();
  vi.stubEnv('LIMIT_MAX_DATASET_BYTES', '1000');
  vi.stubEnv('LIMIT_MAX_DATASET_COLUMNS', '4');
  vi.stubEnv('SCAN_STATE_MACHINE_ARN', SCAN_ARN);
  ({ handler } = await import('../../../../lambdas/datasets/validate-dataset.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  s3.reset();
  sfn.reset();
  sfn.on(StartExecutionCommand).resolves({ executionArn: `${SCAN_ARN}:x`, startDate: new Date() });
});

function uploaded(text: string, size = Buffer.byteLength(text)) {
  s3.on(HeadObjectCommand).resolves({ ContentLength: size, ETag: '"etag-1"' });
  s3.on(GetObjectCommand).resolves({ Body: body(text) });
}

function updates() {
  return ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
}

describe('validate-dataset (S3 ObjectCreated)', () => {
  it('starts the scan of the object it checked: an execution named after the dataset, with the object version and size', async () => {
    uploaded('x0,x1,y\n1,2,3\n4,5,6\n7,8,9\n');
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });

    const outcomes = await handler(s3Event(KEY), context);

    expect(outcomes).toEqual([{ key: KEY, status: 'SCANNING' }]);
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({ Bucket: 'datasets-bucket-test', Key: KEY });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    const [begin, ...rest] = updates();
    expect(rest).toEqual([]);
    expect(begin).toMatchObject({
      TableName: 'datasets-test',
      Key: { tenantId: 'acme', datasetId: DATASET_ID },
      ConditionExpression: 'attribute_exists(datasetId) AND (#status = :pending OR (#status = :validating AND etag = :etag))',
      ExpressionAttributeValues: { ':validating': 'VALIDATING', ':pending': 'PENDING_UPLOAD', ':etag': 'etag-1', ':size': 26 },
    });
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
      {
        stateMachineArn: SCAN_ARN,
        name: DATASET_ID,
        input: JSON.stringify({ tenantId: 'acme', datasetId: DATASET_ID, key: KEY, etag: 'etag-1', sizeBytes: 26, format: { delimiter: ',', decimal: '.' } }),
      },
    ]);
  });

  it("passes the dataset's format (POST /datasets delimiter and decimal) to the scan", async () => {
    uploaded('x0;x1;y\n1,5;2;3\n');
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord({ format: { delimiter: ';', decimal: ',' } }) });

    await handler(s3Event(KEY), context);

    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input.format).toEqual({ delimiter: ';', decimal: ',' });
  });

  it('takes a scan already started (a repeated notification) as started', async () => {
    uploaded('x,y\n1,2\n');
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'SCANNING' }]);
  });

  it('throws when the scan cannot be started, so the invocation is retried (then recorded by validation-failed)', async () => {
    uploaded('x,y\n1,2\n');
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(handler(s3Event(KEY), context)).rejects.toThrow('throttled');
  });

  it('marks a file over the size limit INVALID without reading it, then deletes it (a local S3 may not enforce the upload policy)', async () => {
    uploaded('x,y\n1,2\n', 1001);
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });

    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'INVALID' }]);

    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
    expect(updates()[1]?.ExpressionAttributeValues?.[':error']).toEqual({
      code: 'DATASET_TOO_LARGE',
      message: 'the file has 1001 bytes; at most 1000 are allowed (it was deleted; upload it again to a new dataset)',
    });
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([{ Bucket: 'datasets-bucket-test', Key: KEY }]);
    // INVALID before the deletion: a retry after a failed deletion finds the dataset settled (next test).
    const [, markInvalid] = ddb.commandCalls(UpdateCommand);
    expect(markInvalid!.calledBefore(s3.commandCalls(DeleteObjectCommand)[0]!)).toBe(true);
  });

  it('throws when the deletion fails, and the retry (the dataset INVALID by then) deletes the object over the limit', async () => {
    uploaded('x,y\n1,2\n', 1001);
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
    s3.on(DeleteObjectCommand).rejectsOnce(new S3ServiceException({ name: 'InternalError', $fault: 'server', message: 'try again', $metadata: {} }));
    await expect(handler(s3Event(KEY), context)).rejects.toThrow('try again');

    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'condition', $metadata: {} }));
    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'SKIPPED' }]);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(2);
  });

  it('marks a multipart upload over its declared size INVALID and deletes it, even under the limit', async () => {
    const multipart = { uploadId: 'upload-1', partSizeBytes: 300, partCount: 3, completedAt: '2026-01-01T12:01:00.000Z' };
    uploaded('x,y\n1,2\n', 900);
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord({ status: 'VALIDATING', declaredSizeBytes: 800, multipart }) });

    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'INVALID' }]);

    expect(updates()[1]?.ExpressionAttributeValues?.[':error']).toEqual({
      code: 'DATASET_TOO_LARGE',
      message: 'the file has 900 bytes, more than the 800 declared for its upload (it was deleted; upload it again to a new dataset)',
    });
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
    expect(sfn.calls()).toHaveLength(0);

    // At its declared size, it is scanned; a POST upload is bounded by the limit only.
    s3.reset();
    ddb.reset();
    uploaded('x,y\n1,2\n', 800);
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord({ status: 'VALIDATING', declaredSizeBytes: 800, multipart }) });
    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'SCANNING' }]);
    uploaded('x,y\n1,2\n', 900);
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord({ status: 'VALIDATING', declaredSizeBytes: 800 }) });
    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'SCANNING' }]);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  it('validates only the first upload: a later object (or a settled dataset) is skipped', async () => {
    uploaded('x,y\n1,2\n');
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'condition', $metadata: {} }));

    expect(await handler(s3Event(KEY), context)).toEqual([{ key: KEY, status: 'SKIPPED' }]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(updates()).toHaveLength(1);
    // Within the limit: kept (it may be a settled dataset's own object).
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
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
    expect(sfn.calls()).toHaveLength(0);
  });

  it('refuses an event that is not an S3 notification', async () => {
    await expect(handler({ Records: [{ nope: true }] }, context)).rejects.toThrow();
  });
});
