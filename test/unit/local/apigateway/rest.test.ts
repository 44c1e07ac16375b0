import { request as httpRequest } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RestGateway } from '../../../../local/apigateway/rest.js';
import { authorizerOf, gatewayResponsesOf, LocalResolver, type RestApiDefinition, restApiOf } from '../../../../local/cloudformation/template.js';
import { FunctionError } from '../../../../local/lambda/functions.js';
import { account, template } from '../fixtures.js';

const resolver = new LocalResolver(template, account);
const api = restApiOf(resolver) as RestApiDefinition;

let calls: { fn: string; event: unknown }[];

/** Stand-ins for the Lambdas: the authorizer knows a few tokens, the route function echoes its event. */
const functions = {
  invoke: async (fn: string, event: unknown): Promise<unknown> => {
    calls.push({ fn, event });
    if (fn === 'AuthFn') {
      const { authorizationToken, methodArn } = event as APIGatewayTokenAuthorizerEvent;
      const stage = methodArn.split('/').slice(0, 2).join('/');
      const policy = (Effect: string, Resource: string) => ({
        principalId: 'acme',
        policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect, Resource }] },
        context: { tenantId: 'acme', admin: false },
      });
      if (authorizationToken === 'Bearer good') return policy('Allow', `${stage}/*`);
      if (authorizationToken === 'Bearer deny') return policy('Deny', `${stage}/*`);
      if (authorizationToken === 'Bearer get-only') return policy('Allow', `${stage}/GET/*`);
      if (authorizationToken === 'Bearer table-down') throw new FunctionError('KeyLookupFailed', 'the API keys table could not be read', []);
      throw new FunctionError('Error', 'Unauthorized', []);
    }
    const request = event as APIGatewayProxyEvent;
    if (request.body === 'throw') throw new FunctionError('TypeError', 'boom', []);
    if (request.body === 'malformed') return { hello: 'world' };
    if (request.body === 'slow') return new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: 'late' }), 1_000));
    if (request.body === 'binary')
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.from([1, 2, 3]).toString('base64'),
        isBase64Encoded: true,
      };
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'X-Echo': 'yes' },
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
      body: JSON.stringify(request),
    };
  },
};

let gateway: RestGateway;
let url: string;

/** The stack's answer to an authorizer that fails (lib/rest-api.ts), as gatewayResponsesOf reads it from the template. */
const AUTHORIZER_FAILURE = {
  statusCode: 503,
  headers: { 'Access-Control-Allow-Origin': '*', 'Retry-After': '2' },
  template: '{"error":{"code":"SERVICE_UNAVAILABLE","message":"the API key could not be checked; retry after Retry-After seconds"}}',
};

beforeAll(async () => {
  const authorizers = new Map([['Authorizer', authorizerOf(resolver, 'Authorizer')]]);
  // A short integration timeout (API Gateway's is 29 s), so a slow function meets it here.
  gateway = new RestGateway({
    api,
    authorizers,
    gatewayResponses: new Map([...gatewayResponsesOf(template), ['AUTHORIZER_FAILURE', AUTHORIZER_FAILURE]]),
    functions,
    account,
    log: () => undefined,
    integrationTimeoutMs: 300,
  });
  url = await gateway.listen(0);
});

afterAll(async () => {
  await gateway.close();
});

beforeEach(() => {
  calls = [];
});

const authorizerCalls = () => calls.filter((call) => call.fn === 'AuthFn').length;

function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port: new URL(url).port, path, headers: { authorization: 'Bearer good' } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

async function request(path: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
  const response = await fetch(`${url}${path}`, { ...init, headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

describe('local REST gateway: Lambda proxy events', () => {
  it('sends the route without an authorizer a REST v1 proxy event', async () => {
    const response = await request('/health');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(response.json()).toMatchObject({
      resource: '/health',
      path: '/health',
      httpMethod: 'GET',
      pathParameters: null,
      queryStringParameters: null,
      body: null,
      isBase64Encoded: false,
      requestContext: { authorizer: null, resourcePath: '/health', stage: 'v1', httpMethod: 'GET', apiId: api.apiId, requestId: expect.any(String) },
    });
  });

  it('fills path and query parameters, headers as sent, the body and the authorizer context', async () => {
    const response = await request('/jobs/01ABC/cancel?x=1&x=2&y=%20z', {
      method: 'POST',
      token: 'good',
      body: '{"a":1}',
      headers: { 'Idempotency-Key': 'k1' },
    });
    expect(response.status).toBe(200);
    const event = response.json() as unknown as APIGatewayProxyEvent;
    expect(event).toMatchObject({
      resource: '/jobs/{jobId}/cancel',
      path: '/jobs/01ABC/cancel',
      httpMethod: 'POST',
      pathParameters: { jobId: '01ABC' },
      queryStringParameters: { x: '2', y: ' z' },
      multiValueQueryStringParameters: { x: ['1', '2'], y: [' z'] },
      body: '{"a":1}',
      headers: { 'Idempotency-Key': 'k1', Authorization: 'Bearer good' },
      requestContext: { authorizer: { tenantId: 'acme', admin: 'false', principalId: 'acme' }, resourcePath: '/jobs/{jobId}/cancel' },
    });
    const authorizerEvent = calls.find((call) => call.fn === 'AuthFn')?.event;
    expect(authorizerEvent).toEqual({
      type: 'TOKEN',
      authorizationToken: 'Bearer good',
      methodArn: `arn:aws:execute-api:eu-west-1:000000000000:${api.apiId}/v1/POST/jobs/01ABC/cancel`,
    });
  });

  it('prefers a literal path segment over a path parameter', async () => {
    expect((await request('/jobs/report', { token: 'good' })).json()).toMatchObject({ resource: '/jobs/report', pathParameters: null });
  });

  it('decodes a base64 result', async () => {
    const response = await fetch(`${url}/jobs`, { method: 'POST', headers: { Authorization: 'Bearer good' }, body: 'binary' });
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([1, 2, 3]);
  });

  it('answers 502 when the function throws or returns a malformed result', async () => {
    for (const body of ['throw', 'malformed']) {
      const response = await request('/jobs', { method: 'POST', token: 'good', body });
      expect(response.status).toBe(502);
      expect(response.json()).toEqual({ message: 'Internal server error' });
    }
  });

  it('answers 504 when the function does not answer within the integration timeout', async () => {
    const response = await request('/jobs', { method: 'POST', token: 'good', body: 'slow' });
    expect(response.status).toBe(504);
    expect(response.json()).toEqual({ message: 'Endpoint request timed out' });
  });
});

describe('local REST gateway: the TOKEN authorizer', () => {
  it('answers 401 without calling the authorizer when the token is missing', async () => {
    const response = await request('/jobs');
    expect(response.status).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } });
    expect(calls).toHaveLength(0);
  });

  it('answers 401 when the authorizer throws "Unauthorized", and 403 on a Deny', async () => {
    expect((await request('/jobs', { token: 'unknown' })).status).toBe(401);
    const denied = await request('/jobs', { token: 'deny' });
    expect(denied.status).toBe(403);
    expect(denied.json()).toEqual({ error: { code: 'ACCESS_DENIED', message: 'User is not authorized to access this resource with an explicit deny' } });
    expect(calls.filter((call) => call.fn === 'JobsFn')).toHaveLength(0);
  });

  it("answers the stack's AUTHORIZER_FAILURE response when the authorizer fails, not a 500, and caches no failure", async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await request('/jobs', { token: 'table-down' });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('2');
      expect(response.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
    }
    expect(authorizerCalls()).toBe(2);
    expect(calls.filter((call) => call.fn === 'JobsFn')).toHaveLength(0);
  });

  it('caches the policy per token and evaluates it for each request', async () => {
    expect((await request('/jobs', { token: 'get-only' })).status).toBe(200);
    expect((await request('/jobs/01ABC', { token: 'get-only' })).status).toBe(200);
    expect((await request('/jobs', { method: 'POST', token: 'get-only' })).status).toBe(403);
    expect(authorizerCalls()).toBe(1);
  });
});

describe('local REST gateway: its own answers', () => {
  it('answers an unknown route, or a method the path lacks, with the stack’s MISSING_AUTHENTICATION_TOKEN response', async () => {
    for (const [path, method] of [
      ['/nope', 'GET'],
      ['/jobs', 'DELETE'],
      ['/jobs/01ABC/cancel/more', 'POST'],
    ] as const) {
      const response = await request(path, { method, token: 'good' });
      expect(response.status).toBe(404);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
    }
    expect(calls).toHaveLength(0);
  });

  it('matches the path as sent, as API Gateway does: no `..` or `.` resolution, no `//` folding', async () => {
    for (const path of ['/jobs/../models', '//jobs', '/jobs//', '/models/x/..']) {
      // Raw HTTP: fetch would resolve the dot segments before sending.
      const { status, body } = await rawGet(path);
      expect({ path, status, body: JSON.parse(body) }).toEqual({ path, status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such route' } } });
    }
    expect(calls).toHaveLength(0);
  });

  it('answers a CORS preflight from the MOCK integration', async () => {
    const response = await request('/jobs', { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-methods')).toBe('OPTIONS,GET,POST');
    expect(response.headers.get('access-control-allow-headers')).toBe('Content-Type,Authorization,Idempotency-Key');
  });

  it('refuses a body over 10 MB with REQUEST_TOO_LARGE, rendered by the DEFAULT_4XX template', async () => {
    const response = await request('/jobs', { method: 'POST', token: 'good', body: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect(response.json()).toEqual({ error: { code: 'REQUEST_TOO_LARGE', message: 'Request Too Long' } });
    expect(calls).toHaveLength(0);
  });
});
