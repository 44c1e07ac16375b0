import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent, Context } from 'aws-lambda';

/** The stage every REST route is deployed on (contract: deployment stage `v1`). */
export const STAGE = 'v1';
export const API_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234';

export interface ApiEventOptions {
  method?: string;
  /** The resource path as the client called it, without the stage: `/jobs/01H…`. */
  path?: string;
  /** The route template, `/jobs/{jobId}`; defaults to `path`. */
  resource?: string;
  pathParameters?: Record<string, string> | null;
  queryStringParameters?: Record<string, string> | null;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else is JSON-encoded; null/undefined means no body. */
  body?: unknown;
  isBase64Encoded?: boolean;
  /** The tenant the authorizer put in the context; null for a route without an authorizer. */
  tenantId?: string | null;
}

/**
 * A REST (v1) Lambda proxy event as API Gateway sends it after the TOKEN authorizer
 * accepted a key of `tenantId`: the authorizer's context is in
 * `requestContext.authorizer`, and `requestContext.path` carries the stage.
 */
export function apiEvent(options: ApiEventOptions = {}): APIGatewayProxyEvent {
  const {
    method = 'GET',
    path = '/',
    resource = path,
    pathParameters = null,
    queryStringParameters = null,
    headers = {},
    isBase64Encoded = false,
    tenantId = 'acme',
  } = options;
  const body = options.body === undefined || options.body === null ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const allHeaders = { Host: 'abcdef1234.execute-api.us-east-1.amazonaws.com', 'Content-Type': 'application/json', ...headers };
  return {
    httpMethod: method,
    path,
    resource,
    body,
    isBase64Encoded,
    headers: allHeaders,
    multiValueHeaders: Object.fromEntries(Object.entries(allHeaders).map(([name, value]) => [name, [value]])),
    pathParameters,
    queryStringParameters,
    multiValueQueryStringParameters: queryStringParameters && Object.fromEntries(Object.entries(queryStringParameters).map(([name, value]) => [name, [value]])),
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef1234',
      authorizer: tenantId === null ? null : { tenantId, principalId: tenantId, integrationLatency: 7 },
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: { sourceIp: '203.0.113.7', userAgent: 'vitest' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/${STAGE}${path}`,
      stage: STAGE,
      requestId: 'request-id-1',
      requestTimeEpoch: 1_767_268_800_000,
      resourceId: 'res123',
      resourcePath: resource,
    },
  };
}

/** A Lambda context; `getRemainingTimeInMillis` matters to Powertools idempotency (in-progress expiry). */
export function lambdaContext(functionName = 'regression-jobs-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 25_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The REST API's TOKEN authorizer event for a call to `GET /jobs`. */
export function tokenAuthorizerEvent(authorizationToken: string, methodArn = `${API_ARN}/${STAGE}/GET/jobs`): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken, methodArn };
}

/** The WebSocket API's `$connect` REQUEST authorizer event, the key in `?token=`. */
export function requestAuthorizerEvent(token: string | undefined, methodArn = `${API_ARN}/${STAGE}/$connect`): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn,
    resource: '$connect',
    path: '/',
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    pathParameters: null,
    queryStringParameters: token === undefined ? null : { token },
    multiValueQueryStringParameters: token === undefined ? null : { token: [token] },
    stageVariables: null,
    requestContext: { stage: STAGE, apiId: 'abcdef1234' } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

/** Parses a handler's JSON answer body. */
export function bodyOf<T = unknown>(result: { body: string }): T {
  return JSON.parse(result.body) as T;
}
