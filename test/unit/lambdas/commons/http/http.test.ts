import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashApiKey, looksLikeApiKey, storeApiKey } from '#commons/auth/api-keys.js';
import { errorResponse, httpHandler, json, jsonBody, tenantOf } from '#commons/http/http.js';
import { documents } from '#commons/runtime/clients.js';
import { logger } from '#commons/runtime/powertools.js';
import {
  Conflict,
  type DomainError,
  IdempotencyInProgress,
  LimitExceeded,
  NotFound,
  PayloadTooLarge,
  ServiceUnavailable,
  TrainingFailed,
  Unauthorized,
  ValidationFailed,
} from '#domain/errors.js';
import { apiEvent, bodyOf, lambdaContext } from '../../../helpers/events.js';

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
    const retryAfter = error.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(error.retryAfterSeconds) };
    expect(response.headers).toEqual({
      'Content-Type': 'application/json',
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': 'Location, Retry-After',
      ...retryAfter,
    });
  });

  it('tells a client when to retry a 503 and a 409 IDEMPOTENCY_IN_PROGRESS (Retry-After), and only those', () => {
    expect(errorResponse(new ServiceUnavailable('WORKFLOW_START_FAILED', 'retry')).headers?.['Retry-After']).toBe('1');
    expect(errorResponse(new IdempotencyInProgress()).headers?.['Retry-After']).toBe('1');
    expect(errorResponse(new Conflict('IDEMPOTENCY_CONFLICT', 'other body')).headers).not.toHaveProperty('Retry-After');
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

  it('answers a dependency that timed out as 503 SERVICE_UNAVAILABLE with Retry-After, not 500', async () => {
    const route = httpHandler(async () => {
      throw Object.assign(new Error('Connection timed out after 2500 ms'), { name: 'TimeoutError' });
    });
    const result = await route(apiEvent(), context);
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBe('2');
    expect(bodyOf(result)).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
  });

  it('logs a refusal that has a cause (a dependency that failed) with that cause, and never sends the cause to the client', async () => {
    const cause = Object.assign(new Error('ExecutionLimitExceeded: account limit'), { name: 'ExecutionLimitExceeded' });
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      const route = httpHandler(async () => {
        throw new ServiceUnavailable('WORKFLOW_START_FAILED', 'the training workflow could not be started', undefined, { cause });
      });
      const result = await route(apiEvent(), context);
      expect(result.statusCode).toBe(503);
      expect(bodyOf(result)).toEqual({ error: { code: 'WORKFLOW_START_FAILED', message: 'the training workflow could not be started' } });
      expect(result.body).not.toContain('account limit');
      expect(warn).toHaveBeenCalledWith('request failed', expect.objectContaining({ code: 'WORKFLOW_START_FAILED', cause }));
    } finally {
      warn.mockRestore();
    }
  });

  it('answers 503 with Retry-After a second before the function would time out, while the route still waits', async () => {
    const route = httpHandler(() => new Promise<never>(() => undefined));
    const startedAt = Date.now();
    const result = await route(apiEvent(), { ...context, getRemainingTimeInMillis: () => 1_200 - (Date.now() - startedAt) });
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBe('2');
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  it('lower-cases request headers before the route sees them', async () => {
    const route = httpHandler(async (event) => json(200, { key: event.headers['idempotency-key'] ?? null }));
    const result = await route(apiEvent({ headers: { 'IDEMPOTENCY-KEY': 'abc' } }), context);
    expect(bodyOf(result)).toEqual({ key: 'abc' });
  });
});

describe('httpHandler: a retryable failure (lambdas/commons/runtime/retryable.ts) is a 503, anything else a 500', () => {
  const sdkError = (name: string, httpStatusCode?: number, extra: object = {}) =>
    Object.assign(new Error(name), { name, $metadata: httpStatusCode === undefined ? {} : { httpStatusCode }, ...extra });

  it.each<[string, unknown, boolean]>([
    ['a request timeout', sdkError('TimeoutError'), true],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    ['throttling', sdkError('ThrottlingException', 400), true],
    ['provisioned throughput exceeded', sdkError('ProvisionedThroughputExceededException', 400), true],
    ['a 500 of the service', sdkError('InternalServerError', 500), true],
    ['a 503 of the service', sdkError('ServiceUnavailable', 503), true],
    ['a transaction cancelled by a conflict', sdkError('TransactionCanceledException', 400, { CancellationReasons: [{ Code: 'TransactionConflict' }] }), true],
    ['a timeout under a wrapper (its cause)', new Error('Failed to put record', { cause: sdkError('TimeoutError') }), true],
    ['a failed condition', sdkError('ConditionalCheckFailedException', 400), false],
    ['a validation error', sdkError('ValidationException', 400), false],
    ['a programming error', new TypeError('x is undefined'), false],
    ['not an error', 'timeout', false],
  ])('%s: %s', async (_, error, retryable) => {
    const route = httpHandler(() => Promise.reject(error));
    const result = await route(apiEvent(), lambdaContext('http'));
    expect(result.statusCode).toBe(retryable ? 503 : 500);
    expect(bodyOf(result)).toMatchObject({ error: { code: retryable ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_ERROR' } });
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
