import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

/** A WebAssembly kernel of src/domain: its text source, and the module generated from it that holds its binary. */
export interface Kernel {
  /** The .wat file's name in src/domain, e.g. `fold-kernel.wat`. */
  readonly wat: string;
  /** The constant the generated module exports. */
  readonly constant: string;
  /** What the kernel is, for the generated module's header. */
  readonly what: string;
}

export const KERNELS: readonly Kernel[] = [
  { wat: 'fold-kernel.wat', constant: 'FOLD_KERNEL_BASE64', what: 'the fold kernel (fold-kernel.ts)' },
  { wat: 'csv-kernel.wat', constant: 'CSV_KERNEL_BASE64', what: 'the CSV kernel (csv-kernel.ts)' },
];

const domainFile = (name: string) => fileURLToPath(new URL(`../src/domain/${name}`, import.meta.url));

/** Where the kernel's generated module is: `<name>-bytes.ts` beside its .wat. */
export const kernelModulePath = (kernel: Kernel) => domainFile(kernel.wat.replace(/\.wat$/, '-bytes.ts'));

/** The text of the kernel's generated module for its current .wat: its binary as base64. */
export async function kernelModuleText(kernel: Kernel): Promise<string> {
  const tools = await wabt();
  const parsed = tools.parseWat(kernel.wat, readFileSync(domainFile(kernel.wat), 'utf8'), { simd: true });
  try {
    parsed.validate();
    const { buffer } = parsed.toBinary({});
    const base64 = Buffer.from(buffer).toString('base64');
    return [
      `// Generated from ${kernel.wat} by \`npm run kernels\`: do not edit.`,
      `// The WebAssembly binary of ${kernel.what}, base64.`,
      // As the formatter (biome) lays out a string longer than a line.
      `export const ${kernel.constant} =`,
      `  '${base64}';`,
      '',
    ].join('\n');
  } finally {
    parsed.destroy();
  }
}
