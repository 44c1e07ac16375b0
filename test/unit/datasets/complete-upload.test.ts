import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { CompleteMultipartUploadCommand, ListPartsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiEvent, context, DATASET_ID, datasetRecord, KEY, stubDatasetEnv } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let complete: typeof import('../../../lambdas/datasets/complete-upload.js')['handler'];
let parts: typeof import('../../../lambdas/datasets/upload-parts.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv();
  ({ handler: complete } = await import('../../../lambdas/datasets/complete-upload.js'));
  ({ handler: parts } = await import('../../../lambdas/datasets/upload-parts.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  s3.reset();
});

/** A dataset whose multipart upload of three parts is open. */
const uploading = (multipart: Record<string, unknown> = {}) =>
  datasetRecord({
    status: 'PENDING_UPLOAD',
    sizeBytes: null,
    rows: null,
    columns: [],
    etag: undefined,
    validatedAt: null,
    declaredSizeBytes: 2500,
    multipart: { uploadId: 'upload-1', partSizeBytes: 1000, partCount: 3, completedAt: null, ...multipart },
  });
const threeParts = [
  { partNumber: 1, etag: '"e1"' },
  { partNumber: 2, etag: '"e2"' },
  { partNumber: 3, etag: '"e3"' },
];
const s3Error = (name: string) => new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message: name });

const post = (body: unknown, tenantId = 'acme') =>
  complete(
    apiEvent({
      method: 'POST',
      path: `/datasets/${DATASET_ID}/complete`,
      pathParameters: { datasetId: DATASET_ID },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      tenantId,
    }),
    context,
  );
const errorOf = (result: { statusCode: number; body: string }) => ({
  status: result.statusCode,
  ...(JSON.parse(result.body) as { error: { code: string } }).error,
});

describe('POST /datasets/{datasetId}/complete', () => {
  it('completes the upload with every part and ETag, records it once, and answers the dataset', async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"whole-3"' });
    ddb.on(UpdateCommand).resolves({ Attributes: uploading({ completedAt: '2026-01-01T12:01:00.000Z' }) });

    const result = await post({ parts: threeParts });

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ datasetId: DATASET_ID, status: 'PENDING_UPLOAD' });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'datasets-bucket-test',
      Key: KEY,
      UploadId: 'upload-1',
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"e1"' },
          { PartNumber: 2, ETag: '"e2"' },
          { PartNumber: 3, ETag: '"e3"' },
        ],
      },
    });
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update).toMatchObject({ Key: { tenantId: 'acme', datasetId: DATASET_ID }, UpdateExpression: 'SET #multipart.#completedAt = :now' });
    expect(update.ConditionExpression).toContain('#multipart.#uploadId = :uploadId AND #multipart.#completedAt = :null');
    expect(update.ExpressionAttributeValues).toMatchObject({ ':uploadId': 'upload-1', ':null': null });
  });

  it.each([
    ['InvalidPart', 'INVALID_PART'],
    ['InvalidPartOrder', 'INVALID_PART_ORDER'],
    ['EntityTooSmall', 'PART_TOO_SMALL'],
  ])("turns S3's %s (a wrong ETag, a part not sent, a short part) into 400 %s and records nothing", async (s3Code, code) => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(CompleteMultipartUploadCommand).rejects(s3Error(s3Code));
    const result = await post({ parts: threeParts });
    expect(errorOf(result)).toMatchObject({ status: 400, code });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it.each([
    ['a part missing', threeParts.slice(0, 2), { path: 'parts', message: 'the upload has 3 parts; 2 were given' }],
    [
      'parts out of order',
      [threeParts[1], threeParts[0], threeParts[2]],
      { path: 'parts.0.partNumber', message: 'must be 1: parts are numbered 1..3, in order' },
    ],
    ['a part repeated', [threeParts[0], threeParts[0], threeParts[2]], { path: 'parts.1.partNumber', message: 'must be 2: parts are numbered 1..3, in order' }],
    ['a part too many', [...threeParts, { partNumber: 4, etag: '"e4"' }], { path: 'parts', message: 'the upload has 3 parts; 4 were given' }],
  ])('refuses %s with 400 INVALID_PART naming it, before S3 is asked', async (_, given, detail) => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    const result = await post({ parts: given });
    expect(errorOf(result)).toEqual({ status: 400, code: 'INVALID_PART', message: 'the part list does not match the upload', details: [detail] });
    expect(s3.calls()).toHaveLength(0);
  });

  it.each([
    ['no parts', { parts: [] }],
    ['a part without its ETag', { parts: [{ partNumber: 1 }] }],
    ['an empty ETag', { parts: [{ partNumber: 1, etag: '' }] }],
    ['part number 0', { parts: [{ partNumber: 0, etag: '"e"' }] }],
    ['part number 10,001', { parts: [{ partNumber: 10_001, etag: '"e"' }] }],
    ['an unknown field', { parts: threeParts, uploadId: 'other' }],
  ])('refuses %s with 400 VALIDATION_ERROR', async (_, body) => {
    const result = await post(body);
    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('refuses a body that is not JSON with 400 INVALID_JSON', async () => {
    expect(errorOf(await post('{"parts":'))).toMatchObject({ status: 400, code: 'INVALID_JSON' });
  });

  it("answers 404 for an unknown dataset and for another tenant's (read under the caller's key only)", async () => {
    ddb.on(GetCommand, { Key: { tenantId: 'acme', datasetId: DATASET_ID } }).resolves({});
    ddb.on(GetCommand, { Key: { tenantId: 'other', datasetId: DATASET_ID } }).resolves({ Item: uploading() });
    expect(errorOf(await post({ parts: threeParts }, 'acme'))).toEqual({ status: 404, code: 'NOT_FOUND', message: 'dataset not found' });
    expect(s3.calls()).toHaveLength(0);
  });

  it.each([
    ['completed before', uploading({ completedAt: '2026-01-01T12:01:00.000Z' })],
    ['already being validated (its object exists)', { ...uploading(), status: 'VALIDATING' as const }],
  ])('answers 409 UPLOAD_ALREADY_COMPLETE for an upload %s', async (_, item) => {
    ddb.on(GetCommand).resolves({ Item: item });
    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 409, code: 'UPLOAD_ALREADY_COMPLETE' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('answers 409 UPLOAD_ALREADY_COMPLETE to the second of two concurrent completions (the conditional write)', async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 409, code: 'UPLOAD_ALREADY_COMPLETE' });
  });

  it('answers 409 NOT_A_MULTIPART_UPLOAD for a dataset uploaded with a presigned POST', async () => {
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ status: 'PENDING_UPLOAD' }) });
    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 409, code: 'NOT_A_MULTIPART_UPLOAD' });
  });

  it('answers 409 UPLOAD_EXPIRED when S3 no longer knows the upload (aborted by the lifecycle rule)', async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(CompleteMultipartUploadCommand).rejects(s3Error('NoSuchUpload'));
    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 409, code: 'UPLOAD_EXPIRED' });
  });
});

describe('GET /datasets/{datasetId}/parts', () => {
  const get = (tenantId = 'acme') =>
    parts(apiEvent({ method: 'GET', path: `/datasets/${DATASET_ID}/parts`, pathParameters: { datasetId: DATASET_ID }, tenantId }), context);

  it('answers the parts S3 holds and fresh URLs for the others only, so a resumed upload sends no part twice', async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(ListPartsCommand).resolves({
      Parts: [
        { PartNumber: 3, ETag: '"e3"', Size: 500 },
        { PartNumber: 1, ETag: '"e1"', Size: 1000 },
      ],
    });

    const result = await get();

    expect(result.statusCode).toBe(200);
    const answer = JSON.parse(result.body) as { parts: { partNumber: number; url: string }[] } & Record<string, unknown>;
    expect(answer).toMatchObject({
      datasetId: DATASET_ID,
      partSizeBytes: 1000,
      partCount: 3,
      uploaded: [
        { partNumber: 1, etag: '"e1"', sizeBytes: 1000 },
        { partNumber: 3, etag: '"e3"', sizeBytes: 500 },
      ],
    });
    expect(answer.parts.map((part) => part.partNumber)).toEqual([2]);
    const url = new URL(answer.parts[0]!.url);
    expect(url.pathname).toBe(`/${KEY}`);
    expect(url.searchParams.get('uploadId')).toBe('upload-1');
    expect(url.searchParams.get('partNumber')).toBe('2');
    expect(s3.commandCalls(ListPartsCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'datasets-bucket-test', Key: KEY, UploadId: 'upload-1' });
  });

  it('reads ListParts page by page while S3 says IsTruncated, and stops on the last page whatever its marker', async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(ListPartsCommand)
      .resolvesOnce({ Parts: [{ PartNumber: 1, ETag: '"e1"', Size: 1000 }], IsTruncated: true, NextPartNumberMarker: '1' })
      .resolvesOnce({ Parts: [{ PartNumber: 2, ETag: '"e2"', Size: 1000 }], IsTruncated: false, NextPartNumberMarker: '2' });
    const answer = JSON.parse((await get()).body) as { uploaded: unknown[]; parts: { partNumber: number }[] };
    expect(answer.uploaded).toHaveLength(2);
    expect(answer.parts.map((part) => part.partNumber)).toEqual([3]);
    const calls = s3.commandCalls(ListPartsCommand).map((call) => call.args[0].input.PartNumberMarker);
    expect(calls).toEqual([undefined, '1']);
  });

  it("answers 404 for another tenant's dataset, 409 for a POST upload, a completed one or an expired one", async () => {
    ddb.on(GetCommand).resolves({});
    expect(errorOf(await get())).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ status: 'PENDING_UPLOAD' }) });
    expect(errorOf(await get())).toMatchObject({ status: 409, code: 'NOT_A_MULTIPART_UPLOAD' });
    ddb.on(GetCommand).resolves({ Item: uploading({ completedAt: '2026-01-01T12:01:00.000Z' }) });
    expect(errorOf(await get())).toMatchObject({ status: 409, code: 'UPLOAD_ALREADY_COMPLETE' });
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(ListPartsCommand).rejects(s3Error('NoSuchUpload'));
    expect(errorOf(await get())).toMatchObject({ status: 409, code: 'UPLOAD_EXPIRED' });
  });
});
