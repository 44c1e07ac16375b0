/**
 * The WebAssembly kernels' loader (fold-kernel.ts, csv-kernel.ts): each module is
 * compiled once per process, on first use (a few KB: synchronously), from the base64
 * its generated `*-bytes.ts` holds.
 */

/** The part of the WebAssembly JavaScript API used here (the project's TypeScript libraries declare none of it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export const PAGE_BYTES = 65_536;

const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
const compiled = new Map<string, object>();

/** A new instance of the module whose binary is `base64`, with its exports typed as `T` by the caller. */
export function instantiate<T>(base64: string, imports: Record<string, Record<string, unknown>> = {}): T {
  let module = compiled.get(base64);
  if (module === undefined) {
    module = new api.Module(Uint8Array.from(atob(base64), (character) => character.charCodeAt(0)));
    compiled.set(base64, module);
  }
  return new api.Instance(module, imports).exports as T;
}

/** A memory of exactly `pages` pages, for a kernel that imports its memory. */
export function memoryOf(pages: number): WasmMemory {
  return new api.Memory({ initial: pages, maximum: pages });
}
