import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { documents } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { logger } from '#commons/runtime/powertools.js';
import { Unauthorized } from '#domain/errors.js';
import * as z from '#domain/zod.js';
import { findKey, hashApiKey, isExpired, type KeyOwner } from './api-keys.js';

/**
 * API-key authentication, one implementation for every place a key is checked:
 * the API Gateway authorizer (lambdas/auth/authorizer.ts) and, where a request
 * reaches a handler without the authorizer's context, the handler itself.
 *
 * On AWS every route but `GET /health` sits behind the authorizer, which rejects a
 * request before any handler runs and puts the tenant in
 * `requestContext.authorizer`. Only API Gateway can write that context, so a
 * request that carries it was authenticated there and is never checked twice. A
 * request without it comes from a stage deployed without the authorizer
 * (LocalStack's free edition has no Lambda authorizers; see docs/testing.md, test
 * targets): the handler then checks the bearer key with the same lookup and gives
 * the same answer, 401 `UNAUTHORIZED`, so the API behaves the same either way.
 *
 * A key's expiry is checked on every request either way: API Gateway reuses the
 * authorizer's answer for five minutes, so the answer carries the key's
 * `expiresAt` and a request past it is 401 even while the answer is cached.
 */

/** The key in `Authorization: Bearer <key>` (the scheme in any case, trailing spaces allowed), or undefined. */
export function bearerKey(header: string | undefined | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export interface TenantCacheOptions {
  /** How long a key's tenant is remembered. @default 60 s */
  ttlMs?: number;
  /** At most this many keys are remembered; the oldest is forgotten first. @default 1,000 */
  maxEntries?: number;
  /** @default Date.now */
  now?: () => number;
}

/** What the cache needs of a key's record: its tenant and, if it has one, its expiry. */
export type CachedKey = Pick<KeyOwner, 'tenantId' | 'expiresAt'>;

/**
 * Key hash -> tenant, for a short while: a warm function does not read the table
 * on every request of the same client. Only known keys are kept (an unknown key is
 * looked up again, so a key created a moment ago works at once), by hash (the key
 * itself is never kept), never past the key's own expiry, and a key deleted from
 * the table stops working within the TTL, as the authorizer's own cache on AWS
 * (five minutes) already implies.
 */
export class TenantCache {
  private readonly entries = new Map<string, { tenantId: string; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: TenantCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 1_000;
    this.now = options.now ?? Date.now;
    if (!(this.ttlMs > 0) || !Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new Error(`TenantCache: ttlMs must be > 0 and maxEntries a whole number >= 1; got ${this.ttlMs}, ${this.maxEntries}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  /** The tenant of `key`, from the cache or else from `lookup` (which answers undefined for an unknown or expired key). */
  async tenantOf(key: string, lookup: (key: string) => Promise<CachedKey | undefined>): Promise<string | undefined> {
    const hash = hashApiKey(key);
    const cached = this.entries.get(hash);
    if (cached && cached.expiresAt > this.now()) return cached.tenantId;
    this.entries.delete(hash);
    const found = await lookup(key);
    if (found !== undefined) {
      // A Map iterates in insertion order: the first key is the oldest entry.
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      const keyExpiresAt = found.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(found.expiresAt);
      this.entries.set(hash, { tenantId: found.tenantId, expiresAt: Math.min(this.now() + this.ttlMs, keyExpiresAt) });
    }
    return found?.tenantId;
  }
}

const cache = new TenantCache();
let apiKeysTable: string | undefined;

/** Forgets every cached key: for tests that look the same key up twice. */
export function clearTenantCache(): void {
  cache.clear();
}

/**
 * The tenant a key belongs to, or undefined for a missing, malformed or unknown
 * key. Reads the API keys table named by API_KEYS_TABLE_NAME (read on first use:
 * a handler behind the authorizer never needs it) through the shared cache.
 */
export async function authenticateKey(key: string | undefined): Promise<string | undefined> {
  if (key === undefined) return undefined;
  apiKeysTable ??= readEnv({ API_KEYS_TABLE_NAME: z.string().check(z.minLength(1)) }).API_KEYS_TABLE_NAME;
  const tableName = apiKeysTable;
  return cache.tenantOf(key, (candidate) => findKey(documents, tableName, candidate));
}

/** True when API Gateway's authorizer ran for this request (its context carries the tenant). */
function hasAuthorizerContext(authorizer: unknown): boolean {
  return typeof authorizer === 'object' && authorizer !== null && 'tenantId' in authorizer && authorizer.tenantId !== undefined;
}

/** The part of the authorizer's context (lambdas/auth/authorizer.ts) that says when its key stops working. */
const KeyExpiry = z.object({ expiresAt: z.optional(z.iso.datetime()) });

/**
 * True when the authorizer's context names a key whose expiry has come: its answer
 * was cached (REST, five minutes) or kept for a connection's life (WebSocket)
 * while the key ran out. A context that names no valid expiry is not expired here:
 * the authorizer only ever writes an ISO time.
 */
export function authorizerKeyExpired(authorizer: unknown, now: Date = new Date()): boolean {
  const parsed = KeyExpiry.safeParse(authorizer);
  return parsed.success && isExpired(parsed.data, now);
}

/**
 * Middleware for the REST handlers: when the request has no authorizer context,
 * authenticates `Authorization: Bearer <key>` itself and puts the tenant where the
 * authorizer would have (`requestContext.authorizer.tenantId`), so `tenantOf`
 * reads it the same way; a missing or unknown key is `Unauthorized` (401). A
 * request the authorizer already handled passes without a lookup, unless its
 * key has expired since (401 as well).
 */
export function authenticateWithoutAuthorizer(): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: async (request) => {
      const { event } = request;
      if (hasAuthorizerContext(event.requestContext.authorizer)) {
        if (!authorizerKeyExpired(event.requestContext.authorizer)) return;
        logger.info('denied', { reason: 'expired key' });
        throw new Unauthorized();
      }
      const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
      const key = bearerKey(header);
      const tenantId = await authenticateKey(key);
      if (tenantId === undefined) {
        logger.info('denied without an authorizer', { reason: key === undefined ? 'no token' : 'unknown key' });
        throw new Unauthorized();
      }
      event.requestContext.authorizer = { ...event.requestContext.authorizer, tenantId };
    },
  };
}
