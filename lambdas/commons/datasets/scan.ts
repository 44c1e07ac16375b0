import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { s3 } from '#commons/runtime/s3.js';

export { ByteRangeInput, ScanInput } from './scan-input.js';

/*
 * The datasets bucket as the validation and the dataset scan read and write it: an
 * uploaded object's head, byte ranges of exactly the version validated, and the
 * scan's own JSON objects (partials and statistics).
 */

export interface ObjectHead {
  sizeBytes: number;
  /** Without the quotes S3 puts around it. */
  etag: string;
}

/**
 * Size and ETag of an object, or undefined when it no longer exists.
 *
 * Only a 404 (NotFound / NoSuchKey) means "missing". S3 answers 403 instead when the
 * caller may not list the bucket; the stack grants each reader `s3:ListBucket` on
 * its own prefix (lib/datasets.ts) so that a missing object is a 404. A 403 is
 * therefore never read as "missing": it is a real refusal (a policy, a key, a
 * misconfigured grant), and treating it as a vanished upload would silently skip
 * the dataset and hide the fault. It is thrown like any unexpected error, so the
 * invocation is retried and then recorded (INVALID with VALIDATION_FAILED), and the
 * error is in the logs.
 */
export async function headObject(bucket: string, key: string): Promise<ObjectHead | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { sizeBytes: head.ContentLength ?? 0, etag: (head.ETag ?? '').replaceAll('"', '') };
  } catch (error) {
    if (error instanceof S3ServiceException && (error.name === 'NotFound' || error.name === 'NoSuchKey')) return undefined;
    throw error;
  }
}

/** The object was replaced or removed since its ETag was recorded. */
export class ObjectChanged extends Error {
  constructor(key: string) {
    super(`the object ${key} changed or disappeared since it was validated`);
    this.name = 'ObjectChanged';
  }
}

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
