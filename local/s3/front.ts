import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { z } from 'zod';
import { close, LOOPBACK, listen } from '../http-server.js';
import { accessKeyOfRequest, type LocalIam } from '../iam/policy.js';
import type { AuthenticationFailure } from '../iam/sigv4.js';
import { traceRequests } from '../trace.js';
import { LocalMultipartUploads, S3_MIN_PART_BYTES, type StoredObject } from './multipart.js';
import { checkPresignedUrl, isPresigned } from './presigned.js';

/**
 * S3's front door: what S3 checks and s3rver does not, in front of s3rver.
 *
 * - Every call a function makes is checked against its role (local/iam/policy.ts),
 *   and answered 403 `AccessDenied` as S3 answers it when the role does not allow it.
 * - A missing object read by a caller that may not `s3:ListBucket` the bucket is
 *   403 `AccessDenied`, not 404 `NoSuchKey`, as S3 answers (it will not reveal
 *   whether a key exists to someone who could not list it).
 * - A browser-style POST upload is checked against its signed policy as S3 checks
 *   it: the signature (HMAC of the policy with the signer's key), the expiry, every
 *   condition (exact, `starts-with`, `content-length-range`), no field the policy
 *   does not cover, and the signer's own right to `s3:PutObject` the key. Only then
 *   is the object stored, so a tenant cannot rewrite the `key` field of its upload
 *   and land in someone else's prefix.
 *
 * - A presigned URL (SigV4 in the query string) is checked as S3 checks it: its
 *   signature, its expiry and a known key (presigned.ts); the call then runs with
 *   the signer's rights.
 * - Every other request must be SigV4-signed in its header by a key the stack
 *   issued (local/iam/sigv4.ts): an unsigned one is 403 `AccessDenied`, an unknown
 *   key `InvalidAccessKeyId`, a wrong signature `SignatureDoesNotMatch`, as S3
 *   answers them. Only a browser's POST upload (its policy is signed) and CORS
 *   preflights need no header.
 * - Multipart uploads are kept here (multipart.ts), with S3's checks of part
 *   numbers, ETags and part sizes, and stored in s3rver once completed.
 *
 * The file is spooled to a temporary file while it is counted (S3 checks the size
 * against the policy before the object exists), then stored in s3rver.
 */

export interface S3FrontOptions {
  /** s3rver's endpoint. */
  upstream: string;
  iam: LocalIam;
  region: string;
  /**
   * Stores a validated POST upload or a completed multipart upload (a PutObject to s3rver with the stack's
   * credentials), announced as `eventName` (`ObjectCreated:Post`, `ObjectCreated:CompleteMultipartUpload`).
   */
  store(upload: StoredObject): Promise<{ etag: string | undefined }>;
  /** The smallest part but the last of a multipart upload. @default 5 MiB, as on S3 */
  minPartBytes?: number;
  now?: () => Date;
  /** Each bucket's CORS rules (its template's CorsConfiguration), by bucket name: browsers upload with the presigned POST. */
  corsRules?: ReadonlyMap<string, readonly CorsRule[]>;
}

/** One rule of a bucket's CorsConfiguration, as CloudFormation writes it. */
export interface CorsRule {
  AllowedMethods: string[];
  AllowedOrigins: string[];
  AllowedHeaders?: string[] | undefined;
  ExposedHeaders?: string[] | undefined;
  MaxAge?: number | undefined;
}

/** S3's matching: an origin or header may contain one `*`; header names are case-insensitive. */
function wildcardMatch(pattern: string, value: string): boolean {
  const [head = '', ...rest] = pattern.toLowerCase().split('*');
  const lower = value.toLowerCase();
  if (rest.length === 0) return head === lower;
  const tail = rest.join('*');
  return lower.length >= head.length + tail.length && lower.startsWith(head) && lower.endsWith(tail);
}

/**
 * The CORS headers S3 adds for a request from `origin` with `method` (and, for a
 * preflight, the headers it asks for), from the first rule that matches; undefined
 * when none does (S3 then adds none, and refuses a preflight with 403).
 */
export function corsHeadersFor(
  rules: readonly CorsRule[] | undefined,
  origin: string,
  method: string,
  requestHeaders: string[] = [],
): Record<string, string> | undefined {
  const rule = rules?.find(
    (each) =>
      each.AllowedOrigins.some((allowed) => wildcardMatch(allowed, origin)) &&
      each.AllowedMethods.includes(method) &&
      requestHeaders.every((header) => (each.AllowedHeaders ?? []).some((allowed) => wildcardMatch(allowed, header))),
  );
  if (!rule) return undefined;
  return {
    'Access-Control-Allow-Origin': rule.AllowedOrigins.includes('*') ? '*' : origin,
    'Access-Control-Allow-Methods': rule.AllowedMethods.join(', '),
    ...(requestHeaders.length > 0 ? { 'Access-Control-Allow-Headers': requestHeaders.join(', ') } : {}),
    ...(rule.ExposedHeaders?.length ? { 'Access-Control-Expose-Headers': rule.ExposedHeaders.join(', ') } : {}),
    ...(rule.MaxAge === undefined ? {} : { 'Access-Control-Max-Age': String(rule.MaxAge) }),
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
}

export interface S3Front {
  endpoint: string;
  close(): Promise<void>;
}

/** S3's error document. */
function s3Error(response: ServerResponse, status: number, code: string, message: string, head = false): void {
  const requestId = randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase();
  response.writeHead(status, { 'Content-Type': 'application/xml', 'x-amz-request-id': requestId });
  response.end(
    head
      ? undefined
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>${requestId}</RequestId><HostId>local</HostId></Error>`,
  );
}

/** S3's code (and message, where it has a fixed one) for each reason a request is not authenticated. */
const S3_AUTHENTICATION_ERRORS: Record<AuthenticationFailure, [code: string, message?: string]> = {
  missing: ['AccessDenied', 'Access Denied'],
  unknownKey: ['InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'],
  badSignature: ['SignatureDoesNotMatch'],
};

/** Element text: quotes need no escaping there. */
function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

interface Target {
  bucket: string;
  key: string | undefined;
}

/** Path-style `/bucket/key`, the key kept as S3 reads it (percent-decoded, slashes and dots untouched). */
function targetOf(url: string): Target {
  const pathname = url.split('?')[0] ?? '/';
  const [, bucket = '', ...rest] = pathname.split('/');
  return {
    bucket: decodeURIComponent(bucket),
    key: rest.length === 0 || (rest.length === 1 && rest[0] === '') ? undefined : decodeURIComponent(rest.join('/')),
  };
}

/** The permission S3 evaluates for a REST request (the subset of S3 the functions use). */
export function s3Requirement(method: string, url: string, headers: Record<string, string | string[] | undefined>): { action: string; resource: string }[] {
  const { bucket, key } = targetOf(url);
  const query = new URLSearchParams(url.split('?')[1] ?? '');
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (key === undefined) {
    if (method === 'GET' || method === 'HEAD') return [{ action: 's3:ListBucket', resource: bucketArn }];
    if (method === 'POST' && query.has('delete')) return [{ action: 's3:DeleteObject', resource: `${bucketArn}/*` }];
    return [];
  }
  const objectArn = `${bucketArn}/${key}`;
  switch (method) {
    case 'GET':
    case 'HEAD':
      return query.has('uploadId') ? [{ action: 's3:ListMultipartUploadParts', resource: objectArn }] : [{ action: 's3:GetObject', resource: objectArn }];
    case 'PUT': {
      const source = headers['x-amz-copy-source'];
      const copied = typeof source === 'string' ? [{ action: 's3:GetObject', resource: `arn:aws:s3:::${decodeURIComponent(source.replace(/^\//, ''))}` }] : [];
      return [{ action: 's3:PutObject', resource: objectArn }, ...copied];
    }
    case 'POST':
      return [{ action: 's3:PutObject', resource: objectArn }];
    case 'DELETE':
      return [{ action: query.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject', resource: objectArn }];
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------
// POST policy

const Condition = z.union([
  z.record(z.string(), z.string()),
  z.tuple([z.enum(['eq', 'starts-with']), z.string(), z.string()]),
  z.tuple([z.literal('content-length-range'), z.coerce.number(), z.coerce.number()]),
]);
const Policy = z.object({ expiration: z.iso.datetime({ offset: true }), conditions: z.array(Condition) });

export type PolicyCheck = { ok: true; sizeRange: [number, number] | undefined } | { ok: false; status: number; code: string; message: string };

/** Fields S3 does not hold against the policy: the policy itself, its signature, the file, and `x-ignore-` fields. */
function exempt(field: string): boolean {
  return ['policy', 'x-amz-signature', 'file'].includes(field) || field.startsWith('x-ignore-');
}

function signingKey(secretAccessKey: string, date: string, region: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), 's3'), 'aws4_request');
}

/**
 * S3's checks of a POST upload's form fields (names lower-cased, the bucket added
 * as S3 adds it), before the file is read. `secretOf` answers the secret of an
 * access key id, or undefined for an unknown one.
 */
export function checkPostPolicy(fields: Record<string, string>, secretOf: (accessKeyId: string) => string | undefined, now: Date): PolicyCheck {
  const denied = (message: string): PolicyCheck => ({ ok: false, status: 403, code: 'AccessDenied', message });
  const encoded = fields.policy;
  const signature = fields['x-amz-signature'];
  const credential = fields['x-amz-credential'];
  if (encoded === undefined || signature === undefined || credential === undefined) {
    return { ok: false, status: 400, code: 'InvalidArgument', message: 'Bucket POST must contain a field named Policy, X-Amz-Signature and X-Amz-Credential' };
  }
  if (fields['x-amz-algorithm'] !== 'AWS4-HMAC-SHA256')
    return { ok: false, status: 400, code: 'InvalidArgument', message: 'X-Amz-Algorithm must be AWS4-HMAC-SHA256' };
  const [accessKeyId = '', date = '', region = ''] = credential.split('/');
  const secret = secretOf(accessKeyId);
  if (secret === undefined) return denied('The AWS Access Key Id you provided does not exist in our records.');
  const expected = createHmac('sha256', signingKey(secret, date, region))
    .update(encoded)
    .digest('hex');
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return denied('The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  let policy: z.infer<typeof Policy>;
  try {
    policy = Policy.parse(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')));
  } catch {
    return { ok: false, status: 400, code: 'InvalidPolicyDocument', message: 'Invalid Policy: Invalid JSON.' };
  }
  if (new Date(policy.expiration).getTime() <= now.getTime()) return denied('Invalid according to Policy: Policy expired.');

  const covered = new Set<string>();
  let sizeRange: [number, number] | undefined;
  for (const condition of policy.conditions) {
    if (!Array.isArray(condition)) {
      for (const [name, value] of Object.entries(condition)) {
        const field = name.toLowerCase();
        covered.add(field);
        if (fields[field] !== value) return denied(`Invalid according to Policy: Policy Condition failed: ["eq", "$${name}", "${value}"]`);
      }
      continue;
    }
    if (condition[0] === 'content-length-range') {
      sizeRange = [condition[1], condition[2]];
      continue;
    }
    const [operator, variable, value] = condition;
    const field = variable.replace(/^\$/, '').toLowerCase();
    covered.add(field);
    const actual = fields[field] ?? '';
    const holds = operator === 'eq' ? actual === value : actual.startsWith(value);
    if (!holds) return denied(`Invalid according to Policy: Policy Condition failed: ["${operator}", "${variable}", "${value}"]`);
  }
  const extra = Object.keys(fields).filter((field) => !exempt(field) && field !== 'bucket' && !covered.has(field));
  if (extra.length > 0) return denied(`Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
  return { ok: true, sizeRange };
}

// ---------------------------------------------------------------------------
// The server

export async function startS3Front(options: S3FrontOptions): Promise<S3Front> {
  const upstream = new URL(options.upstream);
  const now = options.now ?? (() => new Date());
  const spool = await mkdtemp(path.join(tmpdir(), 'regression-jobs-s3-post-'));
  const multipart = new LocalMultipartUploads({
    spool,
    minPartBytes: options.minPartBytes ?? S3_MIN_PART_BYTES,
    store: (object) => options.store(object),
    error: (response, status, code, message) => s3Error(response, status, code, message),
  });
  // A key the stack issued: a function's or the stack's own (local/iam/policy.ts).
  const secretOf = (accessKeyId: string) => options.iam.secretOf(accessKeyId);

  const proxy = (request: IncomingMessage, response: ServerResponse, accessKeyId: string | undefined) => {
    const { bucket } = targetOf(request.url ?? '/');
    const outgoing = forward(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        const reading = request.method === 'GET' || request.method === 'HEAD';
        if (answer.statusCode === 404 && reading && targetOf(request.url ?? '/').key !== undefined) {
          if (!options.iam.allows(accessKeyId, 's3:ListBucket', `arn:aws:s3:::${bucket}`)) {
            answer.resume();
            s3Error(response, 403, 'AccessDenied', 'Access Denied', request.method === 'HEAD');
            return;
          }
        }
        response.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(response);
      },
    );
    outgoing.on('error', (error) => response.destroy(error));
    response.on('close', () => outgoing.destroy());
    request.pipe(outgoing);
  };

  const postUpload = (request: IncomingMessage, response: ServerResponse) => {
    const { bucket } = targetOf(request.url ?? '/');
    const fields: Record<string, string> = { bucket };
    let answered = false;
    let sawFile = false;
    const answer = (reply: () => void) => {
      if (answered) return;
      answered = true;
      reply();
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers, limits: { fieldSize: 20 * 1024, files: 1 } });
    } catch {
      return s3Error(response, 412, 'PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data');
    }
    parser.on('field', (name, value) => {
      fields[name.toLowerCase()] = value;
    });
    parser.on('file', (_name, file, info) => {
      sawFile = true;
      const check = checkPostPolicy(fields, secretOf, now());
      // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's POST `key` field names the uploaded file's name as the literal ${filename}.
      const key = fields.key?.replaceAll('${filename}', info.filename ?? '');
      if (!check.ok || key === undefined) {
        file.resume();
        return answer(() =>
          check.ok
            ? s3Error(response, 400, 'InvalidArgument', 'Bucket POST must contain a field named key.')
            : s3Error(response, check.status, check.code, check.message),
        );
      }
      const decision = options.iam.authorize(fields['x-amz-credential']?.split('/')[0], 's3:PutObject', `arn:aws:s3:::${bucket}/${key}`);
      if (!decision.allowed) {
        file.resume();
        return answer(() => s3Error(response, 403, 'AccessDenied', decision.message));
      }
      const spooled = path.join(spool, randomUUID());
      // Answered from inside the chain, once the file is counted and stored.
      void pipeline(file, createWriteStream(spooled))
        .then(async () => {
          const { size } = await stat(spooled);
          const [min, max] = check.sizeRange ?? [0, Number.POSITIVE_INFINITY];
          if (size > max) return answer(() => s3Error(response, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'));
          if (size < min) return answer(() => s3Error(response, 400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size'));
          const { etag } = await options.store({ bucket, key, file: spooled, size, contentType: fields['content-type'], eventName: 'ObjectCreated:Post' });
          const location = `http://${request.headers.host ?? LOOPBACK}/${bucket}/${encodeURIComponent(key)}`;
          const status = fields.success_action_status;
          answer(() => {
            const headers = { Location: location, ...(etag ? { ETag: etag } : {}) };
            if (status === '201') {
              response.writeHead(201, { ...headers, 'Content-Type': 'application/xml' });
              response.end(
                `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${escapeXml(location)}</Location><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>${escapeXml(etag ?? '')}</ETag></PostResponse>`,
              );
            } else {
              response.writeHead(status === '200' ? 200 : 204, headers);
              response.end();
            }
          });
        })
        .catch((error: unknown) => answer(() => s3Error(response, 500, 'InternalError', error instanceof Error ? error.message : String(error))))
        .finally(() => rm(spooled, { force: true }));
    });
    parser.on('close', () => {
      if (!sawFile) answer(() => s3Error(response, 400, 'InvalidArgument', 'POST requires exactly one file upload per request.'));
    });
    parser.on('error', () =>
      answer(() => s3Error(response, 400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.')),
    );
    request.pipe(parser);
  };

  const server = createServer((request, response) => {
    const url = request.url ?? '/';
    const { bucket, key } = targetOf(url);
    const origin = request.headers.origin;
    if (origin !== undefined) {
      const rules = options.corsRules?.get(bucket);
      if (request.method === 'OPTIONS') {
        const asked = request.headers['access-control-request-method'] ?? '';
        const askedHeaders = (request.headers['access-control-request-headers'] ?? '')
          .split(',')
          .map((header) => header.trim())
          .filter(Boolean);
        const headers = corsHeadersFor(rules, origin, asked, askedHeaders);
        request.resume();
        if (!headers) return s3Error(response, 403, 'AccessForbidden', 'CORSResponse: This CORS request is not allowed.');
        response.writeHead(200, headers).end();
        return;
      }
      for (const [name, value] of Object.entries(corsHeadersFor(rules, origin, request.method ?? 'GET') ?? {})) response.setHeader(name, value);
    }
    const isFormUpload = request.method === 'POST' && key === undefined && !url.includes('?');
    if (isFormUpload) return postUpload(request, response);
    const method = request.method ?? 'GET';
    if (isPresigned(url)) {
      const check = checkPresignedUrl({ method, url, headers: request.headers }, secretOf, now());
      if (!check.ok) {
        request.resume();
        return s3Error(response, check.status, check.code, check.message, method === 'HEAD');
      }
    } else {
      // Signed in the header, with the same routine as a presigned URL; an unsigned request is nobody's, not the stack's.
      const authentication = options.iam.authenticate({ method, url, headers: request.headers }, now());
      if (!authentication.ok) {
        request.resume();
        const [code, message] = S3_AUTHENTICATION_ERRORS[authentication.reason];
        return s3Error(response, 403, code, message ?? authentication.message, method === 'HEAD');
      }
    }
    const accessKeyId = accessKeyOfRequest(request.headers, url);
    for (const { action, resource } of s3Requirement(method, url, request.headers)) {
      const decision = options.iam.authorize(accessKeyId, action, resource);
      if (!decision.allowed) {
        request.resume();
        return s3Error(response, 403, 'AccessDenied', decision.message, method === 'HEAD');
      }
    }
    if (key !== undefined && LocalMultipartUploads.handles(method, url)) {
      multipart.handle(request, response, bucket, key).catch((error: unknown) => {
        if (!response.headersSent) s3Error(response, 500, 'InternalError', error instanceof Error ? error.message : String(error));
      });
      return;
    }
    proxy(request, response, accessKeyId);
  });
  traceRequests(server, 's3', (request) => ({
    caller: options.iam.principalOf(accessKeyOfRequest(request.headers, request.url ?? '/'))?.functionName,
    detail: { method: request.method },
  }));
  const port = await listen(server, 0);
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    close: async () => {
      await close(server);
      await multipart.close();
      await rm(spool, { recursive: true, force: true });
    },
  };
}
