import { describe, expect, it } from 'vitest';
import { foldRow, gramForm, jacobiSvd, minimumNormSolution, packedIndex, packedLength, residualSumOfSquares, solveTriangle } from '#domain/linalg.js';

/** Folds the rows of A (each [x…, y]) into a packed triangle, as the accumulator does. */
function factor(rows: readonly (readonly number[])[]): Float64Array {
  const m = rows[0]!.length;
  const triangle = new Float64Array(packedLength(m));
  for (const values of rows) foldRow(triangle, m, Float64Array.from(values));
  return triangle;
}

/** Entry (i, j) of a packed triangle, zero below the diagonal. */
const entry = (triangle: Float64Array, m: number, i: number, j: number) => (j < i ? 0 : triangle[packedIndex(m, i, j)]!);

/** A fixed, well-spread 7×4 matrix (rows [x₀, x₁, x₂, y]). */
const A = [
  [1, 2, -1, 3],
  [0.5, -1, 2, 1],
  [3, 0, 1, -2],
  [-2, 1.5, 0, 4],
  [1, 1, 1, 1],
  [0, -3, 2.5, 0.5],
  [4, 2, -1, -1],
];

describe('packed upper triangle', () => {
  it('stores row i from its diagonal onwards, rows one after another', () => {
    const m = 4;
    const order = [];
    for (let i = 0; i < m; i++) for (let j = i; j < m; j++) order.push(packedIndex(m, i, j));
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(packedLength(m)).toBe(10);
  });
});

describe('foldRow', () => {
  it('builds R with RᵀR = AᵀA and a non-negative diagonal', () => {
    const m = 4;
    const triangle = factor(A);
    for (let i = 0; i < m; i++) {
      expect(entry(triangle, m, i, i)).toBeGreaterThanOrEqual(0);
      for (let j = 0; j < m; j++) {
        let rtr = 0;
        for (let k = 0; k < m; k++) rtr += entry(triangle, m, k, i) * entry(triangle, m, k, j);
        const ata = A.reduce((sum, row) => sum + row[i]! * row[j]!, 0);
        expect(rtr).toBeCloseTo(ata, 12);
      }
    }
  });

  it('starts at column `from` for rows whose leading entries are zero', () => {
    const m = 4;
    const triangle = factor(A);
    const expected = factor([...A, [0, 0, 2, 5]]);
    foldRow(triangle, m, Float64Array.from([0, 0, 2, 5]), 2);
    triangle.forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 13));
  });
});

describe('solving with the factor', () => {
  /** Least squares by the normal equations in exact-enough arithmetic for this small, well-conditioned A. */
  const normalEquations = () => {
    const d = 3;
    const gram = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => A.reduce((s, r) => s + r[i]! * r[j]!, 0)));
    const rhs = Array.from({ length: d }, (_, i) => A.reduce((s, r) => s + r[i]! * r[d]!, 0));
    // Gaussian elimination without pivoting is fine on this symmetric positive definite matrix.
    for (let k = 0; k < d; k++) {
      for (let i = k + 1; i < d; i++) {
        const f = gram[i]![k]! / gram[k]![k]!;
        for (let j = k; j < d; j++) gram[i]![j]! -= f * gram[k]![j]!;
        rhs[i]! -= f * rhs[k]!;
      }
    }
    const w = new Array<number>(d).fill(0);
    for (let i = d - 1; i >= 0; i--) {
      let s = rhs[i]!;
      for (let j = i + 1; j < d; j++) s -= gram[i]![j]! * w[j]!;
      w[i] = s / gram[i]![i]!;
    }
    return w;
  };

  it('solveTriangle gives the least-squares solution', () => {
    const w = solveTriangle(factor(A), 4);
    normalEquations().forEach((value, j) => expect(w[j]).toBeCloseTo(value, 12));
  });

  it('residualSumOfSquares is ‖y - Xw‖² for any w', () => {
    const w = Float64Array.from([0.3, -1.2, 2]);
    const direct = A.reduce((sum, row) => sum + (row[3]! - row[0]! * w[0]! - row[1]! * w[1]! - row[2]! * w[2]!) ** 2, 0);
    expect(residualSumOfSquares(factor(A), 4, w)).toBeCloseTo(direct, 11);
  });

  it('gramForm recovers XᵀX, Xᵀy and yᵀy', () => {
    const { gram, q, yy } = gramForm(factor(A), 4);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++)
        expect(gram[i * 3 + j]).toBeCloseTo(
          A.reduce((s, r) => s + r[i]! * r[j]!, 0),
          12,
        );
      expect(q[i]).toBeCloseTo(
        A.reduce((s, r) => s + r[i]! * r[3]!, 0),
        12,
      );
    }
    expect(yy).toBeCloseTo(
      A.reduce((s, r) => s + r[3]! ** 2, 0),
      12,
    );
  });
});

describe('jacobiSvd', () => {
  it('factors A = (UΣ)Vᵀ with orthonormal V and known singular values', () => {
    // [[3, 0], [4, 5]] has singular values √45 and √5 (σ₁σ₂ = |det| = 15, σ₁² + σ₂² = 50).
    const columns = Float64Array.from([3, 4, 0, 5]);
    const { us, v, sigma } = jacobiSvd(columns, 2);
    expect([...sigma].sort((a, b) => b - a)).toEqual([expect.closeTo(Math.sqrt(45), 14), expect.closeTo(Math.sqrt(5), 14)]);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const reconstructed = us[i]! * v[j]! + us[2 + i]! * v[2 + j]!;
        expect(reconstructed).toBeCloseTo(columns[j * 2 + i]!, 14);
        expect(v[i * 2]! * v[j * 2]! + v[i * 2 + 1]! * v[j * 2 + 1]!).toBeCloseTo(i === j ? 1 : 0, 14);
      }
    }
  });

  it('finds an exact zero singular value for a zero column', () => {
    const { sigma } = jacobiSvd(Float64Array.from([1, 2, 0, 0]), 2);
    expect([...sigma].sort((a, b) => a - b)).toEqual([0, Math.sqrt(5)]);
  });
});

describe('minimumNormSolution', () => {
  it('splits the weight of two identical columns equally (the shortest of all solutions)', () => {
    // y = 2x with x in both columns: every w with w₀ + w₁ = 2 fits exactly; (1, 1) is the shortest.
    const triangle = factor([1, 2, 3, 4].map((x) => [x, x, 2 * x]));
    const { w, rank } = minimumNormSolution(triangle, 3, 1e-10);
    expect(rank).toBe(1);
    expect([...w]).toEqual([expect.closeTo(1, 12), expect.closeTo(1, 12)]);
  });

  it('equals the triangular solve when the factor is regular', () => {
    const triangle = factor(A);
    const { w, rank } = minimumNormSolution(triangle, 4, 1e-10);
    expect(rank).toBe(3);
    solveTriangle(triangle, 4).forEach((value, j) => expect(w[j]).toBeCloseTo(value, 12));
  });

  it('answers zero for an all-zero design', () => {
    const { w, rank } = minimumNormSolution(
      factor([
        [0, 0, 1],
        [0, 0, 2],
      ]),
      3,
      1e-10,
    );
    expect({ w: [...w], rank }).toEqual({ w: [0, 0], rank: 0 });
  });
});
