import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { CLIENT_DEFAULTS } from '#commons/runtime/clients.js';
import { logger } from '#commons/runtime/powertools.js';
import { type DatasetRecord, type MultipartUploadRecord, UPLOAD_URL_TTL_SECONDS, type UploadSettings } from '#domain/datasets.js';
import * as z from '#domain/zod.js';

/**
 * S3 multipart uploads of datasets (docs/design.md, Large datasets: uploads past 5 GiB). The functions that start, presign and
 * complete them share this module; each is granted only the S3 actions it calls (lib/datasets.ts).
 */

/** The upload settings every upload function reads, from the stack props of lib/datasets.ts. */
export function uploadSettingsFrom(env: Record<string, string | undefined>): UploadSettings {
  const parsed = z
    .object({
      DATASET_MULTIPART_THRESHOLD_BYTES: z.coerce.number().check(z.int(), z.positive()),
      DATASET_PART_BYTES: z.coerce.number().check(z.int(), z.positive()),
    })
    .parse(env);
  return { multipartThresholdBytes: parsed.DATASET_MULTIPART_THRESHOLD_BYTES, partSizeBytes: parsed.DATASET_PART_BYTES };
}

const endpointOverride = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;

/**
 * The client that presigns part URLs. Without WHEN_REQUIRED the SDK would sign a checksum of the empty body it
 * presigns with into each URL (`x-amz-checksum-crc32`), and S3 would refuse every part as a checksum mismatch.
 */
export const presigningS3 = new S3Client({
  ...CLIENT_DEFAULTS,
  forcePathStyle: endpointOverride !== undefined,
  requestChecksumCalculation: 'WHEN_REQUIRED',
});

/** A multipart upload in S3: where it is, and its id. */
export interface UploadTarget {
  bucket: string;
  key: string;
  uploadId: string;
}

/** How a declared size was cut into parts: every part but the last is `partSizeBytes` long, the last holds the rest. */
export interface PartPlan {
  sizeBytes: number;
  partSizeBytes: number;
  partCount: number;
}

/**
 * The part plan of a dataset's upload. The size is the one declared at creation, which chose the parts; a record
 * without one (none is written so) is bounded by its parts, every one full.
 */
export function partPlanOf(dataset: Pick<DatasetRecord, 'declaredSizeBytes'>, upload: MultipartUploadRecord): PartPlan {
  return {
    sizeBytes: dataset.declaredSizeBytes ?? upload.partCount * upload.partSizeBytes,
    partSizeBytes: upload.partSizeBytes,
    partCount: upload.partCount,
  };
}

/** The exact length of part `partNumber` (1..partCount) of `plan`. */
export function partLength(plan: PartPlan, partNumber: number): number {
  return partNumber < plan.partCount ? plan.partSizeBytes : plan.sizeBytes - (plan.partCount - 1) * plan.partSizeBytes;
}

export interface PartUrl {
  partNumber: number;
  url: string;
}

/**
 * A presigned UploadPart URL for each of `partNumbers`, valid UPLOAD_URL_TTL_SECONDS, each signed for its part's exact
 * length: `content-length` is among the URL's signed headers, so S3 refuses a body of any other length (403
 * SignatureDoesNotMatch) and a declaration bounds what is stored (docs/design.md, "Large datasets"). Naming the header in
 * `signableHeaders` keeps it signed whatever the signer's default list of unsignable headers becomes.
 */
export async function presignParts(upload: UploadTarget, plan: PartPlan, partNumbers: readonly number[]): Promise<PartUrl[]> {
  return Promise.all(
    partNumbers.map(async (partNumber) => ({
      partNumber,
      url: await getSignedUrl(
        presigningS3,
        new UploadPartCommand({
          Bucket: upload.bucket,
          Key: upload.key,
          UploadId: upload.uploadId,
          PartNumber: partNumber,
          ContentLength: partLength(plan, partNumber),
        }),
        { expiresIn: UPLOAD_URL_TTL_SECONDS, signableHeaders: new Set(['content-length']) },
      ),
    })),
  );
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  sizeBytes: number;
}

/** Every part S3 holds for `upload` (ListParts), in S3's order; throws S3's NoSuchUpload for an aborted or expired one. */
export async function listUploadedParts(s3: S3Client, upload: UploadTarget): Promise<UploadedPart[]> {
  const uploaded: UploadedPart[] = [];
  // Page by page while S3 says IsTruncated (the SDK's paginator follows NextPartNumberMarker alone, which S3 may
  // send on the last page too, and would then ask for the same page again).
  for (let marker: string | undefined; ; ) {
    const page = await s3.send(new ListPartsCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: upload.uploadId, PartNumberMarker: marker }));
    for (const part of page.Parts ?? []) {
      if (part.PartNumber !== undefined && part.ETag !== undefined) uploaded.push({ partNumber: part.PartNumber, etag: part.ETag, sizeBytes: part.Size ?? 0 });
    }
    if (!page.IsTruncated || page.NextPartNumberMarker === undefined || page.NextPartNumberMarker === marker) return uploaded;
    marker = page.NextPartNumberMarker;
  }
}

/**
 * The parts of `plan` that S3 holds longer than their length, as the `details` of a refusal. A part URL signed for its
 * length cannot store one; this catches what such a URL does not bound (one issued before lengths were signed, or an
 * S3 emulator that ignores the signed header). With every part at most its length, the whole is at most the declared
 * size.
 */
export function oversizedParts(plan: PartPlan, uploaded: readonly UploadedPart[]): { path: string; message: string }[] {
  return uploaded
    .filter((part) => part.partNumber <= plan.partCount && part.sizeBytes > partLength(plan, part.partNumber))
    .sort((a, b) => a.partNumber - b.partNumber)
    .map((part) => ({
      path: `parts.${part.partNumber - 1}`,
      message: `part ${part.partNumber} has ${part.sizeBytes} bytes; the declared size allows ${partLength(plan, part.partNumber)}`,
    }));
}

export async function createMultipartUpload(s3: S3Client, bucket: string, key: string): Promise<string> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'text/csv' }));
  if (!UploadId) throw new Error('CreateMultipartUpload answered no UploadId');
  return UploadId;
}

/**
 * Best effort: an upload nobody will complete. What is left (this call failing too) is removed by the bucket's
 * AbortIncompleteMultipartUpload lifecycle rule a day later.
 */
export async function abortMultipartUpload(s3: S3Client, upload: UploadTarget): Promise<void> {
  try {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: upload.uploadId }));
  } catch (error) {
    logger.warn('could not abort a multipart upload; the lifecycle rule will', {
      key: upload.key,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** S3's error code (`InvalidPart`, `NoSuchUpload`, …), or undefined for an error that is not S3's answer. */
export function s3ErrorCode(error: unknown): string | undefined {
  return error instanceof S3ServiceException ? error.name : undefined;
}
