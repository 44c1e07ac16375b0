import type { JobError, JobStatus } from './jobs.js';

/**
 * What the sweeper does with one active job, from the job and its execution (named
 * by the job id). A job is stranded when `POST /jobs` died between writing it and
 * `StartExecution` (QUEUED, no execution), or when its execution ended without
 * settling it (stopped by hand, its own timeout, while the EventBridge rule that
 * normally runs mark-failed was missed). Starting uses the job id as the execution
 * name, so a start the sweeper and a late client race on can run only once.
 */

/** The execution as `DescribeExecution` answers it; `undefined`: ExecutionDoesNotExist. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface SweptJob {
  status: JobStatus;
  createdAt: string;
}

export type SweepAction = { action: 'leave'; reason: string } | { action: 'start' } | { action: 'fail'; error: JobError };

export interface SweepPolicy {
  /** A QUEUED job younger than this may still be between its two writes: leave it. */
  queuedGraceMs: number;
  now: Date;
}

export function sweepAction(job: SweptJob, execution: ExecutionStatus | undefined, policy: SweepPolicy): SweepAction {
  if (job.status !== 'QUEUED' && job.status !== 'RUNNING') return { action: 'leave', reason: 'not active' };
  if (execution === 'RUNNING') return { action: 'leave', reason: 'its execution is running' };
  if (execution !== undefined) {
    return {
      action: 'fail',
      error: { code: 'WORKFLOW_ENDED', message: `the training workflow ended (${execution}) without settling the job; submit it again` },
    };
  }
  if (job.status === 'RUNNING') {
    return { action: 'fail', error: { code: 'WORKFLOW_ENDED', message: 'no training workflow runs this job any more; submit it again' } };
  }
  const age = policy.now.getTime() - Date.parse(job.createdAt);
  if (!(age >= policy.queuedGraceMs)) return { action: 'leave', reason: 'queued moments ago: its start may still be on its way' };
  return { action: 'start' };
}

/** The error a stranded job gets when the sweeper's own start fails for good. */
export const SWEEP_START_FAILED: JobError = {
  code: 'WORKFLOW_START_FAILED',
  message: 'the training workflow could not be started; submit the job again',
};
