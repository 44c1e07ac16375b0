import { CSV_DECIMALS, CSV_DELIMITERS } from '#domain/datasets.js';
import { DatasetId, TenantId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

/**
 * What the dataset scan's steps pass each other (docs/design.md, "The dataset scan"): ids,
 * the object version and byte offsets only. Statistics travel through S3, never
 * through the state payload (256 KB).
 */
export const ScanInput = z.object({
  tenantId: TenantId,
  datasetId: DatasetId,
  key: z.string().check(z.minLength(1)),
  etag: z.string().check(z.minLength(1)),
  sizeBytes: z.number().check(z.int(), z.nonnegative()),
  /** How the file is written (POST /datasets); absent in executions started before formats: comma and point. */
  format: z._default(z.object({ delimiter: z.enum(CSV_DELIMITERS), decimal: z.enum(CSV_DECIMALS) }), { delimiter: ',', decimal: '.' }),
  /** Set by the plan (after it, absent before): a gzip object is read whole, in one range. */
  compression: z.optional(z.nullable(z.literal('gzip'))),
});
export type ScanInput = z.infer<typeof ScanInput>;

export const ByteRangeInput = z.object({
  index: z.number().check(z.int(), z.nonnegative()),
  start: z.number().check(z.int(), z.nonnegative()),
  end: z.number().check(z.int(), z.nonnegative()),
});
