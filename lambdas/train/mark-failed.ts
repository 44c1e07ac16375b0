import { Lifecycle } from '#commons/jobs/store.js';
import { backgroundDocuments } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger } from '#commons/runtime/powertools.js';
import { JobId, TenantId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

const env = readEnv({
  JOBS_TABLE_NAME: z.string().check(z.minLength(1)),
  MODELS_TABLE_NAME: z.string().check(z.minLength(1)),
  TENANTS_TABLE_NAME: z.string().check(z.minLength(1)),
});
const lifecycle = Lifecycle.onTables({ jobs: env.JOBS_TABLE_NAME, models: env.MODELS_TABLE_NAME, tenants: env.TENANTS_TABLE_NAME }, backgroundDocuments);
const { jobs } = lifecycle;

/** What the state machine's Catch passes on: the execution input plus `failure`. */
const CatchInput = z.object({
  tenantId: TenantId,
  jobId: JobId,
  failure: z.object({ Error: z.string(), Cause: z.optional(z.string()) }),
});

/** EventBridge's "Step Functions Execution Status Change" for an execution that ended badly. */
const ExecutionEnded = z.object({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({ status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']), input: z.string() }),
});
const ExecutionInput = z.object({ tenantId: TenantId, jobId: JobId });

/** Either source, as the job and the failure's name (a timed-out execution reads like a timed-out task). */
function failureOf(input: unknown): z.infer<typeof CatchInput> {
  const ended = ExecutionEnded.safeParse(input);
  if (!ended.success) return CatchInput.parse(input);
  const { status } = ended.data.detail;
  return { ...ExecutionInput.parse(JSON.parse(ended.data.detail.input)), failure: { Error: status === 'TIMED_OUT' ? 'States.Timeout' : `Execution${status}` } };
}

/**
 * The workflow's last resort: after the training task's retries are spent (or it
 * timed out), or when an execution ended without the Catch running (EventBridge),
 * the job and its model are marked FAILED so no job is left QUEUED or RUNNING. A job
 * that already ended is left as it is. The client sees the error's name, never its
 * internal cause.
 */
export async function markFailed(input: unknown): Promise<{ jobId: string; marked: boolean }> {
  const { tenantId, jobId, failure } = failureOf(input);
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

export const handler = eventHandler(markFailed, { metrics: false });
