import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, storeApiKey } from '#commons/auth/api-keys.js';
import { localDynamoDbClient } from '../../../local/dynamodb/server.js';
import { target } from '../client.js';
import { type LocalChild, startLocalChild } from '../target.js';

/**
 * The REST API as LocalStack's free edition deploys it: synthesized with
 * `-c restAuthorizer=none` (lib/without-authorizer.ts), so no method has the
 * API Gateway authorizer and every handler checks the bearer key itself
 * (lambdas/commons/auth/authentication.ts). A second offline stack serves that
 * template; the authentication checks of the suite must pass on it unchanged.
 */

const WITHOUT_AUTHORIZER = { CDK_CONTEXT_JSON: JSON.stringify({ restAuthorizer: 'none' }) };
const UNKNOWN_KEY = 'rj_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const LINEAR = { kind: 'LINEAR', data: [0, 1, 2].map((x) => ({ x, y: 1 + 2 * x })) };

let child: LocalChild;
let keyA: string;
let keyB: string;

async function call(method: string, path: string, key?: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${child.state.restUrl}${path}`, {
    method,
    headers: {
      ...headers,
      ...(key === undefined ? {} : { Authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

const UNAUTHORIZED = { error: { code: 'UNAUTHORIZED', message: 'missing or unknown API key' } };
const notFound = (what: string) => ({ error: { code: 'NOT_FOUND', message: `${what} not found` } });

describe.skipIf(target.name !== 'local')('REST API without its authorizer (as on LocalStack’s free edition): handlers authenticate', () => {
  beforeAll(async () => {
    keyA = generateApiKey();
    child = await startLocalChild({ ...WITHOUT_AUTHORIZER, DEV_API_KEY: keyA });
    const client = localDynamoDbClient(child.state.dynamodbEndpoint, child.state.region);
    keyB = await storeApiKey(DynamoDBDocumentClient.from(client), child.state.apiKeysTable, 'e2e-no-authorizer-b');
    client.destroy();
  });
  afterAll(async () => {
    await child?.stop();
  });

  it('answers GET /health without a key', async () => {
    expect((await call('GET', '/health')).status).toBe(200);
  });

  it.each([
    ['no Authorization header', {}],
    ['an unknown key', { Authorization: `Bearer ${UNKNOWN_KEY}` }],
    ['a malformed key', { Authorization: 'Bearer not-a-key' }],
    ['another scheme', { Authorization: 'Basic dXNlcjpwYXNz' }],
  ])('answers 401 UNAUTHORIZED in the error shape for %s, on every kind of route', async (_, headers) => {
    for (const [method, path, body] of [
      ['GET', '/jobs', undefined],
      ['POST', '/jobs', LINEAR],
      ['GET', '/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV', undefined],
      ['GET', '/models', undefined],
      ['POST', '/datasets', {}],
    ] as const) {
      expect(await call(method, path, undefined, body, headers), `${method} ${path}`).toEqual({ status: 401, body: UNAUTHORIZED });
    }
  });

  it('was the handlers that refused: the authorizer never ran', () => {
    const output = child.output();
    expect(output).toContain('"message":"denied without an authorizer"');
    expect(output).not.toContain('"message":"denied"');
  });

  it("shows a tenant its own job and model, and never another tenant's (404, as for one that does not exist)", async () => {
    const created = await call('POST', '/jobs', keyA, LINEAR);
    expect(created.status).toBe(202);
    const { jobId, modelId } = created.body as { jobId: string; modelId: string };

    const own = await call('GET', `/jobs/${jobId}`, keyA);
    expect(own).toMatchObject({ status: 200, body: { jobId, modelId } });
    expect((await call('GET', `/models/${modelId}`, keyA)).status).toBe(200);

    expect(await call('GET', `/jobs/${jobId}`, keyB)).toEqual({ status: 404, body: notFound('job') });
    expect(await call('POST', `/jobs/${jobId}/cancel`, keyB)).toEqual({ status: 404, body: notFound('job') });
    expect(await call('GET', `/models/${modelId}`, keyB)).toEqual({ status: 404, body: notFound('model') });
    const listedForB = await call('GET', '/jobs?limit=100', keyB);
    expect(listedForB.status).toBe(200);
    expect((listedForB.body as { items: { jobId: string }[] }).items.map((item) => item.jobId)).not.toContain(jobId);
    const listedForA = await call('GET', '/jobs?limit=100', keyA);
    expect((listedForA.body as { items: { jobId: string }[] }).items.map((item) => item.jobId)).toContain(jobId);
  });
});
