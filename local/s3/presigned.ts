import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * S3's checks of a presigned URL (SigV4 in the query string), which s3rver does not
 * make: the algorithm, a known access key, the expiry (`X-Amz-Date` + `X-Amz-Expires`,
 * at most 7 days) and the signature itself, recomputed from the request as it
 * arrives (method, path as sent, every query parameter but the signature, the signed
 * headers, `UNSIGNED-PAYLOAD`). A URL with one character changed, used after it
 * expired, or signed by an unknown key is refused as S3 refuses it.
 */

export type PresignedCheck = { ok: true; accessKeyId: string } | { ok: false; status: number; code: string; message: string };

/** Whether the request is authenticated by its query string (a presigned URL) rather than a header. */
export function isPresigned(url: string): boolean {
  return /[?&]X-Amz-Signature=/.test(url);
}

/** RFC 3986 encoding, as SigV4 canonicalises names and values. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

function queryOf(url: string): [string, string][] {
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

export function checkPresignedUrl(
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined> },
  secretOf: (accessKeyId: string) => string | undefined,
  now: Date,
): PresignedCheck {
  const invalid = (message: string): PresignedCheck => ({ ok: false, status: 400, code: 'AuthorizationQueryParametersError', message });
  const query = queryOf(request.url);
  const get = (name: string) => query.find(([key]) => key === name)?.[1];
  if (get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return invalid('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const credential = get('X-Amz-Credential') ?? '';
  const [accessKeyId = '', date = '', region = '', service = '', terminator = ''] = credential.split('/');
  if (service !== 's3' || terminator !== 'aws4_request' || !/^\d{8}$/.test(date)) return invalid('Error parsing the X-Amz-Credential parameter');
  const amzDate = get('X-Amz-Date') ?? '';
  const signedAt = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!signedAt || !amzDate.startsWith(date)) return invalid("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  const expires = Number(get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > 604_800) return invalid('X-Amz-Expires must be between 1 and 604800 seconds');
  const signature = get('X-Amz-Signature') ?? '';
  const signedHeaders = (get('X-Amz-SignedHeaders') ?? '').split(';').filter((name) => name !== '');
  if (!signedHeaders.includes('host')) return invalid('X-Amz-SignedHeaders must include host');

  const secret = secretOf(accessKeyId);
  if (secret === undefined)
    return { ok: false, status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  const [, year, month, day, hour, minute, second] = signedAt;
  const signedMs = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  if (now.getTime() > signedMs + expires * 1000) return { ok: false, status: 403, code: 'AccessDenied', message: 'Request has expired' };

  const canonicalQuery = query
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headerValue = (name: string) => {
    const value = request.headers[name];
    return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
  };
  const canonicalRequest = [
    request.method,
    request.url.split('?')[0] ?? '/',
    canonicalQuery,
    ...signedHeaders.map((name) => `${name}:${headerValue(name)}`),
    '',
    signedHeaders.join(';'),
    get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return {
      ok: false,
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  return { ok: true, accessKeyId };
}
