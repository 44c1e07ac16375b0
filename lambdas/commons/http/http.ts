import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { authenticateWithoutAuthorizer } from '#commons/auth/authentication.js';
import { logger, metrics } from '#commons/runtime/powertools.js';
import { isRetryable } from '#commons/runtime/retryable.js';
import { CORS_EXPOSED_HEADERS } from '#contract/cors.js';
import { DomainError, type ErrorCategory, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, ValidationFailed } from '#domain/errors.js';
import { TenantId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';

/** The one place domain error categories become HTTP statuses. */
const STATUS: Readonly<Record<ErrorCategory, number>> = {
  invalid: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  limited: 429,
  unavailable: 503,
};

const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': CORS_EXPOSED_HEADERS };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'Content-Type': 'application/json', ...CORS, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(error: DomainError): APIGatewayProxyResult {
  const body = { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
  const headers: Record<string, string> = error.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(error.retryAfterSeconds) };
  return json(STATUS[error.category], body, headers);
}

/** Seconds a client waits before retrying a request a dependency could not serve. */
const DEPENDENCY_RETRY_AFTER_SECONDS = 2;

type HttpRoute = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * Wraps a route in the shared middleware: Powertools context, tracing and metrics,
 * lower-cased headers, the key check when API Gateway's authorizer did not run
 * (lambdas/commons/auth/authentication.ts), and the error mapping. A DomainError becomes its status and
 * `{error:{code,message,details}}`; a dependency that timed out or throttled is a
 * 503 SERVICE_UNAVAILABLE with Retry-After; anything else is logged with its stack
 * and answered as a bare 500, never serialised.
 */
export function httpHandler(route: HttpRoute) {
  // A second before the function would time out, middy gives up on the route with a TimeoutError, which the
  // mapping below answers as a 503: a slow dependency never turns into the gateway's own 5xx.
  return middy(route, { timeoutEarlyInMillis: 1_000 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpHeaderNormalizer())
    .use(authenticateWithoutAuthorizer())
    .onError(async (request) => {
      const { error } = request;
      if (error instanceof DomainError) {
        // A refusal with a cause (a dependency that failed) is worth its stack in the logs; a client's mistake is not.
        if (error.cause === undefined) logger.info('request rejected', { code: error.code });
        else logger.warn('request failed', error);
        request.response = errorResponse(error);
        return;
      }
      if (isRetryable(error)) {
        logger.warn('a dependency is unavailable', error as Error);
        const unavailable = new ServiceUnavailable(
          'SERVICE_UNAVAILABLE',
          'the service could not complete the request in time; retry it (with the same Idempotency-Key) after Retry-After seconds',
          DEPENDENCY_RETRY_AFTER_SECONDS,
          { cause: error },
        );
        request.response = errorResponse(unavailable);
        return;
      }
      logger.error('unhandled error', error as Error);
      request.response = json(500, { error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
    });
}

const AuthorizerContext = z.object({ tenantId: TenantId });

/** The caller's tenant, as the authorizer put it in the request context. */
export function tenantOf(event: APIGatewayProxyEvent): string {
  const parsed = AuthorizerContext.safeParse(event.requestContext.authorizer);
  if (!parsed.success) {
    // Only reachable if a route was deployed without the authorizer: fail closed.
    throw new Unauthorized();
  }
  return parsed.data.tenantId;
}

/** The request body as JSON, refusing bodies over `maxBytes` before parsing them. */
export function jsonBody(event: APIGatewayProxyEvent, maxBytes: number): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new PayloadTooLarge(`the request body must be at most ${maxBytes} bytes`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationFailed('the request body is not valid JSON', undefined, 'INVALID_JSON');
  }
}

/** A path parameter checked against its schema; a malformed id is a 404 like an unknown one. */
export function pathId(event: APIGatewayProxyEvent, name: string, schema: z.ZodMiniType<string>, what: string): string {
  const parsed = schema.safeParse(event.pathParameters?.[name]);
  if (!parsed.success) throw new NotFound(what);
  return parsed.data;
}
