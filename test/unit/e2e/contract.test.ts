import { describe, expect, it } from 'vitest';
import { checkRestResponse, checkWebSocketMessage } from '../../e2e/contract.js';

/** The end-to-end suite's contract checks (test/e2e/contract.ts) catch what they must, and name it. */
const job = {
  jobId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C',
  modelId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D',
  status: 'QUEUED',
  kind: 'LINEAR',
  alpha: null,
  fitIntercept: true,
  name: null,
  progress: 0,
  createdAt: '2026-11-30T12:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  error: null,
  attempts: 0,
  datasetId: null,
  alphas: null,
  modelIds: ['01JH5Z3V8Q6K9W2X4Y7Z0A1B2D'],
  version: 1,
};
const location = new Headers({ Location: `/jobs/${job.jobId}` });

describe('REST responses against docs/openapi.json', () => {
  it('accepts documented answers, API Gateway errors on unknown routes included', () => {
    expect(() => checkRestResponse('POST', '/jobs', 202, location, job)).not.toThrow();
    expect(() => checkRestResponse('GET', `/jobs?status=QUEUED`, 200, new Headers(), { items: [job], nextToken: null })).not.toThrow();
    expect(() => checkRestResponse('GET', '/nope', 404, new Headers(), { error: { code: 'NOT_FOUND', message: 'no such route' } })).not.toThrow();
    expect(() => checkRestResponse('GET', '/jobs', 415, new Headers(), { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'x' } })).not.toThrow();
  });

  it.each([
    ['a missing Location', () => checkRestResponse('POST', '/jobs', 202, new Headers(), job), 'POST /jobs -> 202: header Location missing'],
    [
      'an unknown status value',
      () => checkRestResponse('GET', `/jobs/${job.jobId}`, 200, new Headers(), { ...job, status: 'DONE' }),
      'GET /jobs/{jobId} -> 200: /status must be equal to one of the allowed values',
    ],
    [
      'a code the route does not list for the status',
      () => checkRestResponse('GET', '/jobs?limit=0', 400, new Headers(), { error: { code: 'NOT_FOUND', message: 'x' } }),
      'GET /jobs -> 400: /error/code must be equal to one of the allowed values',
    ],
    [
      'an undocumented field',
      () => checkRestResponse('GET', `/models/${job.modelId}`, 404, new Headers(), { error: { code: 'NOT_FOUND', message: 'x', stack: 'at …' } }),
      'must NOT have additional properties',
    ],
    [
      'a success on an unknown route',
      () => checkRestResponse('GET', '/admin', 200, new Headers(), {}),
      'GET /admin -> 200: a success on a route the document does not have',
    ],
  ])('fails on %s, naming route, status and the first schema error', (_, check, message) => {
    expect(check).toThrow(message);
  });
});

describe('WebSocket messages against docs/asyncapi.json', () => {
  it('accepts every message the server sends', () => {
    for (const message of [
      { type: 'job', job },
      { type: 'subscribed', jobId: null },
      { type: 'unsubscribed', jobId: job.jobId },
      { type: 'error', code: 'UNKNOWN_ACTION', message: 'send {"action":"subscribe"}' },
    ]) {
      expect(() => checkWebSocketMessage(message), message.type).not.toThrow();
    }
  });

  it.each([
    [{ type: 'hello' }, 'message "hello": not a message the server sends'],
    [{ action: 'subscribe' }, 'not a message the server sends'],
    [{ type: 'error', code: 'TEAPOT', message: 'm' }, 'message "error": /code must be equal to one of the allowed values'],
    [{ type: 'job', job: { ...job, progress: 2 } }, 'message "job": /job/progress must be <= 1'],
  ])('fails on %j', (message, expected) => {
    expect(() => checkWebSocketMessage(message)).toThrow(expected);
  });
});
