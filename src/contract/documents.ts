import { readFileSync } from 'node:fs';
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { buildAsyncApiDocument } from './asyncapi.js';
import { buildOpenApiDocument } from './openapi.js';

/** The project root (this file is src/contract/documents.ts). */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Where the generated documents are committed, relative to the project root. */
export const OPENAPI_PATH = 'docs/openapi.json';
export const ASYNCAPI_PATH = 'docs/asyncapi.json';
/** The typed client's types, generated from the OpenAPI document by openapi-typescript. */
export const CLIENT_TYPES_PATH = 'client/schema.d.ts';

const CLIENT_TYPES_HEADER = `/**
 * Generated from docs/openapi.json by openapi-typescript (npm run contract): do not edit.
 * The hand-written client (client/index.ts) is built on these types.
 */
`;

/** The generated files as committed: the package version as the documents', two-space JSON and a final newline. */
export async function contractDocuments(): Promise<Record<string, string>> {
  const { version } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  const text = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;
  const openapi = buildOpenApiDocument(version);
  // openapi-typescript reads the document as it is committed (a plain JSON object).
  const types = astToString(await openapiTS(JSON.parse(text(openapi)), { alphabetize: false, exportType: false, defaultNonNullable: false }));
  return {
    [OPENAPI_PATH]: text(openapi),
    [ASYNCAPI_PATH]: text(buildAsyncApiDocument(version)),
    [CLIENT_TYPES_PATH]: `${CLIENT_TYPES_HEADER}${types}`,
  };
}
