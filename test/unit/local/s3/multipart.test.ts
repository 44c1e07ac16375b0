import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FunctionPrincipal, LocalIam, type PolicyStatement } from '../../../../local/iam/policy.js';
import { startS3Front } from '../../../../local/s3/front.js';
import { partsOfCompleteRequest } from '../../../../local/s3/multipart.js';
import { checkPresignedUrl } from '../../../../local/s3/presigned.js';

const allow = (actions: string[], resources: string[]): PolicyStatement => ({ effect: 'Allow', actions, resources });
const KEY = 'datasets/t1/d1.csv';
const MIN_PART = 10;

const uploader: FunctionPrincipal = {
  functionLogicalId: 'CreateDataset',
  functionName: 'CreateDataset',
  roleName: 'CreateDatasetRole',
  accessKeyId: 'ASIAUPLOADER',
  secretAccessKey: 'uploader-secret',
  statements: [allow(['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], ['arn:aws:s3:::b/datasets/*'])],
};
const reader: FunctionPrincipal = {
  ...uploader,
  functionLogicalId: 'Reader',
  accessKeyId: 'ASIAREADER',
  statements: [allow(['s3:GetObject'], ['arn:aws:s3:::b/*'])],
};

let upstream: Server;
let front: Awaited<ReturnType<typeof startS3Front>>;
let clock = new Date();
const stored: { key: string; size: number; eventName: string; content: string }[] = [];
const clientOf = (principal: FunctionPrincipal) =>
  new S3Client({ region: 'us-east-1', endpoint: front.endpoint, forcePathStyle: true, credentials: principal, requestChecksumCalculation: 'WHEN_REQUIRED' });
let s3: S3Client;

beforeAll(async () => {
  upstream = createServer((request: IncomingMessage, response) => {
    request.resume();
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  front = await startS3Front({
    upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    iam: new LocalIam([uploader, reader], '000000000000', () => undefined, { accessKeyId: 'STACK', secretAccessKey: 'stack-secret' }),
    region: 'us-east-1',
    minPartBytes: MIN_PART,
    now: () => clock,
    store: async ({ key, size, eventName, file }) => {
      stored.push({ key, size, eventName, content: await readFile(file, 'utf8') });
      return { etag: '"whole"' };
    },
  });
  s3 = clientOf(uploader);
});

afterAll(async () => {
  s3.destroy();
  await front.close();
  await new Promise((resolve) => upstream.close(resolve));
});

beforeEach(() => {
  clock = new Date();
  stored.length = 0;
});

const create = async () => (await s3.send(new CreateMultipartUploadCommand({ Bucket: 'b', Key: KEY }))).UploadId as string;
const partUrl = (uploadId: string, partNumber: number, expiresIn = 900) =>
  getSignedUrl(s3, new UploadPartCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId, PartNumber: partNumber }), { expiresIn });
const put = async (url: string, body: string) => {
  const response = await fetch(url, { method: 'PUT', body });
  return { status: response.status, etag: response.headers.get('etag'), body: await response.text() };
};
const completeWith = (uploadId: string, parts: { PartNumber: number; ETag: string }[]) =>
  s3.send(new CompleteMultipartUploadCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
const s3CodeOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'no error',
    (error: Error) => error.name,
  );

describe('the offline S3: multipart uploads through presigned UploadPart URLs', () => {
  it('takes parts through presigned URLs, lists them, and stores the whole object announced as CompleteMultipartUpload', async () => {
    const uploadId = await create();
    const bodies = ['a,b\n1,2\n3,4\n', '5,6\n7,8\n9,0\n', '1,1\n'];
    const etags: string[] = [];
    for (const [index, body] of bodies.entries()) {
      const answer = await put(await partUrl(uploadId, index + 1), body);
      expect(answer.status).toBe(200);
      expect(answer.etag).toMatch(/^"[0-9a-f]{32}"$/);
      etags.push(answer.etag as string);
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId }));
    expect(listed.Parts?.map((part) => [part.PartNumber, part.ETag, part.Size])).toEqual(bodies.map((body, index) => [index + 1, etags[index], body.length]));

    const done = await completeWith(
      uploadId,
      etags.map((ETag, index) => ({ PartNumber: index + 1, ETag })),
    );
    expect(done.ETag).toBe('"whole"');
    expect(stored).toEqual([{ key: KEY, size: bodies.join('').length, eventName: 'ObjectCreated:CompleteMultipartUpload', content: bodies.join('') }]);
    // Completed: the upload id is gone.
    expect(await s3CodeOf(completeWith(uploadId, [{ PartNumber: 1, ETag: etags[0] as string }]))).toBe('NoSuchUpload');
  });

  it('refuses a wrong ETag (InvalidPart), parts out of order (InvalidPartOrder) and a short part that is not the last (EntityTooSmall)', async () => {
    const uploadId = await create();
    const first = (await put(await partUrl(uploadId, 1), 'x'.repeat(MIN_PART))).etag as string;
    const short = (await put(await partUrl(uploadId, 2), 'short')).etag as string;
    const last = (await put(await partUrl(uploadId, 3), 'end')).etag as string;
    expect(await s3CodeOf(completeWith(uploadId, [{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }]))).toBe('InvalidPart');
    expect(await s3CodeOf(completeWith(uploadId, [{ PartNumber: 4, ETag: last }]))).toBe('InvalidPart');
    expect(
      await s3CodeOf(
        completeWith(uploadId, [
          { PartNumber: 2, ETag: short },
          { PartNumber: 1, ETag: first },
        ]),
      ),
    ).toBe('InvalidPartOrder');
    const all = [
      { PartNumber: 1, ETag: first },
      { PartNumber: 2, ETag: short },
      { PartNumber: 3, ETag: last },
    ];
    expect(await s3CodeOf(completeWith(uploadId, all))).toBe('EntityTooSmall');
    expect(stored).toEqual([]);
    // A refused completion leaves the upload open: part 2 sent again, long enough, completes it (a short last part is fine).
    const again = (await put(await partUrl(uploadId, 2), 'y'.repeat(MIN_PART))).etag as string;
    await completeWith(uploadId, [all[0]!, { PartNumber: 2, ETag: again }, all[2]!]);
    expect(stored[0]).toMatchObject({ size: 2 * MIN_PART + 3 });
  });

  it('aborts an upload: its parts are dropped and the id is unknown after', async () => {
    const uploadId = await create();
    const url = await partUrl(uploadId, 1);
    expect((await put(url, 'x'.repeat(MIN_PART))).status).toBe(200);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId }));
    const late = await put(url, 'x');
    expect(late.status).toBe(404);
    expect(late.body).toContain('<Code>NoSuchUpload</Code>');
    expect(await s3CodeOf(s3.send(new ListPartsCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId })))).toBe('NoSuchUpload');
  });

  it('checks each presigned URL as S3 does: signature, expiry, a known key; and the signer must be allowed the call', async () => {
    const uploadId = await create();
    const url = await partUrl(uploadId, 1, 60);
    // Another part number than the one signed.
    const tampered = await put(url.replace('partNumber=1', 'partNumber=2'), 'x');
    expect(tampered.status).toBe(403);
    expect(tampered.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    // The same URL, 61 s later.
    clock = new Date(Date.now() + 61_000);
    const expired = await put(url, 'x');
    expect(expired.status).toBe(403);
    expect(expired.body).toContain('<Message>Request has expired</Message>');
    clock = new Date();
    const unknown = await put(url.replace('ASIAUPLOADER', 'ASIAUNKNOWN'), 'x');
    expect(unknown.status).toBe(403);
    expect(unknown.body).toContain('<Code>InvalidAccessKeyId</Code>');
    expect((await put(url, 'x')).status).toBe(200);
    // A role without s3:PutObject can neither start an upload nor sign a part.
    const readerClient = clientOf(reader);
    expect(await s3CodeOf(readerClient.send(new CreateMultipartUploadCommand({ Bucket: 'b', Key: KEY })))).toBe('AccessDenied');
    const readerUrl = await getSignedUrl(readerClient, new UploadPartCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId, PartNumber: 1 }), { expiresIn: 60 });
    expect((await put(readerUrl, 'x')).status).toBe(403);
    readerClient.destroy();
  });
});

describe('the offline S3: a part URL signed for its length', () => {
  const sizedPartUrl = (uploadId: string, partNumber: number, length: number) =>
    getSignedUrl(s3, new UploadPartCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId, PartNumber: partNumber, ContentLength: length }), {
      expiresIn: 900,
      signableHeaders: new Set(['content-length']),
    });

  it('refuses a body of another length with 403 SignatureDoesNotMatch, as S3 does, and keeps nothing of it', async () => {
    const uploadId = await create();
    const url = await sizedPartUrl(uploadId, 1, MIN_PART);
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');

    for (const body of ['x'.repeat(MIN_PART + 1), 'x'.repeat(11 * MIN_PART), 'x'.repeat(MIN_PART - 1)]) {
      const refused = await put(url, body);
      expect(refused.status, `${body.length} bytes`).toBe(403);
      expect(refused.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
    // Without a Content-Length (a chunked body) the signed header is missing: refused too.
    const chunked = await fetch(url, {
      method: 'PUT',
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('x'.repeat(MIN_PART)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(403);
    expect(await chunked.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect((await s3.send(new ListPartsCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId }))).Parts ?? []).toEqual([]);

    const taken = await put(url, 'x'.repeat(MIN_PART));
    expect(taken.status).toBe(200);
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId }));
    expect(listed.Parts?.map((part) => [part.PartNumber, part.Size])).toEqual([[1, MIN_PART]]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'b', Key: KEY, UploadId: uploadId }));
  });
});

describe('checkPresignedUrl', () => {
  it("accepts the SDK's own presigned URL and refuses one signed with another secret", async () => {
    const signer = new S3Client({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: uploader });
    const url = new URL(
      await getSignedUrl(signer, new UploadPartCommand({ Bucket: 'b', Key: 'datasets/t 1/ü.csv', UploadId: 'u+/=', PartNumber: 7 }), { expiresIn: 900 }),
    );
    signer.destroy();
    const request = { method: 'PUT', url: `${url.pathname}${url.search}`, headers: { host: url.host } };
    expect(checkPresignedUrl(request, (id) => (id === 'ASIAUPLOADER' ? 'uploader-secret' : undefined), new Date())).toEqual({
      ok: true,
      accessKeyId: 'ASIAUPLOADER',
    });
    expect(checkPresignedUrl(request, () => 'other-secret', new Date())).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(checkPresignedUrl({ ...request, method: 'GET' }, () => 'uploader-secret', new Date())).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });
});

describe('partsOfCompleteRequest', () => {
  it('reads the part list, quotes escaped or not, and refuses a body that is not one', () => {
    const body =
      '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&quot;e1&quot;</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>"e2"</ETag></Part></CompleteMultipartUpload>';
    expect(partsOfCompleteRequest(body)).toEqual([
      { partNumber: 1, etag: '"e1"' },
      { partNumber: 2, etag: '"e2"' },
    ]);
    expect(partsOfCompleteRequest('<CompleteMultipartUpload></CompleteMultipartUpload>')).toBeUndefined();
    expect(partsOfCompleteRequest('not xml')).toBeUndefined();
  });
});
