import type { RangePartial } from '#domain/range-scan.js';
import * as z from '#domain/zod.js';

/*
 * The dataset scan's objects in S3 (src/domain/object-keys.ts names them), checked
 * when read back: a range's partial (scan-range writes it, merge-scan reads it) and a
 * dataset's statistics (merge-scan writes them, training reads them).
 */

const Count = z.number().check(z.int(), z.nonnegative());
const Statistics = z.object({ n: Count, means: z.array(z.number()), triangle: z.array(z.number()) });
const Patterns = z.object({ patterns: z.array(z.object({ absent: z.array(Count), statistics: Statistics })), rowsLeftOut: Count });
const Profile = z.object({
  numbers: Count,
  missing: Count,
  texts: Count,
  values: z.array(z.object({ value: z.string(), count: Count })),
  overflow: z.boolean(),
});

export const RangePartialObject = z.object({
  index: Count,
  columns: z.array(z.string()),
  generated: z.array(Count),
  rows: Count,
  lines: Count,
  error: z.nullable(
    z.object({ code: z.string(), message: z.string(), line: z.optional(z.number().check(z.int())), column: z.optional(z.number().check(z.int())) }),
  ),
  profiles: z.nullable(z.array(Profile)),
  statistics: z.nullable(Patterns),
  overflow: z.boolean(),
}) satisfies z.ZodMiniType<RangePartial>;

/** The statistics object as training reads it: statistics stored before missing values were taken are one ColumnStatistics. */
export const StoredStatisticsObject = z.object({
  datasetId: z.string(),
  etag: z.string(),
  columns: z.array(z.string()),
  rows: Count,
  statistics: z.nullable(z.union([Patterns, Statistics])),
});
