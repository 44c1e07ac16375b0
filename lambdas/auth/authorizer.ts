import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { findKey, type KeyOwner, usageIdentifierOf } from '#commons/auth/api-keys.js';
import { bearerKey } from '#commons/auth/authentication.js';
import { documents } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger } from '#commons/runtime/powertools.js';
import * as z from '#domain/zod.js';

/**
 * One authorizer for both APIs: the REST API sends a TOKEN event with
 * `Authorization: Bearer <key>`, the WebSocket API's $connect a REQUEST event with
 * `?token=<key>` (browsers cannot set headers on a WebSocket). Throwing
 * "Unauthorized" is how API Gateway is told to answer 401; any other failure is
 * API Gateway's AUTHORIZER_FAILURE response, which the stack answers as 503
 * `SERVICE_UNAVAILABLE` with Retry-After (lib/rest-api.ts), so a keys table that
 * cannot be read is never mistaken for an unknown key. A handler reached
 * without this authorizer parses and looks keys up with the same code
 * (lambdas/commons/auth/authentication.ts). API Gateway caches this function's answers,
 * so it reads the table directly, without the handlers' in-memory cache.
 */
const env = readEnv({ API_KEYS_TABLE_NAME: z.string().check(z.minLength(1)), USAGE_IDENTIFIER_PREFIX: z.string().check(z.minLength(1)) });

type AuthorizerEvent = APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent;

export function tokenOf(event: AuthorizerEvent): string | undefined {
  if (event.type === 'TOKEN') return bearerKey(event.authorizationToken);
  return event.queryStringParameters?.token ?? undefined;
}

/**
 * The policy allows every route of the API's stage, not just the one called: API
 * Gateway caches the answer per key and reuses it for the caller's next requests.
 */
export function stageWildcard(methodArn: string): string {
  const [prefix, stage] = methodArn.split('/');
  return `${prefix}/${stage}/*`;
}

/** The keys table could not be read: not the caller's fault, and never an answer about the key. */
export class KeyLookupFailed extends Error {
  constructor(cause: unknown) {
    super('the API keys table could not be read', { cause });
    this.name = 'KeyLookupFailed';
  }
}

async function ownerOf(token: string): Promise<KeyOwner | undefined> {
  try {
    return await findKey(documents, env.API_KEYS_TABLE_NAME, token);
  } catch (error) {
    logger.warn('the API keys table could not be read', error as Error);
    throw new KeyLookupFailed(error);
  }
}

export const handler = eventHandler(
  async (event: AuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = tokenOf(event);
    const owner = token === undefined ? undefined : await ownerOf(token);
    if (owner === undefined) {
      logger.info('denied', { reason: token === undefined ? 'no token' : 'unknown key' });
      throw new Error('Unauthorized');
    }
    const { tenantId, keyId, expiresAt } = owner;
    return {
      principalId: tenantId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) }],
      },
      // keyId: which key opened a WebSocket connection, so revoking the key can close it (scripts/api-key.ts).
      // expiresAt: API Gateway reuses this answer for minutes (and a WebSocket's for its whole life), so the
      // handlers check the key's expiry themselves on every request and message (lambdas/commons/auth/authentication.ts).
      context: { tenantId, keyId, ...(expiresAt === undefined ? {} : { expiresAt }) },
      usageIdentifierKey: usageIdentifierOf(env.USAGE_IDENTIFIER_PREFIX, tenantId),
    };
  },
  { metrics: false },
);
