/**
 * Small dense linear algebra for the regression engine (src/domain/regression.ts).
 *
 * Everything works on one shape: an augmented upper-triangular factor [R | r] of
 * size m×m, where R is the (m-1)×(m-1) triangle of a QR factorization of a design
 * matrix and r is Qᵀy (plus, in the bottom-right corner, the norm of the part of y
 * that no column can reach). It is stored packed, row by row, without the zeros
 * below the diagonal: row i holds columns i..m-1.
 *
 * Such a factor is a sufficient statistic for least squares: RᵀR = XᵀX, Rᵀr = Xᵀy
 * and ‖y - Xw‖² = ‖r - Rw‖² + corner², but solving with R directly keeps the
 * condition number of X instead of squaring it as the normal equations do.
 */

/** Number of stored entries of a packed m×m upper triangle. */
export function packedLength(m: number): number {
  return (m * (m + 1)) / 2;
}

/** Index of entry (i, j), j ≥ i, of a packed m×m upper triangle. */
export function packedIndex(m: number, i: number, j: number): number {
  return i * m - (i * (i - 1)) / 2 + (j - i);
}

/**
 * Folds one more row of the factored matrix into the packed m×m triangle with
 * Givens rotations, so that afterwards RᵀR gains rowᵀrow. Entries of `row` before
 * `from` must be zero; `row` is used as scratch and left holding garbage.
 * O(m²) flops, no allocation: this is the inner loop of training.
 */
export function foldRow(triangle: Float64Array, m: number, row: Float64Array, from = 0): void {
  let diagonal = packedIndex(m, from, from);
  for (let i = from; i < m; diagonal += m - i, i++) {
    const v = row[i]!;
    if (v === 0) continue;
    const d = triangle[diagonal]!;
    // Plain sqrt rather than Math.hypot, which is several times slower, except when both
    // squares underflow (a lone 1e-300 would otherwise divide 0 by 0). Squares that
    // overflow give Infinity, which the accumulator reports as NUMERIC_OVERFLOW.
    const h = Math.sqrt(d * d + v * v) || Math.hypot(d, v);
    const c = d / h;
    const s = v / h;
    triangle[diagonal] = h;
    for (let j = i + 1, k = diagonal + 1; j < m; j++, k++) {
      const t = triangle[k]!;
      const u = row[j]!;
      triangle[k] = c * t + s * u;
      row[j] = c * u - s * t;
    }
  }
}

/**
 * Sums of squares below this (or not finite) leave a column to `foldRow`, whose
 * rotations keep tiny values and report overflow as before: squares that underflow
 * to subnormals would lose digits in a reflector, and overflowing ones give Infinity.
 */
const SMALLEST_SAFE_SQUARES = 1e-290;

/**
 * Folds a block of rows into the packed m×m triangle with Householder reflections,
 * so that afterwards RᵀR gains the block's AᵀA: the same result as `foldRow` on each
 * row, up to rounding, in about half its flops and with inner loops that run down
 * whole columns of the block (the update of the triangle by a block, as LAPACK's
 * tpqrt does it, unblocked).
 *
 * For column k, one reflector maps [R_kk; block column k] onto [‖·‖; 0]; applying it
 * to every later column costs a dot product and an axpy down the block. Only row k
 * of R takes part, as R is already triangular. Diagonal entries stay non-negative.
 *
 * `block` holds the rows column by column: column c of the block (c = 0…) starts at
 * c·stride and holds `rows` values; `stride` is at least `rows` rounded up to a
 * multiple of 4. With `leadingOnes`, the block's columns are the triangle's columns
 * 1…m-1 and column 0 is all ones, implicit (the intercept column); otherwise they are
 * columns 0…m-1. The block is scratch: it is left holding garbage. `loops` runs the
 * loops down the columns (by default in TypeScript; see `FoldLoops`).
 */
export function foldBlock(
  triangle: Float64Array,
  m: number,
  block: Float64Array,
  stride: number,
  rows: number,
  leadingOnes: boolean,
  loops: FoldLoops = SCALAR_LOOPS,
): void {
  if (rows === 0) return;
  if (!loops.accepts(triangle, block)) throw new Error('these loops run on their own triangle and block only');
  const first = leadingOnes ? 1 : 0;
  const columns = m - first;
  const padded = (rows + 3) & ~3;
  if (padded > stride) throw new Error(`a block of ${rows} rows needs a stride of at least ${padded}, got ${stride}`);
  // The unrolled loops below run over `padded` rows: zero rows change nothing.
  if (padded !== rows) for (let c = 0; c < columns; c++) block.fill(0, c * stride + rows, c * stride + padded);
  if (leadingOnes) {
    // The reflector of the ones column: v = [R₀₀ - η; 1 … 1]. Applied to a column it
    // subtracts one constant from every value, so it centres the block.
    const r = triangle[0]!;
    const eta = Math.sqrt(r * r + rows);
    const v0 = -rows / (r + eta); // R₀₀ - η without cancellation
    const tau = 2 / (v0 * v0 + rows);
    triangle[0] = eta;
    loops.centre(triangle, block, stride, columns, padded, rows, v0, tau);
  }
  // Reflectors two at a time: with both at hand, one pass down a later column computes
  // both dot products and one more applies both, so each of its values is loaded twice
  // for four multiply-adds instead of four times.
  // Column k's sum of squares when the loop that last updated it has summed it already.
  let known: number | undefined;
  for (let k = 0; k < columns; ) {
    const start = k * stride;
    const end = start + padded;
    const diagonal = packedIndex(m, first + k, first + k);
    const squares = known ?? loops.squares(block, start, end);
    known = undefined;
    if (squares === 0) {
      k += 1;
      continue;
    }
    if (!(squares >= SMALLEST_SAFE_SQUARES && squares < Infinity)) {
      foldRowsFrom(triangle, m, block, stride, rows, first, k);
      return;
    }
    const v0 = reflect(triangle, diagonal, squares);
    const tau = 2 / (v0 * v0 + squares);
    if (k + 1 === columns) break;
    // Column k+1 first, alone: its reflector needs it updated.
    const nextSquares = loops.reflectColumn(triangle, diagonal + 1, v0, tau, block, start, end, stride);
    if (nextSquares === 0 || !(nextSquares >= SMALLEST_SAFE_SQUARES && nextSquares < Infinity)) {
      // No second reflector (or a column for foldRow): finish reflector k on its own.
      for (let c = k + 2, t = diagonal + 2; c < columns; c++, t++) loops.reflectColumn(triangle, t, v0, tau, block, start, end, (c - k) * stride);
      k += 1;
      known = nextSquares;
      continue;
    }
    const nextDiagonal = diagonal + (m - first - k);
    const u0 = reflect(triangle, nextDiagonal, nextSquares);
    const upsilon = 2 / (u0 * u0 + nextSquares);
    // vₖ₊₁ᵀvₖ: their parts in R lie in different rows, so only the block's parts meet.
    const cross = loops.cross(block, start, end, stride);
    const following = loops.reflectPair(triangle, diagonal + 2, nextDiagonal + 1, v0, tau, u0, upsilon, cross, block, start, end, stride, columns - k - 2);
    k += 2;
    if (k < columns) known = following;
  }
}

/**
 * The loops of `foldBlock` that run down the block's columns. `SCALAR_LOOPS` is the
 * TypeScript reference; fold-kernel.ts runs the same operations in the same order
 * over WebAssembly f64x2 lanes (so with the same results, bit for bit) when the
 * triangle and block live in its memory. Indices are into `triangle` and `block`.
 */
export interface FoldLoops {
  /** Whether these loops can run on these arrays. */
  accepts(triangle: Float64Array, block: Float64Array): boolean;
  /** Σ block[b]² over [start, end), end - start a multiple of 4. */
  squares(block: Float64Array, start: number, end: number): number;
  /** Σ block[b]·block[b + stride] over [start, end), one running sum in order. */
  cross(block: Float64Array, start: number, end: number, stride: number): number;
  /**
   * Applies I - τ[v₀; a][v₀; a]ᵀ (a at block[start, end)) to [R_kc (at t); the column at start + offset];
   * answers that column's sum of squares afterwards, as `squares` sums it.
   */
  reflectColumn(triangle: Float64Array, t: number, v0: number, tau: number, block: Float64Array, start: number, end: number, offset: number): number;
  /** The ones column's reflector [v₀; 1 … 1] applied to `columns` columns (R's entries from index 1): a sum over `padded` values, then `rows` values shifted. */
  centre(triangle: Float64Array, block: Float64Array, stride: number, columns: number, padded: number, rows: number, v0: number, tau: number): void;
  /**
   * Hₖ ([v₀; a], a at block[start, end)) then Hₖ₊₁ ([u₀; b], b one stride later) applied to
   * the `count` columns after b, their entries in R's rows k and k+1 from t and tNext;
   * cross = bᵀa. Answers the first of those columns' sum of squares afterwards, as `squares`
   * sums it (0 when count is 0).
   */
  reflectPair(
    triangle: Float64Array,
    t: number,
    tNext: number,
    v0: number,
    tau: number,
    u0: number,
    upsilon: number,
    cross: number,
    block: Float64Array,
    start: number,
    end: number,
    stride: number,
    count: number,
  ): number;
}

/** The reference loops, in TypeScript over any arrays. */
export const SCALAR_LOOPS: FoldLoops = {
  accepts: () => true,

  squares(block, start, end) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let b = start; b < end; b += 4) {
      const a0 = block[b]!;
      const a1 = block[b + 1]!;
      const a2 = block[b + 2]!;
      const a3 = block[b + 3]!;
      s0 += a0 * a0;
      s1 += a1 * a1;
      s2 += a2 * a2;
      s3 += a3 * a3;
    }
    return s0 + s1 + (s2 + s3);
  },

  cross(block, start, end, stride) {
    let cross = 0;
    for (let b = start; b < end; b++) cross += block[b]! * block[b + stride]!;
    return cross;
  },

  reflectColumn(triangle, t, v0, tau, block, start, end, offset) {
    let x0 = 0;
    let x1 = 0;
    let x2 = 0;
    let x3 = 0;
    for (let b = start; b < end; b += 4) {
      x0 += block[b]! * block[b + offset]!;
      x1 += block[b + 1]! * block[b + 1 + offset]!;
      x2 += block[b + 2]! * block[b + 2 + offset]!;
      x3 += block[b + 3]! * block[b + 3 + offset]!;
    }
    const f = tau * (v0 * triangle[t]! + (x0 + x1 + (x2 + x3)));
    triangle[t] = triangle[t]! - f * v0;
    for (let b = start; b < end; b++) block[b + offset] = block[b + offset]! - f * block[b]!;
    return SCALAR_LOOPS.squares(block, start + offset, end + offset);
  },

  centre(triangle, block, stride, columns, padded, rows, v0, tau) {
    for (let c = 0; c < columns; c++) {
      const start = c * stride;
      const end = start + padded;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let b = start; b < end; b += 4) {
        s0 += block[b]!;
        s1 += block[b + 1]!;
        s2 += block[b + 2]!;
        s3 += block[b + 3]!;
      }
      const f = tau * (v0 * triangle[c + 1]! + (s0 + s1 + (s2 + s3)));
      triangle[c + 1] = triangle[c + 1]! - f * v0;
      for (let b = start; b < start + rows; b++) block[b] = block[b]! - f;
    }
  },

  reflectPair(triangle, t, tNext, v0, tau, u0, upsilon, cross, block, start, end, stride, count) {
    for (let c = 0, p = 2 * stride; c < count; c++, t++, tNext++, p += stride) {
      let x0 = 0;
      let x1 = 0;
      let y0 = 0;
      let y1 = 0;
      for (let b = start; b < end; b += 2) {
        const value0 = block[b + p]!;
        const value1 = block[b + 1 + p]!;
        x0 += block[b]! * value0;
        x1 += block[b + 1]! * value1;
        y0 += block[b + stride]! * value0;
        y1 += block[b + 1 + stride]! * value1;
      }
      // Hₖ first, then Hₖ₊₁ on what Hₖ left: vₖ₊₁ᵀ(c - f·vₖ) = vₖ₊₁ᵀc - f·cross.
      const f = tau * (v0 * triangle[t]! + (x0 + x1));
      triangle[t] = triangle[t]! - f * v0;
      const g = upsilon * (u0 * triangle[tNext]! + (y0 + y1) - f * cross);
      triangle[tNext] = triangle[tNext]! - g * u0;
      for (let b = start; b < end; b += 2) {
        block[b + p] = block[b + p]! - f * block[b]! - g * block[b + stride]!;
        block[b + 1 + p] = block[b + 1 + p]! - f * block[b + 1]! - g * block[b + 1 + stride]!;
      }
    }
    return count > 0 ? SCALAR_LOOPS.squares(block, start + 2 * stride, end + 2 * stride) : 0;
  },
};

/**
 * The reflector that maps [R_kk; a] (‖a‖² = squares > 0) onto [η; 0] with η ≥ 0:
 * stores η on the diagonal and answers v₀ = R_kk - η (the vector is [v₀; a]).
 */
function reflect(triangle: Float64Array, diagonal: number, squares: number): number {
  const r = triangle[diagonal]!;
  const eta = Math.sqrt(r * r + squares);
  triangle[diagonal] = eta;
  return -squares / (r + eta); // R_kk - η without cancellation (R_kk ≥ 0)
}

/** The rest of a block, from its column k on, row by row with `foldRow` (columns before k are done). */
function foldRowsFrom(triangle: Float64Array, m: number, block: Float64Array, stride: number, rows: number, first: number, k: number): void {
  const row = new Float64Array(m);
  for (let b = 0; b < rows; b++) {
    row.fill(0);
    for (let c = k; c < m - first; c++) row[first + c] = block[c * stride + b]!;
    foldRow(triangle, m, row, first + k);
  }
}

/** Solves R w = r by back substitution; R must have no zero on its diagonal. */
export function solveTriangle(triangle: Float64Array, m: number): Float64Array {
  const d = m - 1;
  const w = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    const start = packedIndex(m, i, i);
    let sum = triangle[start + d - i]!;
    for (let j = i + 1; j < d; j++) sum -= triangle[start + j - i]! * w[j]!;
    w[i] = sum / triangle[start]!;
  }
  return w;
}

/** ‖r - Rw‖² + corner²: the residual sum of squares of w on the factored data. */
export function residualSumOfSquares(triangle: Float64Array, m: number, w: Float64Array): number {
  const d = m - 1;
  const corner = triangle[packedLength(m) - 1]!;
  let sum = corner * corner;
  for (let i = 0; i < d; i++) {
    const start = packedIndex(m, i, i);
    let e = triangle[start + d - i]!;
    for (let j = i; j < d; j++) e -= triangle[start + j - i]! * w[j]!;
    sum += e * e;
  }
  return sum;
}

/** The normal-equation quantities Q = RᵀR, q = Rᵀr and yᵀy = ‖r‖² + corner², from the factor. */
export interface GramForm {
  /** d×d, dense, row-major (symmetric). */
  gram: Float64Array;
  q: Float64Array;
  yy: number;
}

export function gramForm(triangle: Float64Array, m: number): GramForm {
  const d = m - 1;
  const gram = new Float64Array(d * d);
  const q = new Float64Array(d);
  let yy = 0;
  for (let k = 0; k < m; k++) {
    const start = packedIndex(m, k, k);
    const rk = triangle[start + d - k]!;
    yy += rk * rk;
    for (let i = k; i < d; i++) {
      const rki = triangle[start + i - k]!;
      q[i] = q[i]! + rki * rk;
      for (let j = i; j < d; j++) gram[i * d + j] = gram[i * d + j]! + rki * triangle[start + j - k]!;
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) gram[i * d + j] = gram[j * d + i]!;
  return { gram, q, yy };
}

/** Singular value decomposition A = U Σ Vᵀ of a square d×d matrix. */
export interface Svd {
  /** Columns of U·Σ (column-major, column j has norm σⱼ). */
  us: Float64Array;
  /** Columns of V (column-major, orthonormal). */
  v: Float64Array;
  sigma: Float64Array;
}

/**
 * One-sided Jacobi SVD (Hestenes): rotates pairs of columns of A until all are
 * orthogonal; the rotations accumulate into V and the column norms are the
 * singular values. Slower than Golub-Kahan but short, and accurate to high
 * relative precision on the small triangles the engine hands it.
 *
 * `columns` is A in column-major order (it is not modified).
 */
export function jacobiSvd(columns: Float64Array, d: number): Svd {
  const us = Float64Array.from(columns);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  // Jacobi converges quadratically: in practice under 10 sweeps; the bound only guards the loop.
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0, ip = p * d, iq = q * d; i < d; i++, ip++, iq++) {
          const a = us[ip]!;
          const b = us[iq]!;
          alpha += a * a;
          beta += b * b;
          gamma += a * b;
        }
        // Columns already orthogonal to working precision (zero columns included).
        if (Math.abs(gamma) <= Number.EPSILON * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotateColumns(us, d, p, q, c, s);
        rotateColumns(v, d, p, q, c, s);
      }
    }
    if (!rotated) break;
  }
  const sigma = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let sum = 0;
    for (let i = j * d; i < (j + 1) * d; i++) sum += us[i]! * us[i]!;
    sigma[j] = Math.sqrt(sum);
  }
  return { us, v, sigma };
}

function rotateColumns(a: Float64Array, d: number, p: number, q: number, c: number, s: number): void {
  for (let i = 0, ip = p * d, iq = q * d; i < d; i++, ip++, iq++) {
    const x = a[ip]!;
    const y = a[iq]!;
    a[ip] = c * x - s * y;
    a[iq] = s * x + c * y;
  }
}

/**
 * The minimum-norm least-squares solution of R w ≈ r (R possibly singular), as
 * LAPACK's gelsd gives it: w = V Σ⁺ Uᵀ r, where singular values at or below
 * `relativeCutoff` × the largest count as zero. Also returns the numerical rank.
 */
export function minimumNormSolution(triangle: Float64Array, m: number, relativeCutoff: number): { w: Float64Array; rank: number } {
  const d = m - 1;
  const columns = new Float64Array(d * d);
  const r = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const start = packedIndex(m, i, i);
    for (let j = i; j < d; j++) columns[j * d + i] = triangle[start + j - i]!;
    r[i] = triangle[start + d - i]!;
  }
  const { us, v, sigma } = jacobiSvd(columns, d);
  const cutoff = relativeCutoff * Math.max(...sigma);
  const w = new Float64Array(d);
  let rank = 0;
  for (let j = 0; j < d; j++) {
    const s = sigma[j]!;
    if (s <= cutoff || s === 0) continue;
    rank++;
    // Column j of U·Σ is σⱼuⱼ, so (σⱼuⱼ·r)/σⱼ² = uⱼ·r/σⱼ is the weight of vⱼ.
    let dot = 0;
    for (let i = 0; i < d; i++) dot += us[j * d + i]! * r[i]!;
    const weight = dot / (s * s);
    for (let i = 0; i < d; i++) w[i] = w[i]! + weight * v[j * d + i]!;
  }
  return { w, rank };
}
