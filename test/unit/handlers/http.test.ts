import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashApiKey, looksLikeApiKey, storeApiKey } from '../../../lambdas/commons/api-keys.js';
import { documents } from '../../../lambdas/commons/clients.js';
import { errorResponse, httpHandler, json, jsonBody, tenantOf } from '../../../lambdas/commons/http.js';
import {
  Conflict,
  type DomainError,
  LimitExceeded,
  NotFound,
  PayloadTooLarge,
  ServiceUnavailable,
  TrainingFailed,
  Unauthorized,
  ValidationFailed,
} from '../../../src/domain/errors.js';
import { apiEvent, bodyOf, lambdaContext } from '../helpers/events.js';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

describe('errorResponse: the one place domain errors become HTTP', () => {
  it.each<[DomainError, number, string]>([
    [new ValidationFailed('bad', [{ path: 'kind', message: 'nope' }]), 400, 'VALIDATION_ERROR'],
    [new ValidationFailed('not json', undefined, 'INVALID_JSON'), 400, 'INVALID_JSON'],
    [new TrainingFailed('INSUFFICIENT_DATA', 'too few points'), 400, 'INSUFFICIENT_DATA'],
    [new Unauthorized(), 401, 'UNAUTHORIZED'],
    [new NotFound('job'), 404, 'NOT_FOUND'],
    [new Conflict('MODEL_NOT_READY', 'later'), 409, 'MODEL_NOT_READY'],
    [new Conflict('JOB_NOT_CANCELLABLE', 'done'), 409, 'JOB_NOT_CANCELLABLE'],
    [new Conflict('IDEMPOTENCY_CONFLICT', 'other body'), 409, 'IDEMPOTENCY_CONFLICT'],
    [new PayloadTooLarge('big'), 413, 'PAYLOAD_TOO_LARGE'],
    [new LimitExceeded('TOO_MANY_ACTIVE_JOBS', 'busy'), 429, 'TOO_MANY_ACTIVE_JOBS'],
    [new LimitExceeded('RATE_LIMITED', 'slow'), 429, 'RATE_LIMITED'],
    [new ServiceUnavailable('WORKFLOW_START_FAILED', 'retry'), 503, 'WORKFLOW_START_FAILED'],
  ])('maps %s to %d %s', (error, status, code) => {
    const response = errorResponse(error);
    expect(response.statusCode).toBe(status);
    expect(bodyOf(response)).toEqual({ error: { code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } });
    expect(response.headers).toEqual({ 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
  });

  it('names errors after their class', () => {
    expect(new NotFound('model').name).toBe('NotFound');
    expect(new NotFound('model').message).toBe('model not found');
  });
});

describe('httpHandler', () => {
  const context = lambdaContext('http');

  it('answers an unknown error as a bare 500 without its message or stack', async () => {
    const route = httpHandler(async () => {
      throw new Error('password=hunter2 at /var/task/index.js:1');
    });
    const result = await route(apiEvent(), context);
    expect(result).toEqual(json(500, { error: { code: 'INTERNAL_ERROR', message: 'internal error' } }));
    expect(result.body).not.toContain('hunter2');
  });

  it('lower-cases request headers before the route sees them', async () => {
    const route = httpHandler(async (event) => json(200, { key: event.headers['idempotency-key'] ?? null }));
    const result = await route(apiEvent({ headers: { 'IDEMPOTENCY-KEY': 'abc' } }), context);
    expect(bodyOf(result)).toEqual({ key: 'abc' });
  });
});

describe('request helpers', () => {
  it('reads the tenant from the authorizer context and refuses a missing or malformed one with Unauthorized', () => {
    expect(tenantOf(apiEvent({ tenantId: 'acme' }))).toBe('acme');
    expect(() => tenantOf(apiEvent({ tenantId: null }))).toThrow(Unauthorized);
    expect(() => tenantOf(apiEvent({ tenantId: 'acme#RUNNING' }))).toThrow(Unauthorized);
  });

  it('parses JSON bodies, decoding base64 first', () => {
    expect(jsonBody(apiEvent({ body: '{"a":1}' }), 100)).toEqual({ a: 1 });
    expect(jsonBody(apiEvent({ body: Buffer.from('{"a":2}').toString('base64'), isBase64Encoded: true }), 100)).toEqual({ a: 2 });
  });

  it('refuses a body over the limit in bytes, not characters', () => {
    expect(() => jsonBody(apiEvent({ body: '"éé"' }), 5)).toThrow(PayloadTooLarge); // 6 bytes
    expect(jsonBody(apiEvent({ body: '"éé"' }), 6)).toBe('éé');
  });
});

describe('API keys', () => {
  afterEach(() => vi.useRealTimers());

  it('stores only the hash of a new key, conditionally, and returns the key once', async () => {
    ddb.on(PutCommand).resolves({});
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-01T09:00:00.000Z') });
    const key = await storeApiKey(documents, 'api-keys-table', 'acme');

    expect(looksLikeApiKey(key)).toBe(true);
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put).toEqual({
      TableName: 'api-keys-table',
      Item: { keyHash: hashApiKey(key), keyId: `key_${hashApiKey(key).slice(0, 16)}`, tenantId: 'acme', createdAt: '2026-01-01T09:00:00.000Z' },
      ConditionExpression: 'attribute_not_exists(keyHash)',
    });
    expect(JSON.stringify(put)).not.toContain(key);
  });
});
