import { describe, expect, it } from 'vitest';
import {
  ACTIVE_STATUSES,
  canTransition,
  inlineFeatureNames,
  isTerminal,
  JOB_STATUSES,
  type JobStatus,
  statusesBefore,
  toJobView,
  toModelView,
} from '#domain/jobs.js';
import { jobRecord, modelRecord } from '../../helpers/records.js';

/** docs/rules.md: QUEUED -> RUNNING -> COMPLETED | FAILED | CANCELLED, and QUEUED may go straight to FAILED or CANCELLED. */
const ALLOWED = new Set(['QUEUED>RUNNING', 'QUEUED>FAILED', 'QUEUED>CANCELLED', 'RUNNING>COMPLETED', 'RUNNING>FAILED', 'RUNNING>CANCELLED']);

const EVERY_PAIR = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to, ALLOWED.has(`${from}>${to}`)] as const));

describe('job status transitions', () => {
  it('knows exactly the five statuses of docs/rules.md, in lifecycle order', () => {
    expect(JOB_STATUSES).toEqual(['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']);
  });

  it.each(EVERY_PAIR)('%s -> %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('never allows a status to repeat (RUNNING -> RUNNING is the store’s retry special case, not a transition)', () => {
    for (const status of JOB_STATUSES) expect(canTransition(status, status)).toBe(false);
  });

  it.each<[JobStatus, JobStatus[]]>([
    ['QUEUED', []],
    ['RUNNING', ['QUEUED']],
    ['COMPLETED', ['RUNNING']],
    ['FAILED', ['QUEUED', 'RUNNING']],
    ['CANCELLED', ['QUEUED', 'RUNNING']],
  ])('a job may become %s only from %j (the conditional write’s IN list)', (to, from) => {
    expect(statusesBefore(to)).toEqual(from);
  });

  it.each<[JobStatus, boolean]>([
    ['QUEUED', false],
    ['RUNNING', false],
    ['COMPLETED', true],
    ['FAILED', true],
    ['CANCELLED', true],
  ])('isTerminal(%s) is %s', (status, terminal) => {
    expect(isTerminal(status)).toBe(terminal);
  });

  it('counts QUEUED and RUNNING as active, and only those', () => {
    expect(ACTIVE_STATUSES).toEqual(['QUEUED', 'RUNNING']);
  });
});

describe('toJobView', () => {
  it('shows exactly the public job fields: no tenantId, expiresAt, executionArn, source data or tenantStatus', () => {
    const job = { ...jobRecord({ name: 'first', error: { code: 'X', message: 'y' } }), tenantStatus: 'acme#RUNNING' };
    expect(toJobView(job)).toStrictEqual({
      jobId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C',
      modelId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2M',
      status: 'RUNNING',
      kind: 'LINEAR',
      alpha: null,
      fitIntercept: true,
      name: 'first',
      progress: 0.5,
      createdAt: '2026-01-01T12:00:00.000Z',
      startedAt: '2026-01-01T12:00:01.000Z',
      finishedAt: null,
      error: { code: 'X', message: 'y' },
      attempts: 1,
      datasetId: null,
      alphas: null,
      modelIds: ['01JH5Z3V8Q6K9W2X4Y7Z0A1B2M'],
      version: 3,
    });
  });

  it('answers name null when the job has none, and the datasetId of a dataset job', () => {
    const view = toJobView(jobRecord({ source: { type: 'dataset', datasetId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2S', target: 'price' } }));
    expect(view.name).toBeNull();
    expect(view.datasetId).toBe('01JH5Z3V8Q6K9W2X4Y7Z0A1B2S');
    expect(Object.keys(view)).not.toContain('source');
  });
});

describe('toModelView', () => {
  it('drops tenantId and expiresAt, keeps every other field as stored, and gives a model trained before categories its columns', () => {
    expect(toModelView(modelRecord())).toStrictEqual({
      modelId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2M',
      jobId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C',
      status: 'TRAINED',
      kind: 'RIDGE',
      alpha: 0.5,
      fitIntercept: true,
      coefficients: [2, 3],
      intercept: 1,
      features: ['x0', 'x1'],
      columns: ['x0', 'x1'],
      levels: {},
      rowsDropped: 0,
      summary: null,
      metrics: { n: 4, r2: 1, rmse: 0 },
      createdAt: '2026-01-01T12:00:00.000Z',
      fittedAt: '2026-01-01T12:00:02.000Z',
    });
  });

  it('shows what a model of a category records: its columns, levels and rows dropped; null rows dropped until TRAINED', () => {
    const model = modelRecord({
      features: ['size', 'cityNice', 'cityParis'],
      columns: ['size', 'city'],
      levels: { city: ['Lyon', 'Nice', 'Paris'] },
      rowsDropped: 3,
    });
    expect(toModelView(model)).toMatchObject({ columns: ['size', 'city'], levels: { city: ['Lyon', 'Nice', 'Paris'] }, rowsDropped: 3 });
    expect(toModelView(modelRecord({ status: 'TRAINING' })).rowsDropped).toBeNull();
  });

  it("answers a LINEAR model's coefficient table, stored as JSON text (p-values below what a table item holds), as an object", () => {
    const table = { coefficients: [{ term: '(Intercept)', estimate: 1, stdError: 0.5, statistic: 2, pValue: 1e-300, confLow: 0, confHigh: 2 }] };
    expect(toModelView(modelRecord({ summary: JSON.stringify(table) })).summary).toEqual(table);
  });

  it('does not modify the stored record', () => {
    const model = modelRecord();
    toModelView(model);
    expect(model.tenantId).toBe('acme');
    expect(model.expiresAt).toBe(1_769_860_800);
  });
});

describe('inlineFeatureNames', () => {
  it('names inline features x0, x1, … in input order', () => {
    expect(inlineFeatureNames(3)).toEqual(['x0', 'x1', 'x2']);
    expect(inlineFeatureNames(0)).toEqual([]);
  });
});
