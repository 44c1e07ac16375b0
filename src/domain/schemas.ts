import { type DesignColumn, encodeNamedRows, type MissingRule } from './design.js';
import { ValidationFailed } from './errors.js';
import { type InlinePoint, JOB_STATUSES } from './jobs.js';
import type { Limits } from './limits.js';
import type { ModelKind } from './regression.js';
import * as z from './zod.js';

/**
 * Every client input is parsed here, once, into a typed value or a ValidationFailed
 * listing the failing fields. Handlers never JSON.parse and cast.
 */

/** What a dataset job does with a row that has a missing value in its target or a feature (src/domain/design.ts). */
export const MISSING_RULES = ['drop', 'error'] as const satisfies readonly MissingRule[];

export const MODEL_KINDS = ['LINEAR', 'RIDGE', 'LASSO'] as const satisfies readonly ModelKind[];
export const DEFAULT_ALPHA = 1.0;
/** Most values of `alphas` in one job: one model each, fitted from the dataset's statistics. */
export const MAX_ALPHAS = 100;

/**
 * The values `alpha` (and each of `alphas`) may take (docs/rules.md, "Limits": numbers).
 * Alpha is stored with the job and its models, so it must be a number the tables
 * hold (src/domain/stored-numbers.ts: 1e-130 to below 1e126, or 0); outside that
 * the write fails, after the job's points were stored. The range asked is 1e-100
 * to 1e100: alpha weighs the penalty against the data's own scale (XᵀX for RIDGE,
 * Xᵀy / n for LASSO), and 200 orders of magnitude cover any scaling of real data,
 * while a round bound 26 orders inside each edge is one a client can state and keep to.
 */
export const ALPHA_RANGE = { min: 1e-100, max: 1e100 } as const;
const ALPHA_MESSAGE = `must be from ${ALPHA_RANGE.min} to ${ALPHA_RANGE.max}`;

export const ResourceId = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an id returned by this API'));
export const JobId = ResourceId;
export const ModelId = ResourceId;
export const DatasetId = ResourceId;

/** Tenant ids name API key owners: short, URL- and key-safe. */
export const TenantId = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'));

const finite = z.number(); // zod 4 numbers are finite: NaN and ±Infinity are rejected
/** `alpha` and each value of `alphas`, in ALPHA_RANGE (so > 0, and never 0 or subnormal). */
const alphaValue = z.number().check(z.gte(ALPHA_RANGE.min, ALPHA_MESSAGE), z.lte(ALPHA_RANGE.max, ALPHA_MESSAGE));

export function createJobBodySchema(limits: Limits) {
  const features = z
    .array(finite, { error: 'must be a number or an array of numbers' })
    .check(z.minLength(1, 'must have at least one feature'), z.maxLength(limits.maxFeatures, `at most ${limits.maxFeatures} features`));
  // A bare number is one feature. Normalising before validating (rather than a union)
  // lets the array's own messages, such as the feature limit, reach the client.
  const point = z.strictObject({
    x: z.pipe(
      z.transform((x: unknown) => (typeof x === 'number' ? [x] : x)),
      features,
    ),
    y: finite,
  });
  return z
    .strictObject({
      kind: z.enum(MODEL_KINDS),
      alpha: z.optional(alphaValue),
      data: z.optional(
        z.array(point).check(z.minLength(1, 'must have at least one point'), z.maxLength(limits.maxInlinePoints, `at most ${limits.maxInlinePoints} points`)),
      ),
      datasetId: z.optional(DatasetId),
      target: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
      features: z.optional(
        z
          .array(z.string().check(z.minLength(1), z.maxLength(256)))
          .check(z.minLength(1, 'must name at least one column'), z.maxLength(limits.maxFeatures, `at most ${limits.maxFeatures} features`)),
      ),
      missing: z.optional(z.enum(MISSING_RULES)),
      level: z.optional(z.number().check(z.gt(0, 'must be above 0'), z.lt(1, 'must be below 1'))),
      alphas: z.optional(z.array(alphaValue).check(z.minLength(1, 'must have at least one value'), z.maxLength(MAX_ALPHAS, `at most ${MAX_ALPHAS} values`))),
      fitIntercept: z._default(z.boolean(), true),
      name: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
    })
    .check(
      z.superRefine((body, ctx) => {
        if (body.kind === 'LINEAR' && body.alpha !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['alpha'], message: 'alpha is not allowed for LINEAR' });
        }
        if ((body.data === undefined) === (body.datasetId === undefined)) {
          ctx.addIssue({ code: 'custom', path: ['data'], message: 'exactly one of data or datasetId is required' });
        }
        if (body.datasetId !== undefined && body.target === undefined) {
          ctx.addIssue({ code: 'custom', path: ['target'], message: 'target is required with datasetId' });
        }
        if (body.data !== undefined && body.target !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['target'], message: 'target is only allowed with datasetId' });
        }
        if (body.data !== undefined && body.features !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['features'], message: 'features is only allowed with datasetId' });
        }
        if (body.data !== undefined && body.missing !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['missing'], message: 'missing is only allowed with datasetId' });
        }
        if (body.alphas !== undefined && body.alpha !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['alphas'], message: 'give either alpha or alphas, not both' });
        }
        if (body.kind !== 'LINEAR' && body.level !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['level'], message: 'level (of the coefficient table) is only for LINEAR' });
        }
        if (body.kind === 'LINEAR' && body.alphas !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['alphas'], message: 'alphas is not allowed for LINEAR' });
        }
        const widths = new Set(body.data?.map((point) => point.x.length));
        if (widths.size > 1) {
          ctx.addIssue({ code: 'custom', path: ['data'], message: 'every point must have the same number of features' });
        }
      }),
    );
}

export type CreateJobBody = z.infer<ReturnType<typeof createJobBodySchema>>;

/** A validated job request with defaults applied and inline x normalised to arrays. */
export interface JobRequest {
  kind: ModelKind;
  /** The first of `alphas` when they are given. */
  alpha: number | null;
  /** A regularisation path: one model per value, in this order. */
  alphas?: number[];
  /** LINEAR: the confidence level of the coefficient table. */
  level?: number;
  fitIntercept: boolean;
  name?: string;
  source: { type: 'inline'; data: InlinePoint[] } | { type: 'dataset'; datasetId: string; target: string; features?: string[]; missing: MissingRule };
}

export function toJobRequest(body: CreateJobBody): JobRequest {
  const alpha = body.kind === 'LINEAR' ? null : (body.alphas?.[0] ?? body.alpha ?? DEFAULT_ALPHA);
  const source: JobRequest['source'] = body.data
    ? { type: 'inline', data: body.data.map((point) => ({ x: point.x, y: point.y })) }
    : {
        type: 'dataset',
        datasetId: body.datasetId as string,
        target: body.target as string,
        ...(body.features === undefined ? {} : { features: body.features }),
        missing: body.missing ?? 'drop',
      };
  return {
    kind: body.kind,
    alpha,
    ...(body.alphas === undefined ? {} : { alphas: body.alphas }),
    ...(body.level === undefined ? {} : { level: body.level }),
    fitIntercept: body.fitIntercept,
    ...(body.name ? { name: body.name } : {}),
    source,
  };
}

export function predictBodySchema(limits: Limits) {
  return z
    .strictObject({
      x: z.optional(z.union([finite, z.array(finite).check(z.minLength(1))])),
      inputs: z.optional(
        z.array(z.array(finite).check(z.minLength(1))).check(z.minLength(1), z.maxLength(limits.maxPredictInputs, `at most ${limits.maxPredictInputs} inputs`)),
      ),
      rows: z.optional(
        z
          .array(z.record(z.string(), z.union([finite, z.string()])))
          .check(z.minLength(1), z.maxLength(limits.maxPredictInputs, `at most ${limits.maxPredictInputs} rows`)),
      ),
    })
    .check(
      z.refine((body) => [body.x, body.inputs, body.rows].filter((given) => given !== undefined).length === 1, {
        path: ['x'],
        message: 'exactly one of x, inputs or rows is required',
      }),
    );
}

export type PredictBody = z.infer<ReturnType<typeof predictBodySchema>>;

/** Every row an array of at least one finite number: what the schema asks of `inputs`, checked in one tight loop. */
function isBatchOfNumbers(inputs: unknown, maxInputs: number): inputs is number[][] {
  if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > maxInputs) return false;
  for (const row of inputs) {
    if (!Array.isArray(row) || row.length < 1) return false;
    for (const value of row) if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  }
  return true;
}

/**
 * The predict body, parsed by `schema` (predictBodySchema at `limits`). A well-formed
 * batch (`{"inputs": [[…], …]}`, the only field) is recognised by a plain loop first:
 * zod walks a 10,000 x 100 batch several times slower, and the answer is the same.
 * Anything else, and every invalid body, goes through the schema, so errors and
 * their details are the schema's.
 */
export function parsePredictBody(schema: ReturnType<typeof predictBodySchema>, limits: Limits, input: unknown): PredictBody {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const keys = Object.keys(input);
    const { inputs } = input as { inputs?: unknown };
    if (keys.length === 1 && keys[0] === 'inputs' && isBatchOfNumbers(inputs, limits.maxPredictInputs)) return { inputs };
  }
  return parseInput(schema, input);
}

/**
 * The inputs of a prediction, checked against the model's width. A bare number is
 * one input of a one-feature model.
 */
export function predictionInputs(
  body: PredictBody,
  width: number,
  columns: readonly DesignColumn[] = [],
): { inputs: number[][]; single: boolean; path: string } {
  if (body.rows !== undefined) return { inputs: encodeNamedRows(columns, width, body.rows), single: false, path: 'rows' };
  const single = body.inputs === undefined;
  const inputs = single ? [typeof body.x === 'number' ? [body.x] : (body.x as number[])] : (body.inputs as number[][]);
  if (single && typeof body.x === 'number' && width !== 1) {
    throw new ValidationFailed(`this model has ${width} features: x must be an array of ${width} numbers`, [
      { path: 'x', message: `expected ${width} values` },
    ]);
  }
  const wrong = inputs.findIndex((input) => input.length !== width);
  if (wrong >= 0) {
    const path = single ? 'x' : `inputs.${wrong}`;
    throw new ValidationFailed(`each input must have ${width} values`, [{ path, message: `expected ${width} values, got ${inputs[wrong]?.length}` }]);
  }
  return { inputs, single, path: single ? 'x' : 'inputs' };
}

/**
 * Refuses predictions the answer cannot carry: inputs finite but so large for the
 * model that a prediction overflows double precision (or is Infinity - Infinity)
 * have no JSON number, and would be answered as null. A 400 names the first such input.
 */
export function checkPredictions(predictions: readonly number[], single: boolean, path = single ? 'x' : 'inputs'): void {
  const wrong = predictions.findIndex((value) => !Number.isFinite(value));
  if (wrong < 0) return;
  throw new ValidationFailed('a prediction overflows double precision', [
    { path: single ? path : `${path}.${wrong}`, message: 'the prediction for this input is not a finite number: its values are too large for this model' },
  ]);
}

const LIMIT_RANGE = 'must be an integer from 1 to 100';

export const ListQuery = z.strictObject({
  limit: z._default(
    z.pipe(
      z.pipe(z.string().check(z.regex(/^\d+$/, LIMIT_RANGE)), z.transform(Number)),
      z.number().check(z.int(), z.gte(1, LIMIT_RANGE), z.lte(100, LIMIT_RANGE)),
    ),
    20,
  ),
  nextToken: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});

export const ListJobsQuery = z.extend(ListQuery, { status: z.optional(z.enum(JOB_STATUSES)) });

/** Parses `input` or throws ValidationFailed with one `{path, message}` per issue. */
export function parseInput<S extends z.core.$ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  // An unknown key is reported at its own path, so `details` names every failing field.
  const details = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'unknown field' }))
      : [{ path: issue.path.join('.') || '(body)', message: issue.message }],
  );
  throw new ValidationFailed('the request is invalid', details);
}
