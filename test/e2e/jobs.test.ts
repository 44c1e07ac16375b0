import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createJob, expectError, finishedJob, points, target } from './client.js';

/**
 * Jobs and models end to end: training with known answers, prediction,
 * cancellation, idempotency, lists and tenant isolation.
 */

/** |actual - expected| within `relative` of |expected| (or absolutely, near zero). */
function expectClose(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(relative * Math.max(1, Math.abs(expected)));
}

/** One-feature closed forms, independent of the service's engine (sums over centred data). */
function oneFeature(xs: number[], ys: number[]) {
  const n = xs.length;
  const mx = xs.reduce((sum, x) => sum + x, 0) / n;
  const my = ys.reduce((sum, y) => sum + y, 0) / n;
  const sxx = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  const sxy = xs.reduce((sum, x, i) => sum + (x - mx) * ((ys[i] as number) - my), 0);
  const withSlope = (w: number) => ({ coefficient: w, intercept: my - w * mx });
  return {
    // RIDGE: min ||y - xw - b||² + alpha w²
    ridge: (alpha: number) => withSlope(sxy / (sxx + alpha)),
    // LASSO: min (1/2n) ||y - xw - b||² + alpha |w|: a soft-thresholded slope
    lasso: (alpha: number) => withSlope((Math.sign(sxy) * Math.max(Math.abs(sxy) / n - alpha, 0)) / (sxx / n)),
  };
}

const xs = Array.from({ length: 20 }, (_, i) => i / 2);
const noisy = xs.map((x, i) => 1 + 2 * x + (i % 3 === 0 ? 0.7 : -0.35) + (i % 5 === 0 ? -0.4 : 0.1));

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

async function trainedModel(job: { jobId: string; modelId: string }, key = target.keyA) {
  const finished = await finishedJob(job.jobId, key);
  expect(finished, JSON.stringify(finished.error)).toMatchObject({ status: 'COMPLETED', error: null, progress: 1 });
  const reply = await api('GET', `/models/${job.modelId}`, { key });
  expect(reply.status).toBe(200);
  return reply.body;
}

describe(`jobs on ${target.name}: training with known answers`, () => {
  it('trains LINEAR on y = 1 + 2x exactly, and predicts with it', async () => {
    const created = await api('POST', '/jobs', {
      key: target.keyA,
      body: { kind: 'LINEAR', name: 'exact line', data: points(xs, ([x]) => 1 + 2 * (x as number)) },
    });
    expect(created.status).toBe(202);
    const job = created.body;
    expect(job).toMatchObject({ status: 'QUEUED', kind: 'LINEAR', alpha: null, fitIntercept: true, name: 'exact line', progress: 0, error: null, attempts: 0 });
    expect(created.headers.get('location')).toMatch(new RegExp(`/jobs/${job.jobId}$`));

    const model = await trainedModel(job);
    expect(model).toMatchObject({ modelId: job.modelId, jobId: job.jobId, status: 'TRAINED', kind: 'LINEAR', features: ['x0'], metrics: { n: 20 } });
    expectClose(model.coefficients[0], 2, 1e-6);
    expectClose(model.intercept, 1, 1e-6);
    expectClose(model.metrics.r2, 1, 1e-9);
    expect(model.createdAt).toMatch(ISO);
    expect(model.fittedAt).toMatch(ISO);

    const finished = (await api('GET', `/jobs/${job.jobId}`, { key: target.keyA })).body;
    expect(finished.attempts).toBeGreaterThanOrEqual(1);
    expect(Date.parse(finished.startedAt)).toBeLessThanOrEqual(Date.parse(finished.finishedAt));

    const single = await api('POST', `/models/${job.modelId}/predict`, { key: target.keyA, body: { x: 5 } });
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({ modelId: job.modelId, timestamp: expect.stringMatching(ISO) });
    expectClose(single.body.value, 11, 1e-6);
    expect(single.body.predictions).toHaveLength(1);

    const batch = await api('POST', `/models/${job.modelId}/predict`, { key: target.keyA, body: { inputs: [[0], [1], [2.5]] } });
    expect(batch.status).toBe(200);
    expect(batch.body.value).toBeUndefined();
    batch.body.predictions.forEach((prediction: number, i: number) => expectClose(prediction, [1, 3, 6][i] as number, 1e-6));
  });

  it('trains RIDGE and LASSO to the closed-form answers for one feature', async () => {
    const data = xs.map((x, i) => ({ x, y: noisy[i] as number }));
    const expected = oneFeature(xs, noisy);
    const [ridge, lasso, ridgeDefault] = await Promise.all([
      createJob({ kind: 'RIDGE', alpha: 2.5, data }),
      createJob({ kind: 'LASSO', alpha: 0.5, data }),
      createJob({ kind: 'RIDGE', data }),
    ]);
    expect(ridgeDefault.alpha).toBe(1);

    for (const [job, answer, tolerance] of [
      [ridge, expected.ridge(2.5), 1e-6],
      [lasso, expected.lasso(0.5), 1e-4],
      [ridgeDefault, expected.ridge(1), 1e-6],
    ] as const) {
      const model = await trainedModel(job);
      expect(model.kind).toBe(job.kind);
      expectClose(model.coefficients[0], answer.coefficient, tolerance);
      expectClose(model.intercept, answer.intercept, tolerance);
    }
  });

  it('trains LINEAR with two features and checks the width of every prediction', async () => {
    const inputs = [
      [0, 0],
      [1, 0],
      [0, 1],
      [2, 3],
      [4, 1],
      [3, 5],
      [5, 2],
    ];
    const job = await createJob({ kind: 'LINEAR', data: points(inputs, ([a, b]) => 3 + 1.5 * (a as number) - 2 * (b as number)) });
    const model = await trainedModel(job);
    expect(model.features).toEqual(['x0', 'x1']);
    expectClose(model.coefficients[0], 1.5, 1e-6);
    expectClose(model.coefficients[1], -2, 1e-6);
    expectClose(model.intercept, 3, 1e-6);

    const predict = (body: unknown) => api('POST', `/models/${job.modelId}/predict`, { key: target.keyA, body });
    expectClose((await predict({ x: [1, 2] })).body.value, 0.5, 1e-6);
    expectError(await predict({ x: 1 }), 400, 'VALIDATION_ERROR');
    expectError(await predict({ x: [1, 2, 3] }), 400, 'VALIDATION_ERROR');
    expectError(await predict({ inputs: [[1, 2], [3]] }), 400, 'VALIDATION_ERROR');
    expectError(await predict({ x: [1, 2], inputs: [[1, 2]] }), 400, 'VALIDATION_ERROR');
    expectError(await predict('{"x": [1,'), 400, 'INVALID_JSON');
  });

  it('fits without an intercept when asked', async () => {
    const job = await createJob({ kind: 'LINEAR', fitIntercept: false, data: points([1, 2, 3, 4], ([x]) => 1 + 2 * (x as number)) });
    const model = await trainedModel(job);
    // Least squares through the origin: w = Σxy / Σx² = (3 + 10 + 21 + 36) / 30
    expectClose(model.coefficients[0], 70 / 30, 1e-6);
    expect(model.intercept).toBe(0);
    expect(model.fitIntercept).toBe(false);
  });
});

describe(`jobs on ${target.name}: cancellation and models that cannot predict`, () => {
  it('cancels a job that has not finished: the job is CANCELLED for good and its model FAILED', async () => {
    const data = points(
      Array.from({ length: 10_000 }, (_, i) => i),
      ([x]) => 2 * (x as number) + 1,
    );
    // Cancelling right after creating wins against training almost always; a few tries make it certain.
    let cancelled: { jobId: string; modelId: string } | undefined;
    for (let attempt = 0; attempt < 5 && !cancelled; attempt++) {
      const job = await createJob({ kind: 'LINEAR', data });
      const reply = await api('POST', `/jobs/${job.jobId}/cancel`, { key: target.keyA });
      if (reply.status === 202) {
        expect(reply.body).toMatchObject({ jobId: job.jobId, status: 'CANCELLED', finishedAt: expect.stringMatching(ISO) });
        cancelled = job;
      } else {
        expectError(reply, 409, 'JOB_NOT_CANCELLABLE');
      }
    }
    if (!cancelled) throw new Error('every job finished before it could be cancelled');

    // Training that was under way must not bring the job back.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await finishedJob(cancelled.jobId)).status).toBe('CANCELLED');
    expect((await api('GET', `/models/${cancelled.modelId}`, { key: target.keyA })).body.status).toBe('FAILED');
    expectError(await api('POST', `/models/${cancelled.modelId}/predict`, { key: target.keyA, body: { x: 1 } }), 409, 'MODEL_NOT_READY');
    expectError(await api('POST', `/jobs/${cancelled.jobId}/cancel`, { key: target.keyA }), 409, 'JOB_NOT_CANCELLABLE');
  });

  it('refuses to cancel a finished job with 409 JOB_NOT_CANCELLABLE', async () => {
    const job = await createJob({ kind: 'LINEAR', data: points([0, 1, 2], ([x]) => x as number) });
    await finishedJob(job.jobId);
    expectError(await api('POST', `/jobs/${job.jobId}/cancel`, { key: target.keyA }), 409, 'JOB_NOT_CANCELLABLE');
  });
});

describe(`jobs on ${target.name}: idempotency`, () => {
  const body = { kind: 'RIDGE', alpha: 0.5, data: points([0, 1, 2, 3], ([x]) => 2 * (x as number)) };

  it('answers the same job for the same key and body, and 409 for another body', async () => {
    const headers = { 'Idempotency-Key': `e2e-${randomUUID()}` };
    const first = await createJob(body, target.keyA, headers);
    const again = await createJob(body, target.keyA, headers);
    expect(again.jobId).toBe(first.jobId);
    expect(again.modelId).toBe(first.modelId);

    const other = await api('POST', '/jobs', { key: target.keyA, body: { ...body, alpha: 0.6 }, headers });
    expectError(other, 409, 'IDEMPOTENCY_CONFLICT');
  });

  it('answers a replay with the job as it is now: COMPLETED once trained', async () => {
    const headers = { 'Idempotency-Key': `e2e-${randomUUID()}` };
    const first = await createJob(body, target.keyA, headers);
    expect(first.status).toBe('QUEUED');
    expect((await finishedJob(first.jobId)).status).toBe('COMPLETED');

    const replay = await api('POST', '/jobs', { key: target.keyA, body, headers });
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ jobId: first.jobId, status: 'COMPLETED', progress: 1 });
  });

  it('scopes keys to the tenant', async () => {
    const headers = { 'Idempotency-Key': `e2e-${randomUUID()}` };
    const mine = await createJob(body, target.keyA, headers);
    const theirs = await createJob(body, target.keyB, headers);
    expect(theirs.jobId).not.toBe(mine.jobId);
  });
});

describe(`jobs on ${target.name}: lists`, () => {
  let created: string[];

  beforeAll(async () => {
    created = [];
    for (let i = 0; i < 3; i++) created.push((await createJob({ kind: 'LINEAR', data: points([0, 1], ([x]) => x as number) }, target.keyB)).jobId);
    await Promise.all(created.map((jobId) => finishedJob(jobId, target.keyB)));
  });

  it('pages through the caller’s jobs newest first, with an opaque nextToken', async () => {
    const seen: string[] = [];
    let nextToken: string | null = null;
    do {
      const query: string = `limit=2${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ''}`;
      const reply = await api('GET', `/jobs?${query}`, { key: target.keyB });
      expect(reply.status).toBe(200);
      expect(reply.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...reply.body.items.map((job: { jobId: string }) => job.jobId));
      nextToken = reply.body.nextToken;
    } while (nextToken);

    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(created));
    expect(seen).toEqual([...seen].sort().reverse()); // job ids sort by creation time
  });

  it('filters by status and lists models', async () => {
    const completed = await api('GET', '/jobs?status=COMPLETED&limit=100', { key: target.keyB });
    expect(completed.status).toBe(200);
    expect(completed.body.items.map((job: { jobId: string }) => job.jobId)).toEqual(expect.arrayContaining(created));
    expect(completed.body.items.every((job: { status: string }) => job.status === 'COMPLETED')).toBe(true);

    const models = await api('GET', '/models?limit=1', { key: target.keyB });
    expect(models.status).toBe(200);
    expect(models.body.items).toHaveLength(1);
    expect(models.body.nextToken).toEqual(expect.any(String));
  });

  it('refuses another tenant’s page token', async () => {
    const page = await api('GET', '/jobs?limit=1', { key: target.keyB });
    expect(page.body.nextToken).toEqual(expect.any(String));
    expectError(await api('GET', `/jobs?nextToken=${encodeURIComponent(page.body.nextToken)}`, { key: target.keyA }), 400, 'VALIDATION_ERROR');
  });
});

describe(`jobs on ${target.name}: tenant isolation`, () => {
  it('never shows one tenant’s job or model to another', async () => {
    const job = await createJob({ kind: 'LINEAR', data: points([0, 1, 2], ([x]) => 3 * (x as number)) });
    await trainedModel(job);
    const asB = { key: target.keyB };

    expectError(await api('GET', `/jobs/${job.jobId}`, asB), 404, 'NOT_FOUND');
    expectError(await api('POST', `/jobs/${job.jobId}/cancel`, asB), 404, 'NOT_FOUND');
    expectError(await api('GET', `/models/${job.modelId}`, asB), 404, 'NOT_FOUND');
    expectError(await api('POST', `/models/${job.modelId}/predict`, { ...asB, body: { x: 1 } }), 404, 'NOT_FOUND');
    const listed = await api('GET', '/jobs?limit=100', asB);
    expect(listed.body.items.map((item: { jobId: string }) => item.jobId)).not.toContain(job.jobId);
  });
});
