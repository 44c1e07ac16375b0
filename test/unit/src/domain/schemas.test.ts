import { describe, expect, it } from 'vitest';
import { modelColumns } from '#domain/design.js';
import { ValidationFailed } from '#domain/errors.js';
import { DEFAULT_LIMITS } from '#domain/limits.js';
import {
  checkPredictions,
  createJobBodySchema,
  DEFAULT_ALPHA,
  JobId,
  ListJobsQuery,
  ListQuery,
  parseInput,
  parsePredictBody,
  predictBodySchema,
  predictionInputs,
  TenantId,
  toJobRequest,
} from '#domain/schemas.js';
import type * as z from '#domain/zod.js';

const CreateJobBody = createJobBodySchema(DEFAULT_LIMITS);
const PredictBody = predictBodySchema(DEFAULT_LIMITS);
const DATASET_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2S';
const POINTS = [
  { x: 0, y: 1 },
  { x: 1, y: 3 },
];

/** The ValidationFailed that parsing `input` throws; fails the test if it does not throw one. */
function rejectionOf(run: () => unknown): ValidationFailed {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ValidationFailed);
  const failure = thrown as ValidationFailed;
  expect(failure.code).toBe('VALIDATION_ERROR');
  expect(failure.category).toBe('invalid');
  return failure;
}

const detailsOf = (schema: z.core.$ZodType, input: unknown) => rejectionOf(() => parseInput(schema, input)).details;

const points = (count: number, width = 1) => Array.from({ length: count }, (_, index) => ({ x: Array.from({ length: width }, () => index), y: index }));

describe('POST /jobs body: every bad input is a VALIDATION_ERROR naming the failing field', () => {
  it.each<[string, unknown, { path: string; message: string | RegExp }[]]>([
    ['an unknown kind', { kind: 'POLYNOMIAL', data: POINTS }, [{ path: 'kind', message: /LINEAR.*RIDGE.*LASSO/ }]],
    ['a lower-case kind', { kind: 'linear', data: POINTS }, [{ path: 'kind', message: /LINEAR.*RIDGE.*LASSO/ }]],
    ['no kind', { data: POINTS }, [{ path: 'kind', message: /LINEAR.*RIDGE.*LASSO/ }]],
    ['alpha for LINEAR', { kind: 'LINEAR', alpha: 0.5, data: POINTS }, [{ path: 'alpha', message: 'alpha is not allowed for LINEAR' }]],
    ['a level for RIDGE', { kind: 'RIDGE', level: 0.9, data: POINTS }, [{ path: 'level', message: 'level (of the coefficient table) is only for LINEAR' }]],
    ['a level of 1', { kind: 'LINEAR', level: 1, data: POINTS }, [{ path: 'level', message: 'must be below 1' }]],
    ['a level of 0', { kind: 'LINEAR', level: 0, data: POINTS }, [{ path: 'level', message: 'must be above 0' }]],
    ['alpha = 0', { kind: 'RIDGE', alpha: 0, data: POINTS }, [{ path: 'alpha', message: 'must be from 1e-100 to 1e+100' }]],
    ['alpha < 0', { kind: 'LASSO', alpha: -0.1, data: POINTS }, [{ path: 'alpha', message: 'must be from 1e-100 to 1e+100' }]],
    ['alpha = Infinity', { kind: 'RIDGE', alpha: Infinity, data: POINTS }, [{ path: 'alpha', message: /expected number/ }]],
    ['alpha as a string', { kind: 'RIDGE', alpha: '0.5', data: POINTS }, [{ path: 'alpha', message: /expected number, received string/ }]],
    ['alpha null', { kind: 'RIDGE', alpha: null, data: POINTS }, [{ path: 'alpha', message: /expected number, received null/ }]],
    [
      'both data and datasetId',
      { kind: 'LINEAR', data: POINTS, datasetId: DATASET_ID, target: 'y' },
      [
        { path: 'data', message: 'exactly one of data or datasetId is required' },
        { path: 'target', message: 'target is only allowed with datasetId' },
      ],
    ],
    ['neither data nor datasetId', { kind: 'LINEAR' }, [{ path: 'data', message: 'exactly one of data or datasetId is required' }]],
    ['datasetId without target', { kind: 'LINEAR', datasetId: DATASET_ID }, [{ path: 'target', message: 'target is required with datasetId' }]],
    ['target with inline data', { kind: 'LINEAR', data: POINTS, target: 'y' }, [{ path: 'target', message: 'target is only allowed with datasetId' }]],
    [
      'a malformed datasetId',
      { kind: 'LINEAR', datasetId: '../../etc/passwd', target: 'y' },
      [{ path: 'datasetId', message: 'must be an id returned by this API' }],
    ],
    ['empty data', { kind: 'LINEAR', data: [] }, [{ path: 'data', message: 'must have at least one point' }]],
    ['10,001 points', { kind: 'LINEAR', data: points(10_001) }, [{ path: 'data', message: 'at most 10000 points' }]],
    [
      '101 features',
      { kind: 'LINEAR', data: points(2, 101) },
      [
        { path: 'data.0.x', message: 'at most 100 features' },
        { path: 'data.1.x', message: 'at most 100 features' },
      ],
    ],
    ['an empty x', { kind: 'LINEAR', data: [{ x: [], y: 1 }] }, [{ path: 'data.0.x', message: 'must have at least one feature' }]],
    [
      'points of different widths',
      {
        kind: 'LINEAR',
        data: [
          { x: [1, 2], y: 1 },
          { x: 3, y: 2 },
        ],
      },
      [{ path: 'data', message: 'every point must have the same number of features' }],
    ],
    ['a string x', { kind: 'LINEAR', data: [{ x: '1', y: 1 }] }, [{ path: 'data.0.x', message: 'must be a number or an array of numbers' }]],
    ['a null x', { kind: 'LINEAR', data: [{ x: null, y: 1 }] }, [{ path: 'data.0.x', message: 'must be a number or an array of numbers' }]],
    ['a missing x', { kind: 'LINEAR', data: [{ y: 1 }] }, [{ path: 'data.0.x', message: 'must be a number or an array of numbers' }]],
    ['a string inside x', { kind: 'LINEAR', data: [{ x: [1, 'two'], y: 1 }] }, [{ path: 'data.0.x.1', message: /expected number, received string/ }]],
    [
      'a string y',
      { kind: 'LINEAR', data: POINTS.concat({ x: 2, y: '5' as unknown as number }) },
      [{ path: 'data.2.y', message: /expected number, received string/ }],
    ],
    ['a missing y', { kind: 'LINEAR', data: [{ x: 1 }] }, [{ path: 'data.0.y', message: /expected number, received undefined/ }]],
    ['a non-finite y', { kind: 'LINEAR', data: [{ x: 1, y: Number.NaN }] }, [{ path: 'data.0.y', message: /expected number, received NaN/ }]],
    ['an unknown top-level field', { kind: 'LINEAR', data: POINTS, tenantId: 'other' }, [{ path: 'tenantId', message: 'unknown field' }]],
    ['an unknown point field', { kind: 'LINEAR', data: [{ x: 1, y: 2, weight: 3 }] }, [{ path: 'data.0.weight', message: 'unknown field' }]],
    ['a non-boolean fitIntercept', { kind: 'LINEAR', data: POINTS, fitIntercept: 'yes' }, [{ path: 'fitIntercept', message: /expected boolean/ }]],
    ['an empty name', { kind: 'LINEAR', data: POINTS, name: '' }, [{ path: 'name', message: /too small/i }]],
    ['an array body', [POINTS], [{ path: '(body)', message: /expected object, received array/ }]],
    ['a null body', null, [{ path: '(body)', message: /expected object, received null/ }]],
  ])('rejects %s', (_, body, expected) => {
    expect(detailsOf(CreateJobBody, body)).toEqual(
      expected.map(({ path, message }) => ({ path, message: typeof message === 'string' ? message : expect.stringMatching(message) })),
    );
  });

  it('accepts exactly 10,000 points and exactly 100 features (the limits are inclusive)', () => {
    expect(parseInput(CreateJobBody, { kind: 'LINEAR', data: points(10_000) }).data).toHaveLength(10_000);
    expect(parseInput(CreateJobBody, { kind: 'LINEAR', data: points(3, 100) }).data?.[0]?.x).toHaveLength(100);
  });

  it('applies the limits it is built with', () => {
    const Small = createJobBodySchema({ ...DEFAULT_LIMITS, maxInlinePoints: 3, maxFeatures: 2 });
    expect(detailsOf(Small, { kind: 'LINEAR', data: points(4) })).toEqual([{ path: 'data', message: 'at most 3 points' }]);
    expect(detailsOf(Small, { kind: 'LINEAR', data: points(1, 3) })).toEqual([{ path: 'data.0.x', message: 'at most 2 features' }]);
  });

  it('treats a bare number and a one-element array as the same width', () => {
    expect(
      parseInput(CreateJobBody, {
        kind: 'LINEAR',
        data: [
          { x: 1, y: 1 },
          { x: [2], y: 2 },
        ],
      }).data,
    ).toEqual([
      { x: [1], y: 1 },
      { x: [2], y: 2 },
    ]);
  });

  it('says "the request is invalid" with the field list in details', () => {
    const failure = rejectionOf(() => parseInput(CreateJobBody, { kind: 'LINEAR' }));
    expect(failure.message).toBe('the request is invalid');
  });
});

describe('POST /jobs body: alpha within the range a table stores, with room (ALPHA_RANGE)', () => {
  const RANGE = 'must be from 1e-100 to 1e+100';

  it.each([
    ['the largest double', 1.7976931348623157e308],
    ['1e308', 1e308],
    ['-1e308', -1e308],
    ['just past the largest stored number', 1e126],
    ['ten times the bound', 1e101],
    ['below the smallest stored number', 1e-131],
    ['1e-200', 1e-200],
    ['a subnormal', 1e-320],
    ['the smallest subnormal', 5e-324],
    ['-0', -0],
    ['just below the bound', 9.99e-101],
  ])('refuses alpha = %s (%s) naming the field', (_, alpha) => {
    expect(detailsOf(CreateJobBody, { kind: 'RIDGE', alpha, data: POINTS })).toEqual([{ path: 'alpha', message: RANGE }]);
    expect(detailsOf(CreateJobBody, { kind: 'LASSO', datasetId: DATASET_ID, target: 'y', alphas: [1, alpha] })).toEqual([{ path: 'alphas.1', message: RANGE }]);
  });

  it.each([
    ['the lower bound', 1e-100],
    ['the upper bound', 1e100],
    ['an integer beyond 2^53', 2 ** 53 + 2],
    ['an ordinary value', 0.5],
  ])('accepts alpha = %s (%s)', (_, alpha) => {
    expect(toJobRequest(parseInput(CreateJobBody, { kind: 'RIDGE', alpha, data: POINTS })).alpha).toBe(alpha);
    expect(toJobRequest(parseInput(CreateJobBody, { kind: 'RIDGE', datasetId: DATASET_ID, target: 'y', alphas: [alpha] })).alphas).toEqual([alpha]);
  });

  it('keeps the inline points as they are: they are stored in S3, not a table, and only need to be finite', () => {
    const data = [
      { x: [1.7976931348623157e308, 5e-324], y: -1e308 },
      { x: [-0, 1e-200], y: 1e126 },
    ];
    expect(toJobRequest(parseInput(CreateJobBody, { kind: 'LINEAR', data })).source).toEqual({ type: 'inline', data });
  });
});

describe('toJobRequest: defaults and normalisation', () => {
  const request = (body: unknown) => toJobRequest(parseInput(CreateJobBody, body));

  it.each(['RIDGE', 'LASSO'] as const)('defaults alpha to 1.0 for %s', (kind) => {
    expect(DEFAULT_ALPHA).toBe(1);
    expect(request({ kind, data: POINTS }).alpha).toBe(1);
  });

  it('keeps an explicit alpha', () => {
    expect(request({ kind: 'LASSO', alpha: 0.25, data: POINTS }).alpha).toBe(0.25);
  });

  it('stores alpha null for LINEAR', () => {
    expect(request({ kind: 'LINEAR', data: POINTS }).alpha).toBeNull();
  });

  it('defaults fitIntercept to true and keeps false', () => {
    expect(request({ kind: 'LINEAR', data: POINTS }).fitIntercept).toBe(true);
    expect(request({ kind: 'LINEAR', data: POINTS, fitIntercept: false }).fitIntercept).toBe(false);
  });

  it('normalises inline x to arrays and keeps the name', () => {
    expect(
      request({
        kind: 'RIDGE',
        data: [
          { x: 0, y: 1 },
          { x: [2.5], y: 2 },
        ],
        name: 'first try',
      }),
    ).toStrictEqual({
      kind: 'RIDGE',
      alpha: 1,
      fitIntercept: true,
      name: 'first try',
      source: {
        type: 'inline',
        data: [
          { x: [0], y: 1 },
          { x: [2.5], y: 2 },
        ],
      },
    });
  });

  it('builds a dataset source from datasetId and target, without a name key when none was given', () => {
    expect(request({ kind: 'LINEAR', datasetId: DATASET_ID, target: 'price' })).toStrictEqual({
      kind: 'LINEAR',
      alpha: null,
      fitIntercept: true,
      source: { type: 'dataset', datasetId: DATASET_ID, target: 'price', missing: 'drop' },
    });
  });
});

describe('predict body', () => {
  it.each<[string, unknown, { path: string; message: string | RegExp }[]]>([
    ['both x and inputs', { x: [1, 2], inputs: [[1, 2]] }, [{ path: 'x', message: 'exactly one of x, inputs or rows is required' }]],
    ['both inputs and rows', { inputs: [[1, 2]], rows: [{ a: 1 }] }, [{ path: 'x', message: 'exactly one of x, inputs or rows is required' }]],
    ['neither x, inputs nor rows', {}, [{ path: 'x', message: 'exactly one of x, inputs or rows is required' }]],
    ['a null in a row', { rows: [{ a: null }] }, [{ path: 'rows.0.a', message: /Invalid input/ }]],
    ['10,001 rows', { rows: Array.from({ length: 10_001 }, () => ({ a: 1 })) }, [{ path: 'rows', message: 'at most 10000 rows' }]],
    ['10,001 inputs', { inputs: Array.from({ length: 10_001 }, () => [1]) }, [{ path: 'inputs', message: 'at most 10000 inputs' }]],
    ['an empty batch', { inputs: [] }, [{ path: 'inputs', message: /expected array to have >=1 items/ }]],
    ['an empty input in a batch', { inputs: [[1], []] }, [{ path: 'inputs.1', message: /expected array to have >=1 items/ }]],
    ['a string in a batch', { inputs: [[1], ['2']] }, [{ path: 'inputs.1.0', message: /expected number, received string/ }]],
    ['a string x', { x: '5' }, [{ path: 'x', message: /Invalid input/ }]],
    ['an unknown field', { x: 5, model: 'other' }, [{ path: 'model', message: 'unknown field' }]],
  ])('rejects %s', (_, body, expected) => {
    expect(detailsOf(PredictBody, body)).toEqual(
      expected.map(({ path, message }) => ({ path, message: typeof message === 'string' ? message : expect.stringMatching(message) })),
    );
  });

  it('accepts exactly 10,000 inputs', () => {
    expect(parseInput(PredictBody, { inputs: Array.from({ length: 10_000 }, () => [1]) }).inputs).toHaveLength(10_000);
  });
});

describe('predictionInputs: inputs checked against the model width', () => {
  it('takes a bare number as the one input of a one-feature model', () => {
    expect(predictionInputs({ x: 5 }, 1)).toEqual({ inputs: [[5]], single: true, path: 'x' });
  });

  it('takes an array x as one input', () => {
    expect(predictionInputs({ x: [1, 2] }, 2)).toEqual({ inputs: [[1, 2]], single: true, path: 'x' });
  });

  it('takes inputs as a batch', () => {
    expect(
      predictionInputs(
        {
          inputs: [
            [1, 2],
            [3, 4],
          ],
        },
        2,
      ),
    ).toEqual({
      inputs: [
        [1, 2],
        [3, 4],
      ],
      single: false,
      path: 'inputs',
    });
  });

  it("encodes rows by column name with the model's columns: a category one-hot, its first level the reference", () => {
    const columns = modelColumns({ columns: ['size', 'city'], levels: { city: ['Lyon', 'Nice', 'Paris'] } });
    expect(
      predictionInputs(
        {
          rows: [
            { size: 2, city: 'Lyon' },
            { city: 'Paris', size: 3, extra: 'ignored' },
          ],
        },
        3,
        columns,
      ),
    ).toEqual({
      inputs: [
        [2, 0, 0],
        [3, 0, 1],
      ],
      single: false,
      path: 'rows',
    });
  });

  it('refuses a bare number for a multi-feature model', () => {
    const failure = rejectionOf(() => predictionInputs({ x: 5 }, 3));
    expect(failure.message).toBe('this model has 3 features: x must be an array of 3 numbers');
    expect(failure.details).toEqual([{ path: 'x', message: 'expected 3 values' }]);
  });

  it('refuses an x of the wrong width', () => {
    expect(rejectionOf(() => predictionInputs({ x: [1, 2, 3] }, 2)).details).toEqual([{ path: 'x', message: 'expected 2 values, got 3' }]);
  });

  it('names the first batch input of the wrong width', () => {
    const failure = rejectionOf(() => predictionInputs({ inputs: [[1, 2], [3], [4, 5, 6]] }, 2));
    expect(failure.message).toBe('each input must have 2 values');
    expect(failure.details).toEqual([{ path: 'inputs.1', message: 'expected 2 values, got 1' }]);
  });
});

describe('checkPredictions: only answers JSON can carry', () => {
  it('lets finite predictions through, however large', () => {
    expect(() => checkPredictions([1.7976931348623157e308, -5e-324, 0], false)).not.toThrow();
  });

  it.each([
    ['an overflow in x', [Infinity], true, 'x'],
    ['Infinity - Infinity in x', [Number.NaN], true, 'x'],
    ['the first overflow of a batch', [1, -Infinity, Infinity], false, 'inputs.1'],
  ])('refuses %s as a VALIDATION_ERROR naming the input', (_, predictions, single, path) => {
    const failure = rejectionOf(() => checkPredictions(predictions, single));
    expect(failure.message).toBe('a prediction overflows double precision');
    expect(failure.details).toEqual([{ path, message: 'the prediction for this input is not a finite number: its values are too large for this model' }]);
  });
});

describe('list query strings', () => {
  it.each(['0', '101', 'abc', '1.5', '', '-1', '1e2', ' 5'])('refuses limit=%j with VALIDATION_ERROR on limit', (limit) => {
    expect(detailsOf(ListQuery, { limit })).toEqual([{ path: 'limit', message: 'must be an integer from 1 to 100' }]);
  });

  it.each([
    ['1', 1],
    ['20', 20],
    ['100', 100],
    ['007', 7],
  ])('accepts limit=%j as %d', (limit, expected) => {
    expect(parseInput(ListQuery, { limit })).toEqual({ limit: expected });
  });

  it('defaults limit to 20', () => {
    expect(parseInput(ListQuery, {})).toEqual({ limit: 20 });
    expect(parseInput(ListJobsQuery, {})).toEqual({ limit: 20 });
  });

  it('passes nextToken through and refuses an empty one', () => {
    expect(parseInput(ListQuery, { nextToken: 'abc' })).toEqual({ limit: 20, nextToken: 'abc' });
    expect(detailsOf(ListQuery, { nextToken: '' })).toEqual([{ path: 'nextToken', message: expect.stringMatching(/too small/i) }]);
  });

  it('accepts a job status filter and refuses an unknown one', () => {
    expect(parseInput(ListJobsQuery, { status: 'RUNNING', limit: '5' })).toEqual({ status: 'RUNNING', limit: 5 });
    expect(detailsOf(ListJobsQuery, { status: 'DONE' })).toEqual([{ path: 'status', message: expect.stringMatching(/QUEUED.*CANCELLED/) }]);
  });

  it('refuses a status filter on models and any unknown parameter', () => {
    expect(detailsOf(ListQuery, { status: 'RUNNING' })).toEqual([{ path: 'status', message: 'unknown field' }]);
    expect(detailsOf(ListJobsQuery, { limit: '5', page: '2' })).toEqual([{ path: 'page', message: 'unknown field' }]);
  });
});

describe('ids', () => {
  it('accepts a ULID and refuses anything else', () => {
    expect(JobId.safeParse('01JH5Z3V8Q6K9W2X4Y7Z0A1B2C').success).toBe(true);
    for (const bad of ['01jh5z3v8q6k9w2x4y7z0a1b2c', '01JH5Z3V8Q6K9W2X4Y7Z0A1B2', '01JH5Z3V8Q6K9W2X4Y7Z0A1B2CC', '01JH5Z3V8Q6K9W2X4Y7Z0A1B2U', '']) {
      expect(JobId.safeParse(bad).success).toBe(false);
    }
  });

  it('accepts tenant ids of 1-64 safe characters only', () => {
    expect(TenantId.safeParse('acme_Corp-1').success).toBe(true);
    expect(TenantId.safeParse('a'.repeat(64)).success).toBe(true);
    for (const bad of ['', 'a'.repeat(65), 'acme#RUNNING', 'a b', 'ümlaut']) expect(TenantId.safeParse(bad).success).toBe(false);
  });
});

describe('POST /jobs: features and alphas (dataset jobs)', () => {
  const dataset = { kind: 'RIDGE', datasetId: DATASET_ID, target: 'price' };

  it('keeps features and a regularisation path; alpha is the first value', () => {
    const request = toJobRequest(parseInput(CreateJobBody, { ...dataset, features: ['b', 'a'], alphas: [0.5, 2] }));
    expect(request).toMatchObject({ alpha: 0.5, alphas: [0.5, 2], source: { type: 'dataset', datasetId: DATASET_ID, target: 'price', features: ['b', 'a'] } });
  });

  it('leaves a job of one alpha as it was: no alphas, no features', () => {
    const request = toJobRequest(parseInput(CreateJobBody, dataset));
    expect(request).toEqual({
      kind: 'RIDGE',
      alpha: DEFAULT_ALPHA,
      fitIntercept: true,
      source: { type: 'dataset', datasetId: DATASET_ID, target: 'price', missing: 'drop' },
    });
  });

  it.each([
    [{ features: [] }, 'features', 'at least one column'],
    [{ features: [''] }, 'features.0', ''],
    [{ alphas: [] }, 'alphas', 'at least one value'],
    [{ alphas: Array.from({ length: 101 }, (_, i) => i + 1) }, 'alphas', 'at most 100'],
    [{ alphas: [1, -1] }, 'alphas.1', 'must be from 1e-100 to 1e+100'],
    [{ alphas: [1, 0] }, 'alphas.1', 'must be from 1e-100 to 1e+100'],
    [{ alphas: [1, 1e126] }, 'alphas.1', 'must be from 1e-100 to 1e+100'],
    [{ alphas: [1e-130, 1] }, 'alphas.0', 'must be from 1e-100 to 1e+100'],
    [{ alpha: 1, alphas: [1, 2] }, 'alphas', 'not both'],
    [{ kind: 'LINEAR', alphas: [1, 2] }, 'alphas', 'not allowed for LINEAR'],
  ])('refuses %j at %s', (extra, path, message) => {
    const failure = rejectionOf(() => parseInput(CreateJobBody, { ...dataset, ...extra }));
    expect(failure.details).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('refuses features with inline data', () => {
    const failure = rejectionOf(() => parseInput(CreateJobBody, { kind: 'LINEAR', data: POINTS, features: ['x0'] }));
    expect(failure.details).toContainEqual({ path: 'features', message: 'features is only allowed with datasetId' });
  });
});

describe('parsePredictBody: a well-formed batch by a plain loop, everything else by the schema', () => {
  const batch = {
    inputs: [
      [1, 2.5],
      [-3, 0],
      [1e300, -1e-300],
    ],
  };

  it('answers a well-formed batch as the schema does', () => {
    expect(parsePredictBody(PredictBody, DEFAULT_LIMITS, batch)).toStrictEqual(parseInput(PredictBody, batch));
    expect(parsePredictBody(PredictBody, DEFAULT_LIMITS, { x: [1, 2] })).toStrictEqual({ x: [1, 2] });
  });

  it.each<[string, unknown]>([
    [
      'a string in a row',
      {
        inputs: [
          [1, 2],
          [1, '2'],
        ],
      },
    ],
    ['a NaN', { inputs: [[Number.NaN]] }],
    ['an empty row', { inputs: [[1], []] }],
    ['no rows', { inputs: [] }],
    ['a row that is not an array', { inputs: [[1], 2] }],
    ['an extra field', { inputs: [[1]], x: [1] }],
    ['more inputs than the limit', { inputs: [[1], [2], [3]] }],
    ['an array body', [[1, 2]]],
  ])('refuses %s with exactly the schema’s details', (_, body) => {
    const limits = { ...DEFAULT_LIMITS, maxPredictInputs: 2 };
    const schema = predictBodySchema(limits);
    const viaSchema = rejectionOf(() => parseInput(schema, body));
    const viaFastPath = rejectionOf(() => parsePredictBody(schema, limits, body));
    expect(viaFastPath).toBeInstanceOf(ValidationFailed);
    expect(viaFastPath.details).toEqual(viaSchema.details);
    expect(viaFastPath.details).not.toEqual([]);
  });
});
