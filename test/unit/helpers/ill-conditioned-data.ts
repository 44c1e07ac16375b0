/**
 * An ill-conditioned design for the engine's accuracy checks, generated
 * deterministically row by row (so 10^7 rows need no memory), and the previous
 * engine (one Givens rotation sweep per row) to compare against.
 *
 * Rows are x = z·M + offset with z standard normal and M = U·diag(σ)·Vᵀ, U and V
 * fixed random rotations and σ spread geometrically from 1 down to 1/condition, so
 * the centred design's condition number is about `condition`; y = 1.5 + x·w + noise.
 */

import { foldRow, packedIndex, packedLength, solveTriangle } from '#domain/linalg.js';
import { gaussian, random } from './random.js';

export interface IllConditionedSpec {
  features: number;
  condition: number;
  /** Standard deviation of the noise added to y. */
  noise: number;
  seed: number;
}

/** A rotation: Gram-Schmidt on a seeded Gaussian matrix (row-major d×d). */
function rotation(d: number, normal: () => number): Float64Array {
  const q = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) q[i * d + j] = normal();
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < i; k++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += q[i * d + j]! * q[k * d + j]!;
        for (let j = 0; j < d; j++) q[i * d + j] = q[i * d + j]! - dot * q[k * d + j]!;
      }
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += q[i * d + j]! ** 2;
    for (let j = 0; j < d; j++) q[i * d + j] = q[i * d + j]! / Math.sqrt(norm);
  }
  return q;
}

/** Writes `count` rows into x (row-major) and y; call again for the next rows. */
export function illConditionedSource(spec: IllConditionedSpec): { weights: number[]; next: (x: Float64Array, y: Float64Array, count: number) => void } {
  const d = spec.features;
  const normal = gaussian(random(spec.seed));
  const u = rotation(d, normal);
  const v = rotation(d, normal);
  const mixing = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += u[i * d + k]! * spec.condition ** (-k / (d - 1)) * v[j * d + k]!;
      mixing[i * d + j] = sum;
    }
  }
  const weights = Array.from({ length: d }, (_, j) => ((j % 3) - 1) * 2 + 0.5 * j);
  const z = new Float64Array(d);
  return {
    weights,
    next(x, y, count) {
      for (let row = 0; row < count; row++) {
        for (let k = 0; k < d; k++) z[k] = normal();
        let target = 1.5;
        for (let j = 0; j < d; j++) {
          let value = j;
          for (let k = 0; k < d; k++) value += z[k]! * mixing[k * d + j]!;
          x[row * d + j] = value;
          target += weights[j]! * value;
        }
        y[row] = target + spec.noise * normal();
      }
    },
  };
}

/**
 * The engine as it was before blocks: each row [1, x - shift, y - shift] folded into
 * the triangle by `foldRow`, then the LINEAR answer by back substitution.
 */
export class RowByRowGivens {
  private readonly width: number;
  private readonly triangle: Float64Array;
  private readonly row: Float64Array;
  private readonly shift: Float64Array;
  private rows = 0;

  constructor(readonly nFeatures: number) {
    this.width = nFeatures + 2;
    this.triangle = new Float64Array(packedLength(this.width));
    this.row = new Float64Array(this.width);
    this.shift = new Float64Array(nFeatures + 1);
  }

  add(x: ArrayLike<number>, y: number): void {
    const d = this.nFeatures;
    if (this.rows === 0) {
      for (let j = 0; j < d; j++) this.shift[j] = x[j]!;
      this.shift[d] = y;
    }
    this.row[0] = 1;
    for (let j = 0; j < d; j++) this.row[1 + j] = x[j]! - this.shift[j]!;
    this.row[d + 1] = y - this.shift[d]!;
    foldRow(this.triangle, this.width, this.row);
    this.rows++;
  }

  /** LINEAR least squares: coefficients from the centred block, intercept from the means. */
  solve(): { intercept: number; coefficients: number[] } {
    const d = this.nFeatures;
    const m = d + 1;
    const block = new Float64Array(packedLength(m));
    for (let i = 0; i < m; i++) for (let j = i; j < m; j++) block[packedIndex(m, i, j)] = this.triangle[packedIndex(this.width, i + 1, j + 1)]!;
    const w = solveTriangle(block, m);
    const root = this.triangle[0]!;
    const mean = (j: number) => this.shift[j]! + this.triangle[j + 1]! / root;
    let intercept = mean(d);
    for (let j = 0; j < d; j++) intercept -= mean(j) * w[j]!;
    return { intercept, coefficients: Array.from(w) };
  }
}

/** ‖a - b‖∞ / ‖b‖∞ over the coefficients, and the intercept's error relative to |b| + Σ|bⱼ|·(1 + |offset|). */
export function relativeErrors(
  model: { intercept: number; coefficients: number[] },
  reference: { intercept: number; coefficients: number[] },
): { coefficients: number[]; worst: number; intercept: number } {
  const largest = Math.max(...reference.coefficients.map(Math.abs));
  const coefficients = model.coefficients.map((value, j) => Math.abs(value - reference.coefficients[j]!) / largest);
  const scale = Math.abs(reference.intercept) + reference.coefficients.reduce((sum, value, j) => sum + Math.abs(value) * (1 + j), 0);
  return { coefficients, worst: Math.max(...coefficients), intercept: Math.abs(model.intercept - reference.intercept) / scale };
}

/**
 * The alternative that was measured and not taken: a shifted Gram update. Rows are
 * shifted by the first row, XᵀX-style sums of [x, y] are kept with Kahan-compensated
 * additions, and the answer comes from the Cholesky factor of the centred Gram
 * matrix. About half the flops of the reflections, but it squares cond(X).
 */
export class ShiftedGram {
  private readonly width: number;
  private readonly sums: Float64Array;
  private readonly sumsCarry: Float64Array;
  private readonly products: Float64Array;
  private readonly productsCarry: Float64Array;
  private readonly shift: Float64Array;
  private readonly row: Float64Array;
  private rows = 0;

  constructor(readonly nFeatures: number) {
    this.width = nFeatures + 1;
    this.sums = new Float64Array(this.width);
    this.sumsCarry = new Float64Array(this.width);
    this.products = new Float64Array(this.width * this.width);
    this.productsCarry = new Float64Array(this.width * this.width);
    this.shift = new Float64Array(this.width);
    this.row = new Float64Array(this.width);
  }

  add(x: ArrayLike<number>, y: number): void {
    const { width, row, shift } = this;
    if (this.rows === 0) {
      for (let j = 0; j < width - 1; j++) shift[j] = x[j]!;
      shift[width - 1] = y;
    }
    for (let j = 0; j < width - 1; j++) row[j] = x[j]! - shift[j]!;
    row[width - 1] = y - shift[width - 1]!;
    for (let i = 0; i < width; i++) {
      kahan(this.sums, this.sumsCarry, i, row[i]!);
      for (let j = i; j < width; j++) kahan(this.products, this.productsCarry, i * width + j, row[i]! * row[j]!);
    }
    this.rows++;
  }

  solve(): { intercept: number; coefficients: number[] } {
    const { width, rows } = this;
    const d = width - 1;
    const centred = (i: number, j: number) => this.products[Math.min(i, j) * width + Math.max(i, j)]! - (this.sums[i]! * this.sums[j]!) / rows;
    // Cholesky LLᵀ of the centred Gram of x, then L Lᵀ w = Xcᵀyc.
    const l = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = centred(i, j);
        for (let k = 0; k < j; k++) sum -= l[i * d + k]! * l[j * d + k]!;
        l[i * d + j] = i === j ? Math.sqrt(sum) : sum / l[j * d + j]!;
      }
    }
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let sum = centred(i, d);
      for (let k = 0; k < i; k++) sum -= l[i * d + k]! * z[k]!;
      z[i] = sum / l[i * d + i]!;
    }
    const w = new Float64Array(d);
    for (let i = d - 1; i >= 0; i--) {
      let sum = z[i]!;
      for (let k = i + 1; k < d; k++) sum -= l[k * d + i]! * w[k]!;
      w[i] = sum / l[i * d + i]!;
    }
    const mean = (j: number) => this.shift[j]! + this.sums[j]! / rows;
    let intercept = mean(d);
    for (let j = 0; j < d; j++) intercept -= mean(j) * w[j]!;
    return { intercept, coefficients: Array.from(w) };
  }
}

function kahan(sums: Float64Array, carries: Float64Array, index: number, value: number): void {
  const corrected = value - carries[index]!;
  const total = sums[index]! + corrected;
  carries[index] = total - sums[index]! - corrected;
  sums[index] = total;
}
