import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

/** The kernel's text source and the TypeScript module generated from it (src/domain). */
export const FOLD_KERNEL_WAT = fileURLToPath(new URL('../src/domain/fold-kernel.wat', import.meta.url));
export const FOLD_KERNEL_MODULE = fileURLToPath(new URL('../src/domain/fold-kernel-bytes.ts', import.meta.url));

/** The text of fold-kernel-bytes.ts for the current fold-kernel.wat: its binary as base64. */
export async function foldKernelModuleText(): Promise<string> {
  const tools = await wabt();
  const parsed = tools.parseWat('fold-kernel.wat', readFileSync(FOLD_KERNEL_WAT, 'utf8'), { simd: true });
  try {
    parsed.validate();
    const { buffer } = parsed.toBinary({});
    const base64 = Buffer.from(buffer).toString('base64');
    return [
      '// Generated from fold-kernel.wat by `npm run fold-kernel`: do not edit.',
      '// The WebAssembly binary of the fold kernel (fold-kernel.ts), base64.',
      // As the formatter (biome) lays out a string longer than a line.
      'export const FOLD_KERNEL_BASE64 =',
      `  '${base64}';`,
      '',
    ].join('\n');
  } finally {
    parsed.destroy();
  }
}
