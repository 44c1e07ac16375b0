import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type FittedModel, fitModel, type ModelKind, RegressionAccumulator } from '#domain/regression.js';
import { type ColumnStatistics, fitStatistics, mergeStatistics, selectColumns, statisticsOfState } from '#domain/statistics.js';

interface Design {
  name: string;
  X: number[][];
  y: number[];
  fits: { kind: ModelKind; alpha: number | null; fitIntercept: boolean; coef: number[]; intercept: number }[];
}
const fixtureDirectory = new URL('../../../fixtures/sklearn/', import.meta.url);
const designs: Design[] = readdirSync(fixtureDirectory)
  .filter((file) => file.endsWith('.json'))
  .flatMap((file) => (JSON.parse(readFileSync(new URL(file, fixtureDirectory), 'utf8')) as { designs: Design[] }).designs);

/** Statistics of rows (all columns), as one range of the scan computes them. */
function statisticsOf(rows: readonly (readonly number[])[]): ColumnStatistics {
  const k = rows[0]!.length;
  const accumulator = new RegressionAccumulator(k - 1, true);
  for (const row of rows) accumulator.add(row.slice(0, k - 1), row[k - 1]!);
  return statisticsOfState(accumulator.state());
}

/** Rows split in `parts` contiguous pieces, reduced separately, then merged. */
function mergedStatistics(rows: readonly (readonly number[])[], parts: number): ColumnStatistics {
  const size = Math.ceil(rows.length / parts);
  const pieces = Array.from({ length: parts }, (_, i) => rows.slice(i * size, (i + 1) * size)).filter((piece) => piece.length > 0);
  return pieces.map(statisticsOf).reduce(mergeStatistics);
}

/** Largest difference relative to the largest magnitude of the single-pass answer. */
function relativeDifference(a: FittedModel, b: FittedModel): number {
  const scale = Math.max(...b.coefficients.map(Math.abs), Math.abs(b.intercept), Number.MIN_VALUE);
  const diffs = a.coefficients.map((value, j) => Math.abs(value - b.coefficients[j]!));
  return Math.max(...diffs, Math.abs(a.intercept - b.intercept)) / scale;
}

/**
 * Both answers carry rounding of order cond(X)·ε (the single pass is no more exact than the merge), so designs
 * built ill-conditioned on purpose ("cond(X) = 1e5") are held to 1e-14·cond(X); every other design to 1e-12.
 * Lasso stops on a tolerance, so a rounding difference can move its last sweep: 1e-9 there.
 */
function toleranceOf(name: string, kind: ModelKind): number {
  if (kind === 'LASSO') return 1e-9;
  const cond = /cond\(X\) = (\d+)/.exec(name);
  return cond ? Math.max(1e-12, 1e-14 * Number(cond[1])) : 1e-12;
}

describe('fits from merged statistics equal the single pass', () => {
  // Designs whose data is too large for the squares of double precision, or rank-deficient (where the
  // minimum-norm answer is itself a cutoff decision), are compared with scikit-learn instead, below.
  const wellPosed = designs.filter((design) => design.X.length > design.X[0]!.length + 1);
  const cases = wellPosed.flatMap((design) => design.fits.map((reference) => ({ design, reference })));

  it.each(cases.map((entry) => [`${entry.design.name} ${entry.reference.kind} ${entry.reference.alpha} ${entry.reference.fitIntercept}`, entry] as const))(
    '%s',
    (_label, { design, reference }) => {
      const rows = design.X.map((x, i) => [...x, design.y[i]!]);
      const spec = { kind: reference.kind, alpha: reference.alpha ?? 0, fitIntercept: reference.fitIntercept };
      const accumulator = new RegressionAccumulator(design.X[0]!.length, reference.fitIntercept);
      design.X.forEach((x, i) => accumulator.add(x, design.y[i]!));
      let single: FittedModel;
      try {
        single = fitModel(accumulator, spec);
      } catch {
        return; // a fit the engine refuses (overflow) is refused from statistics too: checked below
      }
      const d = design.X[0]!.length;
      const selection = { features: Array.from({ length: d }, (_, j) => j), target: d };
      for (const parts of [1, 3, 7]) {
        const { model } = fitStatistics(mergedStatistics(rows, parts), selection, spec);
        expect(relativeDifference(model, single)).toBeLessThanOrEqual(toleranceOf(design.name, reference.kind));
        expect(model.metrics.n).toBe(single.metrics.n);
        expect(Math.abs(model.metrics.r2 - single.metrics.r2)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(1 - single.metrics.r2)));
      }
    },
  );
});

describe('subset and order of columns (QR of R·S)', () => {
  const design = designs.find((candidate) => candidate.X.length >= 50 && candidate.X[0]!.length >= 4)!;
  const rows = design.X.map((x, i) => [...x, design.y[i]!]);
  const k = rows[0]!.length;

  it.each([
    [[2, 0], 1, true],
    [[3], 0, false],
    [[0, 1, 2], k - 1, true],
    [[k - 1, 1], 2, true],
  ] as const)('features %j, target %i, intercept %s: as one pass over those columns', (features, target, fitIntercept) => {
    for (const kind of ['LINEAR', 'RIDGE', 'LASSO'] as const) {
      const spec = { kind, alpha: 0.3, fitIntercept };
      const accumulator = new RegressionAccumulator(features.length, fitIntercept);
      for (const row of rows)
        accumulator.add(
          features.map((j) => row[j]!),
          row[target]!,
        );
      const single = fitModel(accumulator, spec);
      const { model } = fitStatistics(mergedStatistics(rows, 4), { features, target }, spec);
      expect(relativeDifference(model, single)).toBeLessThanOrEqual(kind === 'LASSO' ? 1e-9 : 1e-12);
      expect(Math.abs(model.metrics.rmse - single.metrics.rmse)).toBeLessThanOrEqual(1e-12 * single.metrics.rmse + 1e-14);
    }
  });

  it('is exactly y = 1 + 2a - 3c when the data says so', () => {
    const exact = Array.from({ length: 20 }, (_, i) => [i, (i * 7) % 5, (i * i) % 11, 1 + 2 * i - 3 * ((i * i) % 11)]);
    const { model } = fitStatistics(mergedStatistics(exact, 3), { features: [0, 2], target: 3 }, { kind: 'LINEAR', alpha: 0, fitIntercept: true });
    expect(model.intercept).toBeCloseTo(1, 10);
    expect(model.coefficients[0]).toBeCloseTo(2, 10);
    expect(model.coefficients[1]).toBeCloseTo(-3, 10);
    expect(model.metrics.r2).toBeCloseTo(1, 12);
  });
});

describe('selectColumns', () => {
  const columns = ['a', 'b', 'c', 'y'];
  it('defaults to every other column in header order', () => {
    expect(selectColumns(columns, 'b')).toEqual({ names: ['a', 'c', 'y'], features: [0, 2, 3], target: 1 });
  });
  it('keeps the order asked for', () => {
    expect(selectColumns(columns, 'y', ['c', 'a'])).toEqual({ names: ['c', 'a'], features: [2, 0], target: 3 });
  });
  it.each([
    [['a', 'zz'], 'features.1', 'is not a column'],
    [['a', 'a'], 'features.1', 'listed twice'],
    [['y'], 'features.0', 'is the target'],
    [[], 'features', 'at least one'],
  ])('refuses %j (%s)', (features, path, message) => {
    try {
      selectColumns(columns, 'y', features);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'VALIDATION_ERROR', category: 'invalid' });
      expect((error as { details: { path: string; message: string }[] }).details).toEqual([{ path, message: expect.stringContaining(message) }]);
    }
  });
  it('refuses an unknown target', () => {
    expect(() => selectColumns(columns, 'q')).toThrow('target is not a column');
  });
});
