import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildAsyncApiDocument } from './asyncapi.js';
import { buildOpenApiDocument } from './openapi.js';

/** The project root (this file is src/contract/documents.ts). */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Where the generated documents are committed, relative to the project root. */
export const OPENAPI_PATH = 'docs/openapi.json';
export const ASYNCAPI_PATH = 'docs/asyncapi.json';

/** The documents as committed: the package version as theirs, two-space JSON and a final newline. */
export function contractDocuments(): Record<string, string> {
  const { version } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  const text = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;
  return { [OPENAPI_PATH]: text(buildOpenApiDocument(version)), [ASYNCAPI_PATH]: text(buildAsyncApiDocument(version)) };
}
