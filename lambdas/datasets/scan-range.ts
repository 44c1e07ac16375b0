import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ByteRangeInput, putJson, readAll, readBytes, ScanInput } from '#commons/datasets/scan.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger } from '#commons/runtime/powertools.js';
import { limitsFrom } from '#domain/limits.js';
import { partialKey } from '#domain/object-keys.js';
import { lastByteNeeded, type RangePartial, RangeScan } from '#domain/range-scan.js';
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
  if (input.compression === 'gzip') return scanCompressed(input, object);
  const header = range.index > 0 ? await readAll(await readBytes(object, 0, input.dataStart - 1)) : undefined;
  const scan = new RangeScan(range, { maxColumns: limits.maxDatasetColumns, format: input.format, ...(header ? { header } : {}) });
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
  return storePartial(input, scan.finish());
}

/** A gzip object: one range, the whole decompressed file (the plan made it one range). */
async function scanCompressed(input: z.infer<typeof ScanRangeInput>, object: { bucket: string; key: string; etag: string }) {
  const scan = new RangeScan({ index: 0, start: 0, end: Number.MAX_SAFE_INTEGER }, { maxColumns: limits.maxDatasetColumns, format: input.format });
  let position = 0;
  const body = await readBytes(object, 0);
  const gunzip = createGunzip();
  // pipeline, not pipe: a failed download fails gunzip (and so the loop) rather than leaving it waiting for bytes.
  pipeline(Readable.from(body), gunzip, () => {});
  try {
    for await (const chunk of gunzip) {
      const done = scan.push(chunk as Buffer, position);
      position += (chunk as Buffer).length;
      // A bad line: the rest cannot change the outcome. Leaving the loop ends gunzip, not the download: stop that too.
      if (done) {
        body.destroy?.();
        break;
      }
    }
  } catch (error) {
    body.destroy?.();
    // A corrupt or truncated gzip stream is bad data, not a failure worth a retry: the partial records it.
    if (!(error instanceof Error && 'code' in error && String(error.code).startsWith('Z_'))) throw error;
    const failure = { code: 'BAD_COMPRESSION', message: `the gzip stream cannot be read: ${error.message}` };
    return storePartial(input, { ...scan.finish(), error: failure, profiles: null, statistics: null });
  }
  return storePartial(input, scan.finish());
}

async function storePartial(input: z.infer<typeof ScanRangeInput>, partial: RangePartial): Promise<{ index: number; rows: number }> {
  const { range } = input;
  await putJson(env.DATASETS_BUCKET_NAME, partialKey(input.tenantId, input.datasetId, input.etag, range.index), partial);
  logger.info('range scanned', { datasetId: input.datasetId, range, rows: partial.rows, error: partial.error?.code });
  return { index: range.index, rows: partial.rows };
}

export const handler = eventHandler(scanRange, { metrics: false });
