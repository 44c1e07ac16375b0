import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * S3 multipart uploads for the offline S3, kept by the front rather than s3rver
 * (whose own support checks neither ETags nor part sizes, and has no abort or
 * ListParts): CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload
 * and AbortMultipartUpload, with S3's checks and error codes:
 *
 * - a part number is 1..10,000; re-sending a part replaces it;
 * - completion lists parts in ascending order (`InvalidPartOrder`), each one sent,
 *   with the ETag S3 answered for it (`InvalidPart`), every part but the last at
 *   least `minPartBytes` (`EntityTooSmall`; 5 MiB as on S3 unless lowered for tests);
 * - an unknown, completed or aborted upload id, or one used on another key, is
 *   404 `NoSuchUpload`.
 *
 * A completed upload is stored as one object through `store`, which announces it as
 * S3 does (`ObjectCreated:CompleteMultipartUpload`), so the bucket's notification runs
 * the same validation a POST upload runs. Parts are spooled to disk. One difference
 * from S3: the completed object's ETag is s3rver's MD5 of the whole object, not S3's
 * `<MD5 of the parts' MD5s>-<part count>`, so the ETag CompleteMultipartUpload answers
 * and the one HeadObject answers agree, as they do on S3.
 */

export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

interface Part {
  file: string;
  size: number;
  /** Quoted, as S3 answers it. */
  etag: string;
  lastModified: Date;
}

interface Upload {
  bucket: string;
  key: string;
  contentType: string | undefined;
  parts: Map<number, Part>;
  initiated: Date;
}

/** An object the offline S3 stores in s3rver and announces to the bucket's notification as `eventName`. */
export interface StoredObject {
  bucket: string;
  key: string;
  file: string;
  size: number;
  contentType: string | undefined;
  eventName: string;
}

export interface MultipartOptions {
  spool: string;
  minPartBytes: number;
  /** Stores the assembled object (PutObject to s3rver) and announces it with `eventName`; answers its ETag. */
  store(object: StoredObject): Promise<{ etag: string | undefined }>;
  error(response: ServerResponse, status: number, code: string, message: string): void;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function xml(response: ServerResponse, body: string): void {
  response.writeHead(200, { 'Content-Type': 'application/xml' });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

async function readBody(request: IncomingMessage, limit = 2 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `<Part><PartNumber>1</PartNumber><ETag>"…"</ETag></Part>…` (ETags may be XML-escaped quotes). */
export function partsOfCompleteRequest(body: string): { partNumber: number; etag: string }[] | undefined {
  if (!/<CompleteMultipartUpload[\s>]/.test(body)) return undefined;
  const parts: { partNumber: number; etag: string }[] = [];
  for (const [, inner = ''] of body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const partNumber = Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(inner)?.[1]);
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1];
    if (!Number.isInteger(partNumber) || etag === undefined) return undefined;
    parts.push({ partNumber, etag: etag.replaceAll('&quot;', '"').replaceAll('&#34;', '"').replaceAll('&amp;', '&') });
  }
  return parts.length > 0 ? parts : undefined;
}

const unquoted = (etag: string) => etag.replaceAll('"', '');

export class LocalMultipartUploads {
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly options: MultipartOptions) {}

  /** Whether `method url` is a multipart operation this class answers. */
  static handles(method: string, url: string): boolean {
    const query = new URLSearchParams(url.split('?')[1] ?? '');
    if (method === 'POST') return query.has('uploads') || query.has('uploadId');
    return (method === 'PUT' || method === 'GET' || method === 'DELETE') && query.has('uploadId');
  }

  /** Answers one multipart operation on `bucket`/`key` (already authorised by the front). */
  async handle(request: IncomingMessage, response: ServerResponse, bucket: string, key: string): Promise<void> {
    const query = new URLSearchParams((request.url ?? '').split('?')[1] ?? '');
    const method = request.method ?? 'GET';
    if (method === 'POST' && query.has('uploads')) {
      request.resume();
      return this.create(response, bucket, key, request.headers['content-type']);
    }
    const uploadId = query.get('uploadId') ?? '';
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      request.resume();
      return this.options.error(
        response,
        404,
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      );
    }
    switch (method) {
      case 'PUT':
        return this.uploadPart(request, response, upload, query.get('partNumber'));
      case 'GET':
        return this.listParts(response, uploadId, upload, query);
      case 'POST':
        return this.complete(request, response, uploadId, upload);
      default:
        request.resume();
        await this.abort(uploadId, upload);
        response.writeHead(204);
        response.end();
    }
  }

  /** Upload ids under way (for tests). */
  get openUploads(): number {
    return this.uploads.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.uploads].map(([uploadId, upload]) => this.abort(uploadId, upload)));
  }

  private create(response: ServerResponse, bucket: string, key: string, contentType: string | undefined): void {
    const uploadId = randomBytes(24).toString('base64url');
    this.uploads.set(uploadId, { bucket, key, contentType, parts: new Map(), initiated: new Date() });
    xml(
      response,
      `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
    );
  }

  private async uploadPart(request: IncomingMessage, response: ServerResponse, upload: Upload, partNumberText: string | null): Promise<void> {
    const partNumber = Number(partNumberText);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      request.resume();
      return this.options.error(response, 400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    }
    const file = path.join(this.options.spool, `part-${randomBytes(8).toString('hex')}`);
    const md5 = createHash('md5');
    let size = 0;
    try {
      await pipeline(
        request,
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            md5.update(chunk);
            size += chunk.length;
            callback(null, chunk);
          },
        }),
        createWriteStream(file),
      );
    } catch {
      await rm(file, { force: true });
      return; // the client went away: nothing to answer
    }
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) !== size) {
      await rm(file, { force: true });
      return this.options.error(response, 400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    }
    const previous = upload.parts.get(partNumber);
    const etag = `"${md5.digest('hex')}"`;
    upload.parts.set(partNumber, { file, size, etag, lastModified: new Date() });
    if (previous) await rm(previous.file, { force: true });
    response.writeHead(200, { ETag: etag });
    response.end();
  }

  private listParts(response: ServerResponse, uploadId: string, upload: Upload, query: URLSearchParams): void {
    const marker = Number(query.get('part-number-marker') ?? 0);
    const maxParts = Math.min(Number(query.get('max-parts') ?? 1000) || 1000, 1000);
    const numbers = [...upload.parts.keys()].filter((number) => number > marker).sort((a, b) => a - b);
    const page = numbers.slice(0, maxParts);
    const truncated = numbers.length > page.length;
    const parts = page
      .map((number) => {
        const part = upload.parts.get(number) as Part;
        return `<Part><PartNumber>${number}</PartNumber><LastModified>${part.lastModified.toISOString()}</LastModified><ETag>${escapeXml(part.etag)}</ETag><Size>${part.size}</Size></Part>`;
      })
      .join('');
    xml(
      response,
      `<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${escapeXml(upload.bucket)}</Bucket><Key>${escapeXml(upload.key)}</Key><UploadId>${uploadId}</UploadId><PartNumberMarker>${marker}</PartNumberMarker>${truncated ? `<NextPartNumberMarker>${page.at(-1)}</NextPartNumberMarker>` : ''}<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts}</ListPartsResult>`,
    );
  }

  private async complete(request: IncomingMessage, response: ServerResponse, uploadId: string, upload: Upload): Promise<void> {
    const listed = partsOfCompleteRequest(await readBody(request).catch(() => ''));
    if (!listed) {
      return this.options.error(response, 400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    for (let index = 1; index < listed.length; index++) {
      if ((listed[index] as { partNumber: number }).partNumber <= (listed[index - 1] as { partNumber: number }).partNumber) {
        return this.options.error(response, 400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
      }
    }
    const chosen: Part[] = [];
    for (const [index, { partNumber, etag }] of listed.entries()) {
      const part = upload.parts.get(partNumber);
      if (!part || unquoted(part.etag) !== unquoted(etag)) {
        return this.options.error(
          response,
          400,
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        );
      }
      if (index < listed.length - 1 && part.size < this.options.minPartBytes) {
        return this.options.error(response, 400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
      }
      chosen.push(part);
    }
    // Taken out first: a second completion racing this one finds no upload, as on S3 once it completes.
    this.uploads.delete(uploadId);
    const assembled = path.join(this.options.spool, `object-${randomBytes(8).toString('hex')}`);
    try {
      const output = createWriteStream(assembled);
      for (const part of chosen) await pipeline(createReadStream(part.file), output, { end: false });
      await new Promise<void>((resolve, reject) => output.end((error?: Error | null) => (error ? reject(error) : resolve())));
      const size = chosen.reduce((total, part) => total + part.size, 0);
      const { etag } = await this.options.store({
        bucket: upload.bucket,
        key: upload.key,
        file: assembled,
        size,
        contentType: upload.contentType,
        eventName: 'ObjectCreated:CompleteMultipartUpload',
      });
      const location = `http://${request.headers.host ?? 'localhost'}/${upload.bucket}/${encodeURIComponent(upload.key)}`;
      xml(
        response,
        `<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>${escapeXml(location)}</Location><Bucket>${escapeXml(upload.bucket)}</Bucket><Key>${escapeXml(upload.key)}</Key><ETag>${escapeXml(etag ?? '')}</ETag></CompleteMultipartUploadResult>`,
      );
    } catch (error) {
      this.options.error(response, 500, 'InternalError', error instanceof Error ? error.message : String(error));
    } finally {
      await rm(assembled, { force: true });
      await Promise.all([...upload.parts.values()].map((part) => rm(part.file, { force: true })));
    }
  }

  private async abort(uploadId: string, upload: Upload): Promise<void> {
    this.uploads.delete(uploadId);
    await Promise.all([...upload.parts.values()].map((part) => rm(part.file, { force: true })));
  }
}
