/**
 * An exact-enough least-squares reference for the engine's accuracy checks
 * (bench/ill-conditioned.ts, test/unit/src/domain/regression.test.ts): the normal equations of
 * [1, x, y], summed and solved in double-double arithmetic (about 32 significant
 * digits). Each product of two doubles is formed exactly (Dekker's split), so the
 * Gram matrix carries only the sums' rounding, ~1e-32 relative, and solving it loses
 * cond(X)² of that: for cond(X) = 1e8 the answer is still good to ~1e-16, far below
 * the errors of any double-precision method. Slow (hundreds of flops per row): for
 * measuring, never for training.
 */

/** Veltkamp's constant 2^27 + 1: splits a double into two halves of 26 bits. */
const SPLITTER = 134217729;

/** A double-double: hi + lo with |lo| ≤ ulp(hi)/2. */
type DD = [number, number];

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function fastTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

function twoProduct(a: number, b: number): DD {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function add(x: DD, y: DD): DD {
  const [s, e] = twoSum(x[0], y[0]);
  return fastTwoSum(s, e + x[1] + y[1]);
}

function negate(x: DD): DD {
  return [-x[0], -x[1]];
}

function multiply(x: DD, y: DD): DD {
  const [p, e] = twoProduct(x[0], y[0]);
  return fastTwoSum(p, e + x[0] * y[1] + x[1] * y[0]);
}

function divide(x: DD, y: DD): DD {
  const q1 = x[0] / y[0];
  let r = add(x, negate(multiply([q1, 0], y)));
  const q2 = r[0] / y[0];
  r = add(r, negate(multiply([q2, 0], y)));
  const q3 = r[0] / y[0];
  return add(fastTwoSum(q1, q2), [q3, 0]);
}

/** Least squares of y on [1, x] (or on x alone), exact to about 1e-16 for cond(X) up to ~1e8. */
export class ExactLeastSquares {
  /** Width of [1?, x, y]. */
  private readonly width: number;
  private readonly hi: Float64Array;
  private readonly lo: Float64Array;
  private readonly values: Float64Array;
  private readonly highs: Float64Array;
  private readonly lows: Float64Array;
  rows = 0;

  constructor(
    readonly nFeatures: number,
    readonly fitIntercept: boolean,
  ) {
    this.width = nFeatures + 1 + (fitIntercept ? 1 : 0);
    const entries = this.width * this.width;
    this.hi = new Float64Array(entries);
    this.lo = new Float64Array(entries);
    this.values = new Float64Array(this.width);
    this.highs = new Float64Array(this.width);
    this.lows = new Float64Array(this.width);
  }

  add(x: ArrayLike<number>, y: number): void {
    const { width, values, highs, lows, hi, lo } = this;
    const first = this.fitIntercept ? 1 : 0;
    if (first) values[0] = 1;
    for (let j = 0; j < this.nFeatures; j++) values[first + j] = x[j]!;
    values[width - 1] = y;
    for (let i = 0; i < width; i++) {
      const t = SPLITTER * values[i]!;
      highs[i] = t - (t - values[i]!);
      lows[i] = values[i]! - highs[i]!;
    }
    for (let i = 0; i < width; i++) {
      const a = values[i]!;
      const ah = highs[i]!;
      const al = lows[i]!;
      for (let j = i, k = i * width + i; j < width; j++, k++) {
        const b = values[j]!;
        const bh = highs[j]!;
        const bl = lows[j]!;
        const p = a * b;
        const e = ah * bh - p + ah * bl + al * bh + al * bl;
        const h = hi[k]!;
        const s = h + p;
        const bb = s - h;
        lo[k] = lo[k]! + (h - (s - bb) + (p - bb)) + e;
        hi[k] = s;
      }
    }
    this.rows++;
  }

  /** [intercept?, w…] solving the normal equations by Cholesky (LDLᵀ) in double-double. */
  solve(): { intercept: number; coefficients: number[] } {
    const n = this.width - 1;
    const w = this.width;
    const gram: DD[][] = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j): DD => {
        const k = Math.min(i, j) * w + Math.max(i, j);
        return fastTwoSum(this.hi[k]!, this.lo[k]!);
      }),
    );
    const rhs: DD[] = Array.from({ length: n }, (_, i) => fastTwoSum(this.hi[i * w + n]!, this.lo[i * w + n]!));
    // Gaussian elimination without pivoting: the Gram matrix is symmetric positive definite.
    for (let k = 0; k < n; k++) {
      for (let i = k + 1; i < n; i++) {
        const factor = divide(gram[i]![k]!, gram[k]![k]!);
        for (let j = k; j < n; j++) gram[i]![j] = add(gram[i]![j]!, negate(multiply(factor, gram[k]![j]!)));
        rhs[i] = add(rhs[i]!, negate(multiply(factor, rhs[k]!)));
      }
    }
    const solution: DD[] = new Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let sum = rhs[i]!;
      for (let j = i + 1; j < n; j++) sum = add(sum, negate(multiply(gram[i]![j]!, solution[j]!)));
      solution[i] = divide(sum, gram[i]![i]!);
    }
    const values = solution.map(([high, low]) => high + low);
    return this.fitIntercept ? { intercept: values[0]!, coefficients: values.slice(1) } : { intercept: 0, coefficients: values };
  }
}
