/**
 * How large each function's deployment bundle (`index.mjs`, minified, without its
 * source map) may be. A Node.js function's INIT time grows with the code it loads,
 * and Lambda bills INIT, so every bundle has a budget, checked by the stack tests
 * (test/stack/bundle-budgets.test.ts) for every function of the template and printed
 * beside each bundle's import time by `npx tsx bench/bundles.ts`.
 *
 * A function not named here gets `DEFAULT_BUNDLE_BUDGET`: a new function is covered
 * from its first commit. To raise a budget, say in the commit what the function now
 * needs and what its import time became (bench/bundles.ts).
 */

const KB = 1024;

/** Every function's ceiling unless it is named below. */
export const DEFAULT_BUNDLE_BUDGET = 300 * KB;

/**
 * Functions whose budget is not the default, each with its reason. A function that
 * calls S3 carries its client: about 150 KB (its operation schemas and endpoint rules
 * register themselves, so esbuild cannot drop the operations a function never calls).
 * These are the sizes measured (bench/RESULTS.md) with about 5% to spare, so a
 * dependency that creeps in still fails.
 */
export const BUNDLE_BUDGETS: Readonly<Record<string, number>> = {
  // The OpenAPI document and a few lines: nothing else belongs in it.
  'lambdas/api/openapi.ts': 100 * KB,
  // DynamoDB + S3, and the t and F distributions of a LINEAR model's coefficient table (@stdlib's incomplete beta and
  // t quantile, about 190 KB: src/domain/distributions.ts says why a library). Training is asynchronous: its init time
  // is a job's, not a request's.
  'lambdas/train/train.ts': 705 * KB,
  'lambdas/datasets/validate-dataset.ts': 450 * KB,
  // DynamoDB + S3 (ListParts and presigned part URLs; CompleteMultipartUpload).
  'lambdas/datasets/upload-parts.ts': 445 * KB,
  'lambdas/datasets/complete-upload.ts': 435 * KB,
  // The dataset scan (lib/dataset-scan.ts): S3 (ranged reads, partials), the merge DynamoDB too.
  'lambdas/datasets/plan-scan.ts': 435 * KB,
  'lambdas/datasets/scan-range.ts': 455 * KB,
  'lambdas/datasets/merge-scan.ts': 445 * KB,
  // DynamoDB + S3 (presigned POST).
  'lambdas/datasets/create-dataset.ts': 530 * KB,
  // DynamoDB + S3 + Step Functions.
  'lambdas/api/create-job.ts': 540 * KB,
  // Liveness loads nothing; the clients of the deep check (DynamoDB, S3, Step Functions) are imported on its first call,
  // so they are in the file but not in the INIT of a liveness probe.
  'lambdas/api/health.ts': 640 * KB,
};

/** The budget of the function whose handler is `entry` (project-relative, as in `app:entry`). */
export function bundleBudget(entry: string): number {
  return BUNDLE_BUDGETS[entry] ?? DEFAULT_BUNDLE_BUDGET;
}

export interface BuiltBundle {
  /** The function's logical id in the template. */
  readonly logicalId: string;
  /** Its handler source, as in `app:entry`. */
  readonly entry: string;
  /** The size of its `index.mjs`, in bytes. */
  readonly bytes: number;
}

/** One line per bundle over its budget, naming the function, its size and the budget; none when all fit. */
export function bundlesOverBudget(bundles: readonly BuiltBundle[]): string[] {
  return bundles
    .filter(({ entry, bytes }) => bytes > bundleBudget(entry))
    .map(
      ({ logicalId, entry, bytes }) =>
        `${logicalId} (${entry}): bundle ${(bytes / KB).toFixed(1)} KB is over its budget of ${(bundleBudget(entry) / KB).toFixed(0)} KB (lib/bundle-budgets.ts)`,
    );
}
