import { authorizerKeyExpired } from '#commons/auth/authentication.js';
import { errorResponse } from '#commons/http/http.js';
import { eventHandler, logger } from '#commons/runtime/powertools.js';
import { DomainError, Unauthorized } from '#domain/errors.js';
import { connectionExpiresAt, parseFrame, type ServerMessage } from '#domain/realtime.js';
import { TenantId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';
import type { Connection } from './connections.js';

/**
 * Adapters for the WebSocket API's routes. API Gateway hands every route the
 * connection's id and start time, and the context the authorizer returned at
 * $connect (it keeps it for the connection's life), so no route needs a lookup to
 * know its caller's tenant.
 */

const WebSocketEvent = z.object({
  requestContext: z.object({
    connectionId: z.string().check(z.minLength(1), z.maxLength(128)),
    connectedAt: z.number().check(z.int(), z.positive()),
    authorizer: z.nullish(z.object({ tenantId: TenantId, keyId: z.optional(z.string()), expiresAt: z.optional(z.iso.datetime()) })),
  }),
  // $connect only: `?token=<api key>`, read by the authorizer or, without one, by $connect itself.
  queryStringParameters: z.nullish(z.record(z.string(), z.string())),
  body: z.nullish(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
});

export type WebSocketEvent = z.infer<typeof WebSocketEvent>;

export interface WebSocketResult {
  statusCode: number;
  body?: string;
}

function parseEvent(event: unknown): WebSocketEvent {
  const parsed = WebSocketEvent.safeParse(event);
  // Only reachable if something other than API Gateway invokes the function.
  if (!parsed.success) throw new Error(`not a WebSocket route event: ${parsed.error.issues.map((issue) => issue.path.join('.')).join(', ')}`);
  return parsed.data;
}

/** The caller's connection: its tenant (from the authorizer) and when its items expire. */
export function connectionOf(event: WebSocketEvent): Connection {
  const tenantId = event.requestContext.authorizer?.tenantId;
  // Only reachable if $connect were deployed without the authorizer: fail closed.
  if (tenantId === undefined) throw new Unauthorized();
  const { keyId, expiresAt: keyExpiresAt } = event.requestContext.authorizer ?? {};
  return {
    connectionId: event.requestContext.connectionId,
    tenantId,
    ...(keyId === undefined ? {} : { keyId }),
    ...(keyExpiresAt === undefined ? {} : { keyExpiresAt: Math.ceil(Date.parse(keyExpiresAt) / 1000) }),
    expiresAt: connectionExpiresAt(event.requestContext.connectedAt),
  };
}

/** The frame the client sent, as JSON (undefined when it is not JSON). */
export function frameOf(event: WebSocketEvent): unknown {
  return parseFrame(event.body ?? undefined, event.isBase64Encoded);
}

function withPowertools<R>(route: (event: WebSocketEvent) => Promise<R>) {
  return eventHandler(async (event: unknown) => route(parseEvent(event)));
}

/**
 * $connect and $disconnect: only the status code matters. On $connect a non-2xx
 * refuses the connection; an unexpected error propagates, which API Gateway also
 * answers as a refusal (500), so a connection is never half-registered.
 */
export function lifecycleHandler(route: (event: WebSocketEvent) => Promise<void>) {
  return withPowertools(async (event): Promise<WebSocketResult> => {
    try {
      await route(event);
      return { statusCode: 200 };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      logger.info('connection refused', { code: error.code });
      return errorResponse(error);
    }
  });
}

/**
 * Message routes answer the client with one frame (the routes are two-way, so API
 * Gateway sends the returned body on the socket). A DomainError becomes
 * `{"type":"error","code","message"}`; anything else is logged with its stack and
 * answered as a bare INTERNAL_ERROR, never serialised. A connection whose key has
 * expired since $connect (API Gateway keeps the authorizer's answer for the
 * connection's life) is answered UNAUTHORIZED, whatever it asks; the sweeper
 * closes it (lambdas/realtime/sweep-connections.ts).
 */
export function messageHandler(route: (event: WebSocketEvent) => Promise<ServerMessage>) {
  return withPowertools(async (event): Promise<WebSocketResult> => {
    let message: ServerMessage;
    try {
      if (authorizerKeyExpired(event.requestContext.authorizer)) throw new Unauthorized();
      message = await route(event);
    } catch (error) {
      if (error instanceof DomainError) {
        logger.info('message rejected', { code: error.code });
        message = { type: 'error', code: error.code, message: error.message };
      } else {
        logger.error('unhandled error', error as Error);
        message = { type: 'error', code: 'INTERNAL_ERROR', message: 'internal error' };
      }
    }
    // Protocol errors are answers, not failed invocations: 200 keeps API Gateway relaying the body.
    return { statusCode: 200, body: JSON.stringify(message) };
  });
}
