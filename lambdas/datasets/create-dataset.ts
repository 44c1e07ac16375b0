import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import {
  CreateDatasetBody,
  type DatasetRecord,
  DEFAULT_DATASET_RETENTION_DAYS,
  datasetKey,
  toDatasetView,
  UPLOAD_URL_TTL_SECONDS,
} from '../../src/domain/datasets.js';
import { limitsFrom } from '../../src/domain/limits.js';
import { parseInput } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { DatasetStore } from '../commons/datasets.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, jsonBody, tenantOf } from '../commons/http.js';
import { metrics } from '../commons/powertools.js';
import { s3 } from '../commons/s3.js';

const env = readEnv({
  DATASETS_TABLE_NAME: z.string().check(z.minLength(1)),
  DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)),
  DATASET_RETENTION_DAYS: z._default(z.coerce.number().check(z.int(), z.positive()), DEFAULT_DATASET_RETENTION_DAYS),
});
const limits = limitsFrom(process.env);
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

/** The body is optional: no body (or an empty one) is `{}`. */
function bodyOf(event: APIGatewayProxyEvent): unknown {
  return event.body === null || event.body === '' ? {} : jsonBody(event, limits.maxBodyBytes);
}

/**
 * Registers a dataset and answers a presigned POST for its upload. A POST (rather
 * than a PUT) lets the policy pin the exact key under the caller's prefix and the
 * size range, so S3 itself refuses another key or a file over the limit. The size
 * is checked again after upload, for S3 emulators that ignore the policy.
 */
export const handler = httpHandler(async (event) => {
  const tenantId = tenantOf(event);
  const { name } = parseInput(CreateDatasetBody, bodyOf(event));
  const now = new Date();
  const datasetId = ulid(now.getTime());
  const key = datasetKey(tenantId, datasetId);
  const upload = await createPresignedPost(s3, {
    Bucket: env.DATASETS_BUCKET_NAME,
    Key: key,
    Conditions: [['content-length-range', 1, limits.maxDatasetBytes]],
    Expires: UPLOAD_URL_TTL_SECONDS,
  });
  const dataset: DatasetRecord = {
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
  };
  await datasets.create(dataset);
  metrics.addMetric('DatasetCreated', MetricUnit.Count, 1);
  return json(
    201,
    {
      ...toDatasetView(dataset),
      uploadUrl: upload.url,
      fields: upload.fields,
      uploadExpiresAt: new Date(now.getTime() + UPLOAD_URL_TTL_SECONDS * 1000).toISOString(),
      maxBytes: limits.maxDatasetBytes,
    },
    { Location: `${event.requestContext.path}/${datasetId}` },
  );
});
