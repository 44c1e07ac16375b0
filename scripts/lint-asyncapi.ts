import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Parser } from '@asyncapi/parser';
import { ASYNCAPI_PATH, PROJECT_ROOT } from '#contract/documents.js';

/**
 * Validates docs/asyncapi.json offline with the AsyncAPI parser (the schema of
 * AsyncAPI 3 and its Spectral rules): any error or warning fails, each printed
 * with where it is. Part of `npm run lint:contract`.
 */
const parser = new Parser();
const diagnostics = await parser.validate(readFileSync(path.join(PROJECT_ROOT, ASYNCAPI_PATH), 'utf8'));
const SEVERITY = ['error', 'warning', 'info', 'hint'];
for (const diagnostic of diagnostics) {
  console.error(
    `${ASYNCAPI_PATH} ${diagnostic.path.join('.') || '(root)'}: ${SEVERITY[diagnostic.severity] ?? diagnostic.severity} ${diagnostic.code}: ${diagnostic.message}`,
  );
}
const failing = diagnostics.filter((diagnostic) => diagnostic.severity <= 1);
console.log(`${ASYNCAPI_PATH}: ${failing.length === 0 ? 'valid AsyncAPI 3, no warnings' : `${failing.length} problem(s)`}`);
process.exit(failing.length === 0 ? 0 : 1);
