import * as z from './zod.js';

/** The limits of docs/rules.md. Every limit can be changed per deployment through the environment. */
export interface Limits {
  maxInlinePoints: number;
  maxFeatures: number;
  maxBodyBytes: number;
  maxActiveJobs: number;
  maxPredictInputs: number;
  maxDatasetBytes: number;
  maxDatasetColumns: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxInlinePoints: 10_000,
  maxFeatures: 100,
  maxBodyBytes: 1024 * 1024,
  maxActiveJobs: 20,
  maxPredictInputs: 10_000,
  maxDatasetBytes: 1024 * 1024 * 1024,
  maxDatasetColumns: 1_000,
};

const positive = z.coerce.number().check(z.int(), z.positive());

const LimitsEnv = z.object({
  LIMIT_MAX_INLINE_POINTS: z._default(positive, DEFAULT_LIMITS.maxInlinePoints),
  LIMIT_MAX_FEATURES: z._default(positive, DEFAULT_LIMITS.maxFeatures),
  LIMIT_MAX_BODY_BYTES: z._default(positive, DEFAULT_LIMITS.maxBodyBytes),
  LIMIT_MAX_ACTIVE_JOBS: z._default(positive, DEFAULT_LIMITS.maxActiveJobs),
  LIMIT_MAX_PREDICT_INPUTS: z._default(positive, DEFAULT_LIMITS.maxPredictInputs),
  LIMIT_MAX_DATASET_BYTES: z._default(positive, DEFAULT_LIMITS.maxDatasetBytes),
  LIMIT_MAX_DATASET_COLUMNS: z._default(positive, DEFAULT_LIMITS.maxDatasetColumns),
});

/** Limits from `LIMIT_*` variables, each falling back to its default in docs/rules.md. */
export function limitsFrom(env: Record<string, string | undefined>): Limits {
  const parsed = LimitsEnv.parse(env);
  return {
    maxInlinePoints: parsed.LIMIT_MAX_INLINE_POINTS,
    maxFeatures: parsed.LIMIT_MAX_FEATURES,
    maxBodyBytes: parsed.LIMIT_MAX_BODY_BYTES,
    maxActiveJobs: parsed.LIMIT_MAX_ACTIVE_JOBS,
    maxPredictInputs: parsed.LIMIT_MAX_PREDICT_INPUTS,
    maxDatasetBytes: parsed.LIMIT_MAX_DATASET_BYTES,
    maxDatasetColumns: parsed.LIMIT_MAX_DATASET_COLUMNS,
  };
}
