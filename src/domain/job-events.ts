import type { JobError, JobRecord, JobStatus } from './jobs.js';

/**
 * A job's history: one event per status change and per retried training attempt,
 * as `GET /jobs/{jobId}/events` returns them, oldest first.
 *
 * - `CREATED`: the job was queued (`from` is null).
 * - `STATUS_CHANGED`: it moved forward (`from` -> `to`).
 * - `RETRIED`: a training attempt failed transiently and another began (RUNNING -> RUNNING, `attempt` counts up).
 */
export type JobEventType = 'CREATED' | 'STATUS_CHANGED' | 'RETRIED';

export interface JobEvent {
  type: JobEventType;
  /** When it happened: the job's own timestamp for the change when it has one, else when the change was recorded. */
  at: string;
  from: JobStatus | null;
  to: JobStatus;
  /** The training attempt the job was on (0 before the first). */
  attempt: number;
  /** The job's error after the change (a FAILED job's code and message). */
  error: JobError | null;
  /** Training progress at the time, 0 to 1. */
  progress: number;
}

/**
 * The event one change of a job makes, or undefined when the change is not part of
 * its history (progress updates). `recordedAt` is when the change was written (the
 * stream record's time), used when the job carries no timestamp of its own for it.
 */
export function jobEventFor(before: JobRecord | undefined, after: JobRecord, recordedAt: string): JobEvent | undefined {
  const base = { to: after.status, attempt: after.attempts, error: after.error, progress: after.progress };
  if (before === undefined) return { type: 'CREATED', at: after.createdAt, from: null, ...base };
  if (before.status !== after.status) {
    const at = after.status === 'RUNNING' ? after.startedAt : after.finishedAt;
    return { type: 'STATUS_CHANGED', at: at ?? recordedAt, from: before.status, ...base };
  }
  if (after.status === 'RUNNING' && after.attempts > before.attempts) {
    // startedAt is the first attempt's: a retry's own time is when it was recorded.
    return { type: 'RETRIED', at: recordedAt, from: before.status, ...base };
  }
  return undefined;
}
