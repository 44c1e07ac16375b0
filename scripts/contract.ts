import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { contractDocuments, PROJECT_ROOT } from '#contract/documents.js';

/**
 * `npm run contract`: writes docs/openapi.json, docs/asyncapi.json and the client's
 * types (client/schema.d.ts) from the zod schemas (src/contract/). `npm run contract -- --check` writes nothing and exits 1
 * naming each file that differs from what the schemas generate.
 */
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, text] of Object.entries(await contractDocuments())) {
  const target = path.join(PROJECT_ROOT, file);
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) {
    console.log(`${file}: up to date`);
  } else if (check) {
    stale++;
    console.error(`${file}: differs from what the schemas generate; run npm run contract`);
  } else {
    writeFileSync(target, text);
    console.log(`${file}: written`);
  }
}
process.exit(stale === 0 ? 0 : 1);
