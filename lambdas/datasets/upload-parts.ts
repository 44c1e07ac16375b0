import { listUploadedParts, partPlanOf, presignParts, s3ErrorCode, type UploadedPart } from '#commons/datasets/multipart.js';
import { DatasetStore } from '#commons/datasets/store.js';
import { httpHandler, json, pathId, tenantOf } from '#commons/http/http.js';
import { readEnv } from '#commons/runtime/env.js';
import { s3 } from '#commons/runtime/s3.js';
import { type DatasetRecord, openUpload, UPLOAD_URL_TTL_SECONDS } from '#domain/datasets.js';
import { Conflict } from '#domain/errors.js';
import { DatasetId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

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
  let uploaded: UploadedPart[];
  try {
    uploaded = await listUploadedParts(s3, target);
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
    parts: await presignParts(target, partPlanOf(dataset as DatasetRecord, upload), missing),
    uploadExpiresAt: new Date(Date.now() + UPLOAD_URL_TTL_SECONDS * 1000).toISOString(),
  });
});
