import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ExecutionDoesNotExist, type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { logger, metrics } from '#commons/runtime/powertools.js';
import { Conflict, NotFound } from '#domain/errors.js';
import { isTerminal, type JobView, toJobView } from '#domain/jobs.js';
import type { Lifecycle } from './store.js';

/**
 * Cancels a QUEUED or RUNNING job: the job (CANCELLED) and its model (FAILED) are
 * written first and conditionally, so the answer is final even if stopping the
 * execution fails; the training Lambda also checks the status before each write
 * and gives up once the job is no longer RUNNING.
 */
export async function cancelJob(
  { lifecycle, stepFunctions }: { lifecycle: Lifecycle; stepFunctions: SFNClient },
  { tenantId, jobId }: { tenantId: string; jobId: string },
): Promise<JobView> {
  const job = await lifecycle.jobs.get(tenantId, jobId);
  if (!job) throw new NotFound('job');
  const notCancellable = new Conflict('JOB_NOT_CANCELLABLE', `the job is ${job.status}; only QUEUED or RUNNING jobs can be cancelled`);
  if (isTerminal(job.status)) throw notCancellable;

  const finishedAt = new Date().toISOString();
  if (!(await lifecycle.finish(job, 'CANCELLED', { finishedAt }, { status: 'FAILED' }))) {
    throw notCancellable; // it ended between our read and our write
  }
  metrics.addMetric('JobCancelled', MetricUnit.Count, 1);
  try {
    await stepFunctions.send(new StopExecutionCommand({ executionArn: job.executionArn, cause: 'cancelled by the client' }));
  } catch (error) {
    // Not started yet or already over: the conditional writes above keep the job CANCELLED either way.
    if (!(error instanceof ExecutionDoesNotExist)) logger.warn('could not stop the execution', { jobId: job.jobId, error: error as Error });
  }
  // Read back: the version the cancel gave the job is only known once it is written.
  const cancelled = await lifecycle.jobs.get(tenantId, job.jobId);
  return toJobView(cancelled ?? { ...job, status: 'CANCELLED', finishedAt });
}
