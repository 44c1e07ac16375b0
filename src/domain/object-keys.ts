import { DatasetId, TenantId } from './schemas.js';
import * as z from './zod.js';

/**
 * Where everything lives in the datasets bucket: one module for every key and
 * prefix, read by the handlers and by the stack (lib/: grants, lifecycle rules and
 * the upload notification are scoped to these prefixes). Every key starts with
 * its prefix and then the tenant, so a grant or policy on `<prefix><tenant>/`
 * holds one tenant's objects and nothing else.
 */

/** Uploaded CSVs: `datasets/<tenantId>/<datasetId>.csv`. */
export const DATASETS_PREFIX = 'datasets/';
/** The dataset scan's partials and each dataset's statistics: `scans/<tenantId>/<datasetId>/<etag>/…`. */
export const SCANS_PREFIX = 'scans/';
/** A job's inline points: `jobs/<tenantId>/<jobId>.json`. */
export const INLINE_DATA_PREFIX = 'jobs/';

/** `datasets/<tenantId>/<datasetId>.csv`: the tenant prefix is what the upload policy pins. */
export function datasetKey(tenantId: string, datasetId: string): string {
  return `${DATASETS_PREFIX}${tenantId}/${datasetId}.csv`;
}

const DATASET_KEY = new RegExp(`^${DATASETS_PREFIX}([^/]+)/([^/]+)\\.csv$`);

const DatasetKey = z.pipe(
  z.pipe(
    z.string(),
    z.transform((key: string, ctx) => {
      const match = DATASET_KEY.exec(key);
      if (!match) {
        ctx.issues.push({ code: 'custom', message: 'not a dataset key', input: key });
        return z.NEVER;
      }
      return { tenantId: match[1], datasetId: match[2] };
    }),
  ),
  z.object({ tenantId: TenantId, datasetId: DatasetId }),
);

/** The tenant and dataset a key belongs to, or undefined for a key this service did not hand out. */
export function parseDatasetKey(key: string): { tenantId: string; datasetId: string } | undefined {
  const parsed = DatasetKey.safeParse(key);
  return parsed.success ? parsed.data : undefined;
}

/** One scan range's partial statistics, under the object version (ETag) scanned. */
export function partialKey(tenantId: string, datasetId: string, etag: string, index: number): string {
  return `${SCANS_PREFIX}${tenantId}/${datasetId}/${etag}/partials/${index}.json`;
}

/** The dataset's statistics, named by the ETag of the object they were computed from. */
export function statisticsKey(tenantId: string, datasetId: string, etag: string): string {
  return `${SCANS_PREFIX}${tenantId}/${datasetId}/${etag}/statistics.json`;
}

/** The object that holds a job's inline points, under its tenant's prefix. */
export function inlineDataKey(tenantId: string, jobId: string): string {
  return `${INLINE_DATA_PREFIX}${tenantId}/${jobId}.json`;
}
