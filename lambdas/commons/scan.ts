import { GetObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { ObjectChanged } from './csv-source.js';
import { s3 } from './s3.js';

export { ByteRangeInput, ScanInput } from './scan-input.js';

/** Bytes [start, end] (inclusive; to the end of the object without `end`) of exactly the version `etag`. */
export async function readBytes(
  object: { bucket: string; key: string; etag: string },
  start: number,
  end?: number,
): Promise<AsyncIterable<Uint8Array> & { destroy?: () => void }> {
  try {
    const response = await s3.send(
      new GetObjectCommand({ Bucket: object.bucket, Key: object.key, IfMatch: `"${object.etag}"`, Range: `bytes=${start}-${end ?? ''}` }),
    );
    // In Node the body is an IncomingMessage: an async iterable of Buffers that can be destroyed early.
    return response.Body as unknown as AsyncIterable<Uint8Array> & { destroy?: () => void };
  } catch (error) {
    if (error instanceof S3ServiceException && ['PreconditionFailed', 'NoSuchKey', 'NotFound'].includes(error.name)) throw new ObjectChanged(object.key);
    throw error;
  }
}

/** The whole of a (small) range, as one array. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function putJson(bucket: string, key: string, value: unknown): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json' }));
}

export async function getJson(bucket: string, key: string): Promise<unknown> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!Body) throw new Error(`the object ${key} has no body`);
  // In Node the body is an IncomingMessage: an async iterable of Buffers.
  return JSON.parse(Buffer.from(await readAll(Body as unknown as AsyncIterable<Uint8Array>)).toString('utf8')) as unknown;
}
