import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KERNELS, kernelModulePath, kernelModuleText } from './kernels-build.js';

/**
 * `npm run kernels`: compiles each WebAssembly kernel of src/domain (its .wat) and
 * writes its bytes to the `-bytes.ts` module beside it. With `--check` it writes
 * nothing and exits 1 when such a module is not what its .wat compiles to (a unit
 * test checks the same).
 */
let stale = false;
for (const kernel of KERNELS) {
  const file = kernelModulePath(kernel);
  const name = `src/domain/${path.basename(file)}`;
  const text = await kernelModuleText(kernel);
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) {
    console.log(`${name}: up to date`);
  } else if (process.argv.includes('--check')) {
    console.error(`${name}: differs from what ${kernel.wat} compiles to; run npm run kernels`);
    stale = true;
  } else {
    writeFileSync(file, text);
    console.log(`${name}: written`);
  }
}
if (stale) process.exit(1);
