import { FOLD_KERNEL_BASE64 } from './fold-kernel-bytes.js';
import type { FoldLoops } from './linalg.js';
import { instantiate, memoryOf, PAGE_BYTES } from './wasm.js';

/**
 * The loops of `foldBlock` (linalg.ts) in WebAssembly SIMD (fold-kernel.wat): the same
 * operations in the same order as the TypeScript reference, two rows per instruction.
 * A kernel owns one WebAssembly memory holding a block and a triangle, and `block` and
 * `triangle` are views of it: an accumulator keeps its rows and its factor there, so
 * nothing is copied in or out. Its loops only work on those two arrays.
 */
export class FoldKernel implements FoldLoops {
  readonly block: Float64Array;
  readonly triangle: Float64Array;
  /** Byte address of the triangle in the kernel's memory (the block starts at 0). */
  private readonly triangleAt: number;
  private readonly exports: KernelExports;

  constructor(blockLength: number, triangleLength: number) {
    const blockBytes = Math.ceil((blockLength * 8) / 16) * 16;
    const bytes = blockBytes + triangleLength * 8;
    const pages = Math.ceil(bytes / PAGE_BYTES);
    if (!(pages <= MAX_PAGES)) {
      throw new RangeError(
        `a block of ${blockLength} values and a triangle of ${triangleLength} need ${bytes} bytes, more than a WebAssembly memory holds (4 GiB)`,
      );
    }
    const memory = memoryOf(Math.max(1, pages));
    this.exports = instantiate<KernelExports>(FOLD_KERNEL_BASE64, { fold: { memory } });
    this.block = new Float64Array(memory.buffer, 0, blockLength);
    this.triangleAt = blockBytes;
    this.triangle = new Float64Array(memory.buffer, blockBytes, triangleLength);
  }

  /** Whether `foldBlock` may run these loops on these arrays: only on this kernel's own. */
  accepts(triangle: Float64Array, block: Float64Array): boolean {
    return triangle === this.triangle && block === this.block;
  }

  squares(_block: Float64Array, start: number, end: number): number {
    return this.exports.squares(start * 8, end - start);
  }

  cross(_block: Float64Array, start: number, end: number, stride: number): number {
    return this.exports.cross(start * 8, (start + stride) * 8, end - start);
  }

  reflectColumn(_triangle: Float64Array, t: number, v0: number, tau: number, _block: Float64Array, start: number, end: number, offset: number): number {
    return this.exports.reflectColumn(this.triangleAt + t * 8, v0, tau, start * 8, (start + offset) * 8, end - start);
  }

  centre(_triangle: Float64Array, _block: Float64Array, stride: number, columns: number, padded: number, rows: number, v0: number, tau: number): void {
    this.exports.centre(0, stride * 8, columns, padded, rows, this.triangleAt + 8, v0, tau);
  }

  reflectPair(
    _triangle: Float64Array,
    t: number,
    tNext: number,
    v0: number,
    tau: number,
    u0: number,
    upsilon: number,
    cross: number,
    _block: Float64Array,
    start: number,
    end: number,
    stride: number,
    count: number,
  ): number {
    const a = start * 8;
    return this.exports.reflectPair(
      a,
      stride * 8,
      a + stride * 16,
      count,
      end - start,
      this.triangleAt + t * 8,
      this.triangleAt + tNext * 8,
      v0,
      tau,
      u0,
      upsilon,
      cross,
    );
  }
}

interface KernelExports {
  squares(a: number, n: number): number;
  cross(a: number, b: number, n: number): number;
  reflectColumn(t: number, v0: number, tau: number, a: number, c: number, n: number): number;
  centre(a: number, stride: number, columns: number, n: number, rows: number, t: number, v0: number, tau: number): void;
  reflectPair(
    a: number,
    stride: number,
    c: number,
    count: number,
    n: number,
    t: number,
    tNext: number,
    v0: number,
    tau: number,
    u0: number,
    upsilon: number,
    cross: number,
  ): number;
}

const MAX_PAGES = 65_536;
