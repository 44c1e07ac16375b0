import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { getJson, putJson, ScanInput } from '#commons/datasets/scan.js';
import { DatasetStore } from '#commons/datasets/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger, metrics } from '#commons/runtime/powertools.js';
import { partialKey, statisticsKey } from '#domain/object-keys.js';
import { mergePartials, type RangePartial, type StoredStatistics } from '#domain/range-scan.js';
import * as z from '#domain/zod.js';

const env = readEnv({ DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)), DATASETS_TABLE_NAME: z.string().check(z.minLength(1)) });
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

const MergeInput = z.extend(ScanInput, { rangeCount: z.number().check(z.int(), z.positive()) });

const Statistics = z.object({ n: z.number().check(z.int(), z.nonnegative()), means: z.array(z.number()), triangle: z.array(z.number()) });
const Partial = z.object({
  index: z.number().check(z.int(), z.nonnegative()),
  columns: z.array(z.string()),
  rows: z.number().check(z.int(), z.nonnegative()),
  lines: z.number().check(z.int(), z.nonnegative()),
  error: z.nullable(
    z.object({ code: z.string(), message: z.string(), line: z.optional(z.number().check(z.int())), column: z.optional(z.number().check(z.int())) }),
  ),
  statistics: z.nullable(Statistics),
  overflow: z.boolean(),
}) satisfies z.ZodMiniType<RangePartial>;

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
      indices.map(async (index) => Partial.parse(await getJson(env.DATASETS_BUCKET_NAME, partialKey(tenantId, datasetId, etag, index)))),
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
  const key = statisticsKey(tenantId, datasetId, etag);
  const stored: StoredStatistics = { datasetId, etag, columns: outcome.columns, rows: outcome.rows, statistics: outcome.statistics };
  await putJson(env.DATASETS_BUCKET_NAME, key, stored);
  const marked = await datasets.markReady(tenantId, datasetId, etag, { rows: outcome.rows, columns: outcome.columns, statisticsKey: key });
  metrics.addMetric('DatasetReady', MetricUnit.Count, 1);
  metrics.addMetric('DatasetRows', MetricUnit.Count, outcome.rows);
  return { datasetId, status: marked ? 'READY' : 'SKIPPED' };
}

export const handler = eventHandler(mergeScan);
