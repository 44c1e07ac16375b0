import { describe, expect, it } from 'vitest';
import { api, createJob, eventually, expectError, finishedJob, points, target } from './client.js';

/**
 * A job's history (`GET /jobs/{jobId}/events`): every status change, oldest first,
 * recorded from the jobs stream, so the last one may arrive a moment after the job ends.
 */

interface JobEvent {
  type: string;
  at: string;
  from: string | null;
  to: string;
  attempt: number;
  error: { code: string; message: string } | null;
  progress: number;
}

/** All of a job's events, page by page, once its last status has been recorded. */
async function historyOf(jobId: string, lastStatus: string, limit = 1): Promise<JobEvent[]> {
  return eventually(`the ${lastStatus} event of job ${jobId}`, async () => {
    const events: JobEvent[] = [];
    let nextToken: string | null = null;
    do {
      const query: string = `limit=${limit}${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ''}`;
      const reply = await api('GET', `/jobs/${jobId}/events?${query}`, { key: target.keyA });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      events.push(...reply.body.items);
      nextToken = reply.body.nextToken;
    } while (nextToken);
    return events.at(-1)?.to === lastStatus ? events : undefined;
  });
}

const transitions = (events: JobEvent[]) => events.map((event) => [event.type, event.from, event.to]);

describe(`job event history on ${target.name}`, () => {
  it('a completed job: created, started, completed, in order, one page at a time', async () => {
    const job = await createJob({ kind: 'LINEAR', data: points([0, 1, 2, 3], ([x]) => 1 + 2 * (x as number)) });
    const finished = await finishedJob(job.jobId);
    expect(finished.status).toBe('COMPLETED');
    const events = await historyOf(job.jobId, 'COMPLETED');
    expect(transitions(events)).toEqual([
      ['CREATED', null, 'QUEUED'],
      ['STATUS_CHANGED', 'QUEUED', 'RUNNING'],
      ['STATUS_CHANGED', 'RUNNING', 'COMPLETED'],
    ]);
    expect(events.map((event) => event.at)).toEqual([finished.createdAt, finished.startedAt, finished.finishedAt]);
    expect(events.map((event) => [event.attempt, event.progress, event.error])).toEqual([
      [0, 0, null],
      [1, 0, null],
      [1, 1, null],
    ]);
  });

  it('a failed job: its last event carries the error code and message', async () => {
    const job = await createJob({ kind: 'LINEAR', data: [{ x: [1], y: 2 }] });
    const finished = await finishedJob(job.jobId);
    expect(finished.error?.code).toBe('INSUFFICIENT_DATA');
    const events = await historyOf(job.jobId, 'FAILED', 20);
    expect(transitions(events)).toEqual([
      ['CREATED', null, 'QUEUED'],
      ['STATUS_CHANGED', 'QUEUED', 'RUNNING'],
      ['STATUS_CHANGED', 'RUNNING', 'FAILED'],
    ]);
    expect(events.at(-1)?.error).toEqual(finished.error);
  });

  it('a cancelled job ends with its CANCELLED event', async () => {
    const data = points(
      Array.from({ length: 5_000 }, (_, i) => i),
      ([x]) => 3 * (x as number),
    );
    // Cancelling right after creating wins against training almost always; a few tries make it certain.
    let cancelled: string | undefined;
    for (let attempt = 0; attempt < 5 && !cancelled; attempt++) {
      const job = await createJob({ kind: 'LINEAR', data });
      const reply = await api('POST', `/jobs/${job.jobId}/cancel`, { key: target.keyA });
      if (reply.status === 202) cancelled = job.jobId;
      else expectError(reply, 409, 'JOB_NOT_CANCELLABLE');
    }
    if (!cancelled) throw new Error('every job finished before it could be cancelled');
    const events = await historyOf(cancelled, 'CANCELLED', 20);
    expect(events[0]).toMatchObject({ type: 'CREATED', from: null, to: 'QUEUED' });
    expect(events.at(-1)).toMatchObject({ type: 'STATUS_CHANGED', to: 'CANCELLED' });
    expect(events.filter((event) => event.to === 'CANCELLED')).toHaveLength(1);
  });

  it("answers 404 for another tenant's job and 400 for a bad cursor", async () => {
    const job = await createJob({ kind: 'LINEAR', data: points([0, 1], ([x]) => x as number) });
    expectError(await api('GET', `/jobs/${job.jobId}/events`, { key: target.keyB }), 404, 'NOT_FOUND');
    expectError(await api('GET', `/jobs/${job.jobId}/events?nextToken=not-a-token`, { key: target.keyA }), 400, 'VALIDATION_ERROR');
    expectError(await api('GET', '/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/events', { key: target.keyA }), 404, 'NOT_FOUND');
  });
});
