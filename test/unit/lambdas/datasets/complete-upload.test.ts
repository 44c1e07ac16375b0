import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, ListPartsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiEvent, context, DATASET_ID, datasetRecord, KEY, stubDatasetEnv, takes } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let complete: typeof import('../../../../lambdas/datasets/complete-upload.js')['handler'];
let parts: typeof import('../../../../lambdas/datasets/upload-parts.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv();
  ({ handler: complete } = await import('../../../../lambdas/datasets/complete-upload.js'));
  ({ handler: parts } = await import('../../../../lambdas/datasets/upload-parts.js'));
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
/** What ListParts answers once every part was sent at its length: 1,000, 1,000 and the last 500 of the 2,500 declared. */
const heldParts = (sizes = [1000, 1000, 500]) => ({
  Parts: sizes.map((Size, index) => ({ PartNumber: index + 1, ETag: `"e${index + 1}"`, Size })),
  IsTruncated: false,
});
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
    s3.on(ListPartsCommand).resolves(heldParts());
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"whole-3"' });
    ddb.on(UpdateCommand).resolves({ Attributes: uploading({ completedAt: '2026-01-01T12:01:00.000Z' }) });

    const result = await post({ parts: threeParts });

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ datasetId: DATASET_ID, status: 'PENDING_UPLOAD' });
    // The sizes were checked first (ListParts), and nothing was aborted.
    expect(s3.commandCalls(ListPartsCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'datasets-bucket-test', Key: KEY, UploadId: 'upload-1', PartNumberMarker: undefined },
    ]);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
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
    s3.on(ListPartsCommand).resolves(heldParts());
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
    s3.on(ListPartsCommand).resolves(heldParts());
    s3.on(CompleteMultipartUploadCommand).resolves({});
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 409, code: 'UPLOAD_ALREADY_COMPLETE' });
  });

  it('answers 409 NOT_A_MULTIPART_UPLOAD for a dataset uploaded with a presigned POST', async () => {
    ddb.on(GetCommand).resolves({ Item: datasetRecord({ status: 'PENDING_UPLOAD' }) });
    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 409, code: 'NOT_A_MULTIPART_UPLOAD' });
  });

  it('answers 409 UPLOAD_EXPIRED when S3 no longer knows the upload (aborted by the lifecycle rule), listing its parts or completing it', async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(ListPartsCommand).resolves(heldParts());
    s3.on(CompleteMultipartUploadCommand).rejects(s3Error('NoSuchUpload'));
    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 409, code: 'UPLOAD_EXPIRED' });
    s3.on(ListPartsCommand).rejects(s3Error('NoSuchUpload'));
    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 409, code: 'UPLOAD_EXPIRED' });
  });

  it.each([
    ['a part but the last over partSizeBytes', [1000, 1100, 500], [{ path: 'parts.1', message: 'part 2 has 1100 bytes; the declared size allows 1000' }]],
    // The last part is bounded by the declared size (2,500 - 2 x 1,000), not by partSizeBytes.
    [
      'the last part over the rest of the declared size',
      [1000, 1000, 501],
      [{ path: 'parts.2', message: 'part 3 has 501 bytes; the declared size allows 500' }],
    ],
    [
      'two parts over',
      [1200, 1000, 1000],
      [
        { path: 'parts.0', message: 'part 1 has 1200 bytes; the declared size allows 1000' },
        { path: 'parts.2', message: 'part 3 has 1000 bytes; the declared size allows 500' },
      ],
    ],
  ])('refuses %s with 400 PART_TOO_LARGE, aborts the upload and completes nothing', async (_, sizes, details) => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(ListPartsCommand).resolves(heldParts(sizes));
    s3.on(AbortMultipartUploadCommand).resolves({});

    expect(errorOf(await post({ parts: threeParts }))).toEqual({
      status: 400,
      code: 'PART_TOO_LARGE',
      message: 'a part is larger than the declared size allows; the upload was aborted: create a new dataset',
      details,
    });
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'datasets-bucket-test', Key: KEY, UploadId: 'upload-1' },
    ]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('checks the sizes on every page of ListParts', async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    const [first, second, third] = heldParts([1000, 1000, 2000]).Parts;
    s3.on(ListPartsCommand)
      .resolvesOnce({ Parts: [first!, second!], IsTruncated: true, NextPartNumberMarker: '2' })
      .resolvesOnce({ Parts: [third!], IsTruncated: false });
    s3.on(AbortMultipartUploadCommand).resolves({});

    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 400, code: 'PART_TOO_LARGE' });
    expect(s3.commandCalls(ListPartsCommand).map((call) => call.args[0].input.PartNumberMarker)).toEqual([undefined, '2']);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('still refuses an oversized part when the abort fails (the lifecycle rule aborts it a day later; a new completion is refused again)', async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(ListPartsCommand).resolves(heldParts([1000, 1000, 900]));
    s3.on(AbortMultipartUploadCommand).rejects(s3Error('InternalError'));

    expect(errorOf(await post({ parts: threeParts }))).toMatchObject({ status: 400, code: 'PART_TOO_LARGE' });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('leaves a shorter part to S3 (EntityTooSmall below its minimum): only a part over its length is refused here', async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(ListPartsCommand).resolves(heldParts([1000, 900, 500]));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    ddb.on(UpdateCommand).resolves({ Attributes: uploading({ completedAt: '2026-01-01T12:01:00.000Z' }) });

    expect((await post({ parts: threeParts })).statusCode).toBe(200);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });
});

describe('GET /datasets/{datasetId}/parts', () => {
  const get = (tenantId = 'acme') =>
    parts(apiEvent({ method: 'GET', path: `/datasets/${DATASET_ID}/parts`, pathParameters: { datasetId: DATASET_ID }, tenantId }), context);

  it("signs each URL for its part's exact length: partSizeBytes, the last part the rest of the declared size", async () => {
    ddb.on(GetCommand).resolves({ Item: uploading() });
    s3.on(ListPartsCommand).resolves({ Parts: [] });

    const answer = JSON.parse((await get()).body) as { parts: { partNumber: number; url: string }[] };

    expect(answer.parts.map((part) => part.partNumber)).toEqual([1, 2, 3]);
    for (const { partNumber, url } of answer.parts) {
      const length = partNumber < 3 ? 1000 : 500;
      expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
      expect([takes(url, length - 1), takes(url, length), takes(url, length + 1)], `part ${partNumber}`).toEqual([false, true, false]);
    }
  });

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
