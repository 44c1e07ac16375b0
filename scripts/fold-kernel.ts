import { readFileSync, writeFileSync } from 'node:fs';
import { FOLD_KERNEL_MODULE, foldKernelModuleText } from './fold-kernel-build.js';

/**
 * `npm run fold-kernel`: compiles src/domain/fold-kernel.wat and writes its bytes to
 * src/domain/fold-kernel-bytes.ts. With `--check` it writes nothing and exits 1 when
 * that file is not what the .wat compiles to (a unit test checks the same).
 */
const text = await foldKernelModuleText();
let current: string | undefined;
try {
  current = readFileSync(FOLD_KERNEL_MODULE, 'utf8');
} catch {
  current = undefined;
}
if (current === text) {
  console.log('src/domain/fold-kernel-bytes.ts: up to date');
} else if (process.argv.includes('--check')) {
  console.error('src/domain/fold-kernel-bytes.ts: differs from what fold-kernel.wat compiles to; run npm run fold-kernel');
  process.exit(1);
} else {
  writeFileSync(FOLD_KERNEL_MODULE, text);
  console.log('src/domain/fold-kernel-bytes.ts: written');
}
