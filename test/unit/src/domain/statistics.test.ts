import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CELL_MISSING, CELL_NUMBER, CELL_TEXT, type RowCells } from '#domain/csv.js';
import { packedIndex } from '#domain/linalg.js';
import { type FitSpec, type FittedModel, fitModel, type ModelKind, RegressionAccumulator } from '#domain/regression.js';
import {
  type ColumnStatistics,
  fitStatistics,
  MAX_PATTERNS,
  mergePatternStatistics,
  mergeStatistics,
  PatternAccumulator,
  type PatternStatistics,
  patternsHeld,
  projectStatistics,
  statisticsOfState,
  statisticsOver,
} from '#domain/statistics.js';
import { gaussian, random } from '../../helpers/random.js';

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

describe('statistics by missing-value pattern', () => {
  /** A cell as a test writes it: a number, null for missing, or a string for text. */
  type Cell = number | null | string;

  function cellsOf(row: readonly Cell[]): RowCells | undefined {
    if (row.every((cell) => typeof cell === 'number')) return undefined;
    return {
      kinds: Uint8Array.from(row, (cell) => (typeof cell === 'number' ? CELL_NUMBER : cell === null ? CELL_MISSING : CELL_TEXT)),
      texts: row.map((cell) => (typeof cell === 'string' ? cell : undefined)),
    };
  }

  /**
   * Feeds rows as the scan's sink will: runs of rows of numbers only through `addColumns` in blocks of up to
   * `blockRows` (column by column, with a stride), every other row through `addRow` with its cells.
   */
  function feed(accumulator: PatternAccumulator, rows: readonly (readonly Cell[])[], blockRows = 7): void {
    const k = accumulator.columns;
    const stride = blockRows + 3;
    const block = new Float64Array(k * stride);
    let pending = 0;
    const flush = () => {
      if (pending > 0) accumulator.addColumns(block, stride, pending);
      pending = 0;
    };
    const values = new Float64Array(k);
    for (const row of rows) {
      const cells = cellsOf(row);
      if (cells === undefined && blockRows > 0) {
        row.forEach((value, c) => (block[c * stride + pending] = value as number));
        if (++pending === blockRows) flush();
        continue;
      }
      flush();
      row.forEach((value, c) => (values[c] = typeof value === 'number' ? value : Number.NaN));
      accumulator.addRow(values, cells);
    }
    flush();
  }

  function patternsOf(rows: readonly (readonly Cell[])[], blockRows = 7): PatternStatistics {
    const accumulator = new PatternAccumulator(rows[0]!.length);
    feed(accumulator, rows, blockRows);
    return accumulator.result();
  }

  /** Random rows: numbers with missing cells here and there, a text column, a target with a few missing. */
  function table(seed: number, rows: number): Cell[][] {
    const uniform = random(seed);
    const normal = gaussian(uniform);
    return Array.from({ length: rows }, () => {
      const x = [normal() * 3 + 10, normal(), uniform() * 1e3, normal() * 1e-3];
      const y = 2 + 0.5 * x[0]! - 3 * x[1]! + 0.01 * x[2]! + 400 * x[3]! + normal() * 0.1;
      const cells: Cell[] = [...x, ['red', 'green', 'blue'][Math.floor(uniform() * 3)]!, y];
      for (const c of [0, 1, 2, 3, 5]) if (uniform() < [0.1, 0.15, 0.05, 0.2, 0, 0.1][c]!) cells[c] = uniform() < 0.8 ? null : 'n/a';
      return cells;
    });
  }

  /** The fit of one pass over the rows in which every one of `columns` (features, then the target) is a number. */
  function listwiseFit(rows: readonly (readonly Cell[])[], columns: readonly number[], spec: FitSpec): { model: FittedModel; n: number } {
    const d = columns.length - 1;
    const accumulator = new RegressionAccumulator(d, spec.fitIntercept);
    for (const row of rows) {
      const values = columns.map((c) => row[c]);
      if (values.every((value) => typeof value === 'number')) accumulator.add(values.slice(0, d) as number[], values[d] as number);
    }
    return { model: fitModel(accumulator, spec), n: accumulator.count };
  }

  const subsets = [
    [0, 1, 5],
    [0, 1, 2, 3, 5],
    [3, 0, 5],
    [2, 1],
    [5, 3, 1, 0],
  ];

  it.each(subsets)('over %j: the fit of the complete rows of those columns, one pass', (...columns) => {
    const rows = table(11, 600);
    const patterns = patternsOf(rows);
    const { statistics, rowsUsed, complete } = statisticsOver(patterns, columns);
    expect(complete).toBe(true);
    const d = columns.length - 1;
    const selection = { features: Array.from({ length: d }, (_, j) => j), target: d };
    for (const spec of [
      { kind: 'LINEAR', alpha: 0, fitIntercept: true },
      { kind: 'LINEAR', alpha: 0, fitIntercept: false },
      { kind: 'RIDGE', alpha: 0.7, fitIntercept: true },
    ] as const) {
      const single = listwiseFit(rows, columns, spec);
      expect(rowsUsed).toBe(single.n);
      expect(single.n).toBeGreaterThan(100);
      expect(single.n).toBeLessThan(600);
      const { model } = fitStatistics(statistics, selection, spec);
      expect(relativeDifference(model, single.model)).toBeLessThanOrEqual(1e-12);
      expect(model.metrics.n).toBe(single.n);
      expect(Math.abs(model.metrics.rmse - single.model.metrics.rmse)).toBeLessThanOrEqual(1e-12 * single.model.metrics.rmse);
    }
  });

  it('finds each pattern: the columns not numbers, text or missing', () => {
    const rows: Cell[][] = [
      [1, 2, 'a', 4],
      [2, null, 'b', 5],
      [3, 5, 'a', 7],
      [4, 'x', 'c', null],
      [5, null, 'b', 1],
      [6, 1, 2, 3],
    ];
    const { patterns, rowsLeftOut } = patternsOf(rows, 0);
    expect(rowsLeftOut).toBe(0);
    expect(patterns.map(({ absent, statistics }) => [absent, statistics.n])).toEqual([
      [[], 1],
      [[2], 2],
      [[1, 2], 2],
      [[1, 2, 3], 1],
    ]);
    // Over the columns a pattern has, in column order: [0, 3] for the rows missing 1 and 2.
    expect(patterns[2]!.statistics.means).toEqual([3.5, 3]);
    expect(patterns[3]!.statistics).toEqual({ n: 1, means: [4], triangle: [0] });
    // One column present (an accumulator needs two): its mean and centred norm.
    const single = statisticsOver({ patterns, rowsLeftOut }, [0]);
    expect(single.rowsUsed).toBe(6);
    expect(single.statistics.means[0]).toBeCloseTo(3.5, 14);
    expect(single.statistics.triangle[0]).toBeCloseTo(Math.sqrt(17.5), 13);
    // No row has the text column as a number.
    expect(statisticsOver({ patterns, rowsLeftOut }, [0, 2]).rowsUsed).toBe(1);
    expect(statisticsOver({ patterns, rowsLeftOut }, [1, 2]).statistics).toEqual({ n: 1, means: [1, 2], triangle: [0, 0, 0] });
  });

  it('counts rows with nothing but missing cells, and rows of one column', () => {
    const accumulator = new PatternAccumulator(1);
    feed(accumulator, [[1], [null], [3], [null], [8]], 2);
    expect(accumulator.rows).toBe(5);
    const { patterns } = accumulator.result();
    expect(patterns.map(({ absent, statistics }) => [absent, statistics.n, statistics.means])).toEqual([
      [[], 3, [4]],
      [[0], 2, []],
    ]);
    expect(patterns[0]!.statistics.triangle[0]).toBeCloseTo(Math.sqrt(26), 13);
  });

  it('a table of numbers only has one pattern, ∅, with the statistics of every column, bit for bit', () => {
    const uniform = random(3);
    const rows = Array.from({ length: 1000 }, () => Array.from({ length: 6 }, () => uniform() * 100 - 30));
    const reference = new RegressionAccumulator(5, true);
    const accumulator = new PatternAccumulator(6);
    // As the scan's sink: blocks of the kernel's rows and single rows, mixed.
    const stride = 40;
    const block = new Float64Array(6 * stride);
    for (let start = 0; start < rows.length; ) {
      const count = Math.min(1 + Math.floor(uniform() * 37), rows.length - start);
      if (uniform() < 0.5) {
        for (let r = 0; r < count; r++) rows[start + r]!.forEach((value, c) => (block[c * stride + r] = value));
        reference.addColumns(block, stride, count, 5);
        accumulator.addColumns(block, stride, count);
      } else {
        for (let r = 0; r < count; r++) {
          const values = Float64Array.from(rows[start + r]!);
          reference.addRecord(values, 5);
          // Cells that say every value is a number are the same as none.
          accumulator.addRow(values, r % 2 === 0 ? undefined : { kinds: new Uint8Array(6), texts: [] });
        }
      }
      start += count;
    }
    const result = accumulator.result();
    expect(result).toEqual({ patterns: [{ absent: [], statistics: statisticsOfState(reference.state()) }], rowsLeftOut: 0 });
    const over = statisticsOver(result, [0, 1, 2, 3, 4, 5]);
    expect(over).toEqual({ statistics: statisticsOfState(reference.state()), rowsUsed: 1000, complete: true });
    expect(new PatternAccumulator(6).result()).toEqual({ patterns: [], rowsLeftOut: 0 });
  });

  /** Largest difference of two statistics of the same rows, each entry against its column's size. */
  function expectSameStatistics(a: ColumnStatistics, b: ColumnStatistics): void {
    expect(a.n).toBe(b.n);
    const k = b.means.length;
    expect(a.means).toHaveLength(k);
    a.means.forEach((mean, j) => expect(Math.abs(mean - b.means[j]!)).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(b.means[j]!), 1e-300)));
    for (let j = 0; j < k; j++) {
      const column = Array.from({ length: j + 1 }, (_, i) => packedIndex(k, i, j));
      const scale = Math.hypot(...column.map((at) => b.triangle[at]!));
      for (const at of column) expect(Math.abs(a.triangle[at]! - b.triangle[at]!)).toBeLessThanOrEqual(1e-12 * scale);
    }
  }

  it('patterns of ranges merged equal one pass, for random splits', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const rows = table(100 + seed, 500);
      const whole = patternsOf(rows);
      const uniform = random(seed);
      const cuts = [0, ...Array.from({ length: 1 + (seed % 5) }, () => Math.floor(uniform() * rows.length)).sort((a, b) => a - b), rows.length];
      const parts = cuts
        .slice(1)
        .map((end, i) => rows.slice(cuts[i], end))
        .filter((part) => part.length > 0)
        .map((part) => patternsOf(part, 1 + (seed % 9)));
      const merged = parts.reduce(mergePatternStatistics);
      expect(merged.rowsLeftOut).toBe(0);
      expect(merged.patterns.map(({ absent }) => absent)).toEqual(whole.patterns.map(({ absent }) => absent));
      merged.patterns.forEach((pattern, p) => expectSameStatistics(pattern.statistics, whole.patterns[p]!.statistics));
      // JSON, as the partials are stored, changes nothing.
      expect(JSON.parse(JSON.stringify(merged))).toEqual(merged);
    }
  });

  /** Rows of 8 columns, row i missing the columns of the bits of `masks[i]`. */
  function maskedRows(masks: readonly number[]): Cell[][] {
    return masks.map((mask, i) => Array.from({ length: 8 }, (_, c) => ((mask >> c) & 1 ? null : i * (c + 1) + ((i * i) % (c + 3)))));
  }

  it('holds fewer patterns for wide files, within a budget of two million numbers (∅ always)', () => {
    expect(patternsHeld(11)).toBe(MAX_PATTERNS);
    expect(patternsHeld(350)).toBe(32);
    expect(patternsHeld(400)).toBe(24); // 80,200 numbers a triangle
    expect(patternsHeld(1000)).toBe(3); // 500,500
    expect(patternsHeld(2000)).toBe(1); // 2,001,000: ∅ alone
  });

  it(`holds ∅ and ${MAX_PATTERNS - 1} other patterns, and counts the rows of the rest as left out`, () => {
    // 40 patterns other than ∅, each on 3 rows, then rows of numbers only (∅ is held whenever it comes).
    const masks = [...Array.from({ length: 120 }, (_, i) => 1 + (i % 40)), ...Array.from({ length: 10 }, () => 0)];
    const result = patternsOf(maskedRows(masks));
    expect(result.patterns).toHaveLength(MAX_PATTERNS);
    expect(result.patterns[0]).toMatchObject({ absent: [], statistics: { n: 10 } });
    expect(result.patterns[1]!.absent).toEqual([0]); // mask 1
    expect(result.patterns[MAX_PATTERNS - 1]!.absent).toEqual([0, 1, 2, 3, 4]); // mask 31
    expect(result.patterns.every(({ statistics }, p) => statistics.n === (p === 0 ? 10 : 3))).toBe(true);
    expect(result.rowsLeftOut).toBe(9 * 3);
    expect(statisticsOver(result, [6, 7])).toMatchObject({ rowsUsed: 130 - 27, complete: false });
  });

  it('bounds the union of merged patterns the same way, and merges in file order as one pass would', () => {
    const first = maskedRows(Array.from({ length: 40 }, (_, i) => (i % 20) + 1)); // patterns 1…20
    const second = maskedRows(Array.from({ length: 60 }, (_, i) => (i % 30) + 11)); // 11…40, 10 of them shared
    const merged = mergePatternStatistics(patternsOf(first), patternsOf(second));
    const whole = patternsOf([...first, ...second]);
    expect(merged.patterns.map(({ absent }) => absent)).toEqual(whole.patterns.map(({ absent }) => absent));
    expect(merged.patterns.map(({ statistics }) => statistics.n)).toEqual(whole.patterns.map(({ statistics }) => statistics.n));
    expect(merged.rowsLeftOut).toBe(whole.rowsLeftOut);
    expect(merged.rowsLeftOut).toBe(9 * 2); // patterns 32…40, twice each in the second part
    // ∅ always has its place, first.
    const complete = patternsOf(maskedRows([0, 0, 0]));
    const withComplete = mergePatternStatistics(merged, complete);
    expect(withComplete.patterns[0]).toMatchObject({ absent: [], statistics: { n: 3 } });
    expect(withComplete.patterns).toHaveLength(MAX_PATTERNS);
    expect(merged.patterns).toHaveLength(MAX_PATTERNS - 1);
    expect(withComplete.rowsLeftOut).toBe(merged.rowsLeftOut); // its place is its own: no other pattern gives way
    expect(mergePatternStatistics(withComplete, patternsOf(maskedRows([50, 0]))).rowsLeftOut).toBe(merged.rowsLeftOut + 1);
    // Rows left out in either part stay left out.
    expect(mergePatternStatistics({ patterns: [], rowsLeftOut: 4 }, { patterns: [], rowsLeftOut: 5 })).toEqual({ patterns: [], rowsLeftOut: 9 });
  });

  it('projectStatistics: the same rows over a subset of the columns, in any order', () => {
    const uniform = random(5);
    const rows = Array.from({ length: 300 }, () => Array.from({ length: 5 }, () => uniform() * 10));
    const projected = projectStatistics(statisticsOf(rows), [4, 1, 2]);
    expectSameStatistics(projected, statisticsOf(rows.map((row) => [row[4]!, row[1]!, row[2]!])));
    expect(() => projectStatistics(statisticsOf(rows), [5])).toThrow(RangeError);
  });

  it('throws NUMERIC_OVERFLOW when a pattern overflows double precision', () => {
    const accumulator = new PatternAccumulator(3);
    feed(accumulator, [
      [1, 2, 3],
      [1e300, null, 1e300],
      [-1e300, null, 2e300],
    ]);
    expect(() => accumulator.result()).toThrow(expect.objectContaining({ code: 'NUMERIC_OVERFLOW' }));
  });
});
