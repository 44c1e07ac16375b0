import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { z } from 'zod';
import { JobId, TenantId } from '../../src/domain/schemas.js';
import { readEnv } from '../commons/env.js';
import { logger } from '../commons/powertools.js';
import { JobStore, Lifecycle, ModelStore } from '../commons/store.js';

const env = readEnv({ JOBS_TABLE_NAME: z.string().min(1), MODELS_TABLE_NAME: z.string().min(1) });
const jobs = new JobStore(env.JOBS_TABLE_NAME);
const lifecycle = new Lifecycle(jobs, new ModelStore(env.MODELS_TABLE_NAME));

/** What the state machine's Catch passes on: the execution input plus `failure`. */
const MarkFailedInput = z.object({
  tenantId: TenantId,
  jobId: JobId,
  failure: z.object({ Error: z.string(), Cause: z.string().optional() }),
});

/**
 * The workflow's last resort: after the training task's retries are spent (or it
 * timed out), the job and its model are marked FAILED so no job is left QUEUED or
 * RUNNING. The client sees the error's name, never its internal cause.
 */
export async function markFailed(input: unknown): Promise<{ jobId: string; marked: boolean }> {
  const { tenantId, jobId, failure } = MarkFailedInput.parse(input);
  logger.error('training workflow failed', { jobId, error: failure.Error, cause: failure.Cause });
  const job = await jobs.get(tenantId, jobId);
  if (!job) return { jobId, marked: false };
  const timedOut = failure.Error === 'States.Timeout';
  const error = {
    code: timedOut ? 'TRAINING_TIMEOUT' : 'TRAINING_ERROR',
    message: timedOut ? 'training took longer than allowed' : `training failed after ${job.attempts} attempt(s) (${failure.Error})`,
  };
  const marked = await lifecycle.finish(job, 'FAILED', { error, finishedAt: new Date().toISOString() }, { status: 'FAILED' });
  return { jobId, marked };
}

export const handler = middy(markFailed).use(injectLambdaContext(logger, { resetKeys: true }));
