import { describe, expect, it } from 'vitest';
import { ApiError, type Job, RegressionJobsClient } from '../../client/index.js';
import { target } from './client.js';

/** The typed client in client/ against the target: what a TypeScript user does with it. */

const client = new RegressionJobsClient({ baseUrl: target.restUrl, apiKey: target.keyA, webSocketUrl: target.wsUrl });

// y = 4 - 0.5 x0 + 2 x1, exactly.
const rows = Array.from({ length: 30 }, (_, i) => [i, (i * 3) % 7]);
const csv = `a,b,y\n${rows.map(([a, b]) => `${a},${b},${4 - 0.5 * a! + 2 * b!}`).join('\n')}\n`;

describe(`typed client on ${target.name}`, () => {
  it('uploads a stream of known size, trains on it while reporting progress, and predicts', async () => {
    const bytes = new TextEncoder().encode(csv);
    async function* chunks() {
      for (let offset = 0; offset < bytes.length; offset += 100) yield bytes.slice(offset, offset + 100);
    }
    const dataset = await client.uploadDataset({ stream: chunks(), size: bytes.length, filename: 'line.csv' }, { name: 'line' });
    expect(dataset).toMatchObject({ status: 'READY', rows: 30, columns: ['a', 'b', 'y'], name: 'line' });

    const job = await client.createJob({ kind: 'LINEAR', datasetId: dataset.datasetId, target: 'y' });
    const seen: Job[] = [];
    const done = await client.waitForJob(job.jobId, { onProgress: (state) => seen.push(state), pollIntervalMs: 200 });
    expect(done.status).toBe('COMPLETED');
    expect(seen.at(-1)).toEqual(done);
    // Never an older state after a newer one.
    const order = ['QUEUED', 'RUNNING', 'COMPLETED'];
    for (let index = 1; index < seen.length; index++) {
      const [before, after] = [seen[index - 1]!, seen[index]!];
      expect(order.indexOf(after.status) * 2 + after.progress).toBeGreaterThan(order.indexOf(before.status) * 2 + before.progress);
    }

    const model = await client.getModel(done.modelId);
    expect(model.intercept).toBeCloseTo(4, 8);
    expect(model.coefficients[0]).toBeCloseTo(-0.5, 8);
    expect(model.coefficients[1]).toBeCloseTo(2, 8);
    expect((await client.predict(model.modelId, { x: [2, 1] })).value).toBeCloseTo(5, 8);

    const models: string[] = [];
    for await (const each of client.models({ pageSize: 1 })) {
      models.push(each.modelId);
      if (models.length === 3) break;
    }
    expect(models[0]).toBe(model.modelId); // newest first, across pages of one
  });

  it("surfaces the server's errors as ApiError, details included", async () => {
    const missing = await client.getJob('01ARZ3NDEKTSV4RRFFQ69G5FAV').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });

    const invalid = (await client.createJob({ kind: 'LINEAR', alpha: 1, data: [{ x: 1, y: 2 }] }).catch((error: unknown) => error)) as ApiError;
    expect({ status: invalid.status, code: invalid.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
    expect(invalid.details).toContainEqual({ path: 'alpha', message: 'alpha is not allowed for LINEAR' });

    const stranger = new RegressionJobsClient({ baseUrl: target.restUrl, apiKey: 'rj_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    await expect(stranger.getJob('01ARZ3NDEKTSV4RRFFQ69G5FAV')).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });
});
