import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { abortMultipartUpload, createMultipartUpload, partPlanOf, presignParts, uploadSettingsFrom } from '#commons/datasets/multipart.js';
import { DatasetStore } from '#commons/datasets/store.js';
import { httpHandler, json, jsonBody, tenantOf } from '#commons/http/http.js';
import { readEnv } from '#commons/runtime/env.js';
import { metrics } from '#commons/runtime/powertools.js';
import { s3 } from '#commons/runtime/s3.js';
import {
  CreateDatasetBody,
  type DatasetRecord,
  DEFAULT_DATASET_RETENTION_DAYS,
  type MultipartUploadRecord,
  planUpload,
  SINGLE_UPLOAD_MAX_BYTES,
  toDatasetView,
  UPLOAD_URL_TTL_SECONDS,
} from '#domain/datasets.js';
import { ValidationFailed } from '#domain/errors.js';
import { limitsFrom } from '#domain/limits.js';
import { datasetKey } from '#domain/object-keys.js';
import { parseInput } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({
  DATASETS_TABLE_NAME: z.string().check(z.minLength(1)),
  DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)),
  DATASET_RETENTION_DAYS: z._default(z.coerce.number().check(z.int(), z.positive()), DEFAULT_DATASET_RETENTION_DAYS),
});
const limits = limitsFrom(process.env);
const uploads = uploadSettingsFrom(process.env);
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

/** The body is optional: no body (or an empty one) is `{}`. */
function bodyOf(event: APIGatewayProxyEvent): unknown {
  return event.body === null || event.body === '' ? {} : jsonBody(event, limits.maxBodyBytes);
}

/**
 * Registers a dataset and answers how to upload it. Up to the multipart threshold
 * (or without a declared `sizeBytes`), a presigned POST: a POST (rather than a PUT)
 * lets the policy pin the exact key under the caller's prefix and the size range,
 * so S3 itself refuses another key or a file over the limit. Above it, an S3
 * multipart upload with a presigned UploadPart URL per part, each signed for its
 * part's exact length, completed by `POST /datasets/{datasetId}/complete`, which
 * checks the parts' sizes again. Either way the size is checked again after upload
 * (HeadObject, in the validation), for S3 emulators that ignore the policy or the
 * signed length.
 */
export const handler = httpHandler(async (event) => {
  const tenantId = tenantOf(event);
  const { name, sizeBytes, delimiter, decimal } = parseInput(CreateDatasetBody, bodyOf(event));
  if (sizeBytes !== undefined && sizeBytes > limits.maxDatasetBytes) {
    throw new ValidationFailed(
      `the file is too large: at most ${limits.maxDatasetBytes} bytes`,
      [{ path: 'sizeBytes', message: `must be at most ${limits.maxDatasetBytes}` }],
      'DATASET_TOO_LARGE',
    );
  }
  const now = new Date();
  const datasetId = ulid(now.getTime());
  const key = datasetKey(tenantId, datasetId);
  const plan = planUpload(sizeBytes, uploads);
  const uploadExpiresAt = new Date(now.getTime() + UPLOAD_URL_TTL_SECONDS * 1000).toISOString();
  const location = { Location: `${event.requestContext.path}/${datasetId}` };
  const record = (extra: Partial<DatasetRecord>): DatasetRecord => ({
    tenantId,
    datasetId,
    ...(name ? { name } : {}),
    status: 'PENDING_UPLOAD',
    key,
    sizeBytes: null,
    rows: null,
    columns: [],
    error: null,
    createdAt: now.toISOString(),
    validatedAt: null,
    expiresAt: Math.floor(now.getTime() / 1000) + env.DATASET_RETENTION_DAYS * 86_400,
    ...(sizeBytes === undefined ? {} : { declaredSizeBytes: sizeBytes }),
    ...(delimiter === undefined && decimal === undefined ? {} : { format: { delimiter: delimiter ?? ',', decimal: decimal ?? '.' } }),
    ...extra,
  });

  if (plan.method === 'MULTIPART') {
    const bucket = env.DATASETS_BUCKET_NAME;
    const uploadId = await createMultipartUpload(s3, bucket, key);
    const multipart: MultipartUploadRecord = { uploadId, partSizeBytes: plan.partSizeBytes, partCount: plan.partCount, completedAt: null };
    const dataset = record({ multipart });
    try {
      await datasets.create(dataset);
    } catch (error) {
      // No record names this upload: nobody could complete it.
      await abortMultipartUpload(s3, { bucket, key, uploadId });
      throw error;
    }
    const parts = await presignParts(
      { bucket, key, uploadId },
      partPlanOf(dataset, multipart),
      Array.from({ length: plan.partCount }, (_, index) => index + 1),
    );
    metrics.addMetric('DatasetCreated', MetricUnit.Count, 1);
    metrics.addMetric('MultipartUploadStarted', MetricUnit.Count, 1);
    return json(
      201,
      {
        ...toDatasetView(dataset),
        uploadMethod: 'MULTIPART',
        partSizeBytes: plan.partSizeBytes,
        partCount: plan.partCount,
        parts,
        uploadExpiresAt,
        maxBytes: limits.maxDatasetBytes,
      },
      location,
    );
  }

  const upload = await createPresignedPost(s3, {
    Bucket: env.DATASETS_BUCKET_NAME,
    Key: key,
    Conditions: [['content-length-range', 1, Math.min(limits.maxDatasetBytes, SINGLE_UPLOAD_MAX_BYTES)]],
    Expires: UPLOAD_URL_TTL_SECONDS,
  });
  const dataset = record({});
  await datasets.create(dataset);
  metrics.addMetric('DatasetCreated', MetricUnit.Count, 1);
  return json(
    201,
    { ...toDatasetView(dataset), uploadMethod: 'POST', uploadUrl: upload.url, fields: upload.fields, uploadExpiresAt, maxBytes: limits.maxDatasetBytes },
    location,
  );
});
