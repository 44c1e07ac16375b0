/**
 * An ill-conditioned design for the engine's accuracy checks, generated
 * deterministically row by row (so 10^7 rows need no memory), and the previous
 * engine (one Givens rotation sweep per row) to compare against.
 *
 * Rows are x = z·M + offset with z standard normal and M = U·diag(σ)·Vᵀ, U and V
 * fixed random rotations and σ spread geometrically from 1 down to 1/condition, so
 * the centred design's condition number is about `condition`; y = 1.5 + x·w + noise.
 */

import { foldRow, packedIndex, packedLength, solveTriangle } from '../src/domain/linalg.js';
import { gaussian, random } from './dataset.js';

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
