import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { api, createJob, eventually, expectError, finishedJob, target } from './client.js';

/**
 * Real files end to end: CSVs as R's write.csv / write.csv2 and pandas' to_csv
 * write them (row names under an empty header name, NA, factor columns, `;` and a
 * decimal comma, gzip), trained and predicted by column name, against R's own `lm`
 * (test/fixtures/r/, made by scripts/r-fixtures.R).
 */

const fixture = (name: string) => readFileSync(new URL(`../fixtures/r/${name}`, import.meta.url));

interface RModel {
  coefficientStats: Record<string, { 'std.error': number; 't.value': number; 'p.value': number; 'conf.low': number; 'conf.high': number }>;
  sigma: number;
  'r.squared': number;
  'adj.r.squared': number;
  target: string;
  features: string[];
  fitIntercept: boolean;
  n: number;
  rowsDropped: number;
  levels: Record<string, string[]>;
  coefficients: Record<string, number>;
  predictions: { values: Record<string, number | string>; predicted: number }[];
}
const lm = (name: string): RModel[] => (JSON.parse(fixture(`${name}.lm.json`).toString('utf8')) as { models: RModel[] }).models;

function expectClose(actual: number, expected: number, relative = 1e-9): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(relative * Math.max(1e-6, Math.abs(expected)));
}

/** POST /datasets with `options`, then the upload as a browser form would send it; answers the dataset once validated. */
async function uploaded(bytes: Uint8Array, options: Record<string, string> = {}): Promise<any> {
  const created = await api('POST', '/datasets', { key: target.keyA, body: options });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const form = new FormData();
  for (const [field, value] of Object.entries(created.body.fields as Record<string, string>)) form.append(field, value);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'text/csv' }), 'data.csv');
  const upload = await fetch(created.body.uploadUrl, { method: 'POST', body: form });
  expect(upload.status, await upload.text()).toBe(204);
  return eventually(`dataset ${created.body.datasetId} to be validated`, async () => {
    const reply = await api('GET', `/datasets/${created.body.datasetId}`, { key: target.keyA });
    expect(reply.status).toBe(200);
    return reply.body.status === 'READY' || reply.body.status === 'INVALID' ? reply.body : undefined;
  });
}

/** Trains R's model on the dataset and checks the model against R's fit: coefficients by R's names, n, rows dropped. */
async function trainedLike(datasetId: string, model: RModel): Promise<any> {
  const job = await createJob({ kind: 'LINEAR', datasetId, target: model.target, features: model.features, fitIntercept: model.fitIntercept });
  const finished = await finishedJob(job.jobId);
  expect(finished.status, JSON.stringify(finished.error)).toBe('COMPLETED');
  const reply = await api('GET', `/models/${job.modelId}`, { key: target.keyA });
  expect(reply.status).toBe(200);
  const trained = reply.body;
  const { '(Intercept)': intercept, ...coefficients } = model.coefficients;
  expect(trained.features).toEqual(Object.keys(coefficients));
  trained.features.forEach((name: string, i: number) => expectClose(trained.coefficients[i], coefficients[name]!));
  if (model.fitIntercept) expectClose(trained.intercept, intercept!);
  expect(trained.metrics.n).toBe(model.n);
  expect(trained.rowsDropped).toBe(model.rowsDropped);
  expect(trained.levels).toEqual(model.levels);
  return trained;
}

describe(`real files on ${target.name}`, () => {
  it("reads R's write.csv with row names, NA and a factor, trains with the factor as R's lm does and predicts by column name", async () => {
    const dataset = await uploaded(fixture('iris_na.r.csv'));
    expect(dataset).toMatchObject({ status: 'READY', rows: 150, format: { delimiter: ',', decimal: '.' } });
    const columns = Object.fromEntries(dataset.schema.map((column: { name: string }) => [column.name, column]));
    // R's row names: a column without a header name, an identifier never used as a feature.
    expect(columns['Unnamed: 0']).toMatchObject({ type: 'text', generated: true, missing: 0 });
    expect(columns['Sepal.Width']).toMatchObject({ type: 'number', missing: 3 });
    expect(columns.Species).toMatchObject({
      type: 'category',
      missing: 1,
      levelCount: 3,
      levels: [
        { value: 'setosa', count: 50 },
        { value: 'versicolor', count: 50 },
        { value: 'virginica', count: 49 },
      ],
    });

    const [model] = lm('iris_na');
    const trained = await trainedLike(dataset.datasetId, model!);
    expect(trained.columns).toEqual(['Sepal.Width', 'Petal.Length', 'Species']);
    // R's summary(lm) and confint: every row of the coefficient table, and the fit's figures.
    expect(trained.summary.coefficients.map((row: { term: string }) => row.term)).toEqual(Object.keys(model!.coefficientStats));
    for (const row of trained.summary.coefficients) {
      const r = model!.coefficientStats[row.term]!;
      expectClose(row.stdError, r['std.error']);
      expectClose(row.statistic, r['t.value']);
      expectClose(row.pValue, r['p.value']);
      expectClose(row.confLow, r['conf.low']);
      expectClose(row.confHigh, r['conf.high']);
    }
    expectClose(trained.summary.sigma, model!.sigma);
    expectClose(trained.summary.adjR2, model!['adj.r.squared']);
    expect(trained.summary).toMatchObject({ nobs: 145, dfResidual: 140, level: 0.95 });

    // R's rows but the one with a missing value (row 3: R predicts NA for it; a prediction needs every column).
    const complete = model!.predictions.filter((row) => Object.values(row.values).every((value) => value !== null));
    expect(complete).toHaveLength(2);
    const predicted = await api('POST', `/models/${trained.modelId}/predict`, { key: target.keyA, body: { rows: complete.map((row) => row.values) } });
    expect(predicted.status, JSON.stringify(predicted.body)).toBe(200);
    complete.forEach((row, i) => expectClose(predicted.body.predictions[i], row.predicted));

    const unknown = await api('POST', `/models/${trained.modelId}/predict`, {
      key: target.keyA,
      body: { rows: [{ 'Sepal.Width': 3, 'Petal.Length': 1.4, Species: 'tulip' }] },
    });
    expectError(unknown, 400, 'VALIDATION_ERROR');
    expect(unknown.body.error.details).toEqual([{ path: 'rows.0.Species', message: 'must be one of "setosa", "versicolor", "virginica"' }]);
    const lacking = await api('POST', `/models/${trained.modelId}/predict`, { key: target.keyA, body: { rows: [{ 'Sepal.Width': 3, Species: 'setosa' }] } });
    expectError(lacking, 400, 'VALIDATION_ERROR');
    expect(lacking.body.error.details).toEqual([{ path: 'rows.0', message: '"Petal.Length" is missing' }]);
  });

  it("reads R's write.csv2 (';' and a decimal comma) and fits a numeric model with listwise deletion from the statistics", async () => {
    const dataset = await uploaded(fixture('airquality.r2.csv'), { delimiter: ';', decimal: ',' });
    expect(dataset).toMatchObject({ status: 'READY', rows: 153, format: { delimiter: ';', decimal: ',' } });
    expect(dataset.schema.find((column: { name: string }) => column.name === 'Ozone')).toMatchObject({ type: 'number', missing: 37 });
    for (const model of lm('airquality')) await trainedLike(dataset.datasetId, model);
  });

  it('reads a gzip-compressed pandas export and trains with two factors (warpbreaks: wool and tension)', async () => {
    const dataset = await uploaded(gzipSync(fixture('warpbreaks.pandas.csv')));
    expect(dataset).toMatchObject({ status: 'READY', rows: 54 });
    const [model] = lm('warpbreaks');
    await trainedLike(dataset.datasetId, model!);
  });

  it('refuses what cannot be modelled: a text target, an identifier feature, missing values under missing: "error"', async () => {
    const dataset = await uploaded(fixture('iris_na.r.csv'));
    const job = (body: Record<string, unknown>) => api('POST', '/jobs', { key: target.keyA, body: { kind: 'LINEAR', datasetId: dataset.datasetId, ...body } });
    const text = await job({ target: 'Species' });
    expectError(text, 400, 'VALIDATION_ERROR');
    expect(text.body.error.details[0].path).toBe('target');
    const identifier = await job({ target: 'Sepal.Length', features: ['Unnamed: 0'] });
    expectError(identifier, 400, 'VALIDATION_ERROR');
    expect(identifier.body.error.details[0].path).toBe('features.0');
    const missing = await job({ target: 'Sepal.Length', features: ['Sepal.Width'], missing: 'error' });
    expectError(missing, 400, 'VALIDATION_ERROR');
    expect(missing.body.error.details).toEqual([
      { path: 'features.0', message: '"Sepal.Width" has 3 missing value(s); use missing: "drop" to leave those rows out' },
    ]);

    // 101 distinct labels: more than a category holds, so text; naming it says how many at most.
    const labels = await uploaded(new TextEncoder().encode(['y,label', ...Array.from({ length: 101 }, (_, i) => `${i},L${i}`)].join('\n')));
    expect(labels.schema[1]).toMatchObject({ name: 'label', type: 'text' });
    const many = await api('POST', '/jobs', { key: target.keyA, body: { kind: 'LINEAR', datasetId: labels.datasetId, target: 'y', features: ['label'] } });
    expectError(many, 400, 'VALIDATION_ERROR');
    expect(many.body.error.details).toEqual([
      { path: 'features.0', message: '"label" has more than 100 distinct values: too many levels for a category (at most 100)' },
    ]);
  });

  it('keeps what is truly broken INVALID: a delimiter that yields one column (with a hint), and broken quoting (line and column)', async () => {
    const wrongDelimiter = await uploaded(new TextEncoder().encode('a;b;c\n1;2;3\n4;5;6\n'));
    expect(wrongDelimiter).toMatchObject({ status: 'INVALID', error: { code: 'INVALID_HEADER' } });
    expect(wrongDelimiter.error.message).toContain(`';'`);

    const brokenQuote = await uploaded(new TextEncoder().encode('x,y,label\n1,2,"a\n3,4,b\n'));
    expect(brokenQuote).toMatchObject({ status: 'INVALID', error: { code: 'BAD_QUOTING', line: 2, column: 3 } });
  });
});
