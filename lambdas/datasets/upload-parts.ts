import { ListPartsCommand } from '@aws-sdk/client-s3';
import { type DatasetRecord, openUpload, UPLOAD_URL_TTL_SECONDS } from '../../src/domain/datasets.js';
import { Conflict } from '../../src/domain/errors.js';
import { DatasetId } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { DatasetStore } from '../commons/datasets.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, pathId, tenantOf } from '../commons/http.js';
import { presignParts, s3ErrorCode } from '../commons/multipart.js';
import { s3 } from '../commons/s3.js';

const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)), DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)) });
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

/**
 * `GET /datasets/{datasetId}/parts`: where a multipart upload stands, to resume it.
 * The parts S3 already holds (ListParts: number, ETag, size), and fresh presigned
 * URLs for the others, so an upload interrupted for longer than its URLs live can
 * go on from where it stopped without sending a part twice.
 */
export const handler = httpHandler(async (event) => {
  const tenantId = tenantOf(event);
  const datasetId = pathId(event, 'datasetId', DatasetId, 'dataset');
  const dataset = await datasets.get(tenantId, datasetId);
  const upload = openUpload(dataset);
  const target = { bucket: env.DATASETS_BUCKET_NAME, key: (dataset as DatasetRecord).key, uploadId: upload.uploadId };
  const uploaded: { partNumber: number; etag: string; sizeBytes: number }[] = [];
  try {
    // Page by page while S3 says IsTruncated (the SDK's paginator follows NextPartNumberMarker alone, which S3 may
    // send on the last page too, and would then ask for the same page again).
    for (let marker: string | undefined; ; ) {
      const page = await s3.send(new ListPartsCommand({ Bucket: target.bucket, Key: target.key, UploadId: target.uploadId, PartNumberMarker: marker }));
      for (const part of page.Parts ?? []) {
        if (part.PartNumber !== undefined && part.ETag !== undefined)
          uploaded.push({ partNumber: part.PartNumber, etag: part.ETag, sizeBytes: part.Size ?? 0 });
      }
      if (!page.IsTruncated || page.NextPartNumberMarker === undefined || page.NextPartNumberMarker === marker) break;
      marker = page.NextPartNumberMarker;
    }
  } catch (error) {
    if (s3ErrorCode(error) === 'NoSuchUpload') throw new Conflict('UPLOAD_EXPIRED', 'the upload was aborted or has expired; create a new dataset');
    throw error;
  }
  const have = new Set(uploaded.map((part) => part.partNumber));
  const missing = Array.from({ length: upload.partCount }, (_, index) => index + 1).filter((partNumber) => !have.has(partNumber));
  return json(200, {
    datasetId,
    partSizeBytes: upload.partSizeBytes,
    partCount: upload.partCount,
    uploaded: uploaded.filter((part) => part.partNumber <= upload.partCount).sort((a, b) => a.partNumber - b.partNumber),
    parts: await presignParts(target, missing),
    uploadExpiresAt: new Date(Date.now() + UPLOAD_URL_TTL_SECONDS * 1000).toISOString(),
  });
});
