import { Readable } from 'node:stream';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { vi } from 'vitest';
import type { DatasetRecord } from '#domain/datasets.js';
import { checkPresignedUrl } from '../../../../local/s3/presigned.js';

/** Environment the dataset handlers read at import; stubbed before each dynamic import. */
/** The datasets' environment, and `more` variables of the function under test. */
export function stubDatasetEnv(more: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(more)) vi.stubEnv(name, value);
  vi.stubEnv('DATASETS_TABLE_NAME', 'datasets-test');
  vi.stubEnv('DATASETS_BUCKET_NAME', 'datasets-bucket-test');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  // Presigning computes a signature locally: any static credentials will do.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
  vi.stubEnv('AWS_SESSION_TOKEN', 'session-token');
  // Small numbers, so that a multipart upload is a few parts: above 2,000 bytes, parts of 1,000.
  vi.stubEnv('DATASET_MULTIPART_THRESHOLD_BYTES', '2000');
  vi.stubEnv('DATASET_PART_BYTES', '1000');
}

/** Whether a presigned PUT of `length` bytes to `url` carries a valid signature, checked as the offline S3 checks it (with the secret above). */
export function takes(url: string, length: number): boolean {
  const parsed = new URL(url);
  const request = { method: 'PUT', url: `${parsed.pathname}${parsed.search}`, headers: { host: parsed.host, 'content-length': String(length) } };
  return checkPresignedUrl(request, () => 'secret', new Date()).ok;
}

export const context = {
  functionName: 'datasets-test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:datasets-test',
  memoryLimitInMB: '1024',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/datasets-test',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

export const DATASET_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C';
export const KEY = `datasets/acme/${DATASET_ID}.csv`;

/** A REST proxy event as API Gateway sends it after the authorizer accepted tenant `tenantId`. */
export function apiEvent(options: {
  method: string;
  path: string;
  body?: string | null;
  pathParameters?: Record<string, string>;
  tenantId?: string;
}): APIGatewayProxyEvent {
  const { method, path, body = null, pathParameters = null, tenantId = 'acme' } = options;
  return {
    httpMethod: method,
    path,
    resource: path,
    body,
    isBase64Encoded: false,
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    pathParameters,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { path: `/v1${path}`, stage: 'v1', authorizer: { tenantId, principalId: tenantId } } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export function datasetRecord(overrides: Partial<DatasetRecord> = {}): DatasetRecord {
  return {
    tenantId: 'acme',
    datasetId: DATASET_ID,
    status: 'READY',
    key: KEY,
    sizeBytes: 42,
    rows: 3,
    columns: ['x0', 'x1', 'y'],
    error: null,
    etag: 'etag-1',
    createdAt: '2026-01-01T12:00:00.000Z',
    validatedAt: '2026-01-01T12:00:05.000Z',
    // Far in the future: expiry is tested on its own.
    expiresAt: 4_102_444_800,
    ...overrides,
  };
}

/** A GetObject body: an async iterable of byte chunks, as the SDK gives in Node. */
export function body(text: string, chunkSize = 7): GetObjectCommandOutput['Body'] {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += chunkSize) chunks.push(bytes.subarray(start, start + chunkSize));
  return Readable.from(chunks) as unknown as GetObjectCommandOutput['Body'];
}

/** An S3 ObjectCreated notification, as S3 sends it to the validation function. */
export function s3Event(key: string, eventName = 'ObjectCreated:Post', bucket = 'datasets-bucket-test') {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventTime: '2026-01-01T12:00:01.000Z',
        eventName,
        s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key, size: 42, eTag: 'etag-1' } },
      },
    ],
  };
}

/** A GetObject body of raw bytes (a gzip object, a fixture file), in chunks as the SDK gives them in Node. */
export function bytesBody(bytes: Uint8Array, chunkSize = 4096): GetObjectCommandOutput['Body'] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += chunkSize) chunks.push(Buffer.from(bytes.subarray(start, start + chunkSize)));
  return Readable.from(chunks) as unknown as GetObjectCommandOutput['Body'];
}

/** The bytes a ranged GetObject asks for (`Range: bytes=<from>-<to>`, `<to>` empty for the rest of the object). */
export function rangeOf(bytes: Uint8Array, range: string | undefined): Uint8Array {
  const match = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
  if (!match) return bytes;
  const [, from, to] = match;
  return bytes.subarray(Number(from), to === '' ? undefined : Number(to) + 1);
}
