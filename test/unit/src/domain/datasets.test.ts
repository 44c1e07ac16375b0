import { describe, expect, it } from 'vitest';
import { checkPartList, MAX_UPLOAD_PARTS, planUpload } from '#domain/datasets.js';

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
const DEFAULTS = { multipartThresholdBytes: 5 * GIB, partSizeBytes: 100 * MIB };

describe('planUpload', () => {
  it('is one presigned POST without a declared size, and up to the threshold inclusive', () => {
    expect(planUpload(undefined, DEFAULTS)).toEqual({ method: 'POST' });
    expect(planUpload(1, DEFAULTS)).toEqual({ method: 'POST' });
    expect(planUpload(5 * GIB, DEFAULTS)).toEqual({ method: 'POST' });
  });

  it('is parts of the configured size above it, the last one shorter', () => {
    expect(planUpload(5 * GIB + 1, DEFAULTS)).toEqual({ method: 'MULTIPART', partSizeBytes: 100 * MIB, partCount: 52 });
    expect(planUpload(4500, { multipartThresholdBytes: 2000, partSizeBytes: 1000 })).toEqual({ method: 'MULTIPART', partSizeBytes: 1000, partCount: 5 });
  });

  it('grows the part size (whole MiB) so that no upload needs more than 1,000 parts', () => {
    // 100 GB at 100 MiB would be 954 parts: kept. 200 GB would be 1,908: parts grow to 191 MiB.
    expect(planUpload(100e9, DEFAULTS)).toEqual({ method: 'MULTIPART', partSizeBytes: 100 * MIB, partCount: 954 });
    const big = planUpload(200e9, DEFAULTS);
    expect(big).toEqual({ method: 'MULTIPART', partSizeBytes: 191 * MIB, partCount: 999 });
    // 5,000 GiB, the most the stack allows: 1,000 parts of 5 GiB, S3's largest part.
    expect(planUpload(1000 * 5 * GIB, DEFAULTS)).toEqual({ method: 'MULTIPART', partSizeBytes: 5 * GIB, partCount: MAX_UPLOAD_PARTS });
  });
});

describe('checkPartList', () => {
  const part = (partNumber: number) => ({ partNumber, etag: `"e${partNumber}"` });
  it('accepts exactly 1..partCount in order', () => {
    expect(checkPartList([part(1), part(2)], 2)).toBeUndefined();
  });
  it('names the first part out of place, or the count', () => {
    expect(checkPartList([part(2)], 2)).toEqual({ path: 'parts.0.partNumber', message: 'must be 1: parts are numbered 1..2, in order' });
    expect(checkPartList([part(1)], 2)).toEqual({ path: 'parts', message: 'the upload has 2 parts; 1 were given' });
  });
});
