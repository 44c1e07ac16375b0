import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, limitsFrom } from '#domain/limits.js';

describe('limits', () => {
  it('defaults to the values of docs/rules.md', () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxInlinePoints: 10_000,
      maxFeatures: 100,
      maxBodyBytes: 1_048_576,
      maxActiveJobs: 20,
      maxPredictInputs: 10_000,
      maxDatasetBytes: 1_073_741_824,
      maxDatasetColumns: 1_000,
    });
    expect(limitsFrom({})).toEqual(DEFAULT_LIMITS);
  });

  it('takes each limit from its LIMIT_* variable and ignores unrelated ones', () => {
    expect(
      limitsFrom({
        LIMIT_MAX_INLINE_POINTS: '50',
        LIMIT_MAX_FEATURES: '3',
        LIMIT_MAX_BODY_BYTES: '2048',
        LIMIT_MAX_ACTIVE_JOBS: '2',
        LIMIT_MAX_PREDICT_INPUTS: '7',
        LIMIT_MAX_DATASET_BYTES: '4096',
        LIMIT_MAX_DATASET_COLUMNS: '9',
        JOBS_TABLE_NAME: 'jobs',
      }),
    ).toEqual({ maxInlinePoints: 50, maxFeatures: 3, maxBodyBytes: 2048, maxActiveJobs: 2, maxPredictInputs: 7, maxDatasetBytes: 4096, maxDatasetColumns: 9 });
  });

  it('overrides one limit and keeps the defaults of the others', () => {
    expect(limitsFrom({ LIMIT_MAX_ACTIVE_JOBS: '5' })).toEqual({ ...DEFAULT_LIMITS, maxActiveJobs: 5 });
  });

  it.each(['0', '-1', '1.5', 'many'])('refuses LIMIT_MAX_FEATURES=%j at start-up, naming the variable', (value) => {
    expect(() => limitsFrom({ LIMIT_MAX_FEATURES: value })).toThrow(/LIMIT_MAX_FEATURES/);
  });
});
