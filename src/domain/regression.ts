import { TrainingFailed } from './errors.js';
import { FoldKernel } from './fold-kernel.js';
import { foldBlock, foldRow, gramForm, minimumNormSolution, packedIndex, packedLength, residualSumOfSquares, solveTriangle } from './linalg.js';
import { isStorableNumber, STORED_NUMBER } from './stored-numbers.js';

/**
 * Linear, ridge and lasso regression with scikit-learn's objectives and defaults
 * (docs/design.md, Numerics), trained in one pass over the rows with O(d²) memory.
 *
 * Training streams rows into a QR factorization of [1, x, y] (Householder
 * reflections over blocks of rows, see linalg.ts). Its lower-right block is the factor [R | r] of the centred data:
 * RᵀR = XcᵀXc, Rᵀr = Xcᵀyc, and its corner is the least-squares residual. Every
 * solver starts from that block:
 * - LINEAR solves R w = r (minimum-norm via an SVD of R when it is rank-deficient),
 * - RIDGE folds √alpha·I into the factor as extra rows, then solves,
 * - LASSO runs scikit-learn's coordinate descent on the Gram form RᵀR, Rᵀr.
 * Working on R rather than on XᵀX keeps the condition number of X, not its square.
 */

export type ModelKind = 'LINEAR' | 'RIDGE' | 'LASSO';

export interface FitSpec {
  kind: ModelKind;
  /** Penalty strength, finite and > 0; ignored for LINEAR. */
  alpha: number;
  /** Must match the accumulator's. */
  fitIntercept: boolean;
}

export interface FittedModel {
  coefficients: number[];
  intercept: number;
  /** On the training data. */
  metrics: { n: number; r2: number; rmse: number };
}

/** How the solver got there: useful in logs and to compare with scikit-learn. */
export type SolverReport =
  | { kind: 'LINEAR' /** Numerical rank of the centred design. */; rank: number }
  | { kind: 'RIDGE' }
  | { kind: 'LASSO' /** Sweeps run (scikit-learn's n_iter_). */; iterations: number; converged: boolean; dualityGap: number };

/**
 * LINEAR treats singular values of the centred design at or below this fraction of
 * the largest as zero, and returns the minimum-norm least-squares answer.
 *
 * An exactly dependent column (duplicated, collinear, constant) still leaves a
 * singular value of about 1e-16..1e-13 × the largest, from the rounding of the
 * data and of the accumulated rotations (it grows like √n over millions of rows).
 * scipy's lstsq, behind scikit-learn, cuts at machine epsilon, inside that noise,
 * so it can turn such a column into huge cancelling coefficients. 1e-10 sits well
 * above the noise, and a design with cond(X) > 1e10 has no trustworthy least-squares
 * answer in double precision anyway (its sensitivity grows like cond² × 1e-16).
 * The fixtures check it agrees with scikit-learn wherever scikit-learn's rank is right.
 */
export const RANK_CUTOFF = 1e-10;
/** scikit-learn's Lasso defaults. */
export const LASSO_TOL = 1e-4;
export const LASSO_MAX_ITER = 1000;

/**
 * Rows are buffered and folded this many at a time (linalg.ts, foldBlock): long
 * enough for the reflections' loops down a block's columns to run at full speed,
 * short enough for the block to stay in the CPU's first-level cache up to ~20
 * features (the block is 8 bytes × this × the factored width).
 */
export const BLOCK_ROWS = 64;

/**
 * The one-pass training state: the packed triangle of the QR factor of the rows
 * [1, x - shift, y - shift] (no leading 1 without an intercept) plus the mean and
 * centred sum of squares of the target, which r2 needs whether or not there is an
 * intercept. Rows are buffered into blocks of BLOCK_ROWS and folded a block at a
 * time; `state()` folds a partial block into a copy, so the answer never depends on
 * when it was asked for.
 */
export class RegressionAccumulator {
  /** Width of the factored rows: [1?, x₀…x_{d-1}, y]. */
  private readonly width: number;
  private readonly interceptColumns: 0 | 1;
  private readonly kernel: FoldKernel;
  private readonly triangle: Float64Array;
  /**
   * The rows not yet folded, column by column: feature j at j·BLOCK_ROWS, the target
   * at d·BLOCK_ROWS (the implicit ones column is not stored).
   */
  private readonly block: Float64Array;
  private pending = 0;
  /**
   * With an intercept, every row is first shifted by the first row (x then y).
   * Centring makes the answer independent of a shift, and it keeps the ones column
   * nearly orthogonal to the data, so data like x ≈ 1e4 + noise loses no digits to
   * the offset. A constant column even becomes exactly zero. Without an intercept
   * a shift would change the problem, so it stays zero.
   */
  private readonly shift: Float64Array;
  private rows = 0;
  /** Mean and centred sum of squares of y over the folded rows (merged a block at a time, Chan et al.). */
  private yMean = 0;
  private ySquares = 0;

  constructor(
    readonly nFeatures: number,
    readonly fitIntercept: boolean,
  ) {
    if (!Number.isInteger(nFeatures) || nFeatures < 1) {
      throw new TrainingFailed('INVALID_DATA', `at least one feature is needed, got ${nFeatures}`);
    }
    this.interceptColumns = fitIntercept ? 1 : 0;
    this.width = this.interceptColumns + nFeatures + 1;
    // The triangle and block live in the WebAssembly memory of the kernel that folds them.
    this.kernel = new FoldKernel((nFeatures + 1) * BLOCK_ROWS, packedLength(this.width));
    this.triangle = this.kernel.triangle;
    this.block = this.kernel.block;
    this.shift = new Float64Array(nFeatures + 1);
  }

  /** Rows added so far. */
  get count(): number {
    return this.rows;
  }

  /** Adds one row: O(d) work here, O(d²) flops when its block is folded. Throws INVALID_DATA and leaves the state unchanged on a bad row. */
  add(x: ArrayLike<number>, y: number): void {
    const d = this.nFeatures;
    if (x.length !== d) throw new TrainingFailed('INVALID_DATA', `row ${this.rows + 1} has ${x.length} features, expected ${d}`);
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(x[j])) this.rejectFeature();
    }
    if (!Number.isFinite(y)) this.rejectTarget();
    if (this.fitIntercept && this.rows === 0) {
      for (let j = 0; j < d; j++) this.shift[j] = x[j]!;
      this.shift[d] = y;
    }
    const { block, shift, pending } = this;
    for (let j = 0, at = pending; j < d; j++, at += BLOCK_ROWS) block[at] = x[j]! - shift[j]!;
    block[d * BLOCK_ROWS + pending] = y - shift[d]!;
    this.commitRow();
  }

  /**
   * Adds one record whose values hold the features in order with the target at
   * `target` (a CSV row as the reader hands it): `add` without building x first.
   */
  addRecord(values: ArrayLike<number>, target: number): void {
    const d = this.nFeatures;
    if (values.length !== d + 1) throw new TrainingFailed('INVALID_DATA', `row ${this.rows + 1} has ${values.length - 1} features, expected ${d}`);
    if (this.fitIntercept && this.rows === 0) {
      this.checkRecord(values, target);
      for (let index = 0, j = 0; index <= d; index++) if (index !== target) this.shift[j++] = values[index]!;
      this.shift[d] = values[target]!;
    }
    // The finiteness check rides on the copy (v·0 is 0 for every finite v, NaN otherwise), as in addRows:
    // the row is not counted until commitRow, so a refused one leaves nothing behind.
    const { block, shift, pending } = this;
    let check = 0;
    for (let index = 0; index < target; index++) {
      const value = values[index]!;
      check += value * 0;
      block[index * BLOCK_ROWS + pending] = value - shift[index]!;
    }
    for (let index = target + 1; index <= d; index++) {
      const value = values[index]!;
      check += value * 0;
      block[(index - 1) * BLOCK_ROWS + pending] = value - shift[index - 1]!;
    }
    const y = values[target]!;
    check += y * 0;
    block[d * BLOCK_ROWS + pending] = y - shift[d]!;
    if (check !== 0) this.checkRecord(values, target);
    this.commitRow();
  }

  /**
   * Adds `count` records held column by column, as the CSV reader's kernel hands them
   * (value `index` of record r at `columns[index·stride + r]`), the target at `target`:
   * `addRecord` for each record in order, with the same bits, but each column copied
   * into the block in one run. A bad record throws INVALID_DATA after the ones before it
   * were added.
   */
  addColumns(columns: Float64Array, stride: number, count: number, target: number): void {
    const d = this.nFeatures;
    const record = new Float64Array(d + 1);
    const recordAt = (r: number) => {
      for (let index = 0; index <= d; index++) record[index] = columns[index * stride + r]!;
      return record;
    };
    let r = 0;
    if (count > 0 && this.rows === 0) this.addRecord(recordAt(r++), target); // the first record sets the shift
    const { block, shift } = this;
    while (r < count) {
      // As in addRows: a value that is not finite makes `check` NaN, and then the records go through addRecord.
      const run = Math.min(BLOCK_ROWS - this.pending, count - r);
      const pending = this.pending;
      let check = 0;
      for (let index = 0; index <= d; index++) {
        const column = index === target ? d : index < target ? index : index - 1;
        const to = column * BLOCK_ROWS + pending;
        const value = shift[column]!;
        for (let row = 0, from = index * stride + r; row < run; row++, from++) {
          const shifted = columns[from]! - value;
          block[to + row] = shifted;
          check += shifted * 0;
        }
      }
      if (check !== 0) {
        for (let row = r; row < r + run; row++) this.addRecord(recordAt(row), target);
      } else {
        this.commitRows(run);
      }
      r += run;
    }
  }

  /** Refuses a record at its first value that is not a finite number. */
  private checkRecord(values: ArrayLike<number>, target: number): void {
    for (let index = 0; index < values.length; index++) {
      if (!Number.isFinite(values[index])) {
        if (index === target) this.rejectTarget();
        this.rejectFeature();
      }
    }
  }

  /**
   * Adds `y.length` rows at once from memory: `x` holds them row after row (row i's
   * features at i·d … i·d + d - 1). The same as calling `add` for each row, in order;
   * a bad row throws INVALID_DATA after the rows before it were added.
   */
  addRows(x: Float64Array, y: Float64Array): void {
    const d = this.nFeatures;
    if (x.length !== y.length * d) throw new TrainingFailed('INVALID_DATA', `${x.length} feature values do not make ${y.length} rows of ${d}`);
    let i = 0;
    if (y.length > 0 && this.rows === 0) {
      this.add(x.subarray(0, d), y[0]!); // the first row sets the shift
      i = 1;
    }
    const { block, shift } = this;
    while (i < y.length) {
      // As many rows as the block has room for, copied a column at a time. A value that is
      // not finite, or that its shift takes out of range, makes `check` NaN (v·0 is 0 for
      // every finite v): then the rows go again through `add`, which takes the good rows
      // before the first bad one and throws INVALID_DATA for that one, as it checks them.
      const count = Math.min(BLOCK_ROWS - this.pending, y.length - i);
      const pending = this.pending;
      let check = 0;
      for (let j = 0; j < d; j++) {
        const to = j * BLOCK_ROWS + pending;
        const value = shift[j]!;
        for (let row = 0, from = i * d + j; row < count; row++, from += d) {
          const shifted = x[from]! - value;
          block[to + row] = shifted;
          check += shifted * 0;
        }
      }
      const to = d * BLOCK_ROWS + pending;
      const value = shift[d]!;
      for (let row = 0; row < count; row++) {
        const shifted = y[i + row]! - value;
        block[to + row] = shifted;
        check += shifted * 0;
      }
      if (check !== 0) {
        for (let row = i; row < i + count; row++) this.add(x.subarray(row * d, (row + 1) * d), y[row]!);
      } else {
        this.commitRows(count);
      }
      i += count;
    }
  }

  private rejectFeature(): never {
    throw new TrainingFailed('INVALID_DATA', `row ${this.rows + 1} has a feature that is not a finite number`);
  }

  private rejectTarget(): never {
    throw new TrainingFailed('INVALID_DATA', `row ${this.rows + 1} has a target that is not a finite number`);
  }

  /** Counts the `count` rows written into the block from `pending` on (at most up to its end). */
  private commitRows(count: number): void {
    this.rows += count - 1;
    this.pending += count - 1;
    this.commitRow();
  }

  private commitRow(): void {
    this.rows += 1;
    this.pending += 1;
    if (this.pending === BLOCK_ROWS) {
      const { yMean, ySquares } = this.targetMoments(this.block, BLOCK_ROWS);
      foldBlock(this.triangle, this.width, this.block, BLOCK_ROWS, BLOCK_ROWS, this.interceptColumns === 1, this.kernel);
      this.yMean = yMean;
      this.ySquares = ySquares;
      this.pending = 0;
    }
  }

  /**
   * The target's mean and centred sum of squares once the `count` rows in `block`
   * are merged with the folded ones: the block's own moments (two passes over a
   * few dozen values), combined by the pairwise update of Chan, Golub and LeVeque.
   */
  private targetMoments(block: Float64Array, count: number): { yMean: number; ySquares: number } {
    const start = this.nFeatures * BLOCK_ROWS;
    let sum = 0;
    for (let b = start; b < start + count; b++) sum += block[b]!;
    const shiftedMean = sum / count;
    let squares = 0;
    for (let b = start; b < start + count; b++) squares += (block[b]! - shiftedMean) ** 2;
    const before = this.rows - count;
    const delta = this.shift[this.nFeatures]! + shiftedMean - this.yMean;
    return {
      yMean: this.yMean + (delta * count) / this.rows,
      ySquares: this.ySquares + squares + (delta * delta * before * count) / this.rows,
    };
  }

  /**
   * The centred factor and means the solvers start from (copies: the accumulator
   * can keep growing). Throws NUMERIC_OVERFLOW when the data was too large (or too
   * small) in magnitude for double precision, which leaves non-finite values.
   */
  state(): TrainingState {
    const { width, interceptColumns } = this;
    const d = this.nFeatures;
    let triangle = this.triangle;
    let target = { yMean: this.yMean, ySquares: this.ySquares };
    if (this.pending > 0) {
      // Fold the partial block into copies: the buffered rows stay where they are.
      triangle = Float64Array.from(this.triangle);
      const block = Float64Array.from(this.block);
      target = this.targetMoments(block, this.pending);
      foldBlock(triangle, width, block, BLOCK_ROWS, this.pending, interceptColumns === 1);
    }
    if (!triangle.every(Number.isFinite) || !Number.isFinite(target.ySquares)) {
      throw new TrainingFailed('NUMERIC_OVERFLOW', 'the data is too large or too small in magnitude for double precision');
    }
    const m = d + 1;
    const block = new Float64Array(packedLength(m));
    for (let i = 0; i < m; i++) {
      for (let j = i; j < m; j++) {
        block[packedIndex(m, i, j)] = triangle[packedIndex(width, interceptColumns + i, interceptColumns + j)]!;
      }
    }
    // The first row of the factor holds √n and each column's sum / √n: their ratio is the shifted mean.
    const means = new Float64Array(m);
    if (interceptColumns === 1) {
      const root = triangle[0]!;
      for (let j = 0; j < m; j++) means[j] = this.shift[j]! + triangle[j + 1]! / root;
    }
    return {
      n: this.rows,
      d,
      triangle: block,
      xMeans: means.subarray(0, d),
      yMean: means[d]!,
      targetMean: target.yMean,
      targetSquares: target.ySquares,
    };
  }
}

/** What the solvers need from an accumulator. */
export interface TrainingState {
  n: number;
  /** Number of features. */
  d: number;
  /** Packed (d+1)×(d+1) factor [R | r] of [Xc, yc] (of [X, y] without an intercept). */
  triangle: Float64Array;
  /** Column means that centre the data: zeros without an intercept. */
  xMeans: Float64Array;
  yMean: number;
  /** Mean and centred sum of squares of y, for r2 (always centred, as r2_score). */
  targetMean: number;
  targetSquares: number;
}

/** R's tolerance for a column that adds nothing to the ones before it (`lm` through `qr`: tol = 1e-7). */
export const ALIAS_TOLERANCE = 1e-7;

/**
 * The features that are, to `tolerance`, linear combinations of the features before
 * them (and of the intercept, when fitted): those R's `lm` reports as NA (aliased).
 * In the factor R of the design, column j adds nothing new when its diagonal entry
 * is below `tolerance` × the column's norm; a column that is constant (zero once
 * centred), such as a level no kept row has, is aliased too.
 */
export function aliasedFeatures(state: TrainingState, tolerance = ALIAS_TOLERANCE): number[] {
  const m = state.d + 1;
  const aliased: number[] = [];
  for (let j = 0; j < state.d; j++) {
    let squares = 0;
    for (let i = 0; i <= j; i++) squares += state.triangle[packedIndex(m, i, j)]! ** 2;
    if (Math.abs(state.triangle[packedIndex(m, j, j)]!) <= tolerance * Math.sqrt(squares)) aliased.push(j);
  }
  return aliased;
}

/** Fits the model; throws TrainingFailed when the data cannot be fitted. */
export function fitModel(accumulator: RegressionAccumulator, spec: FitSpec): FittedModel {
  return fitModelWithReport(accumulator, spec).model;
}

/** `fitModel`, plus how the solver got there (rank, lasso iterations). */
export function fitModelWithReport(accumulator: RegressionAccumulator, spec: FitSpec): { model: FittedModel; solver: SolverReport } {
  if (spec.fitIntercept !== accumulator.fitIntercept) {
    throw new Error(`the spec asks fitIntercept=${spec.fitIntercept} but the rows were accumulated with ${accumulator.fitIntercept}`);
  }
  if (accumulator.count < 2) throw new TrainingFailed('INSUFFICIENT_DATA', `at least 2 rows are needed, got ${accumulator.count}`);
  checkAlpha(spec);
  return fitStateWithReport(accumulator.state(), spec);
}

function checkAlpha(spec: FitSpec): void {
  if (spec.kind !== 'LINEAR' && !(Number.isFinite(spec.alpha) && spec.alpha > 0)) {
    throw new TrainingFailed('INVALID_DATA', `alpha must be a finite number > 0, got ${spec.alpha}`);
  }
}

/**
 * Fits from a training state built elsewhere (src/domain/statistics.ts reduces a
 * dataset's stored statistics to one): the same solvers and metrics as `fitModel`.
 * The state must be centred when `spec.fitIntercept` is true, and not otherwise.
 */
export function fitStateWithReport(state: TrainingState, spec: FitSpec): { model: FittedModel; solver: SolverReport } {
  if (state.n < 2) throw new TrainingFailed('INSUFFICIENT_DATA', `at least 2 rows are needed, got ${state.n}`);
  checkAlpha(spec);
  const { w, solver } = solve(state, spec);

  let intercept = 0;
  if (spec.fitIntercept) {
    intercept = state.yMean;
    for (let j = 0; j < w.length; j++) intercept -= state.xMeans[j]! * w[j]!;
  }
  const metrics = metricsOf(state, w);
  const values = [...w, intercept, metrics.r2, metrics.rmse];
  if (!values.every(Number.isFinite)) {
    throw new TrainingFailed('NUMERIC_OVERFLOW', 'the fit overflows double precision');
  }
  // A finite fit can still be one the models table cannot hold (data near 1e130 or 1e-140): the job fails with its
  // reason here rather than at the write, where it would end as an unexplained TRAINING_ERROR (src/domain/stored-numbers.ts).
  if (!values.every(isStorableNumber)) {
    throw new TrainingFailed(
      'NUMERIC_OVERFLOW',
      `the fitted model has a value outside the range a model can store (magnitude ${STORED_NUMBER.minMagnitude} to below ${STORED_NUMBER.maxMagnitudeExclusive}, or 0): rescale the data`,
    );
  }
  // `+ 0` turns the -0 that soft-thresholding can leave into 0.
  const coefficients = Array.from(w, (value) => value + 0);
  return { model: { coefficients, intercept, metrics }, solver };
}

function solve(state: TrainingState, spec: FitSpec): { w: Float64Array; solver: SolverReport } {
  switch (spec.kind) {
    case 'LINEAR': {
      const { w, rank } = solveLeastSquares(state.triangle, state.d);
      return { w, solver: { kind: 'LINEAR', rank } };
    }
    case 'RIDGE':
      return { w: solveRidge(state.triangle, state.d, spec.alpha), solver: { kind: 'RIDGE' } };
    case 'LASSO': {
      const { w, iterations, converged, dualityGap } = solveLasso(state.triangle, state.d, spec.alpha, state.n);
      return { w, solver: { kind: 'LASSO', iterations, converged, dualityGap } };
    }
  }
}

/**
 * LINEAR, as scikit-learn's LinearRegression (scipy lstsq): R w = r.
 *
 * For a triangle σmin ≤ min|Rᵢᵢ| and σmax ≥ the largest column norm, so a diagonal
 * entry below RANK_CUTOFF × that norm proves the SVD would drop a singular value:
 * then (collinear or constant columns, fewer rows than features) the answer is the
 * minimum-norm one. Otherwise R is regular and back substitution gives the exact
 * least-squares answer, at O(d²) instead of the SVD's O(d³) per sweep. (A triangle
 * can be nearly singular with no small diagonal entry; it is still regular, and its
 * exact answer is what lstsq, cutting only at machine epsilon, returns too.)
 */
function solveLeastSquares(triangle: Float64Array, d: number): { w: Float64Array; rank: number } {
  const m = d + 1;
  let smallestDiagonal = Infinity;
  let largestColumn = 0;
  const columnSquares = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const start = packedIndex(m, i, i);
    smallestDiagonal = Math.min(smallestDiagonal, Math.abs(triangle[start]!));
    for (let j = i; j < d; j++) columnSquares[j] = columnSquares[j]! + triangle[start + j - i]! ** 2;
  }
  for (let j = 0; j < d; j++) largestColumn = Math.max(largestColumn, Math.sqrt(columnSquares[j]!));
  if (smallestDiagonal > RANK_CUTOFF * largestColumn) return { w: solveTriangle(triangle, m), rank: d };
  return minimumNormSolution(triangle, m, RANK_CUTOFF);
}

/**
 * RIDGE, as scikit-learn's Ridge: min ‖yc - Xc w‖² + alpha‖w‖² is least squares on
 * Xc stacked over √alpha·I, so the rows √alpha·eⱼ are folded into a copy of the
 * factor and the (now always regular) triangle is solved.
 */
function solveRidge(triangle: Float64Array, d: number, alpha: number): Float64Array {
  const m = d + 1;
  const augmented = Float64Array.from(triangle);
  const row = new Float64Array(m);
  const root = Math.sqrt(alpha);
  for (let j = 0; j < d; j++) {
    row.fill(0);
    row[j] = root;
    foldRow(augmented, m, row, j);
  }
  return solveTriangle(augmented, m);
}

/**
 * LASSO, as scikit-learn's Lasso: cyclic coordinate descent on
 * (1/2)‖yc - Xc w‖² + l1‖w‖₁ with l1 = alpha·n, i.e. `enet_coordinate_descent`
 * run on the Gram form Q = RᵀR, q = Rᵀr (as its `_gram` variant does). Same start
 * (w = 0), same order, same skipped zero columns, same stopping rule: when the
 * largest update of a sweep is below tol × the largest coefficient (or on the last
 * sweep), compute the duality gap and stop if it is below tol × ‖yc‖². The iterates,
 * and so the sweep count, are scikit-learn's up to rounding. If it does not
 * converge in LASSO_MAX_ITER sweeps it returns the last iterate, as scikit-learn does.
 */
function solveLasso(
  triangle: Float64Array,
  d: number,
  alpha: number,
  n: number,
): { w: Float64Array; iterations: number; converged: boolean; dualityGap: number } {
  const m = d + 1;
  const { gram, q, yy } = gramForm(triangle, m);
  const l1 = alpha * n;
  const tolerance = LASSO_TOL * yy;
  const w = new Float64Array(d);
  const h = new Float64Array(d); // Q·w, kept up to date as coordinates change
  let dualityGap = Infinity;
  for (let sweep = 0; sweep < LASSO_MAX_ITER; sweep++) {
    let wMax = 0;
    let dwMax = 0;
    for (let j = 0; j < d; j++) {
      const qjj = gram[j * d + j]!;
      if (qjj === 0) continue;
      const old = w[j]!;
      if (old !== 0) addScaledRow(h, gram, j, -old);
      const tmp = q[j]! - h[j]!;
      const next = (Math.sign(tmp) * Math.max(Math.abs(tmp) - l1, 0)) / qjj;
      w[j] = next;
      if (next !== 0) addScaledRow(h, gram, j, next);
      dwMax = Math.max(dwMax, Math.abs(next - old));
      wMax = Math.max(wMax, Math.abs(next));
    }
    if (wMax === 0 || dwMax / wMax < LASSO_TOL || sweep === LASSO_MAX_ITER - 1) {
      dualityGap = lassoDualityGap(triangle, m, w, h, q, yy, l1);
      if (dualityGap < tolerance) return { w, iterations: sweep + 1, converged: true, dualityGap };
    }
  }
  return { w, iterations: LASSO_MAX_ITER, converged: false, dualityGap };
}

/** h += scale · Q[j, ·] */
function addScaledRow(h: Float64Array, gram: Float64Array, j: number, scale: number): void {
  const d = h.length;
  for (let i = 0, k = j * d; i < d; i++, k++) h[i] = h[i]! + scale * gram[k]!;
}

/**
 * scikit-learn's duality gap for the lasso (l2 penalty 0): with the residual
 * ρ = yc - Xc w and its correlations Xcᵀρ = q - Qw, the dual point is ρ scaled down
 * until no correlation exceeds l1. ‖ρ‖² is taken from the factor, free of the
 * cancellation of yᵀy - 2qᵀw + wᵀQw.
 */
function lassoDualityGap(triangle: Float64Array, m: number, w: Float64Array, h: Float64Array, q: Float64Array, yy: number, l1: number): number {
  let dualNorm = 0;
  let l1Norm = 0;
  let qw = 0;
  for (let j = 0; j < w.length; j++) {
    dualNorm = Math.max(dualNorm, Math.abs(q[j]! - h[j]!));
    l1Norm += Math.abs(w[j]!);
    qw += q[j]! * w[j]!;
  }
  const residual2 = residualSumOfSquares(triangle, m, w);
  let scale = 1;
  let gap = residual2;
  if (dualNorm > l1) {
    scale = l1 / dualNorm;
    gap = 0.5 * residual2 * (1 + scale * scale);
  }
  // ρᵀyc = yᵀy - qᵀw
  return gap + l1 * l1Norm - scale * (yy - qw);
}

/**
 * Training-set metrics from the state: rmse = √(SSE/n) and r2 = 1 - SSE/SST with
 * SST the centred sum of squares of y (as r2_score, whatever fitIntercept is).
 * A constant y (SST = 0) scores as r2_score does: 1 if it is predicted exactly, else
 * 0; "exactly" allows rounding, an rmse within 1e-12 of |y|.
 */
function metricsOf(state: TrainingState, w: Float64Array): FittedModel['metrics'] {
  const { n, d, triangle, targetSquares, targetMean } = state;
  const sse = residualSumOfSquares(triangle, d + 1, w);
  const rmse = Math.sqrt(sse / n);
  let r2: number;
  if (targetSquares > 0) r2 = 1 - sse / targetSquares;
  else r2 = rmse <= 1e-12 * Math.abs(targetMean) ? 1 : 0;
  return { n, r2, rmse };
}

/** ŷ = x·w + b for each input. */
export function predict(model: { coefficients: readonly number[]; intercept: number }, inputs: readonly (readonly number[])[]): number[] {
  const { coefficients, intercept } = model;
  return inputs.map((x) => {
    if (x.length !== coefficients.length) throw new Error(`expected ${coefficients.length} values, got ${x.length}`);
    let sum = intercept;
    for (let j = 0; j < x.length; j++) sum += x[j]! * coefficients[j]!;
    return sum;
  });
}
