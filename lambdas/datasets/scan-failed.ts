import { ScanInput } from '#commons/datasets/scan-input.js';
import { DatasetStore } from '#commons/datasets/store.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger } from '#commons/runtime/powertools.js';
import * as z from '#domain/zod.js';

const env = readEnv({ DATASETS_TABLE_NAME: z.string().check(z.minLength(1)) });
const datasets = new DatasetStore(env.DATASETS_TABLE_NAME);

const FailedInput = z.extend(ScanInput, { failure: z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })) });

/**
 * The scan's Catch: a step failed for good (retries spent, a timeout), so the
 * dataset would otherwise stay VALIDATING. It becomes INVALID with
 * VALIDATION_FAILED, as when the validation's own retries are spent; the client
 * uploads again. A dataset that already settled is left as it is.
 */
export async function scanFailed(event: unknown): Promise<{ datasetId: string; status: 'INVALID' | 'SKIPPED' }> {
  const { tenantId, datasetId, failure } = FailedInput.parse(event);
  logger.error('dataset scan failed', { datasetId, failure });
  const marked = await datasets.markValidationFailed(tenantId, datasetId, {
    code: 'VALIDATION_FAILED',
    message: 'the file could not be checked; create a new dataset and upload it again',
  });
  return { datasetId, status: marked ? 'INVALID' : 'SKIPPED' };
}

export const handler = eventHandler(scanFailed, { metrics: false });
