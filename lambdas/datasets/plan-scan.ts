import { readAll, readBytes, ScanInput } from '#commons/datasets/scan.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger } from '#commons/runtime/powertools.js';
import { type ByteRange, headerEnd, planRanges } from '#domain/range-scan.js';
import * as z from '#domain/zod.js';

const env = readEnv({
  DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)),
  SCAN_RANGE_BYTES: z.coerce.number().check(z.int(), z.positive()),
  SCAN_MAX_RANGES: z.coerce.number().check(z.int(), z.positive()),
});

/** Longest header looked for; a longer one is one range, whose reader reports LINE_TOO_LONG as a single pass would. */
const HEADER_BYTES = 1024 * 1024 + 4;

export interface ScanPlan {
  dataStart: number;
  ranges: ByteRange[];
  /** A gzip object cannot be cut into byte ranges: it is read whole, in one range, decompressed as it streams. */
  compression: 'gzip' | null;
}

/** The first bytes of every gzip member (RFC 1952). */
const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Plans the scan of one uploaded object: reads its head for the header's end, then
 * cuts the rest into ranges (src/domain/range-scan.ts, planRanges). Only offsets go
 * back into the state, so a plan of the largest file stays far under 256 KB.
 */
export async function planScan(event: unknown): Promise<ScanPlan> {
  const input = ScanInput.parse(event);
  let dataStart: number | undefined;
  if (input.sizeBytes > 0) {
    const head = await readAll(await readBytes({ bucket: env.DATASETS_BUCKET_NAME, ...input }, 0, Math.min(input.sizeBytes, HEADER_BYTES) - 1));
    if (GZIP_MAGIC.every((byte, i) => head[i] === byte)) {
      logger.info('scan planned', { datasetId: input.datasetId, sizeBytes: input.sizeBytes, ranges: 1, compression: 'gzip' });
      return { dataStart: 0, ranges: [{ index: 0, start: 0, end: input.sizeBytes }], compression: 'gzip' };
    }
    dataStart = headerEnd(head);
  }
  const ranges = planRanges({ sizeBytes: input.sizeBytes, dataStart, rangeBytes: env.SCAN_RANGE_BYTES, maxRanges: env.SCAN_MAX_RANGES });
  logger.info('scan planned', { datasetId: input.datasetId, sizeBytes: input.sizeBytes, ranges: ranges.length });
  return { dataStart: dataStart ?? 0, ranges, compression: null };
}

export const handler = eventHandler(planScan, { metrics: false });
