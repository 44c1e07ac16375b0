import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TrainingFailed } from '../../src/domain/errors.js';
import { RegressionAccumulator, fitModel, predict, type FitSpec, type ModelKind } from '../../src/domain/regression.js';

interface Fixture {
  name: string;
  kind: ModelKind;
  alpha: number | null;
  fitIntercept: boolean;
  dataset: number;
  coef: number[];
  intercept: number;
  r2: number;
  rmse: number;
}

const fixtures = new URL('../fixtures/sklearn/', import.meta.url);
const read = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8')) as T;
const { datasets } = read<{ datasets: { X: number[][]; y: number[] }[] }>('datasets.json');
const cases = (group: string) => read<{ cases: Fixture[] }>(`${group}.json`).cases;

function fit(X: readonly number[][], y: readonly number[], spec: FitSpec) {
  const accumulator = new RegressionAccumulator(X[0]!.length, spec.fitIntercept);
  X.forEach((row, index) => accumulator.add(row, y[index]!));
  return fitModel(accumulator, spec);
}

/**
 * Relative error of a vector against scikit-learn's, measured against the larger of
 * each value and the vector's largest magnitude: a coefficient that is 0 in one and
 * 1e-17 in the other is agreement, not an infinite relative error.
 */
function relativeError(actual: readonly number[], expected: readonly number[]): number {
  const scale = Math.max(...expected.map(Math.abs), Number.MIN_VALUE);
  return Math.max(...expected.map((value, index) => Math.abs(actual[index]! - value) / Math.max(Math.abs(value), scale)));
}

describe.each([
  ['linear', 1e-6],
  ['ridge', 1e-6],
  ['lasso', 1e-4],
])('%s matches scikit-learn', (group, tolerance) => {
  it.each(cases(group).map((fixture) => [fixture.name, fixture] as const))('%s', (_name, fixture) => {
    const { X, y } = datasets[fixture.dataset]!;
    const model = fit(X, y, { kind: fixture.kind, alpha: fixture.alpha ?? 0, fitIntercept: fixture.fitIntercept });

    expect(model.coefficients).toHaveLength(fixture.coef.length);
    expect(relativeError(model.coefficients, fixture.coef)).toBeLessThanOrEqual(tolerance);
    // The intercept is compared on the scale of the coefficients' contribution to it.
    const interceptScale = Math.max(Math.abs(fixture.intercept), ...fixture.coef.map((c, j) => Math.abs(c * X[0]![j]!)), 1e-12);
    expect(Math.abs(model.intercept - fixture.intercept) / interceptScale).toBeLessThanOrEqual(tolerance);
    expect(model.metrics.n).toBe(X.length);
    expect(model.metrics.r2).toBeCloseTo(fixture.r2, 6);
    // Metrics are not part of the numerical contract; the factored state gives them to ~1e-6.
    expect(Math.abs(model.metrics.rmse - fixture.rmse)).toBeLessThanOrEqual(1e-5 * fixture.rmse + 1e-9 * interceptScale);
  });
});

describe('known answers', () => {
  it('recovers y = 3 + 2x exactly', () => {
    const X = [[0], [1], [2], [3], [4]];
    const model = fit(X, X.map(([x]) => 3 + 2 * x!), { kind: 'LINEAR', alpha: 0, fitIntercept: true });
    expect(model.coefficients[0]).toBeCloseTo(2, 12);
    expect(model.intercept).toBeCloseTo(3, 12);
    expect(model.metrics).toEqual({ n: 5, r2: 1, rmse: expect.closeTo(0, 12) });
  });

  it('ridge on one centred feature shrinks by sxx / (sxx + alpha)', () => {
    // x = -1, 0, 1 (sxx = 2), y = 2x + 5: w = sxy / (sxx + alpha) = 4 / (2 + 2) = 1, b = mean(y) = 5.
    const model = fit([[-1], [0], [1]], [3, 5, 7], { kind: 'RIDGE', alpha: 2, fitIntercept: true });
    expect(model.coefficients[0]).toBeCloseTo(1, 12);
    expect(model.intercept).toBeCloseTo(5, 12);
  });

  it('lasso on one feature soft-thresholds sxy / n by alpha', () => {
    // Same data, n = 3: w = (sxy/n - alpha) / (sxx/n) = (4/3 - 1/3) / (2/3) = 1.5.
    const model = fit([[-1], [0], [1]], [3, 5, 7], { kind: 'LASSO', alpha: 1 / 3, fitIntercept: true });
    expect(model.coefficients[0]).toBeCloseTo(1.5, 8);
    expect(model.intercept).toBeCloseTo(5, 8);
  });

  it('without an intercept the line goes through the origin', () => {
    const model = fit([[1], [2], [3]], [2, 4, 6.5], { kind: 'LINEAR', alpha: 0, fitIntercept: false });
    // w = sum(xy) / sum(x²) = (2 + 8 + 19.5) / 14
    expect(model.coefficients[0]).toBeCloseTo(29.5 / 14, 12);
    expect(model.intercept).toBe(0);
  });

  it('gives the same model whatever the order of the rows', () => {
    const X = Array.from({ length: 200 }, (_, i) => [Math.sin(i), Math.cos(3 * i), (i % 7) - 3]);
    const y = X.map(([a, b, c]) => 1 + 2 * a! - b! + 0.5 * c! + Math.sin(17 * a!) * 0.1);
    const order = X.map((_, i) => i).sort((a, b) => Math.sin(a * 12.9898) - Math.sin(b * 12.9898));
    for (const kind of ['LINEAR', 'RIDGE', 'LASSO'] as const) {
      const spec = { kind, alpha: 0.05, fitIntercept: true };
      const forward = fit(X, y, spec);
      const shuffled = fit(order.map((i) => X[i]!), order.map((i) => y[i]!), spec);
      expect(relativeError(shuffled.coefficients, forward.coefficients)).toBeLessThan(kind === 'LASSO' ? 1e-6 : 1e-9);
      expect(shuffled.intercept).toBeCloseTo(forward.intercept, 8);
    }
  });
});

describe('degenerate data', () => {
  const failure = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error;
    }
    throw new Error('expected a TrainingFailed');
  };

  it.each(['LINEAR', 'RIDGE', 'LASSO'] as const)('%s with one row is INSUFFICIENT_DATA', (kind) => {
    const error = failure(() => fit([[1]], [1], { kind, alpha: 1, fitIntercept: true }));
    expect(error).toBeInstanceOf(TrainingFailed);
    expect((error as TrainingFailed).code).toBe('INSUFFICIENT_DATA');
  });

  it('values whose squares overflow are NUMERIC_OVERFLOW, not NaN', () => {
    const error = failure(() => fit([[1e200], [2e200], [3e200]], [1, 2, 3], { kind: 'LINEAR', alpha: 0, fitIntercept: true }));
    expect((error as TrainingFailed).code).toBe('NUMERIC_OVERFLOW');
  });

  it('a non-finite value or a row of the wrong width is INVALID_DATA', () => {
    const accumulator = new RegressionAccumulator(2, true);
    expect((failure(() => accumulator.add([1, Number.NaN], 1)) as TrainingFailed).code).toBe('INVALID_DATA');
    expect((failure(() => accumulator.add([1], 1)) as TrainingFailed).code).toBe('INVALID_DATA');
    expect((failure(() => accumulator.add([1, 2], Infinity)) as TrainingFailed).code).toBe('INVALID_DATA');
    expect(accumulator.count).toBe(0);
  });

  it('a constant target scores r2 = 1 when fitted exactly, as r2_score does', () => {
    const model = fit([[1], [2], [3]], [4, 4, 4], { kind: 'LINEAR', alpha: 0, fitIntercept: true });
    expect(model.coefficients[0]).toBeCloseTo(0, 12);
    expect(model.intercept).toBeCloseTo(4, 12);
    expect(model.metrics.r2).toBe(1);
  });

  it('a constant feature gets a zero coefficient (minimum norm), never NaN', () => {
    const model = fit([[1, 5], [2, 5], [3, 5], [4, 5]], [1, 3, 5, 7], { kind: 'LINEAR', alpha: 0, fitIntercept: true });
    expect(model.coefficients[0]).toBeCloseTo(2, 10);
    expect(model.coefficients[1]).toBeCloseTo(0, 10);
    expect(model.intercept).toBeCloseTo(-1, 10);
  });
});

describe('predict', () => {
  const model = { coefficients: [2, -1], intercept: 0.5 };

  it('answers x·w + b for one input and for a batch', () => {
    expect(predict(model, [[1, 1]])).toEqual([1.5]);
    expect(predict(model, [[0, 0], [3, 2], [-1, 4]])).toEqual([0.5, 4.5, -5.5]);
  });

  it('refuses an input of the wrong width', () => {
    expect(() => predict(model, [[1]])).toThrow('expected 2 values, got 1');
  });
});
