import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signature Version 4, as the offline services check it: one routine that
 * recomputes a request's signature from the request exactly as it arrived, used
 * both for presigned URLs (local/s3/presigned.ts, signature in the query) and for
 * requests signed in their `Authorization` header (`checkSignedRequest` below).
 *
 * Written here rather than with @smithy/signature-v4 because a check must rebuild
 * the canonical request from what was received (the path as sent, only the
 * headers the client says it signed, the payload hash it claims), whereas the
 * SDK's signer builds it from a request of its own making and adds headers
 * (`x-amz-date`, `x-amz-content-sha256`) on the way. The tests sign with the
 * SDK's clients, so the two agree.
 */

/** RFC 3986 encoding, as SigV4 canonicalises names and values. */
export function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query string's pairs, decoded, in the order sent. */
export function queryOf(url: string): [string, string][] {
  const query = url.split('?')[1] ?? '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const [name = '', value = ''] = pair.split(/=(.*)/s);
      return [decodeURIComponent(name), decodeURIComponent(value)];
    });
}

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

export interface SignatureInput {
  method: string;
  /** The canonical URI: the path as sent for S3, encoded once more for every other service (`canonicalUri`). */
  canonicalUri: string;
  /** The query's pairs, decoded, without `X-Amz-Signature`. */
  query: readonly (readonly [string, string])[];
  headers: Record<string, string | string[] | undefined>;
  /** Lower-case names, as the client listed them. */
  signedHeaders: readonly string[];
  payloadHash: string;
  /** `yyyyMMddTHHmmssZ`. */
  amzDate: string;
  /** The credential scope: `<date>/<region>/<service>/aws4_request`. */
  date: string;
  region: string;
  service: string;
  secretAccessKey: string;
}

/** The hex signature of a request (canonical request, string to sign, derived key). */
export function signatureV4(input: SignatureInput): string {
  const canonicalQuery = input.query
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headerValue = (name: string) => {
    const value = input.headers[name];
    return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
  };
  const canonicalRequest = [
    input.method,
    input.canonicalUri,
    canonicalQuery,
    ...input.signedHeaders.map((name) => `${name}:${headerValue(name)}`),
    '',
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
  const scope = `${input.date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', input.amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${input.secretAccessKey}`, input.date), input.region), input.service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** Compared in constant time, so a caller cannot find the signature byte by byte. */
export function signaturesMatch(expected: string, given: string): boolean {
  return expected.length === given.length && timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

/**
 * The canonical URI of a request's path as sent: S3 signs it as it is; every other
 * service normalises it (`.` and `..` segments, repeated slashes) and encodes it
 * once more, as the SDKs sign it.
 */
export function canonicalUri(rawPath: string, service: string): string {
  if (service === 's3') return rawPath;
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `${rawPath.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  return encode(normalised).replaceAll('%2F', '/');
}

/** Why a request is refused: each service answers each reason in its own words. */
export type AuthenticationFailure =
  /** No `Authorization` header (or not SigV4). */
  | 'missing'
  /** An access key id the offline stack did not issue. */
  | 'unknownKey'
  /** Malformed, signed too long ago, or a signature that does not match. */
  | 'badSignature';

/** The error type AWS's JSON services (DynamoDB, Step Functions, API Gateway's @connections) answer for each reason. */
export const JSON_SERVICE_AUTHENTICATION_ERRORS: Readonly<Record<AuthenticationFailure, string>> = {
  missing: 'MissingAuthenticationTokenException',
  unknownKey: 'UnrecognizedClientException',
  badSignature: 'InvalidSignatureException',
};

export type Authentication = { ok: true; accessKeyId: string } | { ok: false; reason: AuthenticationFailure; message: string };

/** How far a request's `X-Amz-Date` may be from now, as AWS allows. */
const MAX_SKEW_MS = 15 * 60 * 1000;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/**
 * Checks a request signed in its `Authorization` header: a key the stack issued
 * (`secretOf` answers undefined for any other), `host` among the signed headers,
 * `X-Amz-Date` within 15 minutes of `now`, and the signature over the request as
 * it arrived. The payload hash is the `x-amz-content-sha256` header when the
 * client sent one (S3 always does), else the hash of `body`.
 */
export function checkSignedRequest(
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body?: Buffer | undefined },
  secretOf: (accessKeyId: string) => string | undefined,
  now: Date = new Date(),
): Authentication {
  const authorization = request.headers.authorization;
  if (typeof authorization !== 'string' || !authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    return { ok: false, reason: 'missing', message: 'Missing Authentication Token' };
  }
  const parts = AUTHORIZATION.exec(authorization.trim());
  if (!parts) return { ok: false, reason: 'badSignature', message: 'Authorization header requires Credential, SignedHeaders and Signature.' };
  const [, accessKeyId = '', date = '', region = '', service = '', signedList = '', signature = ''] = parts;
  const secretAccessKey = secretOf(accessKeyId);
  if (secretAccessKey === undefined) return { ok: false, reason: 'unknownKey', message: 'The security token included in the request is invalid.' };
  const signedHeaders = signedList.split(';');
  if (!signedHeaders.includes('host')) return { ok: false, reason: 'badSignature', message: "'Host' must be a signed header." };
  const amzDate = request.headers['x-amz-date'];
  const signedAt = typeof amzDate === 'string' ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate) : null;
  if (typeof amzDate !== 'string' || !signedAt || !amzDate.startsWith(date) || !signedHeaders.includes('x-amz-date')) {
    return { ok: false, reason: 'badSignature', message: 'X-Amz-Date must be a signed header in the ISO8601 basic format of the credential date.' };
  }
  const [, year, month, day, hour, minute, second] = signedAt;
  const signedMs = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  if (Math.abs(now.getTime() - signedMs) > MAX_SKEW_MS) {
    return { ok: false, reason: 'badSignature', message: `Signature expired: ${amzDate} is more than 15 minutes from the server's time.` };
  }
  const claimed = request.headers['x-amz-content-sha256'];
  const payloadHash = typeof claimed === 'string' ? claimed : request.body === undefined ? undefined : createHash('sha256').update(request.body).digest('hex');
  if (payloadHash === undefined) return { ok: false, reason: 'badSignature', message: 'Missing required header for this request: x-amz-content-sha256' };
  const expected = signatureV4({
    method: request.method,
    canonicalUri: canonicalUri(request.url.split('?')[0] ?? '/', service),
    query: queryOf(request.url),
    headers: request.headers,
    signedHeaders,
    payloadHash,
    amzDate,
    date,
    region,
    service,
    secretAccessKey,
  });
  if (!signaturesMatch(expected, signature)) {
    return {
      ok: false,
      reason: 'badSignature',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return { ok: true, accessKeyId };
}
