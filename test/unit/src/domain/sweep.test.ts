import { describe, expect, it } from 'vitest';
import { type ExecutionStatus, type SweptJob, sweepAction } from '#domain/sweep.js';

const now = new Date('2026-11-30T12:00:00.000Z');
const policy = { queuedGraceMs: 300_000, now };
const queued = (minutesAgo: number): SweptJob => ({ status: 'QUEUED', createdAt: new Date(now.getTime() - minutesAgo * 60_000).toISOString() });
const running: SweptJob = { status: 'RUNNING', createdAt: '2026-11-30T11:00:00.000Z' };

describe('sweepAction: what the sweeper does with an active job', () => {
  it('starts a QUEUED job past its grace that has no execution (create-job died between its two steps)', () => {
    expect(sweepAction(queued(6), undefined, policy)).toEqual({ action: 'start' });
    expect(sweepAction(queued(5), undefined, policy)).toEqual({ action: 'start' });
  });

  it('leaves a QUEUED job within its grace: its start may still be on its way', () => {
    expect(sweepAction(queued(4), undefined, policy).action).toBe('leave');
  });

  it.each<[SweptJob, ExecutionStatus]>([
    [queued(10), 'RUNNING'],
    [running, 'RUNNING'],
  ])('leaves a %o job whose execution runs', (job, execution) => {
    expect(sweepAction(job, execution, policy)).toEqual({ action: 'leave', reason: 'its execution is running' });
  });

  it.each<ExecutionStatus>(['FAILED', 'TIMED_OUT', 'ABORTED', 'SUCCEEDED'])('fails a RUNNING or QUEUED job whose execution ended %s', (execution) => {
    const expected = {
      action: 'fail',
      error: { code: 'WORKFLOW_ENDED', message: `the training workflow ended (${execution}) without settling the job; submit it again` },
    };
    expect(sweepAction(running, execution, policy)).toEqual(expected);
    expect(sweepAction(queued(10), execution, policy)).toEqual(expected);
  });

  it('fails a RUNNING job that has no execution at all', () => {
    expect(sweepAction(running, undefined, policy)).toEqual({
      action: 'fail',
      error: { code: 'WORKFLOW_ENDED', message: 'no training workflow runs this job any more; submit it again' },
    });
  });

  it.each(['COMPLETED', 'FAILED', 'CANCELLED'] as const)('leaves a %s job alone, whatever its execution', (status) => {
    expect(sweepAction({ status, createdAt: running.createdAt }, undefined, policy)).toEqual({ action: 'leave', reason: 'not active' });
  });
});
