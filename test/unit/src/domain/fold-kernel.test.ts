import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FoldKernel } from '#domain/fold-kernel.js';
import { foldBlock, packedIndex, packedLength } from '#domain/linalg.js';
import { KERNELS, kernelModulePath, kernelModuleText } from '../../../../scripts/kernels-build.js';
import { random as uniform } from '../../helpers/random.js';

const STRIDE = 64;

/**
 * Folds the same blocks into a triangle with the TypeScript loops and with the kernel's,
 * block after block (as the accumulator does), and answers both triangles.
 */
function foldBoth(
  m: number,
  leadingOnes: boolean,
  blocks: readonly Float64Array[],
  rows: readonly number[],
): { reference: Float64Array; kernel: Float64Array } {
  const columns = m - (leadingOnes ? 1 : 0);
  const kernel = new FoldKernel(columns * STRIDE, packedLength(m));
  const reference = new Float64Array(packedLength(m));
  const scratch = new Float64Array(columns * STRIDE);
  blocks.forEach((values, i) => {
    scratch.set(values);
    foldBlock(reference, m, scratch, STRIDE, rows[i]!, leadingOnes);
    kernel.block.set(values);
    foldBlock(kernel.triangle, m, kernel.block, STRIDE, rows[i]!, leadingOnes, kernel);
  });
  return { reference, kernel: Float64Array.from(kernel.triangle) };
}

/** A block of `rows` rows of `columns` columns, column by column, from `value(row, column)`. */
function blockOf(columns: number, rows: number, value: (row: number, column: number) => number): Float64Array {
  const block = new Float64Array(columns * STRIDE);
  for (let c = 0; c < columns; c++) for (let r = 0; r < rows; r++) block[c * STRIDE + r] = value(r, c);
  return block;
}

describe('the fold kernel (WebAssembly SIMD) against the TypeScript loops', () => {
  it('gives the same triangle, bit for bit, on random blocks of every shape', () => {
    const next = uniform(7);
    for (const m of [2, 3, 4, 7, 12, 25]) {
      for (const leadingOnes of [false, true]) {
        const columns = m - (leadingOnes ? 1 : 0);
        if (columns < 1) continue;
        const rows = [64, 64, 1, 5, 63, 64, 2, 3, 64];
        const blocks = rows.map((count) => blockOf(columns, count, (_, c) => (next() - 0.5) * 10 ** (c % 3) + c));
        const { reference, kernel } = foldBoth(m, leadingOnes, blocks, rows);
        expect(Array.from(kernel), `m = ${m}, leadingOnes = ${leadingOnes}`).toEqual(Array.from(reference));
        expect(reference.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('gives the same triangle on ill-conditioned blocks (nearly collinear columns, cond ≈ 1e8)', () => {
    const next = uniform(11);
    const m = 6;
    const rows = Array.from({ length: 40 }, () => 64);
    const blocks = rows.map((count) => {
      const base = Array.from({ length: count }, next);
      return blockOf(m - 1, count, (r, c) => (c === 0 ? base[r]! : base[r]! * (1 + c) + 1e-8 * (next() - 0.5)));
    });
    const { reference, kernel } = foldBoth(m, true, blocks, rows);
    expect(Array.from(kernel)).toEqual(Array.from(reference));
    // Columns 2… are column 1 scaled plus 1e-8 noise: their diagonal entries are tiny against column 1's.
    expect(reference[packedIndex(m, 2, 2)]! / reference[packedIndex(m, 1, 1)]!).toBeLessThan(1e-7);
  });

  it('gives the same triangle when a column is all zero or too small for a reflector (the foldRow fallback)', () => {
    const next = uniform(3);
    const m = 5;
    const rows = [64, 64, 17];
    const blocks = [
      blockOf(m, 64, (_, c) => (c === 1 ? 0 : next() - 0.5)),
      blockOf(m, 64, (_, c) => (c === 2 ? 1e-160 * next() : next() - 0.5)),
      blockOf(m, 17, () => next() - 0.5),
    ];
    const { reference, kernel } = foldBoth(m, false, blocks, rows);
    expect(Array.from(kernel)).toEqual(Array.from(reference));
  });

  it('runs only on its own triangle and block', () => {
    const kernel = new FoldKernel(3 * STRIDE, packedLength(3));
    expect(() => foldBlock(new Float64Array(packedLength(3)), 3, kernel.block, STRIDE, 4, false, kernel)).toThrow(/their own triangle and block/);
  });

  it('refuses, by name, a width whose block and triangle do not fit in a WebAssembly memory', () => {
    const width = 40_000;
    expect(() => new FoldKernel(width * STRIDE, packedLength(width))).toThrow(/more than a WebAssembly memory holds/);
  });
});

describe("the kernels' generated modules (npm run kernels regenerates them)", () => {
  it.each(KERNELS.map((kernel) => [kernel.wat, kernel] as const))('hold what %s compiles to', async (_, kernel) => {
    expect(readFileSync(kernelModulePath(kernel), 'utf8')).toBe(await kernelModuleText(kernel));
  });
});
