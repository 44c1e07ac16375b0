import { queryOf, signaturesMatch, signatureV4 } from '../iam/sigv4.js';

/**
 * S3's checks of a presigned URL (SigV4 in the query string), which s3rver does not
 * make: the algorithm, a known access key, the expiry (`X-Amz-Date` + `X-Amz-Expires`,
 * at most 7 days) and the signature itself, recomputed from the request as it
 * arrives (method, path as sent, every query parameter but the signature, the signed
 * headers, `UNSIGNED-PAYLOAD`). A URL with one character changed, used after it
 * expired, or signed by an unknown key is refused as S3 refuses it. A signed header
 * is taken from the request as it arrives, so a part URL signed with its length
 * (`content-length` among its signed headers: lambdas/commons/datasets/multipart.ts) refuses
 * a body of any other length, or one sent without a length, with 403
 * SignatureDoesNotMatch, as S3 does.
 */

export type PresignedCheck = { ok: true; accessKeyId: string } | { ok: false; status: number; code: string; message: string };

/** Whether the request is authenticated by its query string (a presigned URL) rather than a header. */
export function isPresigned(url: string): boolean {
  return /[?&]X-Amz-Signature=/.test(url);
}

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

  // The same routine checks header-signed requests (local/iam/sigv4.ts).
  const expected = signatureV4({
    method: request.method,
    canonicalUri: request.url.split('?')[0] ?? '/',
    query: query.filter(([name]) => name !== 'X-Amz-Signature'),
    headers: request.headers,
    signedHeaders,
    payloadHash: get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
    amzDate,
    date,
    region,
    service: 's3',
    secretAccessKey: secret,
  });
  if (!signaturesMatch(expected, signature)) {
    return {
      ok: false,
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  return { ok: true, accessKeyId };
}
