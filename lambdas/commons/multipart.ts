import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, S3Client, S3ServiceException, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { UPLOAD_URL_TTL_SECONDS, type UploadSettings } from '../../src/domain/datasets.js';
import * as z from '../../src/domain/zod.js';
import { CLIENT_DEFAULTS } from './clients.js';
import { logger } from './powertools.js';

/**
 * S3 multipart uploads of datasets (README, Datasets: uploads past 5 GB). The functions that start, presign and
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
export const presigningS3 = new S3Client({ ...CLIENT_DEFAULTS, forcePathStyle: endpointOverride !== undefined, requestChecksumCalculation: 'WHEN_REQUIRED' });

export interface PartUrl {
  partNumber: number;
  url: string;
}

/** A presigned UploadPart URL for each of `partNumbers`, valid UPLOAD_URL_TTL_SECONDS. */
export async function presignParts(upload: { bucket: string; key: string; uploadId: string }, partNumbers: readonly number[]): Promise<PartUrl[]> {
  return Promise.all(
    partNumbers.map(async (partNumber) => ({
      partNumber,
      url: await getSignedUrl(
        presigningS3,
        new UploadPartCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: upload.uploadId, PartNumber: partNumber }),
        { expiresIn: UPLOAD_URL_TTL_SECONDS },
      ),
    })),
  );
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
export async function abortMultipartUpload(s3: S3Client, upload: { bucket: string; key: string; uploadId: string }): Promise<void> {
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
