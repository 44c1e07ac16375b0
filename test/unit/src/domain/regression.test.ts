import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TrainingFailed } from '#domain/errors.js';
import {
  aliasedFeatures,
  type FitSpec,
  type FittedModel,
  fitModel,
  fitModelWithReport,
  type ModelKind,
  predict,
  RegressionAccumulator,
} from '#domain/regression.js';
import { ExactLeastSquares } from '../../helpers/double-double.js';
import { illConditionedSource, RowByRowGivens, relativeErrors } from '../../helpers/ill-conditioned-data.js';

/** A file written by scripts/sklearn-fixtures.py: designs, each with scikit-learn's fits. */
interface FixtureFile {
  designs: Design[];
}
interface Design {
  name: string;
  X: number[][];
  y: number[];
  fits: ReferenceFit[];
}
interface ReferenceFit {
  kind: ModelKind;
  alpha: number | null;
  fitIntercept: boolean;
  coef: number[];
  intercept: number;
  r2: number;
  rmse: number;
  rank?: number;
  nIter?: number;
  converged?: boolean;
}

const fixtureDirectory = new URL('../../../fixtures/sklearn/', import.meta.url);
const groups = readdirSync(fixtureDirectory)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({
    group: file.replace(/\.json$/, ''),
    designs: (JSON.parse(readFileSync(new URL(file, fixtureDirectory), 'utf8')) as FixtureFile).designs,
  }));
const cases = groups.flatMap(({ group, designs }) =>
  designs.flatMap((design) =>
    design.fits.map((reference) => ({
      label: `${group}: ${design.name}, ${reference.kind}${reference.alpha === null ? '' : ` alpha=${reference.alpha}`}${reference.fitIntercept ? '' : ', no intercept'}`,
      group,
      design,
      reference,
    })),
  ),
);
const designNamed = (name: string): Design => {
  const design = groups.flatMap((group) => group.designs).find((candidate) => candidate.name === name);
  if (!design) throw new Error(`no fixture design named ${name}`);
  return design;
};

/** The numerical contract (docs/design.md, Numerics); golden answers are exact, so they get a much tighter bound. */
const TOLERANCE: Record<ModelKind, number> = { LINEAR: 1e-6, RIDGE: 1e-6, LASSO: 1e-4 };
const GOLDEN_TOLERANCE = 1e-12;

function accumulate(X: readonly (readonly number[])[], y: readonly number[], fitIntercept: boolean): RegressionAccumulator {
  const accumulator = new RegressionAccumulator(X[0]!.length, fitIntercept);
  X.forEach((row, index) => accumulator.add(row, y[index]!));
  return accumulator;
}

function fit(X: readonly (readonly number[])[], y: readonly number[], spec: FitSpec): FittedModel {
  return fitModel(accumulate(X, y, spec.fitIntercept), spec);
}

function specOf(reference: ReferenceFit): FitSpec {
  return { kind: reference.kind, alpha: reference.alpha ?? 0, fitIntercept: reference.fitIntercept };
}

/** Root mean square of each column: the typical size of that feature's values. */
function columnScales(X: readonly (readonly number[])[]): number[] {
  return X[0]!.map((_, j) => Math.sqrt(X.reduce((sum, row) => sum + row[j]! ** 2, 0) / X.length));
}

/**
 * How far a model is from the reference, as relative errors.
 *
 * Coefficients: each error is weighed by its feature's scale and compared with the
 * largest weighed coefficient, max |aⱼ - bⱼ|·sⱼ / max |bₖ|·sₖ, i.e. the error of each
 * feature's contribution to a prediction relative to the largest contribution.
 * With features of one scale this is ‖a - b‖∞ / ‖b‖∞; unlike a per-coefficient
 * relative error it stays meaningful for coefficients that are (nearly) zero, and
 * unlike the plain norm it still checks the coefficient of a large-scale feature.
 *
 * Intercept: relative to the size of the terms of a typical prediction, |b| + Σ|bⱼ|·sⱼ
 * (the intercept is mean(y) - mean(x)·w, so its error comes from those terms).
 */
function errorsOf(model: FittedModel, reference: Pick<ReferenceFit, 'coef' | 'intercept'>, scales: readonly number[]) {
  const weighed = reference.coef.map((value, j) => Math.abs(value) * scales[j]!);
  const largest = Math.max(...weighed, Number.MIN_VALUE);
  const coefficients = Math.max(...reference.coef.map((value, j) => (Math.abs(model.coefficients[j]! - value) * scales[j]!) / largest));
  const interceptScale = Math.max(Math.abs(reference.intercept) + weighed.reduce((sum, value) => sum + value, 0), Number.MIN_VALUE);
  return { coefficients, intercept: Math.abs(model.intercept - reference.intercept) / interceptScale };
}

describe('matches scikit-learn 1.2.1 on the fixtures', () => {
  it.each(cases.map((entry) => [entry.label, entry] as const))('%s', (_label, { group, design, reference }) => {
    const { model, solver } = fitModelWithReport(accumulate(design.X, design.y, reference.fitIntercept), specOf(reference));
    const tolerance = group === 'golden' ? GOLDEN_TOLERANCE : TOLERANCE[reference.kind];

    expect(model.coefficients).toHaveLength(reference.coef.length);
    const errors = errorsOf(model, reference, columnScales(design.X));
    expect(errors.coefficients).toBeLessThanOrEqual(tolerance);
    expect(errors.intercept).toBeLessThanOrEqual(tolerance);

    // Metrics on the training data. r2 = 1 - SSE/SST carries SSE's relative rounding times
    // SSE/SST = 1 - r2 (large for a poor fit: a 1e6 target fitted without an intercept scores -1e10);
    // rmse is relative, with a floor for exact fits, whose rmse is rounding noise on both sides.
    const targetScale = Math.sqrt(design.y.reduce((sum, value) => sum + value * value, 0) / design.y.length);
    expect(model.metrics.n).toBe(design.X.length);
    expect(Math.abs(model.metrics.r2 - reference.r2)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(1 - reference.r2)));
    expect(Math.abs(model.metrics.rmse - reference.rmse)).toBeLessThanOrEqual(1e-6 * reference.rmse + 1e-12 * targetScale);

    // Same rank as lstsq (whose rank the script checked on every rank-deficient design),
    // and the same coordinate-descent path as scikit-learn: same sweep count, same verdict.
    if (solver.kind === 'LINEAR' && reference.rank !== undefined) expect(solver.rank).toBe(reference.rank);
    if (solver.kind === 'LASSO' && reference.nIter !== undefined) {
      expect(solver.iterations).toBe(reference.nIter);
      expect(solver.converged).toBe(reference.converged);
    }
  });

  it('reproduces the lasso iterates, not just the optimum (far inside the 1e-4 contract)', () => {
    for (const { design, reference } of cases.filter(({ reference }) => reference.kind === 'LASSO' && reference.nIter !== undefined)) {
      const model = fit(design.X, design.y, specOf(reference));
      expect(errorsOf(model, reference, columnScales(design.X)).coefficients).toBeLessThanOrEqual(1e-9);
    }
  });

  it('gives exactly zero where scikit-learn gives zero in the sparse lasso', () => {
    const design = designNamed('sparse truth 200x12');
    for (const reference of design.fits) {
      const model = fit(design.X, design.y, specOf(reference));
      const zeros = (coefficients: readonly number[]) => coefficients.flatMap((value, j) => (value === 0 ? [j] : []));
      expect(zeros(model.coefficients)).toEqual(zeros(reference.coef));
    }
  });
});

describe('known answers', () => {
  it('recovers y = 3 + 2x exactly, with r2 = 1 and rmse = 0', () => {
    const X = [[0], [1], [2], [3], [4]];
    const model = fit(
      X,
      X.map(([x]) => 3 + 2 * x!),
      { kind: 'LINEAR', alpha: 0, fitIntercept: true },
    );
    expect(model.coefficients[0]).toBeCloseTo(2, 14);
    expect(model.intercept).toBeCloseTo(3, 14);
    expect(model.metrics).toEqual({ n: 5, r2: 1, rmse: expect.closeTo(0, 14) });
  });

  it('a constant feature gets a zero coefficient (minimum norm) and the intercept takes its place', () => {
    const model = fit(
      [
        [1, 5],
        [2, 5],
        [3, 5],
        [4, 5],
      ],
      [1, 3, 5, 7],
      { kind: 'LINEAR', alpha: 0, fitIntercept: true },
    );
    expect(model.coefficients).toEqual([expect.closeTo(2, 12), 0]);
    expect(model.intercept).toBeCloseTo(-1, 12);
  });

  it('two identical features share the weight equally (minimum norm)', () => {
    const X = [
      [1, 1],
      [2, 2],
      [4, 4],
      [7, 7],
    ];
    const { model, solver } = fitModelWithReport(accumulate(X, [3, 5, 9, 15], true), { kind: 'LINEAR', alpha: 0, fitIntercept: true });
    expect(model.coefficients).toEqual([expect.closeTo(1, 12), expect.closeTo(1, 12)]);
    expect(model.intercept).toBeCloseTo(1, 12);
    expect(solver).toEqual({ kind: 'LINEAR', rank: 1 });
  });

  it('a constant target scores r2 = 1 when predicted exactly (as r2_score), 0 otherwise', () => {
    const withIntercept = fit([[1], [2], [3]], [4, 4, 4], { kind: 'LINEAR', alpha: 0, fitIntercept: true });
    expect(withIntercept).toEqual({ coefficients: [0], intercept: 4, metrics: { n: 3, r2: 1, rmse: 0 } });
    // Through the origin, y = 4 cannot be matched by w·x: SSE > 0 with SST = 0.
    const throughOrigin = fit([[1], [2], [3]], [4, 4, 4], { kind: 'LINEAR', alpha: 0, fitIntercept: false });
    expect(throughOrigin.metrics.r2).toBe(0);
  });

  it('a huge constant feature is harmless with an intercept: the first-row shift removes it exactly', () => {
    const model = fit(
      [
        [1e200, 0],
        [1e200, 1],
        [1e200, 2],
      ],
      [1, 3, 5],
      { kind: 'LINEAR', alpha: 0, fitIntercept: true },
    );
    expect(model.coefficients).toEqual([0, expect.closeTo(2, 12)]);
    expect(model.intercept).toBeCloseTo(1, 12);
  });

  it('keeps every digit with a large offset (x ~ 1e8 + small steps)', () => {
    const X = [0, 1, 2, 3, 4, 5].map((step) => [1e8 + step]);
    const model = fit(
      X,
      X.map(([x]) => 0.5 * (x! - 1e8) + 7),
      { kind: 'LINEAR', alpha: 0, fitIntercept: true },
    );
    expect(model.coefficients[0]).toBeCloseTo(0.5, 12);
    expect(model.intercept).toBeCloseTo(7 - 0.5e8, 6);
  });
});

describe('streaming', () => {
  /** A fixed pseudo-random permutation: sort by a hash of the index. */
  const shuffled = <T>(items: readonly T[], seed: number): T[] =>
    items
      .map((item, index) => ({ item, key: Math.sin((index + 1) * 12.9898 + seed * 78.233) }))
      .sort((a, b) => a.key - b.key)
      .map(({ item }) => item);

  it.each(['gaussian 400x8', 'features ~ 1e4 + noise', 'cond(X) = 100000', 'mixed feature scales 1e-3..1e6', 'collinear column'])(
    'gives the same model for any order of the rows: %s',
    (name) => {
      const design = designNamed(name);
      const scales = columnScales(design.X);
      for (const reference of design.fits) {
        const spec = specOf(reference);
        const inOrder = fit(design.X, design.y, spec);
        for (const seed of [1, 2, 3]) {
          const order = shuffled(
            design.X.map((_, index) => index),
            seed,
          );
          const reordered = fit(
            order.map((index) => design.X[index]!),
            order.map((index) => design.y[index]!),
            spec,
          );
          const errors = errorsOf(reordered, { coef: inOrder.coefficients, intercept: inOrder.intercept }, scales);
          expect(errors.coefficients).toBeLessThanOrEqual(1e-9);
          expect(errors.intercept).toBeLessThanOrEqual(1e-9);
        }
      }
    },
  );

  it('can be fitted mid-stream and keep accumulating', () => {
    const design = designNamed('gaussian 60x5');
    const spec: FitSpec = { kind: 'RIDGE', alpha: 1, fitIntercept: true };
    const accumulator = new RegressionAccumulator(5, true);
    design.X.slice(0, 30).forEach((row, index) => accumulator.add(row, design.y[index]!));
    expect(fitModel(accumulator, spec)).toEqual(fit(design.X.slice(0, 30), design.y.slice(0, 30), spec));
    design.X.slice(30).forEach((row, index) => accumulator.add(row, design.y[30 + index]!));
    expect(accumulator.count).toBe(60);
    expect(fitModel(accumulator, spec)).toEqual(fit(design.X, design.y, spec));
  });

  it('addRows and addRecord give exactly what add gives, across several blocks', () => {
    const design = designNamed('gaussian 400x8');
    const spec: FitSpec = { kind: 'LINEAR', alpha: 0, fitIntercept: true };
    const bulk = new RegressionAccumulator(8, true);
    bulk.addRows(Float64Array.from(design.X.slice(0, 150).flat()), Float64Array.from(design.y.slice(0, 150)));
    bulk.addRows(Float64Array.from(design.X.slice(150).flat()), Float64Array.from(design.y.slice(150)));
    expect(fitModel(bulk, spec)).toEqual(fit(design.X, design.y, spec));
    // A record with the target in the middle, as a CSV row whose target is column 3.
    const records = new RegressionAccumulator(8, true);
    design.X.forEach((row, index) => records.addRecord([...row.slice(0, 3), design.y[index]!, ...row.slice(3)], 3));
    expect(fitModel(records, spec)).toEqual(fit(design.X, design.y, spec));
  });

  it('addColumns gives exactly what addRecord gives, in runs of any length, the target anywhere', () => {
    const design = designNamed('gaussian 400x8');
    const spec: FitSpec = { kind: 'RIDGE', alpha: 0.5, fitIntercept: true };
    const recordsOf = (target: number) => design.X.map((row, index) => [...row.slice(0, target), design.y[index]!, ...row.slice(target)]);
    for (const target of [0, 3, 8]) {
      const records = recordsOf(target);
      const one = new RegressionAccumulator(8, true);
      for (const record of records) one.addRecord(record, target);
      // Runs as the CSV kernel hands them: column after column, a stride longer than the run.
      const runs = new RegressionAccumulator(8, true);
      for (let start = 0, length = 1; start < records.length; start += length, length = (length * 7) % 97) {
        const run = records.slice(start, start + length);
        const stride = run.length + 5;
        const columns = new Float64Array(9 * stride).fill(Number.NaN);
        run.forEach((record, r) => record.forEach((value, index) => (columns[index * stride + r] = value)));
        runs.addColumns(columns, stride, run.length, target);
      }
      expect(runs.count).toBe(400);
      expect(runs.state()).toEqual(one.state());
      expect(fitModel(runs, spec)).toEqual(fitModel(one, spec));
    }
  });

  it('addColumns adds the records before a bad one, then fails on it as INVALID_DATA', () => {
    const stride = 200;
    const columns = Float64Array.from({ length: 3 * stride }, (_, index) => Math.sin(index));
    columns[stride + 130] = Number.NaN; // record 131's second value: a feature (the target is the third)
    const accumulator = new RegressionAccumulator(2, true);
    expect(() => accumulator.addColumns(columns, stride, stride, 2)).toThrow(
      expect.objectContaining({ code: 'INVALID_DATA', message: 'row 131 has a feature that is not a finite number' }),
    );
    expect(accumulator.count).toBe(130);
    columns[2 * stride + 5] = Infinity;
    const again = new RegressionAccumulator(2, true);
    expect(() => again.addColumns(columns, stride, stride, 2)).toThrow(
      expect.objectContaining({ code: 'INVALID_DATA', message: 'row 6 has a target that is not a finite number' }),
    );
    expect(again.count).toBe(5);
  });

  it('addRows adds the rows before a bad one, then fails on it as INVALID_DATA', () => {
    const X = Float64Array.from({ length: 200 * 2 }, (_, index) => Math.sin(index));
    const y = Float64Array.from({ length: 200 }, (_, index) => Math.cos(index));
    X[2 * 130 + 1] = Number.NaN;
    const accumulator = new RegressionAccumulator(2, true);
    expect(() => accumulator.addRows(X, y)).toThrow(
      expect.objectContaining({ code: 'INVALID_DATA', message: 'row 131 has a feature that is not a finite number' }),
    );
    expect(accumulator.count).toBe(130);
    y[5] = Infinity;
    const again = new RegressionAccumulator(2, true);
    expect(() => again.addRows(X, y)).toThrow(expect.objectContaining({ code: 'INVALID_DATA', message: 'row 6 has a target that is not a finite number' }));
    expect(again.count).toBe(5);
  });

  it('addRows keeps finite rows whose shifted values overflow, as add does (NUMERIC_OVERFLOW when fitted)', () => {
    // The first row sets the shift to 1e308: row 71's -1e308 shifts to -Infinity.
    const X = Float64Array.from({ length: 100 }, (_, index) => (index === 0 ? 1e308 : index === 70 ? -1e308 : Math.sin(index)));
    const y = Float64Array.from({ length: 100 }, (_, index) => Math.cos(index));
    const bulk = new RegressionAccumulator(1, true);
    bulk.addRows(X, y);
    expect(bulk.count).toBe(100);
    const single = new RegressionAccumulator(1, true);
    X.forEach((value, index) => single.add([value], y[index]!));
    for (const accumulator of [bulk, single]) {
      expect(() => accumulator.state()).toThrow(expect.objectContaining({ code: 'NUMERIC_OVERFLOW' }));
    }
  });

  it('accepts typed arrays as rows, the way the CSV reader hands them over', () => {
    const design = designNamed('gaussian 12x3');
    const accumulator = new RegressionAccumulator(3, true);
    const row = new Float64Array(3);
    design.X.forEach((values, index) => {
      row.set(values);
      accumulator.add(row, design.y[index]!);
    });
    const spec: FitSpec = { kind: 'LINEAR', alpha: 0, fitIntercept: true };
    expect(fitModel(accumulator, spec)).toEqual(fit(design.X, design.y, spec));
  });
});

describe('an ill-conditioned design (cond ≈ 1e8), against an exact reference', () => {
  // The small version of bench/ill-conditioned.ts (10^7 rows there): the block engine's
  // LINEAR answer must be as close to the double-double answer as the previous
  // row-by-row Givens engine's, and both near cond·ε.
  it.each([0.01, 0])('noise %s', (noise) => {
    const features = 10;
    const rows = 5000;
    const source = illConditionedSource({ features, condition: 1e8, noise, seed: 7 });
    const x = new Float64Array(rows * features);
    const y = new Float64Array(rows);
    source.next(x, y, rows);
    const blocks = new RegressionAccumulator(features, true);
    blocks.addRows(x, y);
    const givens = new RowByRowGivens(features);
    const exact = new ExactLeastSquares(features, true);
    for (let i = 0; i < rows; i++) {
      givens.add(x.subarray(i * features, (i + 1) * features), y[i]!);
      exact.add(x.subarray(i * features, (i + 1) * features), y[i]!);
    }
    const reference = exact.solve();
    const now = relativeErrors(fitModel(blocks, { kind: 'LINEAR', alpha: 0, fitIntercept: true }), reference);
    const before = relativeErrors(givens.solve(), reference);
    expect(now.worst).toBeLessThanOrEqual(before.worst);
    expect(now.intercept).toBeLessThanOrEqual(before.intercept);
    expect(now.worst).toBeLessThan(1e-7);
  });
});

describe('degenerate data', () => {
  const KINDS: ModelKind[] = ['LINEAR', 'RIDGE', 'LASSO'];

  /** The TrainingFailed that `run` throws (fails the test if it throws anything else, or nothing). */
  function failureOf(run: () => unknown): TrainingFailed {
    let thrown: unknown;
    try {
      run();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TrainingFailed);
    return thrown as TrainingFailed;
  }

  it.each(KINDS)('%s with fewer than 2 rows is INSUFFICIENT_DATA', (kind) => {
    for (const fitIntercept of [true, false]) {
      const accumulator = new RegressionAccumulator(2, fitIntercept);
      expect(failureOf(() => fitModel(accumulator, { kind, alpha: 1, fitIntercept })).code).toBe('INSUFFICIENT_DATA');
      accumulator.add([1, 2], 3);
      expect(failureOf(() => fitModel(accumulator, { kind, alpha: 1, fitIntercept })).code).toBe('INSUFFICIENT_DATA');
    }
  });

  /** What the two refusal tests below leave: exactly the three good rows, fitted as if nothing else was offered. */
  function expectOnlyTheGoodRows(accumulator: RegressionAccumulator): void {
    expect(accumulator.count).toBe(3);
    const spec: FitSpec = { kind: 'LINEAR', alpha: 0, fitIntercept: true };
    const X = [
      [1, 2],
      [2, 1],
      [0, 4],
    ];
    expect(fitModel(accumulator, spec)).toEqual(fit(X, [3, 5, 1], spec));
  }

  it('a non-finite value or a row of the wrong width is INVALID_DATA, and the row is not counted', () => {
    const accumulator = new RegressionAccumulator(2, true);
    accumulator.add([1, 2], 3);
    for (const [x, y] of [
      [[1, Number.NaN], 1],
      [[Infinity, 1], 1],
      [[1, 2], -Infinity],
      [[1, 2], Number.NaN],
      [[1], 1],
      [[1, 2, 3], 1],
    ] as const) {
      expect(failureOf(() => accumulator.add(x, y)).code).toBe('INVALID_DATA');
    }
    accumulator.add([2, 1], 5);
    accumulator.add([0, 4], 1);
    expectOnlyTheGoodRows(accumulator);
  });

  it('addRecord refuses a non-finite value by the first one in the record, and leaves no trace of the row', () => {
    const accumulator = new RegressionAccumulator(2, true);
    // Records as CSV rows with the target in the middle: [x0, y, x1].
    expect(failureOf(() => accumulator.addRecord([1, Number.NaN, 2], 1)).message).toBe('row 1 has a target that is not a finite number');
    accumulator.addRecord([1, 3, 2], 1);
    for (const [record, message] of [
      [[Infinity, Number.NaN, 1], 'row 2 has a feature that is not a finite number'],
      [[1, -Infinity, 2], 'row 2 has a target that is not a finite number'],
      [[1, 2, Number.NaN], 'row 2 has a feature that is not a finite number'],
    ] as const) {
      expect(failureOf(() => accumulator.addRecord(record, 1))).toMatchObject({ code: 'INVALID_DATA', message });
    }
    accumulator.addRecord([2, 5, 1], 1);
    accumulator.addRecord([0, 1, 4], 1);
    expectOnlyTheGoodRows(accumulator);
  });

  it('a bad first row does not become the shift', () => {
    const accumulator = new RegressionAccumulator(1, true);
    expect(failureOf(() => accumulator.add([5], Number.NaN)).code).toBe('INVALID_DATA');
    [0, 1, 2].forEach((x) => accumulator.add([x], 1 + x));
    const model = fitModel(accumulator, { kind: 'LINEAR', alpha: 0, fitIntercept: true });
    expect(model.coefficients[0]).toBeCloseTo(1, 14);
    expect(model.intercept).toBeCloseTo(1, 14);
  });

  it.each([
    ['features whose squares overflow', [[1e200], [2e200], [3e200]], [1, 2, 3]],
    ['a target whose square overflows', [[1], [2], [3]], [1e200, -1e200, 3e200]],
    ['features too close to the largest double', [[1.7e308], [-1.7e308]], [1, 2]],
  ])('%s is NUMERIC_OVERFLOW, not NaN', (_name, X, y) => {
    for (const kind of KINDS) {
      expect(failureOf(() => fit(X, y, { kind, alpha: 1, fitIntercept: true })).code).toBe('NUMERIC_OVERFLOW');
    }
  });

  it.each([
    ['a target near 1e130 (coefficient and intercept past 1e126)', [2e130, 3e130, 4e130]],
    ['a target near 1e-140 (coefficient and intercept below 1e-130)', [2e-140, 3e-140, 4.5e-140]],
    ['a constant target of 1e126 (the intercept)', [1e126, 1e126, 1e126]],
    ['a target of ±1e-140', [1e-140, 0, -1e-140]],
  ])('a finite fit the models table cannot store is NUMERIC_OVERFLOW, naming the range: %s', (_name, y) => {
    for (const kind of KINDS) {
      const failure = failureOf(() => fit([[0], [1], [2]], y, { kind, alpha: 1e-100, fitIntercept: true }));
      expect(failure).toMatchObject({
        code: 'NUMERIC_OVERFLOW',
        message: 'the fitted model has a value outside the range a model can store (magnitude 1e-130 to below 1e+126, or 0): rescale the data',
      });
    }
  });

  it('a fit at the edges of the stored range is kept', () => {
    const model = fit([[0], [1], [2]], [2e120, 3e120, 4e120], { kind: 'LINEAR', alpha: 0, fitIntercept: true });
    expect(model.coefficients[0]).toBeCloseTo(1e120, -106);
    expect(model.intercept).toBeCloseTo(2e120, -106);
  });

  it('a value whose square underflows is just a tiny value, not an error', () => {
    const model = fit(
      [
        [0, 1],
        [1e-300, 2],
        [0, 3],
        [0, 4.5],
      ],
      [1, 2, 3, 4],
      { kind: 'LINEAR', alpha: 0, fitIntercept: true },
    );
    expect([...model.coefficients, model.intercept].every(Number.isFinite)).toBe(true);
  });

  it('a model needs at least one feature', () => {
    expect(failureOf(() => new RegressionAccumulator(0, true)).code).toBe('INVALID_DATA');
  });

  it.each([0, -1, Number.NaN, Infinity])('RIDGE and LASSO refuse alpha = %s as INVALID_DATA', (alpha) => {
    const accumulator = accumulate([[1], [2], [3]], [1, 2, 4], true);
    for (const kind of ['RIDGE', 'LASSO'] as const) {
      expect(failureOf(() => fitModel(accumulator, { kind, alpha, fitIntercept: true })).code).toBe('INVALID_DATA');
    }
    expect(fitModel(accumulator, { kind: 'LINEAR', alpha, fitIntercept: true }).coefficients[0]).toBeCloseTo(1.5, 12);
  });

  it('refuses a spec whose fitIntercept differs from the accumulator (a caller bug)', () => {
    const accumulator = accumulate([[1], [2], [3]], [1, 2, 4], true);
    expect(() => fitModel(accumulator, { kind: 'LINEAR', alpha: 0, fitIntercept: false })).toThrow(/fitIntercept/);
  });

  it('never answers NaN, -0 or Infinity on rank-deficient, constant or tiny data', () => {
    const designs: [string, number[][], number[]][] = [
      [
        'all features constant',
        [
          [2, 3],
          [2, 3],
          [2, 3],
        ],
        [1, 2, 3],
      ],
      [
        'all zero',
        [
          [0, 0],
          [0, 0],
        ],
        [0, 0],
      ],
      [
        'two rows, five features',
        [
          [1, 2, 3, 4, 5],
          [5, 4, 3, 2, 1],
        ],
        [1, -1],
      ],
      [
        'duplicate rows only',
        [
          [1, 2],
          [1, 2],
          [1, 2],
        ],
        [3, 3, 3],
      ],
      [
        'collinear and constant',
        [
          [1, 2, 9],
          [2, 4, 9],
          [3, 6, 9],
          [4, 8, 9],
        ],
        [1, 2, 2, 5],
      ],
      // Tiny and huge, but with every fitted value in the range a model can store: at 1e-140 or 1e140 the fit is
      // NUMERIC_OVERFLOW (the test of the stored range, above).
      [
        'tiny values',
        [
          [1e-40, 0],
          [2e-40, 1e-40],
          [0, 3e-40],
        ],
        [1e-40, 0, -1e-40],
      ],
      [
        'huge values',
        [
          [1e120, 0],
          [2e120, 1e120],
          [0, 3e120],
        ],
        [1e120, 0, -1e120],
      ],
    ];
    for (const [name, X, y] of designs) {
      for (const kind of KINDS) {
        for (const fitIntercept of [true, false]) {
          const model = fit(X, y, { kind, alpha: 0.1, fitIntercept });
          const numbers = [...model.coefficients, model.intercept, model.metrics.r2, model.metrics.rmse];
          expect(numbers.every(Number.isFinite), `${name}, ${kind}, intercept ${fitIntercept}: ${numbers}`).toBe(true);
          expect(
            numbers.some((value) => Object.is(value, -0)),
            `${name}, ${kind}: -0`,
          ).toBe(false);
        }
      }
    }
  });
});

describe('predict', () => {
  const model = { coefficients: [2, -1], intercept: 0.5 };

  it('answers x·w + b for one input and for a batch', () => {
    expect(predict(model, [[1, 1]])).toEqual([1.5]);
    expect(
      predict(model, [
        [0, 0],
        [3, 2],
        [-1, 4],
      ]),
    ).toEqual([0.5, 4.5, -5.5]);
    expect(predict(model, [])).toEqual([]);
  });

  it('predicts what the fitted model was trained on', () => {
    const design = designNamed('gaussian 60x5');
    const fitted = fit(design.X, design.y, { kind: 'LINEAR', alpha: 0, fitIntercept: true });
    const predictions = predict(fitted, design.X);
    const rmse = Math.sqrt(predictions.reduce((sum, value, index) => sum + (value - design.y[index]!) ** 2, 0) / predictions.length);
    expect(rmse).toBeCloseTo(fitted.metrics.rmse, 12);
  });

  it('refuses an input of the wrong width', () => {
    expect(() => predict(model, [[1]])).toThrow('expected 2 values, got 1');
  });
});

describe("aliasedFeatures: the columns R's lm reports as NA", () => {
  const stateOf = (rows: number[][], fitIntercept = true) => {
    const accumulator = new RegressionAccumulator(rows[0]!.length - 1, fitIntercept);
    for (const row of rows) accumulator.add(row.slice(0, -1), row.at(-1)!);
    return accumulator.state();
  };

  it('names a column that repeats an earlier one, and only the later of the two', () => {
    expect(
      aliasedFeatures(
        stateOf([
          [0, 5, 0, 1],
          [1, 3, 1, 4],
          [2, 4, 2, 2],
          [3, 1, 3, 6],
          [4, 2, 4, 5],
        ]),
      ),
    ).toEqual([2]);
  });

  it('names a column that is a combination of two before it, and a column that is constant once centred', () => {
    const rows = [
      [1, 0, 1, 7, 3],
      [2, 1, 3, 7, 1],
      [0, 3, 3, 7, 4],
      [5, 2, 7, 7, 2],
      [3, 3, 6, 7, 9],
    ];
    expect(aliasedFeatures(stateOf(rows))).toEqual([2, 3]);
    // Without an intercept a constant column is a column like any other.
    expect(aliasedFeatures(stateOf(rows, false))).toEqual([2]);
  });

  it('names nothing in a design of full rank', () => {
    expect(
      aliasedFeatures(
        stateOf([
          [0, 5, 1],
          [1, 3, 4],
          [2, 4, 2],
          [3, 1, 6],
          [4, 2, 5],
        ]),
      ),
    ).toEqual([]);
  });
});
