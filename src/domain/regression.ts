import { TrainingFailed } from './errors.js';

/**
 * Linear, ridge and lasso regression with scikit-learn's objectives and defaults,
 * trained in one pass over the rows with O(d²) memory.
 *
 * The state is the R factor of a streaming QR decomposition of the rows
 * [1, x, y] (Givens rotations, one row at a time). Its lower-right block is the R
 * factor of the centred data, so least squares is a triangular solve on a matrix
 * whose condition number is that of X, not of XᵀX as with normal equations. Ridge
 * appends √alpha·I as extra rows; lasso runs coordinate descent on the Gram matrix
 * RᵀR, exactly as scikit-learn's `enet_coordinate_descent` does on the data.
 */

export type ModelKind = 'LINEAR' | 'RIDGE' | 'LASSO';

export interface FitSpec {
  kind: ModelKind;
  /** Penalty strength; ignored for LINEAR. */
  alpha: number;
  fitIntercept: boolean;
}

export interface FittedModel {
  coefficients: number[];
  intercept: number;
  metrics: { n: number; r2: number; rmse: number };
}

/** Singular values below this fraction of the largest are treated as zero (minimum-norm answer). */
export const RANK_CUTOFF = 1e-10;
const LASSO_TOL = 1e-4;
const LASSO_MAX_ITER = 1000;

/**
 * Applies Givens rotations that fold `row` (length m, destroyed) into the packed
 * upper-triangular m×m matrix `r` (row-major, full storage), starting at column `from`.
 */
function foldRow(r: Float64Array, m: number, row: Float64Array, from = 0): void {
  for (let i = from; i < m; i++) {
    const v = row[i]!;
    if (v === 0) continue;
    const diagonal = i * m + i;
    const d = r[diagonal]!;
    const h = Math.sqrt(d * d + v * v);
    const c = d / h;
    const s = v / h;
    r[diagonal] = h;
    for (let j = i + 1, k = diagonal + 1; j < m; j++, k++) {
      const t = r[k]!;
      const u = row[j]!;
      r[k] = c * t + s * u;
      row[j] = c * u - s * t;
    }
  }
}

export class RegressionAccumulator {
  /** Columns of the factored rows: [1 (with intercept), x₀…x_{d-1}, y]. */
  private readonly m: number;
  private readonly offset: number;
  private readonly r: Float64Array;
  private readonly row: Float64Array;
  private n = 0;
  // Welford running mean and centred sum of squares of y: r2's denominator whatever fitIntercept is.
  private meanY = 0;
  private ssY = 0;

  constructor(
    readonly nFeatures: number,
    readonly fitIntercept: boolean,
  ) {
    if (!Number.isInteger(nFeatures) || nFeatures < 1) throw new TrainingFailed('INVALID_DATA', 'at least one feature is needed');
    this.offset = fitIntercept ? 1 : 0;
    this.m = this.offset + nFeatures + 1;
    this.r = new Float64Array(this.m * this.m);
    this.row = new Float64Array(this.m);
  }

  get count(): number {
    return this.n;
  }

  /** Adds one row. O(d²), no allocation. */
  add(x: ArrayLike<number>, y: number): void {
    const d = this.nFeatures;
    if (x.length !== d) throw new TrainingFailed('INVALID_DATA', `row ${this.n + 1} has ${x.length} features, expected ${d}`);
    const row = this.row;
    if (this.offset === 1) row[0] = 1;
    for (let j = 0; j < d; j++) {
      const value = x[j]!;
      if (!Number.isFinite(value)) throw new TrainingFailed('INVALID_DATA', `row ${this.n + 1} has a value that is not a finite number`);
      row[this.offset + j] = value;
    }
    if (!Number.isFinite(y)) throw new TrainingFailed('INVALID_DATA', `row ${this.n + 1} has a target that is not a finite number`);
    row[this.m - 1] = y;
    foldRow(this.r, this.m, row);
    this.n += 1;
    const delta = y - this.meanY;
    this.meanY += delta / this.n;
    this.ssY += delta * (y - this.meanY);
  }

  /** The factored state as the solvers need it; throws if it overflowed. */
  state(): FactoredState {
    const { m, offset, r } = this;
    const d = this.nFeatures;
    if (!r.every(Number.isFinite) || !Number.isFinite(this.ssY)) {
      throw new TrainingFailed('NUMERIC_OVERFLOW', 'the data is too large in magnitude to fit in double precision');
    }
    const block = new Float64Array(d * d);
    const rhs = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) block[i * d + j] = r[(offset + i) * m + offset + j]!;
      rhs[i] = r[(offset + i) * m + m - 1]!;
    }
    // With an intercept the first row of R holds √n and the column sums / √n: the means.
    const means = new Float64Array(d + 1);
    if (offset === 1) {
      const root = r[0]!;
      for (let j = 0; j <= d; j++) means[j] = r[j + 1]! / root;
    }
    const residual = r[m * m - 1]!;
    return { n: this.n, d, block, rhs, residual2: residual * residual, means, ssY: this.ssY, meanY: this.meanY };
  }
}

/** R₂₂ (d×d upper triangular) and r with R₂₂ᵀR₂₂ = XcᵀXc, R₂₂ᵀr = Xcᵀyc, ‖yc‖² = ‖r‖² + residual2. */
interface FactoredState {
  n: number;
  d: number;
  block: Float64Array;
  rhs: Float64Array;
  residual2: number;
  /** Means of x₀…x_{d-1}, y (zeros without an intercept). */
  means: Float64Array;
  ssY: number;
  meanY: number;
}

export function fitModel(accumulator: RegressionAccumulator, spec: FitSpec): FittedModel {
  if (accumulator.count < 2) throw new TrainingFailed('INSUFFICIENT_DATA', `at least 2 rows are needed, got ${accumulator.count}`);
  if (spec.kind !== 'LINEAR' && !(spec.alpha > 0 && Number.isFinite(spec.alpha))) {
    throw new TrainingFailed('INVALID_DATA', 'alpha must be a finite number > 0');
  }
  const state = accumulator.state();
  const w = spec.kind === 'LINEAR' ? solveLeastSquares(state) : spec.kind === 'RIDGE' ? solveRidge(state, spec.alpha) : solveLasso(state, spec.alpha);
  let intercept = 0;
  if (spec.fitIntercept) {
    intercept = state.means[state.d]!;
    for (let j = 0; j < state.d; j++) intercept -= state.means[j]! * w[j]!;
  }
  const coefficients = Array.from(w);
  if (!coefficients.every(Number.isFinite) || !Number.isFinite(intercept)) {
    throw new TrainingFailed('NUMERIC_OVERFLOW', 'the fit overflowed double precision');
  }
  return { coefficients, intercept, metrics: metricsOf(state, w) };
}

/** Training-set n, r2 (scikit-learn's r2_score) and rmse, from the factored state. */
function metricsOf(state: FactoredState, w: Float64Array): FittedModel['metrics'] {
  const { d, block, rhs, n } = state;
  // ‖y - Xw - b‖² = ‖r - R₂₂w‖² + the part of y no feature can reach.
  let sse = state.residual2;
  for (let i = 0; i < d; i++) {
    let e = rhs[i]!;
    for (let j = i; j < d; j++) e -= block[i * d + j]! * w[j]!;
    sse += e * e;
  }
  const sst = state.ssY;
  // As scikit-learn's r2_score: a constant target scores 1 when predicted exactly, else 0
  // ("exactly" up to the rounding of the factored state, relative to the target's size).
  const exact = sse <= (1e-12 * Math.max(1, Math.abs(state.meanY))) ** 2 * n;
  const r2 = sst > 0 ? 1 - sse / sst : exact ? 1 : 0;
  return { n, r2, rmse: Math.sqrt(sse / n) };
}

/** Back substitution on the upper-triangular d×d `t` (row stride `stride`). */
function backSubstitute(t: Float64Array, stride: number, d: number, b: Float64Array): Float64Array {
  const w = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let sum = b[i]!;
    for (let j = i + 1; j < d; j++) sum -= t[i * stride + j]! * w[j]!;
    w[i] = sum / t[i * stride + i]!;
  }
  return w;
}

/**
 * LINEAR: R₂₂w = r. A full-rank triangle is solved directly; a rank-deficient one
 * (collinear or constant features, fewer rows than features) gets the minimum-norm
 * least-squares answer through the SVD of R₂₂, as scipy's lstsq gives.
 */
function solveLeastSquares(state: FactoredState): Float64Array {
  const { d, block, rhs } = state;
  let largest = 0;
  let smallest = Infinity;
  for (let i = 0; i < d; i++) {
    const value = Math.abs(block[i * d + i]!);
    largest = Math.max(largest, value);
    smallest = Math.min(smallest, value);
  }
  if (largest > 0 && smallest > 1e3 * RANK_CUTOFF * largest) return backSubstitute(block, d, d, rhs);
  return minimumNorm(block, d, rhs);
}

/** The minimum-norm solution of A w = b for a square d×d A, by one-sided Jacobi SVD. */
function minimumNorm(a: Float64Array, d: number, b: Float64Array): Float64Array {
  const u = Float64Array.from(a); // columns rotate into U·Σ
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < d; i++) {
          const up = u[i * d + p]!;
          const uq = u[i * d + q]!;
          alpha += up * up;
          beta += uq * uq;
          gamma += up * uq;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (const m of [u, v]) {
          for (let i = 0; i < d; i++) {
            const mp = m[i * d + p]!;
            const mq = m[i * d + q]!;
            m[i * d + p] = c * mp - s * mq;
            m[i * d + q] = s * mp + c * mq;
          }
        }
      }
    }
    if (!rotated) break;
  }
  const sigma = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let sum = 0;
    for (let i = 0; i < d; i++) sum += u[i * d + j]! ** 2;
    sigma[j] = Math.sqrt(sum);
  }
  const cutoff = RANK_CUTOFF * Math.max(...sigma);
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const s = sigma[j]!;
    if (s <= cutoff || s === 0) continue;
    // uⱼ = column j of U·Σ over σⱼ; w += (uⱼ·b / σⱼ) vⱼ
    let dot = 0;
    for (let i = 0; i < d; i++) dot += u[i * d + j]! * b[i]!;
    const scale = dot / (s * s);
    for (let i = 0; i < d; i++) w[i] = w[i]! + scale * v[i * d + j]!;
  }
  return w;
}

/** RIDGE: least squares on R₂₂ stacked over √alpha·I, folded in with the same rotations. */
function solveRidge(state: FactoredState, alpha: number): Float64Array {
  const { d, block, rhs } = state;
  const m = d + 1;
  const t = new Float64Array(m * m);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) t[i * m + j] = block[i * d + j]!;
    t[i * m + d] = rhs[i]!;
  }
  const row = new Float64Array(m);
  const root = Math.sqrt(alpha);
  for (let j = 0; j < d; j++) {
    row.fill(0);
    row[j] = root;
    foldRow(t, m, row, j);
  }
  return backSubstitute(t, m, d, Float64Array.from({ length: d }, (_, i) => t[i * m + d]!));
}

/**
 * LASSO: scikit-learn's cyclic coordinate descent (`enet_coordinate_descent`) on
 * the Gram form Q = XcᵀXc, q = Xcᵀyc of the same data, so its iterates, and its
 * duality-gap stop (tol 1e-4 scaled by ‖yc‖², checked when the largest update is
 * small), are scikit-learn's. Stops after 1000 sweeps at the latest.
 */
function solveLasso(state: FactoredState, alpha: number): Float64Array {
  const { d, block, rhs, n } = state;
  const gram = new Float64Array(d * d);
  const q = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let k = 0; k <= Math.min(i, j); k++) sum += block[k * d + i]! * block[k * d + j]!;
      gram[i * d + j] = sum;
    }
    let sum = 0;
    for (let k = 0; k <= i; k++) sum += block[k * d + i]! * rhs[k]!;
    q[i] = sum;
  }
  let yy = state.residual2;
  for (let i = 0; i < d; i++) yy += rhs[i]! ** 2;

  const l1 = alpha * n;
  const tol = LASSO_TOL * yy;
  const w = new Float64Array(d);
  const h = new Float64Array(d); // Q·w, kept up to date
  for (let iteration = 0; iteration < LASSO_MAX_ITER; iteration++) {
    let wMax = 0;
    let dwMax = 0;
    for (let j = 0; j < d; j++) {
      const qjj = gram[j * d + j]!;
      if (qjj === 0) continue;
      const old = w[j]!;
      const tmp = q[j]! - h[j]! + qjj * old;
      const next = (Math.sign(tmp) * Math.max(Math.abs(tmp) - l1, 0)) / qjj;
      if (next !== old) {
        const delta = next - old;
        for (let i = 0; i < d; i++) h[i] = h[i]! + delta * gram[i * d + j]!;
        w[j] = next;
      }
      dwMax = Math.max(dwMax, Math.abs(next - old));
      wMax = Math.max(wMax, Math.abs(next));
    }
    if (wMax === 0 || dwMax / wMax < LASSO_TOL || iteration === LASSO_MAX_ITER - 1) {
      if (dualityGap(w, h, q, yy, l1) < tol) break;
    }
  }
  return w;
}

/** The duality gap of the lasso at w, in scikit-learn's formulation (l2 penalty 0). */
function dualityGap(w: Float64Array, h: Float64Array, q: Float64Array, yy: number, l1: number): number {
  let wq = 0;
  let wh = 0;
  let l1Norm = 0;
  let dualNorm = 0;
  for (let j = 0; j < w.length; j++) {
    wq += w[j]! * q[j]!;
    wh += w[j]! * h[j]!;
    l1Norm += Math.abs(w[j]!);
    dualNorm = Math.max(dualNorm, Math.abs(q[j]! - h[j]!));
  }
  const residual2 = Math.max(yy - 2 * wq + wh, 0);
  let constant = 1;
  let gap = residual2;
  if (dualNorm > l1) {
    constant = l1 / dualNorm;
    gap = 0.5 * residual2 * (1 + constant * constant);
  }
  return gap + l1 * l1Norm - constant * (yy - wq);
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
