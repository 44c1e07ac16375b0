import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Every answer the end-to-end suite receives is checked against the committed
 * documents: a REST response against docs/openapi.json for its route and status,
 * a WebSocket message against docs/asyncapi.json. A mismatch names the route (or
 * message), the status and the first schema error.
 */

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const openapi = JSON.parse(readFileSync(path.join(ROOT, 'docs/openapi.json'), 'utf8'));
const asyncapi = JSON.parse(readFileSync(path.join(ROOT, 'docs/asyncapi.json'), 'utf8'));

// OpenAPI 3.1 schemas are JSON Schema 2020-12 (plus `example`, which strict mode would refuse).
const restAjv = new Ajv2020({ strict: false, allErrors: false });
addFormats.default(restAjv);
restAjv.addSchema(openapi, 'openapi.json');
// AsyncAPI's default schema format is JSON Schema draft-07.
const wsAjv = new Ajv({ strict: false, allErrors: false });
addFormats.default(wsAjv);
wsAjv.addSchema(asyncapi, 'asyncapi.json');

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

interface Operation {
  template: string;
  pattern: RegExp;
  method: string;
  responses: Record<string, any>;
}

const OPERATIONS: Operation[] = Object.entries(openapi.paths as Record<string, Record<string, any>>).flatMap(([template, item]) =>
  Object.entries(item).map(([method, operation]) => ({
    template,
    pattern: new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    method: method.toUpperCase(),
    responses: operation.responses,
  })),
);

const validators = new Map<string, ValidateFunction>();
function validator(ajv: Ajv | Ajv2020, ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.getSchema(ref);
    if (!validate) throw new Error(`no schema at ${ref}`);
    validators.set(ref, validate);
  }
  return validate;
}

function firstError(validate: ValidateFunction): string {
  const error = validate.errors?.[0];
  if (!error) return 'invalid';
  const params = Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : '';
  return `${error.instancePath || '(body)'} ${error.message}${params}`;
}

/** The documented response (a `$ref` resolved) and its pointer in the document. */
function documentedResponse(operation: Operation, status: number): { response: any; at: string } | undefined {
  const key = String(status) in operation.responses ? String(status) : 'default' in operation.responses ? 'default' : undefined;
  if (key === undefined) return undefined;
  const response = operation.responses[key];
  if (response.$ref) {
    const name = (response.$ref as string).split('/').pop() as string;
    return { response: openapi.components.responses[name], at: pointer('components', 'responses', name) };
  }
  return { response, at: pointer('paths', operation.template, operation.method.toLowerCase(), 'responses', key) };
}

/**
 * Checks one REST answer; `path` is relative to the API's base URL (query string
 * allowed). Throws naming the route, the status and the first schema error.
 */
export function checkRestResponse(method: string, requestPath: string, status: number, headers: Headers, body: unknown): void {
  const upper = method.toUpperCase();
  if (upper === 'OPTIONS') return; // CORS preflights are API Gateway's, not the API's
  const route = `/${requestPath.replace(/^\//, '').split('?')[0]}`;
  const operation = OPERATIONS.find((candidate) => candidate.method === upper && candidate.pattern.test(route));
  const where = `${upper} ${operation?.template ?? route} -> ${status}`;
  const fail: (problem: string) => never = (problem) => {
    throw new Error(`contract (docs/openapi.json): ${where}: ${problem}; body ${JSON.stringify(body)?.slice(0, 300)}`);
  };

  if (!operation) {
    // No such route: API Gateway's own answer, in the error shape.
    if (status < 400) fail('a success on a route the document does not have');
    const validate = validator(restAjv, 'openapi.json#/components/schemas/Error');
    if (!validate(body)) fail(firstError(validate));
    return;
  }
  const documented = documentedResponse(operation, status);
  if (!documented) fail('status not documented for this route');
  const schema = documented.response.content?.['application/json']?.schema;
  if (schema === undefined) {
    if (body !== undefined) fail('a body where the document has none');
  } else {
    const validate = validator(restAjv, `openapi.json#/${documented.at}/${pointer('content', 'application/json', 'schema')}`);
    if (!validate(body)) fail(firstError(validate));
  }
  for (const [name, header] of Object.entries((documented.response.headers ?? {}) as Record<string, { required?: boolean }>)) {
    if (header.required && headers.get(name) === null) fail(`header ${name} missing`);
  }
}

/** The messages the server sends: those of `receive` operations and of replies, by name (which is their `type`). */
const SERVER_MESSAGES: Map<string, string> = new Map(
  Object.values(asyncapi.operations as Record<string, { action: string; messages: { $ref: string }[]; reply?: { messages: { $ref: string }[] } }>)
    .flatMap((operation) => [...(operation.action === 'receive' ? operation.messages : []), ...(operation.reply?.messages ?? [])])
    .map(({ $ref }) => $ref.split('/').pop() as string)
    .map((name) => [name, asyncapi.components.messages[name].payload.$ref.replace('#/', 'asyncapi.json#/')]),
);

/** Checks one message the server sent over the WebSocket; throws naming the message and the first schema error. */
export function checkWebSocketMessage(message: unknown): void {
  const type = (message as { type?: unknown } | null)?.type;
  const fail: (problem: string) => never = (problem) => {
    throw new Error(`contract (docs/asyncapi.json): message ${JSON.stringify(type)}: ${problem}; message ${JSON.stringify(message)?.slice(0, 300)}`);
  };
  const ref = typeof type === 'string' ? SERVER_MESSAGES.get(type) : undefined;
  if (!ref) fail('not a message the server sends');
  const validate = validator(wsAjv, ref);
  if (!validate(message)) fail(firstError(validate));
}
