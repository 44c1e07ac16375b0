import { createHash } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, looksLikeApiKey } from '#commons/auth/api-keys.js';
import { handler, stageWildcard, tokenOf } from '../../../../lambdas/auth/authorizer.js';
import { API_ARN, lambdaContext, requestAuthorizerEvent, tokenAuthorizerEvent } from '../../helpers/events.js';
import { API_KEYS_TABLE } from '../../helpers/records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const context = lambdaContext('authorizer');

const KEY = `rj_${'Ab0_-'.repeat(8)}xyz`; // 3 + 43 characters of the base64url alphabet
const KEY_HASH = createHash('sha256').update(KEY).digest('hex');

beforeEach(() => {
  ddb.reset();
  // The general behaviour first, the specific match after (aws-sdk-client-mock lets the later, narrower one win).
  ddb.on(GetCommand).resolves({}); // any other hash: unknown key
  ddb
    .on(GetCommand, { TableName: API_KEYS_TABLE, Key: { keyHash: KEY_HASH } })
    .resolves({ Item: { keyHash: KEY_HASH, tenantId: 'acme', createdAt: '2026-01-01T00:00:00.000Z' } });
});

const ALLOW_ACME = {
  principalId: 'acme',
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${API_ARN}/v1/*` }] },
  context: { tenantId: 'acme', keyId: `key_${KEY_HASH.slice(0, 16)}` },
  // The tenant's API Gateway key: its usage plan's rate, burst and quota apply.
  usageIdentifierKey: 'RegressionJobs-tenant-4-acme',
};

describe('authorizer: REST TOKEN events', () => {
  it('refuses a key past its expiry, and accepts one whose expiry is still ahead', async () => {
    const record = { keyHash: KEY_HASH, keyId: 'key_0123456789abcdef', tenantId: 'acme', createdAt: '2026-01-01T00:00:00.000Z' };
    ddb.on(GetCommand, { TableName: API_KEYS_TABLE, Key: { keyHash: KEY_HASH } }).resolves({ Item: { ...record, expiresAt: '2020-01-01T00:00:00.000Z' } });
    await expect(handler(tokenAuthorizerEvent(`Bearer ${KEY}`), context)).rejects.toThrow('Unauthorized');
    ddb.on(GetCommand, { TableName: API_KEYS_TABLE, Key: { keyHash: KEY_HASH } }).resolves({ Item: { ...record, expiresAt: '2999-01-01T00:00:00.000Z' } });
    // The expiry travels with the answer API Gateway caches, so the handlers can refuse the key once it passes.
    expect(await handler(tokenAuthorizerEvent(`Bearer ${KEY}`), context)).toMatchObject({
      context: { tenantId: 'acme', keyId: 'key_0123456789abcdef', expiresAt: '2999-01-01T00:00:00.000Z' },
    });
  });

  it('fails (AUTHORIZER_FAILURE, answered 503), never denies, when the keys table cannot be read', async () => {
    const outage = new Error('connect ETIMEDOUT');
    ddb.on(GetCommand, { TableName: API_KEYS_TABLE, Key: { keyHash: KEY_HASH } }).rejects(outage);
    const failure = handler(tokenAuthorizerEvent(`Bearer ${KEY}`), context);
    await expect(failure).rejects.toThrow('the API keys table could not be read');
    await expect(failure).rejects.toMatchObject({ name: 'KeyLookupFailed', cause: outage });
  });

  it('allows a known key for every route of the stage and passes the tenant in the context', async () => {
    const result = await handler(tokenAuthorizerEvent(`Bearer ${KEY}`, `${API_ARN}/v1/POST/jobs/01JH5Z3V8Q6K9W2X4Y7Z0A1B2C/cancel`), context);
    expect(result).toEqual(ALLOW_ACME);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(GetCommand, { TableName: API_KEYS_TABLE, Key: { keyHash: KEY_HASH } });
  });

  it('accepts the scheme in any case and surrounding spaces', async () => {
    expect(await handler(tokenAuthorizerEvent(`bearer   ${KEY}  `), context)).toEqual(ALLOW_ACME);
  });

  it('looks the key up by its SHA-256 only, never the key itself', async () => {
    await handler(tokenAuthorizerEvent(`Bearer ${KEY}`), context);
    expect(JSON.stringify(ddb.calls()[0]?.args[0].input)).not.toContain(KEY);
  });

  it.each([
    ['no scheme', KEY],
    ['another scheme', `Basic ${KEY}`],
    ['an empty bearer', 'Bearer '],
    ['two tokens', `Bearer ${KEY} ${KEY}`],
    ['an empty header', ''],
  ])('refuses %s with "Unauthorized" without a lookup', async (_, header) => {
    await expect(handler(tokenAuthorizerEvent(header), context)).rejects.toThrow(/^Unauthorized$/);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it.each([
    ['too short', 'rj_abc'],
    ['without the prefix', 'A'.repeat(46)],
    ['with a character outside base64url', `rj_${'A'.repeat(42)}+`],
  ])('refuses a key %s before any lookup', async (_, key) => {
    await expect(handler(tokenAuthorizerEvent(`Bearer ${key}`), context)).rejects.toThrow(/^Unauthorized$/);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('refuses a well-formed but unknown key after looking it up', async () => {
    const unknown = generateApiKey();
    await expect(handler(tokenAuthorizerEvent(`Bearer ${unknown}`), context)).rejects.toThrow(/^Unauthorized$/);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(GetCommand, { TableName: API_KEYS_TABLE, Key: { keyHash: hashApiKey(unknown) } });
  });
});

describe('authorizer: WebSocket REQUEST events', () => {
  it('allows ?token=<known key> with the tenant in the context', async () => {
    const result = await handler(requestAuthorizerEvent(KEY), context);
    expect(result).toEqual(ALLOW_ACME);
  });

  it('refuses a missing token without a lookup, and an unknown one', async () => {
    await expect(handler(requestAuthorizerEvent(undefined), context)).rejects.toThrow(/^Unauthorized$/);
    expect(ddb).not.toHaveReceivedAnyCommand();
    await expect(handler(requestAuthorizerEvent(generateApiKey()), context)).rejects.toThrow(/^Unauthorized$/);
  });
});

describe('authorizer helpers', () => {
  it('scopes the policy to the stage, whatever route was called', () => {
    expect(stageWildcard(`${API_ARN}/v1/GET/jobs/01JH5Z3V8Q6K9W2X4Y7Z0A1B2C`)).toBe(`${API_ARN}/v1/*`);
    expect(stageWildcard(`${API_ARN}/v1/$connect`)).toBe(`${API_ARN}/v1/*`);
  });

  it('reads the token from the header of a TOKEN event and the query of a REQUEST event', () => {
    expect(tokenOf(tokenAuthorizerEvent(`Bearer ${KEY}`))).toBe(KEY);
    expect(tokenOf(requestAuthorizerEvent(KEY))).toBe(KEY);
    expect(tokenOf(requestAuthorizerEvent(undefined))).toBeUndefined();
  });

  it('generates keys of the shape it accepts, each different', () => {
    const keys = new Set(Array.from({ length: 20 }, generateApiKey));
    expect(keys.size).toBe(20);
    for (const key of keys) expect(looksLikeApiKey(key)).toBe(true);
    expect(looksLikeApiKey(KEY)).toBe(true);
    expect(hashApiKey(KEY)).toBe(KEY_HASH);
  });
});
