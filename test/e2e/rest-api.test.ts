import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { api, expectError, skipReason, target, titled } from './client.js';

/** The REST API's surface: health, its own document, authentication, routing and every bad input of docs/openapi.json. */

const LINEAR = {
  kind: 'LINEAR',
  data: [
    { x: 0, y: 1 },
    { x: 1, y: 3 },
    { x: 2, y: 5 },
  ],
};

describe(`REST API on ${target.name}: health and authentication`, () => {
  it('answers GET /health without a key', async () => {
    const reply = await api('GET', '/health');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.body).toEqual({ status: 'ok', version: expect.any(String) });
  });

  it('serves the committed OpenAPI document at GET /openapi.json, without a key', async () => {
    const committed = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../docs/openapi.json'), 'utf8'));
    const reply = await api('GET', '/openapi.json');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.body).toEqual(committed);
  });

  const refused = [
    ['no Authorization header', {}],
    ['an unknown key', { Authorization: 'Bearer rj_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
    ['a malformed key', { Authorization: 'Bearer not-a-key' }],
    ['another scheme', { Authorization: 'Basic dXNlcjpwYXNz' }],
  ] as const;

  it.skipIf(skipReason('authorizer-errors')).each(refused)(titled('answers 401 UNAUTHORIZED for %s', 'authorizer-errors'), async (_, headers) => {
    expectError(await api('GET', '/jobs', { headers }), 401, 'UNAUTHORIZED');
    expectError(await api('POST', '/jobs', { headers, body: LINEAR }), 401, 'UNAUTHORIZED');
  });

  // Where the authorizer's refusal comes in the target's own shape, its status is still checked (only there).
  if (skipReason('authorizer-errors') !== undefined) {
    it.each(refused)('answers 401 for %s (the body is the target’s own)', async (_, headers) => {
      expect((await api('GET', '/jobs', { headers })).status).toBe(401);
      expect((await api('POST', '/jobs', { headers, body: LINEAR })).status).toBe(401);
    });
  }
});

describe(`REST API on ${target.name}: routing`, () => {
  it.skipIf(skipReason('gateway-errors'))(titled('answers an unknown route 404 NOT_FOUND, with or without a key', 'gateway-errors'), async () => {
    expectError(await api('GET', '/nope'), 404, 'NOT_FOUND');
    expectError(await api('GET', '/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/nope', { key: target.keyA }), 404, 'NOT_FOUND');
  });

  it.skipIf(skipReason('gateway-errors'))(
    titled('answers a method the path does not have with 404 NOT_FOUND or 405 METHOD_NOT_ALLOWED', 'gateway-errors'),
    async () => {
      const reply = await api('DELETE', '/jobs', { key: target.keyA });
      expect([404, 405]).toContain(reply.status);
      expectError(reply, reply.status, reply.status === 404 ? 'NOT_FOUND' : 'METHOD_NOT_ALLOWED');
    },
  );

  it('answers an id that cannot exist 404 NOT_FOUND', async () => {
    expectError(await api('GET', '/jobs/not-an-id', { key: target.keyA }), 404, 'NOT_FOUND');
    expectError(await api('GET', '/models/01ARZ3NDEKTSV4RRFFQ69G5FAV', { key: target.keyA }), 404, 'NOT_FOUND');
  });
});

const point = (x: number | number[], y = 1) => ({ x, y });

describe(`REST API on ${target.name}: bad job requests`, () => {
  it('answers a body that is not JSON 400 INVALID_JSON', async () => {
    expectError(await api('POST', '/jobs', { key: target.keyA, body: '{"kind": "LINEAR", "data": [' }), 400, 'INVALID_JSON');
  });

  it.each([
    ['a body that is not an object', [1, 2]],
    ['a missing kind', { data: [point(1)] }],
    ['an unknown kind', { kind: 'POLYNOMIAL', data: [point(1)] }],
    ['alpha for LINEAR', { kind: 'LINEAR', alpha: 0.5, data: [point(1)] }],
    ['alpha of zero', { kind: 'RIDGE', alpha: 0, data: [point(1)] }],
    ['a negative alpha', { kind: 'LASSO', alpha: -1, data: [point(1)] }],
    ['both data and datasetId', { kind: 'LINEAR', data: [point(1)], datasetId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', target: 'y' }],
    ['neither data nor datasetId', { kind: 'LINEAR' }],
    ['no points', { kind: 'LINEAR', data: [] }],
    ['x of different lengths', { kind: 'LINEAR', data: [point([1, 2]), point([1, 2, 3])] }],
    ['a bare x mixed with arrays of two', { kind: 'LINEAR', data: [point(1), point([1, 2])] }],
    ['a non-numeric x', { kind: 'LINEAR', data: [{ x: 'one', y: 1 }] }],
    ['a missing y', { kind: 'LINEAR', data: [{ x: 1 }] }],
    ['an unknown field', { kind: 'LINEAR', data: [point(1)], colour: 'red' }],
    ['more than 10,000 points', { kind: 'LINEAR', data: Array.from({ length: 10_001 }, (_, i) => point(i)) }],
    ['more than 100 features', { kind: 'LINEAR', data: [point(Array.from({ length: 101 }, (_, i) => i))] }],
  ])('answers %s 400 VALIDATION_ERROR', async (_, body) => {
    const reply = await api('POST', '/jobs', { key: target.keyA, body });
    expectError(reply, 400, 'VALIDATION_ERROR');
  });

  it('names the failing field in the details', async () => {
    const reply = await api('POST', '/jobs', { key: target.keyA, body: { kind: 'LINEAR', alpha: 1, data: [point(1)] } });
    expectError(reply, 400, 'VALIDATION_ERROR');
    expect(reply.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'alpha' })]));
  });

  it('answers a body over 1 MB 413 PAYLOAD_TOO_LARGE', async () => {
    const body = { ...LINEAR, name: 'x'.repeat(1024 * 1024) };
    expectError(await api('POST', '/jobs', { key: target.keyA, body }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it.skipIf(skipReason('gateway-errors'))(titled('answers a body over API Gateway’s 10 MB limit 413 PAYLOAD_TOO_LARGE', 'gateway-errors'), async () => {
    const body = { ...LINEAR, name: 'x'.repeat(10 * 1024 * 1024 + 1) };
    expectError(await api('POST', '/jobs', { key: target.keyA, body }), 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe(`REST API on ${target.name}: bad list requests`, () => {
  it.each(['0', '101', '-1', '2.5', 'ten', ''])('answers limit=%s 400 VALIDATION_ERROR', async (limit) => {
    expectError(await api('GET', `/jobs?limit=${limit}`, { key: target.keyA }), 400, 'VALIDATION_ERROR');
    expectError(await api('GET', `/models?limit=${limit}`, { key: target.keyA }), 400, 'VALIDATION_ERROR');
  });

  it('answers a forged nextToken 400 VALIDATION_ERROR', async () => {
    const forged = Buffer.from(JSON.stringify({ tenantId: 'someone-else', jobId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' })).toString('base64url');
    for (const token of [forged, 'not-a-token', 'e30']) {
      expectError(await api('GET', `/jobs?nextToken=${token}`, { key: target.keyA }), 400, 'VALIDATION_ERROR');
      expectError(await api('GET', `/models?nextToken=${token}`, { key: target.keyA }), 400, 'VALIDATION_ERROR');
    }
  });

  it('answers an unknown status filter 400 VALIDATION_ERROR', async () => {
    expectError(await api('GET', '/jobs?status=DONE', { key: target.keyA }), 400, 'VALIDATION_ERROR');
  });
});
