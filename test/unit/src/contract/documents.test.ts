import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASYNCAPI_PATH, CLIENT_TYPES_PATH, contractDocuments, OPENAPI_PATH, PROJECT_ROOT } from '#contract/documents.js';

/**
 * The committed documents are exactly what the zod schemas generate: a schema
 * changed without `npm run contract` fails here (and in CI).
 */
describe('docs/openapi.json, docs/asyncapi.json and client/schema.d.ts', async () => {
  const generated = await contractDocuments();

  it.each([OPENAPI_PATH, ASYNCAPI_PATH, CLIENT_TYPES_PATH])('%s is what `npm run contract` generates', (file) => {
    const committed = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
    // Compared as text: a reordered key or a changed description counts too.
    expect(committed, `${file} is stale: run npm run contract and commit it`).toBe(generated[file]);
  });

  const openapi = JSON.parse(generated[OPENAPI_PATH] as string);
  const asyncapi = JSON.parse(generated[ASYNCAPI_PATH] as string);

  it('documents every route, with the bearer scheme on all but the two public ones', () => {
    const operations = Object.entries(openapi.paths).flatMap(([route, item]) =>
      Object.entries(item as Record<string, any>).map(
        ([method, operation]) => `${method.toUpperCase()} ${route}${operation.security?.length === 0 ? ' (public)' : ''}`,
      ),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /health (public)',
        'GET /openapi.json (public)',
        'POST /jobs',
        'GET /jobs',
        'GET /jobs/{jobId}',
        'GET /jobs/{jobId}/events',
        'POST /jobs/{jobId}/cancel',
        'GET /models',
        'GET /models/{modelId}',
        'POST /models/{modelId}/predict',
        'POST /datasets',
        'GET /datasets/{datasetId}',
        'GET /datasets/{datasetId}/parts',
        'POST /datasets/{datasetId}/complete',
      ].sort(),
    );
    expect(openapi.security).toEqual([{ apiKey: [] }]);
    expect(openapi.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it("lists POST /jobs's error codes per status, with Retry-After where waiting helps", () => {
    const responses = openapi.paths['/jobs'].post.responses;
    const codes = (response: any) => {
      const resolved = response.$ref ? openapi.components.responses[response.$ref.split('/').pop()] : response;
      const schema = resolved.content['application/json'].schema;
      const body = schema.$ref ? openapi.components.schemas[schema.$ref.split('/').pop()] : schema;
      return body.properties.error.properties.code.enum;
    };
    expect(codes(responses['400'])).toEqual(['INVALID_JSON', 'VALIDATION_ERROR', 'BAD_REQUEST']);
    expect(codes(responses['431'])).toEqual(['REQUEST_HEADER_FIELDS_TOO_LARGE']);
    expect(codes(responses['409'])).toEqual(['IDEMPOTENCY_CONFLICT', 'IDEMPOTENCY_IN_PROGRESS', 'DATASET_NOT_READY']);
    expect(codes(responses['429'])).toEqual(['TOO_MANY_ACTIVE_JOBS', 'RATE_LIMITED']);
    expect(codes(responses['503'])).toEqual(['WORKFLOW_START_FAILED', 'SERVICE_UNAVAILABLE']);
    expect(codes(responses['504'])).toEqual(['INTEGRATION_TIMEOUT', 'INTEGRATION_FAILURE']);
    expect(responses['409'].headers['Retry-After']).toBeDefined();
    expect(responses['202'].headers.Location.required).toBe(true);
    expect(openapi.paths['/jobs'].post.parameters).toEqual([expect.objectContaining({ in: 'header', name: 'Idempotency-Key' })]);
  });

  it('documents what the HTTP server refuses before routing on every route: 400 BAD_REQUEST (among the codes of every 400) and 431', () => {
    for (const [route, item] of Object.entries(openapi.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(item)) {
        const resolve = (response: any) => (response.$ref ? openapi.components.responses[response.$ref.split('/').pop()] : response);
        const codesOf = (status: string) => {
          const schema = resolve(operation.responses[status]).content['application/json'].schema;
          const body = schema.$ref ? openapi.components.schemas[schema.$ref.split('/').pop()] : schema;
          return body.properties.error.properties.code.enum;
        };
        expect(codesOf('400'), `${method} ${route}`).toContain('BAD_REQUEST');
        expect(codesOf('431'), `${method} ${route}`).toEqual(['REQUEST_HEADER_FIELDS_TOO_LARGE']);
      }
    }
  });

  it('bounds alpha and each of alphas in POST /jobs to 1e-100..1e100', () => {
    const { alpha, alphas } = openapi.components.schemas.CreateJobRequest.properties;
    expect(alpha).toMatchObject({ type: 'number', minimum: 1e-100, maximum: 1e100 });
    expect(alphas.items).toMatchObject({ type: 'number', minimum: 1e-100, maximum: 1e100 });
  });

  it('gives the WebSocket `job` message the same Job schema as GET /jobs/{jobId}', () => {
    expect(asyncapi.components.schemas.JobMessage.properties.job).toEqual({ $ref: '#/components/schemas/Job' });
    expect(Object.keys(asyncapi.components.schemas.Job.properties)).toEqual(Object.keys(openapi.components.schemas.Job.properties));
    expect(asyncapi.components.schemas.ErrorMessage.properties.code.enum).toEqual(['UNKNOWN_ACTION', 'NOT_FOUND', 'CONNECTION_CLOSED', 'INTERNAL_ERROR']);
    expect(asyncapi.channels.jobs.bindings.ws.query.required).toEqual(['token']);
  });
});
