import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CompleteMultipartUploadCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  abortMultipartUpload,
  listUploadedParts,
  oversizedParts,
  partPlanOf,
  s3ErrorCode,
  type UploadedPart,
  type UploadTarget,
} from '#commons/datasets/multipart.js';
import { DatasetStore } from '#commons/datasets/store.js';
import { httpHandler, json, jsonBody, pathId, tenantOf } from '#commons/http/http.js';
import { readEnv } from '#commons/runtime/env.js';
import { metrics } from '#commons/runtime/powertools.js';
import { s3 } from '#commons/runtime/s3.js';
import { CompleteUploadBody, checkPartList, type DatasetRecord, type MultipartUploadRecord, openUpload, toDatasetView } from '#domain/datasets.js';
import { Conflict, ValidationFailed } from '#domain/errors.js';
import { limitsFrom } from '#domain/limits.js';
import { DatasetId, parseInput } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)), DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)) });
const limits = limitsFrom(process.env);
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

/** S3's refusals of a part list, as the client's mistakes they are (400, each with its code). */
const PART_ERRORS: Record<string, { code: string; message: string }> = {
  InvalidPart: { code: 'INVALID_PART', message: 'a part was not uploaded, or its ETag is not the one S3 answered for it' },
  InvalidPartOrder: { code: 'INVALID_PART_ORDER', message: 'the parts must be listed in ascending order of partNumber' },
  EntityTooSmall: { code: 'PART_TOO_SMALL', message: 'every part but the last must be partSizeBytes long (S3 refuses parts under 5 MiB)' },
};

function bodyOf(event: APIGatewayProxyEvent): unknown {
  return jsonBody(event, limits.maxBodyBytes);
}

/** S3's NoSuchUpload as the client's 409; any other error as it is. */
function expiredOr(error: unknown): unknown {
  return s3ErrorCode(error) === 'NoSuchUpload' ? new Conflict('UPLOAD_EXPIRED', 'the upload was aborted or has expired; create a new dataset') : error;
}

/**
 * Refuses (400 PART_TOO_LARGE) an upload whose parts S3 holds are longer than the declared size allows, and aborts
 * it first, so that none of its bytes outlive the refusal: the declaration is what the size limit was checked
 * against when the dataset was created, and an upload left open would keep its parts for a day (the bucket's
 * lifecycle rule). The client creates a new dataset.
 */
async function refuseOversizedParts(target: UploadTarget, dataset: DatasetRecord, upload: MultipartUploadRecord): Promise<void> {
  let uploaded: UploadedPart[];
  try {
    uploaded = await listUploadedParts(s3, target);
  } catch (error) {
    throw expiredOr(error);
  }
  const oversized = oversizedParts(partPlanOf(dataset, upload), uploaded);
  if (oversized.length === 0) return;
  await abortMultipartUpload(s3, target);
  metrics.addMetric('MultipartUploadOversized', MetricUnit.Count, 1);
  throw new ValidationFailed('a part is larger than the declared size allows; the upload was aborted: create a new dataset', oversized, 'PART_TOO_LARGE');
}

/**
 * `POST /datasets/{datasetId}/complete`: completes the dataset's multipart upload
 * with every part's ETag, once the parts S3 holds are checked against the declared
 * size (ListParts). S3 then announces the object as it announces a POST upload
 * (ObjectCreated), and the dataset is validated the same way. A dataset is
 * completed once: a second completion is 409 `UPLOAD_ALREADY_COMPLETE`.
 */
export const handler = httpHandler(async (event) => {
  const tenantId = tenantOf(event);
  const datasetId = pathId(event, 'datasetId', DatasetId, 'dataset');
  const { parts } = parseInput(CompleteUploadBody, bodyOf(event));
  const dataset = await datasets.get(tenantId, datasetId);
  const upload = openUpload(dataset);
  const record = dataset as DatasetRecord;
  const wrong = checkPartList(parts, upload.partCount);
  if (wrong) throw new ValidationFailed('the part list does not match the upload', [wrong], 'INVALID_PART');
  const target = { bucket: env.DATASETS_BUCKET_NAME, key: record.key, uploadId: upload.uploadId };
  await refuseOversizedParts(target, record, upload);
  try {
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: target.bucket,
        Key: target.key,
        UploadId: target.uploadId,
        MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
      }),
    );
  } catch (error) {
    const code = s3ErrorCode(error);
    const refusal = code === undefined ? undefined : PART_ERRORS[code];
    if (refusal) throw new ValidationFailed(refusal.message, undefined, refusal.code);
    throw expiredOr(error);
  }
  const completed = await datasets.markUploadCompleted(tenantId, datasetId, upload.uploadId);
  if (!completed) throw new Conflict('UPLOAD_ALREADY_COMPLETE', 'the upload of this dataset is complete');
  metrics.addMetric('MultipartUploadCompleted', MetricUnit.Count, 1);
  return json(200, toDatasetView(completed));
});
