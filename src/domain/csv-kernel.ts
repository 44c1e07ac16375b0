import { CSV_KERNEL_BASE64 } from './csv-kernel-bytes.js';
import { instantiate, PAGE_BYTES, type WasmMemory } from './wasm.js';

/**
 * NumericCsvReader's common case in WebAssembly (csv-kernel.wat): lines of plain
 * decimal numbers, read into rows of doubles with the same operations as the
 * TypeScript loop, so both give the same bits (test/unit/src/domain/csv.test.ts
 * compares them). It stops at the first line it does not take whole and leaves it to
 * that loop. Measured on 10^6 rows of shortest round-trip doubles into the training
 * accumulator (bench/RESULTS.md): 283 ms in the reader against 364 ms for the
 * TypeScript loop alone, the copy of every chunk into the kernel's memory included.
 * That memory holds the largest chunk given so far (it grows, never shrinks).
 */
export class CsvKernel {
  private readonly exports: KernelExports;
  private bytes: Uint8Array;
  /** The rows read by the last `read`, column after column: value j of row r at j·maxRows + r. */
  values: Float64Array;
  /** Most rows one `read` answers: as many as fit in `values`. */
  readonly maxRows: number;
  /** Where the bytes given to `load` start in the kernel's memory. */
  private readonly input: number;
  private loaded = 0;

  constructor(width: number) {
    this.exports = instantiate<KernelExports>(CSV_KERNEL_BASE64);
    this.maxRows = Math.max(1, Math.floor(OUTPUT_BYTES / (8 * width)));
    this.input = OUTPUT_AT + this.maxRows * width * 8;
    this.bytes = new Uint8Array(0);
    this.values = new Float64Array(0);
    this.reserve(0);
    new Float64Array(this.exports.memory.buffer, 0, POW10.length).set(POW10);
  }

  /** Copies `buf[from, stop)` in, for the `read` calls that follow. */
  load(buf: Uint8Array, from: number, stop: number): void {
    this.reserve(stop - from);
    this.bytes.set(buf.subarray(from, stop), this.input);
    this.loaded = stop - from;
  }

  /**
   * Reads rows of `width` values from `offset` (into the bytes loaded) into `values`.
   * Answers how many, and the offset where it stopped: the end, the row after the
   * `maxRows`-th, or a line it leaves to the TypeScript loop.
   */
  read(offset: number, width: number): { rows: number; stopped: number } {
    const rows = this.exports.rows(this.input + offset, this.input + this.loaded, width, OUTPUT_AT, this.maxRows);
    return { rows, stopped: this.exports.stopped.value - this.input };
  }

  /** Grows the memory to hold `length` bytes in, and renews the views when it moved. */
  private reserve(length: number): void {
    const { memory } = this.exports;
    const needed = this.input + length;
    if (needed > memory.buffer.byteLength) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE_BYTES));
    if (this.bytes.buffer !== memory.buffer) {
      this.bytes = new Uint8Array(memory.buffer);
      this.values = new Float64Array(memory.buffer, OUTPUT_AT, (this.input - OUTPUT_AT) / 8);
    }
  }
}

interface KernelExports {
  memory: WasmMemory;
  stopped: { readonly value: number };
  rows(p: number, end: number, width: number, out: number, max: number): number;
}

/** The powers of ten the kernel divides by: every 10^k with k <= 22 is a double without rounding. */
const POW10 = Float64Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const OUTPUT_AT = 256;
const OUTPUT_BYTES = 256 * 1024;
