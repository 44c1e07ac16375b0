import { CELL_NUMBER, type RowCells } from './csv.js';
import { TrainingFailed } from './errors.js';
import { foldRow, packedIndex, packedLength } from './linalg.js';
import { type FitSpec, type FittedModel, fitStateWithReport, RegressionAccumulator, type SolverReport, type TrainingState } from './regression.js';

/**
 * A dataset's statistics, computed once by a parallel scan (docs/design.md, "The dataset
 * scan") and enough to fit any model on any of its columns without reading the
 * file again.
 *
 * For the k columns of a file, in header order, they are the row count n, the
 * column means μ and the upper-triangular factor R of the centred columns
 * (RᵀR = XcᵀXc), packed as in linalg.ts. Three exact operations work on them:
 * - a byte range of the file reduces to its own statistics through the one-pass
 *   accumulator of regression.ts (all columns as [x…, y]: its state is that factor);
 * - two ranges merge (TSQR): stacking R₁, R₂ and the row √(n₁n₂/n)(μ₂ - μ₁) and
 *   re-triangularising gives the factor of the union, since the centred scatter of
 *   a union is S₁ + S₂ + (n₁n₂/n) δδᵀ;
 * - a subset and order of columns S (features, then the target) reduces to the
 *   training state of that fit: the QR of R·S has the Gram matrix of Xc·S. Without
 *   an intercept the row √n·μS is folded in too (XᵀX = XcᵀXc + n μμᵀ).
 * Each is a sequence of Givens rotations, as one pass over the rows is, so fits
 * agree with the single pass to rounding (checked to 1e-12 by the unit tests).
 */

export interface ColumnStatistics {
  n: number;
  /** Mean of each column (zeros when n = 0). */
  means: number[];
  /** Packed k×k upper triangle R of the centred columns. */
  triangle: number[];
}

export function emptyStatistics(k: number): ColumnStatistics {
  return { n: 0, means: new Array<number>(k).fill(0), triangle: new Array<number>(packedLength(k)).fill(0) };
}

/** The statistics of an accumulator fed every column, the last as its target (a range of the scan). */
export function statisticsOfState(state: TrainingState): ColumnStatistics {
  return { n: state.n, means: [...state.xMeans, state.yMean], triangle: Array.from(state.triangle) };
}

/** Combines the statistics of two disjoint sets of rows into those of their union. */
export function mergeStatistics(a: ColumnStatistics, b: ColumnStatistics): ColumnStatistics {
  const k = a.means.length;
  if (b.means.length !== k) throw new Error(`cannot merge statistics of ${k} and ${b.means.length} columns`);
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const triangle = Float64Array.from(a.triangle);
  const row = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    row.fill(0);
    for (let j = i; j < k; j++) row[j] = b.triangle[packedIndex(k, i, j)]!;
    foldRow(triangle, k, row, i);
  }
  const weight = Math.sqrt((a.n * b.n) / n);
  const means = a.means.map((mean, j) => {
    const delta = b.means[j]! - mean;
    row[j] = weight * delta;
    return mean + delta * (b.n / n);
  });
  foldRow(triangle, k, row, 0);
  return { n, means, triangle: Array.from(triangle) };
}

/** Which columns a fit uses: indices into the dataset's columns. */
export interface ColumnSelection {
  features: readonly number[];
  target: number;
}

/**
 * The packed factor of the centred columns `order` (indices into the statistics'
 * columns, in any order): the QR of R·S, S the selection matrix, whose rows are R's
 * rows 0…max(order) restricted to `order` and folded in turn.
 */
function projectedTriangle(statistics: ColumnStatistics, order: readonly number[]): Float64Array {
  const { triangle: r } = statistics;
  const k = statistics.means.length;
  const m = order.length;
  for (const column of order) {
    if (!(Number.isInteger(column) && column >= 0 && column < k)) throw new RangeError(`column ${column} is not one of the statistics' ${k} columns`);
  }
  const triangle = new Float64Array(packedLength(m));
  const row = new Float64Array(m);
  const last = Math.max(...order);
  for (let i = 0; i <= last; i++) {
    for (let c = 0; c < m; c++) {
      const column = order[c]!;
      row[c] = column >= i ? r[packedIndex(k, i, column)]! : 0;
    }
    foldRow(triangle, m, row, 0);
  }
  return triangle;
}

/** The statistics of the same rows over the columns at `positions` (indices into `statistics`' columns), in that order. */
export function projectStatistics(statistics: ColumnStatistics, positions: readonly number[]): ColumnStatistics {
  const triangle = projectedTriangle(statistics, positions);
  return { n: statistics.n, means: positions.map((position) => statistics.means[position]!), triangle: Array.from(triangle) };
}

/** The training state (regression.ts) of one fit: the factor of [features, target], centred with an intercept. */
export function trainingStateOf(statistics: ColumnStatistics, selection: ColumnSelection, fitIntercept: boolean): TrainingState {
  const { n, means, triangle: r } = statistics;
  const k = means.length;
  const order = [...selection.features, selection.target];
  const m = order.length;
  const triangle = projectedTriangle(statistics, order);
  if (!fitIntercept) {
    const row = new Float64Array(m);
    const root = Math.sqrt(n);
    for (let c = 0; c < m; c++) row[c] = root * means[order[c]!]!;
    foldRow(triangle, m, row, 0);
  }
  let targetSquares = 0;
  for (let i = 0; i <= selection.target; i++) targetSquares += r[packedIndex(k, i, selection.target)]! ** 2;
  const centre = (column: number) => (fitIntercept ? means[column]! : 0);
  if (!triangle.every(Number.isFinite)) throw new TrainingFailed('NUMERIC_OVERFLOW', 'the data is too large or too small in magnitude for double precision');
  return {
    n,
    d: selection.features.length,
    triangle,
    xMeans: Float64Array.from(selection.features, centre),
    yMean: centre(selection.target),
    targetMean: means[selection.target]!,
    targetSquares,
  };
}

/** Fits one model from a dataset's statistics. */
export function fitStatistics(statistics: ColumnStatistics, selection: ColumnSelection, spec: FitSpec): { model: FittedModel; solver: SolverReport } {
  return fitStateWithReport(trainingStateOf(statistics, selection, spec.fitIntercept), spec);
}

/**
 * Statistics for files with missing values (and text columns, whose cells are never
 * numbers). A row's missing-value pattern is the set of its columns whose cell is
 * not a number. The rows of one pattern reduce, as the rows of a file without
 * missing values do, to the statistics of the columns they have: per pattern, one
 * accumulator over its present columns. A fit on a set of columns then uses every
 * row in which all of them are numbers (listwise deletion, as R's `lm` with
 * na.omit, or pandas' dropna on those columns): the union of the patterns that miss
 * none of them, each projected onto those columns (QR of R·S), merged (TSQR). Both
 * steps are exact up to rounding, so the fit equals one pass over those rows.
 *
 * A file without missing values has a single pattern, ∅, whose statistics are the
 * ones of all columns, computed exactly as before (same accumulator, same calls).
 */

/**
 * Most patterns held per range or merge: ∅ (rows with every value) always has its
 * place, and at most MAX_PATTERNS - 1 others, in the order they are first seen. The
 * rows of a pattern seen once those are held are only counted (`rowsLeftOut`): a fit
 * that may need them needs a pass over the file. Each pattern holds a triangle of
 * its present columns (k²/2 numbers), which is what the bound keeps in check.
 */
export const MAX_PATTERNS = 32;

/**
 * The numbers all held patterns' triangles may take together, per range and in the
 * merge (2 million: 16 MB in memory, some 40 MB of JSON): 32 patterns up to about 350
 * columns, fewer for wider files (two of 1,000 columns), so a wide file with missing
 * values costs its partials no more than a few times what one without does.
 */
const PATTERN_VALUE_BUDGET = 2_000_000;

/** How many patterns are held for a file of `columns` columns: MAX_PATTERNS, or fewer within PATTERN_VALUE_BUDGET (∅ always). */
export function patternsHeld(columns: number): number {
  return Math.max(1, Math.min(MAX_PATTERNS, Math.floor(PATTERN_VALUE_BUDGET / packedLength(columns))));
}

/** One missing-value pattern: the columns its rows miss (ascending), and the statistics of its rows over the others, in column order. */
export interface MissingPattern {
  absent: number[];
  statistics: ColumnStatistics;
}

/** A range's (or a file's) rows by missing-value pattern (stored as JSON with the range's partial). */
export interface PatternStatistics {
  /** ∅ first when it has rows, then the others in the order they were first seen; none is empty. */
  patterns: MissingPattern[];
  /** Rows of patterns past the bound (MAX_PATTERNS): in no pattern's statistics. */
  rowsLeftOut: number;
}

/** The rows of one pattern: their present values, gathered, go into one accumulator. */
class PatternRows {
  readonly present: Int32Array;
  /** The accumulator's record: the present values, and a zero column when only one is (an accumulator needs two). */
  private readonly record: Float64Array;
  private readonly accumulator: RegressionAccumulator | undefined;
  /** Rows of a pattern with no column present (counted only). */
  private empty = 0;

  constructor(
    columns: number,
    readonly absent: number[],
    /** Hash of `absent` (see PatternAccumulator.addRow): a first test before comparing the columns. */
    readonly hash: number,
  ) {
    const missing = new Set(absent);
    this.present = Int32Array.from({ length: columns }, (_, c) => c).filter((c) => !missing.has(c));
    const width = this.present.length;
    this.record = new Float64Array(Math.max(width, 2));
    this.accumulator = width === 0 ? undefined : new RegressionAccumulator(this.record.length - 1, true);
  }

  /** The accumulator when the pattern is ∅ of two columns or more: rows go in as they are. */
  get whole(): RegressionAccumulator | undefined {
    return this.absent.length === 0 && this.present.length >= 2 ? this.accumulator : undefined;
  }

  get rows(): number {
    return this.accumulator?.count ?? this.empty;
  }

  /** Whether a row with `absentCount` cells that are not numbers, marked in `kinds`, is of this pattern. */
  matches(kinds: Uint8Array, absentCount: number): boolean {
    const { absent } = this;
    if (absent.length !== absentCount) return false;
    for (let i = 0; i < absent.length; i++) if (kinds[absent[i]!] === CELL_NUMBER) return false;
    return true;
  }

  add(values: ArrayLike<number>): void {
    const { present, record, accumulator } = this;
    if (accumulator === undefined) {
      this.empty += 1;
      return;
    }
    for (let i = 0; i < present.length; i++) record[i] = values[present[i]!]!;
    accumulator.addRecord(record, record.length - 1);
  }

  /** May throw TrainingFailed NUMERIC_OVERFLOW (the accumulator's `state`). */
  statistics(): ColumnStatistics {
    const { accumulator } = this;
    if (accumulator === undefined) return { n: this.empty, means: [], triangle: [] };
    const statistics = statisticsOfState(accumulator.state());
    return this.present.length === 1 ? projectStatistics(statistics, [0]) : statistics;
  }
}

/**
 * Reduces the rows of one range to their statistics by missing-value pattern. Rows
 * of numbers only (`addRow` without cells, `addColumns`) go straight to the
 * accumulator of ∅ with the same call as a range without missing values makes; a
 * row with cells finds its pattern (a pass over its kinds, a hash, usually the
 * pattern of the row before) and its present values are gathered into the pattern's
 * reused record.
 */
export class PatternAccumulator {
  private readonly complete: PatternRows;
  /** ∅'s accumulator, when rows of numbers go in as they are (two columns or more). */
  private readonly whole: RegressionAccumulator | undefined;
  private readonly target: number;
  /** Patterns other than ∅, in the order first seen. */
  private readonly others: PatternRows[] = [];
  private recent: PatternRows | undefined;
  private leftOut = 0;
  /** Patterns held at most, ∅ included (patternsHeld). */
  private readonly held: number;

  constructor(readonly columns: number) {
    if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`a pattern accumulator needs at least one column, got ${columns}`);
    this.held = patternsHeld(columns);
    this.complete = new PatternRows(columns, [], 0);
    this.whole = this.complete.whole;
    this.target = columns - 1;
  }

  /** Adds one row: `cells` undefined means every value is a number. */
  addRow(values: Float64Array, cells?: RowCells): void {
    if (cells === undefined) {
      if (this.whole !== undefined) this.whole.addRecord(values, this.target);
      else this.complete.add(values);
      return;
    }
    const { kinds } = cells;
    const k = this.columns;
    if (kinds.length !== k || values.length !== k) throw new RangeError(`a row of ${values.length} values and ${kinds.length} cells for ${k} columns`);
    // FNV-1a over the absent columns' indices.
    let hash = 0x811c9dc5;
    let absentCount = 0;
    for (let c = 0; c < k; c++) {
      if (kinds[c] !== CELL_NUMBER) {
        hash = Math.imul(hash ^ c, 0x01000193);
        absentCount++;
      }
    }
    if (absentCount === 0) {
      this.addRow(values);
      return;
    }
    let pattern = this.recent;
    if (pattern === undefined || pattern.hash !== hash || !pattern.matches(kinds, absentCount)) {
      pattern = this.others.find((candidate) => candidate.hash === hash && candidate.matches(kinds, absentCount));
      if (pattern === undefined) {
        if (this.others.length >= this.held - 1) {
          this.leftOut += 1;
          return;
        }
        const absent: number[] = [];
        for (let c = 0; c < k; c++) if (kinds[c] !== CELL_NUMBER) absent.push(c);
        pattern = new PatternRows(k, absent, hash);
        this.others.push(pattern);
      }
      this.recent = pattern;
    }
    pattern.add(values);
  }

  /**
   * Adds `count` rows of numbers only held column by column, as the CSV reader's kernel
   * hands them (value c of row r at `columns[c·stride + r]`).
   */
  addColumns(columns: Float64Array, stride: number, count: number): void {
    if (this.whole !== undefined) {
      this.whole.addColumns(columns, stride, count, this.target);
      return;
    }
    const values = new Float64Array(this.columns);
    for (let r = 0; r < count; r++) {
      for (let c = 0; c < values.length; c++) values[c] = columns[c * stride + r]!;
      this.complete.add(values);
    }
  }

  /** Rows added so far, left out or not. */
  get rows(): number {
    return this.complete.rows + this.others.reduce((sum, pattern) => sum + pattern.rows, 0) + this.leftOut;
  }

  /**
   * The statistics of every pattern with rows. Throws TrainingFailed NUMERIC_OVERFLOW
   * when a pattern's values overflow double precision, as `statisticsOfState` does.
   */
  result(): PatternStatistics {
    const patterns = [this.complete, ...this.others]
      .filter((pattern) => pattern.rows > 0)
      .map((pattern) => ({ absent: [...pattern.absent], statistics: pattern.statistics() }));
    return { patterns, rowsLeftOut: this.leftOut };
  }
}

/**
 * The patterns of two disjoint sets of rows (ranges): a pattern of both merges its
 * statistics; patterns of one are kept, within MAX_PATTERNS (those of `a` first, then
 * the new ones of `b` in their order), the others' rows counted in `rowsLeftOut`.
 * Merging the ranges of a file in order holds the patterns one pass over it would, as
 * long as no range left rows out itself (rows it left out cannot join a pattern later).
 */
export function mergePatternStatistics(a: PatternStatistics, b: PatternStatistics): PatternStatistics {
  const held = new Map<string, MissingPattern>();
  let others = 0;
  let rowsLeftOut = a.rowsLeftOut + b.rowsLeftOut;
  for (const pattern of [...a.patterns, ...b.patterns]) {
    const key = pattern.absent.join(',');
    const same = held.get(key);
    if (same !== undefined) {
      same.statistics = mergeStatistics(same.statistics, pattern.statistics);
    } else if (pattern.absent.length === 0 || others < patternsHeld(pattern.absent.length + pattern.statistics.means.length) - 1) {
      held.set(key, { absent: [...pattern.absent], statistics: pattern.statistics });
      if (pattern.absent.length > 0) others++;
    } else {
      rowsLeftOut += pattern.statistics.n;
    }
  }
  const patterns = [...held.values()];
  const complete = held.get('');
  return { patterns: complete ? [complete, ...patterns.filter((pattern) => pattern !== complete)] : patterns, rowsLeftOut };
}

/**
 * The statistics, over exactly `columns` (in that order), of every row in which all
 * of them are numbers: the patterns that miss none of them, projected and merged.
 * `rowsUsed` is their count; `complete` is false when rows were left out of the
 * patterns (some may belong here: then only a pass over the file is exact). Fit a
 * job with `fitStatistics(statistics, { features: [0…d-1], target: d }, spec)`.
 */
export function statisticsOver(stats: PatternStatistics, columns: readonly number[]): { statistics: ColumnStatistics; rowsUsed: number; complete: boolean } {
  const wanted = new Set(columns);
  let statistics = emptyStatistics(columns.length);
  for (const { absent, statistics: rows } of stats.patterns) {
    if (rows.n === 0 || absent.some((column) => wanted.has(column))) continue;
    // A column's place among the pattern's present ones: its index less the absent columns before it.
    const positions = columns.map((column) => column - absent.filter((missing) => missing < column).length);
    statistics = mergeStatistics(statistics, projectStatistics(rows, positions));
  }
  return { statistics, rowsUsed: statistics.n, complete: stats.rowsLeftOut === 0 };
}
