import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { getJson, putJson, ScanInput } from '#commons/datasets/scan.js';
import { RangePartialObject } from '#commons/datasets/scan-objects.js';
import { DatasetStore } from '#commons/datasets/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger, metrics } from '#commons/runtime/powertools.js';
import { partialKey, statisticsKey } from '#domain/object-keys.js';
import { mergePartials, type RangePartial, type StoredStatistics } from '#domain/range-scan.js';
import * as z from '#domain/zod.js';

const env = readEnv({ DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)), DATASETS_TABLE_NAME: z.string().check(z.minLength(1)) });
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

const MergeInput = z.extend(ScanInput, { rangeCount: z.number().check(z.int(), z.positive()) });

/**
 * The most a schema may weigh, as JSON: it is kept in the dataset's item (DynamoDB's
 * limit is 400 KB an item). Only a file with very many categories of long level names
 * comes near it.
 */
const MAX_SCHEMA_BYTES = 300_000;

/** Reading partials a few at a time: each is small, and a merge of a thousand ranges should not open a thousand sockets. */
const PARALLEL_READS = 16;

/**
 * The scan's last step: reads every range's partial, merges them exactly
 * (src/domain/range-scan.ts, mergePartials), stores the dataset's statistics
 * under the object's ETag and marks the dataset READY with them, or INVALID with
 * the earliest bad line of all ranges. Both writes are conditional on the dataset
 * still VALIDATING that object, so a repeated merge changes nothing.
 */
export async function mergeScan(event: unknown): Promise<{ datasetId: string; status: 'READY' | 'INVALID' | 'SKIPPED' }> {
  const input = MergeInput.parse(event);
  const { tenantId, datasetId, etag } = input;
  const partials: RangePartial[] = [];
  for (let first = 0; first < input.rangeCount; first += PARALLEL_READS) {
    const indices = Array.from({ length: Math.min(PARALLEL_READS, input.rangeCount - first) }, (_, i) => first + i);
    const read = await Promise.all(
      indices.map(async (index) => RangePartialObject.parse(await getJson(env.DATASETS_BUCKET_NAME, partialKey(tenantId, datasetId, etag, index)))),
    );
    partials.push(...(read as RangePartial[]));
  }
  const outcome = mergePartials(partials);
  if (outcome.status === 'INVALID') {
    const marked = await datasets.markInvalid(tenantId, datasetId, etag, outcome.error);
    metrics.addMetric('DatasetInvalid', MetricUnit.Count, 1);
    logger.info('dataset is invalid', { datasetId, error: outcome.error });
    return { datasetId, status: marked ? 'INVALID' : 'SKIPPED' };
  }
  // Bytes (UTF-8, as DynamoDB counts an item), not characters: a level of CJK text weighs three bytes a character.
  if (Buffer.byteLength(JSON.stringify(outcome.schema), 'utf8') > MAX_SCHEMA_BYTES) {
    const error = { code: 'SCHEMA_TOO_LARGE', message: `the columns' categories and their levels take more than ${MAX_SCHEMA_BYTES} bytes to describe` };
    const marked = await datasets.markInvalid(tenantId, datasetId, etag, error);
    return { datasetId, status: marked ? 'INVALID' : 'SKIPPED' };
  }
  const key = statisticsKey(tenantId, datasetId, etag);
  const { columns, rows, schema, statistics } = outcome;
  const stored: StoredStatistics = { datasetId, etag, columns, rows, schema, statistics };
  await putJson(env.DATASETS_BUCKET_NAME, key, stored);
  const marked = await datasets.markReady(tenantId, datasetId, etag, { rows, columns, schema, statisticsKey: key, compression: input.compression });
  metrics.addMetric('DatasetReady', MetricUnit.Count, 1);
  metrics.addMetric('DatasetRows', MetricUnit.Count, outcome.rows);
  return { datasetId, status: marked ? 'READY' : 'SKIPPED' };
}

export const handler = eventHandler(mergeScan);
