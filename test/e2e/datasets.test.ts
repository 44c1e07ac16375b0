import { describe, expect, it } from 'vitest';
import { api, createJob, eventually, expectError, finishedJob, skipReason, target, titled } from './client.js';

/**
 * Uploaded CSV datasets end to end: presigned POST upload straight to S3 (the
 * local S3, LocalStack's or AWS's), validation triggered by the bucket
 * notification, training from the object, prediction with known answers.
 */

function expectClose(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(relative * Math.max(1, Math.abs(expected)));
}

interface Created {
  datasetId: string;
  uploadUrl: string;
  fields: Record<string, string>;
}

/** POST /datasets, then the upload as a browser form would send it; answers the dataset. */
async function uploadDataset(csv: string, key = target.keyA, name?: string): Promise<Created> {
  const created = await api('POST', '/datasets', { key, ...(name === undefined ? {} : { body: { name } }) });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const dataset = created.body as Created;
  const form = new FormData();
  for (const [field, value] of Object.entries(dataset.fields)) form.append(field, value);
  form.append('file', new Blob([csv], { type: 'text/csv' }), 'data.csv');
  const upload = await fetch(dataset.uploadUrl, { method: 'POST', body: form });
  expect(upload.status, await upload.text()).toBe(204);
  return dataset;
}

/** Waits until validation has settled the dataset. */
async function settled(datasetId: string, key = target.keyA): Promise<any> {
  return eventually(`dataset ${datasetId} to be validated`, async () => {
    const reply = await api('GET', `/datasets/${datasetId}`, { key });
    expect(reply.status).toBe(200);
    return reply.body.status === 'READY' || reply.body.status === 'INVALID' ? reply.body : undefined;
  });
}

/** price = 10 + 3·size − 2·rooms exactly, the target first; quoted header, CRLF, no final newline. */
const rows = Array.from({ length: 40 }, (_, i) => [(i % 7) * 1.5 + 20, (i * 3) % 5]);
const HOUSES = ['"price","size ""m2""",rooms', ...rows.map(([size, rooms]) => `${10 + 3 * size! - 2 * rooms!},${size},${rooms}`)].join('\r\n');

describe(`datasets on ${target.name}`, () => {
  it('uploads a CSV, validates it READY, trains on it and predicts with the known answer', async () => {
    const created = await api('POST', '/datasets', { key: target.keyA, body: { name: 'houses' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'PENDING_UPLOAD', name: 'houses', rows: null, columns: [], error: null });
    expect(created.headers.get('location')).toMatch(new RegExp(`/datasets/${created.body.datasetId}$`));
    expect(created.body.fields.key).toMatch(new RegExp(`/${created.body.datasetId}\\.csv$`));

    const dataset = await uploadDataset(HOUSES, target.keyA, 'houses');
    const ready = await settled(dataset.datasetId);
    expect(ready).toMatchObject({
      datasetId: dataset.datasetId,
      name: 'houses',
      status: 'READY',
      rows: 40,
      columns: ['price', 'size "m2"', 'rooms'],
      error: null,
    });
    expect(ready.sizeBytes).toBe(Buffer.byteLength(HOUSES));

    const job = await createJob({ kind: 'LINEAR', datasetId: dataset.datasetId, target: 'price' });
    expect(job).toMatchObject({ status: 'QUEUED', datasetId: dataset.datasetId });
    const finished = await finishedJob(job.jobId);
    expect(finished, JSON.stringify(finished.error)).toMatchObject({ status: 'COMPLETED', progress: 1, error: null });

    const model = (await api('GET', `/models/${job.modelId}`, { key: target.keyA })).body;
    expect(model).toMatchObject({ status: 'TRAINED', features: ['size "m2"', 'rooms'], metrics: { n: 40 } });
    expectClose(model.coefficients[0], 3, 1e-6);
    expectClose(model.coefficients[1], -2, 1e-6);
    expectClose(model.intercept, 10, 1e-6);

    const prediction = await api('POST', `/models/${job.modelId}/predict`, { key: target.keyA, body: { x: [100, 4] } });
    expect(prediction.status).toBe(200);
    expectClose(prediction.body.value, 302, 1e-6);
  });

  it('trains any target and feature subset from the scanned statistics, and a regularisation path in one job', async () => {
    const dataset = await uploadDataset(HOUSES);
    await settled(dataset.datasetId);

    // rooms = (10 + 3·size − price) / 2 exactly: another target, the features in another order.
    const reverse = await createJob({ kind: 'LINEAR', datasetId: dataset.datasetId, target: 'rooms', features: ['price', 'size "m2"'] });
    expect(await finishedJob(reverse.jobId)).toMatchObject({ status: 'COMPLETED', alphas: null, modelIds: [reverse.modelId] });
    const model = (await api('GET', `/models/${reverse.modelId}`, { key: target.keyA })).body;
    expect(model.features).toEqual(['price', 'size "m2"']);
    expectClose(model.coefficients[0], -0.5, 1e-9);
    expectClose(model.coefficients[1], 1.5, 1e-9);
    expectClose(model.intercept, 5, 1e-9);

    const path = await createJob({ kind: 'RIDGE', alphas: [0.01, 1, 100], datasetId: dataset.datasetId, target: 'price', features: ['size "m2"'] });
    const done = await finishedJob(path.jobId);
    expect(done).toMatchObject({ status: 'COMPLETED', alpha: 0.01, alphas: [0.01, 1, 100] });
    expect(done.modelIds).toHaveLength(3);
    expect(done.modelIds[0]).toBe(path.modelId);
    const models = await Promise.all(done.modelIds.map(async (id: string) => (await api('GET', `/models/${id}`, { key: target.keyA })).body));
    expect(models.map((each) => [each.status, each.alpha, each.features])).toEqual([
      ['TRAINED', 0.01, ['size "m2"']],
      ['TRAINED', 1, ['size "m2"']],
      ['TRAINED', 100, ['size "m2"']],
    ]);
    // More penalty, a smaller slope.
    expect(Math.abs(models[0].coefficients[0])).toBeGreaterThan(Math.abs(models[1].coefficients[0]));
    expect(Math.abs(models[1].coefficients[0])).toBeGreaterThan(Math.abs(models[2].coefficients[0]));

    const bad = (body: Record<string, unknown>) =>
      api('POST', '/jobs', { key: target.keyA, body: { kind: 'RIDGE', datasetId: dataset.datasetId, target: 'price', ...body } });
    expectError(await bad({ features: ['size "m2"', 'nope'] }), 400, 'VALIDATION_ERROR');
    expectError(await bad({ features: ['rooms', 'rooms'] }), 400, 'VALIDATION_ERROR');
    expectError(await bad({ features: ['price'] }), 400, 'VALIDATION_ERROR');
    expectError(await bad({ features: [] }), 400, 'VALIDATION_ERROR');
    expectError(await bad({ alphas: [] }), 400, 'VALIDATION_ERROR');
    expectError(await bad({ alphas: Array.from({ length: 101 }, (_, i) => i + 1) }), 400, 'VALIDATION_ERROR');
    expectError(await bad({ alphas: [1, -2] }), 400, 'VALIDATION_ERROR');
    expectError(await bad({ alpha: 1, alphas: [1, 2] }), 400, 'VALIDATION_ERROR');
  });

  it('marks a file with a ragged line INVALID, naming the first bad line and column (a missing value before it is no error)', async () => {
    const dataset = await uploadDataset('x0,x1,y\n1,2,3\n4,5,6\n\n7,n/a,9\n10,11\n');
    const invalid = await settled(dataset.datasetId);
    expect(invalid).toMatchObject({ status: 'INVALID', rows: null, error: { code: 'WRONG_COLUMN_COUNT', line: 6, column: 3 } });
    expect(invalid.error.message).toContain('line 6, column 3');

    // A job on it is refused: the dataset is not READY.
    const reply = await api('POST', '/jobs', { key: target.keyA, body: { kind: 'LINEAR', datasetId: dataset.datasetId, target: 'y' } });
    expectError(reply, 409, 'DATASET_NOT_READY');
  });

  it('refuses a job on a dataset whose file was never uploaded (409) and on an unknown one (404)', async () => {
    const created = await api('POST', '/datasets', { key: target.keyA });
    expect(created.status).toBe(201);
    expectError(
      await api('POST', '/jobs', { key: target.keyA, body: { kind: 'RIDGE', datasetId: created.body.datasetId, target: 'y' } }),
      409,
      'DATASET_NOT_READY',
    );
    expectError(
      await api('POST', '/jobs', { key: target.keyA, body: { kind: 'RIDGE', datasetId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C', target: 'y' } }),
      404,
      'NOT_FOUND',
    );
  });

  it("keeps datasets per tenant: another tenant's is 404 to read and to train on; a target must be a column", async () => {
    const dataset = await uploadDataset('a,b,y\n1,2,3\n2,1,4\n3,5,1\n4,4,4\n', target.keyA);
    await settled(dataset.datasetId);
    expectError(await api('GET', `/datasets/${dataset.datasetId}`, { key: target.keyB }), 404, 'NOT_FOUND');
    expectError(await api('POST', '/jobs', { key: target.keyB, body: { kind: 'LINEAR', datasetId: dataset.datasetId, target: 'y' } }), 404, 'NOT_FOUND');
    const wrongTarget = await api('POST', '/jobs', { key: target.keyA, body: { kind: 'LINEAR', datasetId: dataset.datasetId, target: 'price' } });
    expectError(wrongTarget, 400, 'VALIDATION_ERROR');
    expect(wrongTarget.body.error.details).toEqual([{ path: 'target', message: "must be one of the dataset's columns: a, b, y" }]);
  });

  it.skipIf(skipReason('authorizer-errors'))(titled('needs an API key', 'authorizer-errors'), async () => {
    expectError(await api('POST', '/datasets', {}), 401, 'UNAUTHORIZED');
    expectError(await api('GET', '/datasets/01JH5Z3V8Q6K9W2X4Y7Z0A1B2C', {}), 401, 'UNAUTHORIZED');
  });

  it('validates its input', async () => {
    expectError(await api('POST', '/datasets', { key: target.keyA, body: { name: 'x', extra: 1 } }), 400, 'VALIDATION_ERROR');
    expectError(await api('GET', '/datasets/nope', { key: target.keyA }), 404, 'NOT_FOUND');
  });
});
