import { describe, expect, it } from 'vitest';
import { jobEventFor } from '#domain/job-events.js';
import type { JobRecord } from '#domain/jobs.js';

const queued: JobRecord = {
  tenantId: 'acme',
  jobId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C',
  modelId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D',
  status: 'QUEUED',
  kind: 'LINEAR',
  alpha: null,
  fitIntercept: true,
  progress: 0,
  createdAt: '2026-11-30T10:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  error: null,
  attempts: 0,
  executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Training:01JH5Z3V8Q6K9W2X4Y7Z0A1B2C',
  source: { type: 'inline', key: 'jobs/acme/01JH5Z3V8Q6K9W2X4Y7Z0A1B2C.json', rows: 4 },
  expiresAt: 1_800_000_000,
  version: 1,
};
const running: JobRecord = { ...queued, status: 'RUNNING', startedAt: '2026-11-30T10:00:01.000Z', attempts: 1 };
const RECORDED = '2026-11-30T10:00:09.000Z';

describe('jobEventFor: which changes make a job’s history', () => {
  it('records the creation as QUEUED from nothing, at the job’s creation time', () => {
    expect(jobEventFor(undefined, queued, RECORDED)).toEqual({
      type: 'CREATED',
      at: '2026-11-30T10:00:00.000Z',
      from: null,
      to: 'QUEUED',
      attempt: 0,
      error: null,
      progress: 0,
    });
  });

  it('records QUEUED -> RUNNING at startedAt, with the attempt', () => {
    expect(jobEventFor(queued, running, RECORDED)).toEqual({
      type: 'STATUS_CHANGED',
      at: '2026-11-30T10:00:01.000Z',
      from: 'QUEUED',
      to: 'RUNNING',
      attempt: 1,
      error: null,
      progress: 0,
    });
  });

  it('records a retry (RUNNING again, one more attempt) at the time it was recorded, with the progress reset', () => {
    const before = { ...running, progress: 0.4 };
    expect(jobEventFor(before, { ...running, attempts: 2, progress: 0 }, RECORDED)).toEqual({
      type: 'RETRIED',
      at: RECORDED,
      from: 'RUNNING',
      to: 'RUNNING',
      attempt: 2,
      error: null,
      progress: 0,
    });
  });

  it('records a failure with its code and message, at finishedAt, and the progress reached', () => {
    const error = { code: 'TRAINING_ERROR', message: 'training failed after 3 attempt(s) (TransientError)' };
    const failed: JobRecord = { ...running, status: 'FAILED', attempts: 3, progress: 0.5, finishedAt: '2026-11-30T10:05:00.000Z', error };
    expect(jobEventFor({ ...running, attempts: 3, progress: 0.5 }, failed, RECORDED)).toEqual({
      type: 'STATUS_CHANGED',
      at: '2026-11-30T10:05:00.000Z',
      from: 'RUNNING',
      to: 'FAILED',
      attempt: 3,
      error,
      progress: 0.5,
    });
  });

  it('falls back to the recording time when the job has no timestamp for the change', () => {
    expect(jobEventFor(queued, { ...queued, status: 'CANCELLED' }, RECORDED)).toMatchObject({ at: RECORDED, from: 'QUEUED', to: 'CANCELLED' });
  });

  it('records nothing for a progress update', () => {
    expect(jobEventFor(running, { ...running, progress: 0.7 }, RECORDED)).toBeUndefined();
  });
});
