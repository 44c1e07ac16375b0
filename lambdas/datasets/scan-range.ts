import { ByteRangeInput, putJson, readAll, readBytes, ScanInput } from '#commons/datasets/scan.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger } from '#commons/runtime/powertools.js';
import { limitsFrom } from '#domain/limits.js';
import { partialKey } from '#domain/object-keys.js';
import { lastByteNeeded, RangeScan } from '#domain/range-scan.js';
import * as z from '#domain/zod.js';

const env = readEnv({ DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)) });
const limits = limitsFrom(process.env);

const ScanRangeInput = z.extend(ScanInput, { dataStart: z.number().check(z.int(), z.nonnegative()), range: ByteRangeInput });

/**
 * One child of the scan's Distributed Map: reads its byte range of the object
 * (aligned to lines, src/domain/range-scan.ts RangeScan), validates it with the
 * CSV reader and reduces it to partial statistics, written to S3. Bad data is
 * not an error here: the partial records its first bad line for the merge. A
 * dependency that failed is thrown as TransientError (eventHandler) and the Map's
 * Retry runs the range again; anything else fails the scan.
 */
export async function scanRange(event: unknown): Promise<{ index: number; rows: number }> {
  const input = ScanRangeInput.parse(event);
  const { range } = input;
  const object = { bucket: env.DATASETS_BUCKET_NAME, key: input.key, etag: input.etag };
  const header = range.index > 0 ? await readAll(await readBytes(object, 0, input.dataStart - 1)) : undefined;
  const scan = new RangeScan(range, { maxColumns: limits.maxDatasetColumns, ...(header ? { header } : {}) });
  if (range.start < input.sizeBytes) {
    // Bounded: the range and one line past it at most, so no child downloads the rest of the file.
    const body = await readBytes(object, range.start, lastByteNeeded(range, input.sizeBytes));
    let position = range.start;
    for await (const chunk of body) {
      const done = scan.push(chunk, position);
      position += chunk.length;
      if (done) {
        // The rest of the object belongs to later ranges: stop downloading it.
        body.destroy?.();
        break;
      }
    }
  }
  const partial = scan.finish();
  await putJson(env.DATASETS_BUCKET_NAME, partialKey(input.tenantId, input.datasetId, input.etag, range.index), partial);
  logger.info('range scanned', { datasetId: input.datasetId, range, rows: partial.rows, error: partial.error?.code });
  return { index: range.index, rows: partial.rows };
}

export const handler = eventHandler(scanRange, { metrics: false });
