import { DeleteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deleteApiKey, generateApiKey, hashApiKey } from '#commons/auth/api-keys.js';
import { bearerKey, clearTenantCache, TenantCache } from '#commons/auth/authentication.js';
import { documents } from '#commons/runtime/clients.js';
import { handler as getJob } from '../../../../../lambdas/api/get-job.js';
import { apiEvent, bodyOf, lambdaContext } from '../../../helpers/events.js';
import { API_KEYS_TABLE, JOB_ID, JOBS_TABLE, jobRecord, TENANT } from '../../../helpers/records.js';

/**
 * A REST handler reached without API Gateway's authorizer (LocalStack's free
 * edition): it checks the bearer key itself, with the authorizer's parsing and
 * lookup, and answers as the authorizer would.
 */

const ddb = mockClient(DynamoDBDocumentClient);
const context = lambdaContext('get-job');
const KEY = generateApiKey();
const UNAUTHORIZED = { error: { code: 'UNAUTHORIZED', message: 'missing or unknown API key' } };

beforeEach(() => {
  ddb.reset();
  clearTenantCache();
  ddb.on(GetCommand, { TableName: API_KEYS_TABLE }).resolves({});
  ddb.on(GetCommand, { TableName: API_KEYS_TABLE, Key: { keyHash: hashApiKey(KEY) } }).resolves({ Item: { keyHash: hashApiKey(KEY), tenantId: TENANT } });
  ddb.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: jobRecord() });
});

/** GET /jobs/{jobId} as a stage without the authorizer sends it: no authorizer context at all. */
const request = (headers: Record<string, string>, tenantId: string | null = null) =>
  getJob(apiEvent({ method: 'GET', path: `/jobs/${JOB_ID}`, resource: '/jobs/{jobId}', pathParameters: { jobId: JOB_ID }, headers, tenantId }), context);
const keyLookups = () => ddb.commandCalls(GetCommand).filter((call) => call.args[0].input.TableName === API_KEYS_TABLE);
const jobReads = () => ddb.commandCalls(GetCommand).filter((call) => call.args[0].input.TableName === JOBS_TABLE);

describe('a REST handler without the authorizer', () => {
  it("authenticates the bearer key by its hash and serves the key's tenant", async () => {
    const result = await request({ Authorization: `Bearer ${KEY}` });
    expect(result.statusCode).toBe(200);
    expect(bodyOf<{ jobId: string }>(result).jobId).toBe(JOB_ID);
    expect(keyLookups().map((call) => call.args[0].input)).toEqual([{ TableName: API_KEYS_TABLE, Key: { keyHash: hashApiKey(KEY) } }]);
    expect(jobReads()[0]?.args[0].input.Key).toEqual({ tenantId: TENANT, jobId: JOB_ID });
  });

  it('reads the header in any case, the scheme in any case', async () => {
    expect((await request({ authorization: `bearer ${KEY}` })).statusCode).toBe(200);
  });

  it('remembers a known key: the next request of the same key reads no key from the table', async () => {
    await request({ Authorization: `Bearer ${KEY}` });
    await request({ Authorization: `Bearer ${KEY}` });
    expect(keyLookups()).toHaveLength(1);
    expect(jobReads()).toHaveLength(2);
  });

  it.each([
    ['no Authorization header', {}],
    ['another scheme', { Authorization: 'Basic dXNlcjpwYXNz' }],
    ['a malformed key', { Authorization: 'Bearer not-a-key' }],
    ['two tokens', { Authorization: `Bearer ${KEY} ${KEY}` }],
  ])('answers %s 401 UNAUTHORIZED, in the error shape, without any lookup', async (_, headers) => {
    const result = await request(headers);
    expect({ status: result.statusCode, body: bodyOf(result) }).toEqual({ status: 401, body: UNAUTHORIZED });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers an unknown key 401 UNAUTHORIZED after one lookup, reads no job, and looks it up again next time (never cached)', async () => {
    const unknown = generateApiKey();
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = await request({ Authorization: `Bearer ${unknown}` });
      expect({ status: result.statusCode, body: bodyOf(result) }).toEqual({ status: 401, body: UNAUTHORIZED });
    }
    expect(keyLookups().map((call) => call.args[0].input.Key)).toEqual([{ keyHash: hashApiKey(unknown) }, { keyHash: hashApiKey(unknown) }]);
    expect(jobReads()).toHaveLength(0);
  });

  it("trusts the authorizer's context when there is one: no key lookup, whatever the header says", async () => {
    const result = await request({ Authorization: 'Bearer not-a-key' }, TENANT);
    expect(result.statusCode).toBe(200);
    expect(keyLookups()).toHaveLength(0);
  });

  it("answers 401 UNAUTHORIZED once the key in the authorizer's (cached) context has expired, and serves it until then", async () => {
    const withExpiry = (expiresAt: string) =>
      getJob(
        {
          ...apiEvent({ method: 'GET', path: `/jobs/${JOB_ID}`, resource: '/jobs/{jobId}', pathParameters: { jobId: JOB_ID }, headers: {}, tenantId: TENANT }),
          requestContext: {
            ...apiEvent({ method: 'GET', path: `/jobs/${JOB_ID}`, tenantId: TENANT }).requestContext,
            authorizer: { tenantId: TENANT, principalId: TENANT, keyId: 'key_0123456789abcdef', expiresAt },
          },
        },
        context,
      );
    const expired = await withExpiry(new Date(Date.now() - 1_000).toISOString());
    expect({ status: expired.statusCode, body: bodyOf(expired) }).toEqual({ status: 401, body: UNAUTHORIZED });
    expect(jobReads()).toHaveLength(0);
    expect((await withExpiry(new Date(Date.now() + 60_000).toISOString())).statusCode).toBe(200);
  });

  it('forgets a cached key at its expiry: the next request past it looks the key up again, and the table says expired', async () => {
    const expiresAt = new Date(Date.now() + 150).toISOString();
    const record = { keyHash: hashApiKey(KEY), tenantId: TENANT, expiresAt };
    ddb.on(GetCommand, { TableName: API_KEYS_TABLE, Key: { keyHash: hashApiKey(KEY) } }).resolves({ Item: record });
    expect((await request({ Authorization: `Bearer ${KEY}` })).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const result = await request({ Authorization: `Bearer ${KEY}` });
    expect({ status: result.statusCode, body: bodyOf(result) }).toEqual({ status: 401, body: UNAUTHORIZED });
    expect(keyLookups()).toHaveLength(2);
  });

  it('answers 500 INTERNAL_ERROR, not 401, when the key table cannot be read', async () => {
    ddb.on(GetCommand, { TableName: API_KEYS_TABLE, Key: { keyHash: hashApiKey(KEY) } }).rejects(new Error('throttled'));
    const result = await request({ Authorization: `Bearer ${KEY}` });
    expect({ status: result.statusCode, body: bodyOf(result) }).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL_ERROR', message: 'internal error' } },
    });
  });
});

describe('bearerKey: the authorizer’s parsing', () => {
  it.each([
    [`Bearer ${KEY}`, KEY],
    [`bearer   ${KEY}  `, KEY],
    [KEY, undefined],
    [`Basic ${KEY}`, undefined],
    ['Bearer ', undefined],
    [`Bearer ${KEY} ${KEY}`, undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j -> %j', (header, key) => {
    expect(bearerKey(header)).toBe(key);
  });
});

describe('TenantCache', () => {
  const lookupOf = (answers: Record<string, string>, expiresAt?: string) => {
    const asked: string[] = [];
    const lookup = async (key: string) => {
      asked.push(key);
      const tenantId = answers[key];
      return tenantId === undefined ? undefined : { tenantId, ...(expiresAt === undefined ? {} : { expiresAt }) };
    };
    return { asked, lookup };
  };

  it('keeps a known key for the TTL, then looks it up again', async () => {
    let now = 1_000;
    const cache = new TenantCache({ ttlMs: 60_000, now: () => now });
    const { asked, lookup } = lookupOf({ a: 'acme' });
    expect(await cache.tenantOf('a', lookup)).toBe('acme');
    now += 59_999;
    expect(await cache.tenantOf('a', lookup)).toBe('acme');
    expect(asked).toEqual(['a']);
    now += 1;
    expect(await cache.tenantOf('a', lookup)).toBe('acme');
    expect(asked).toEqual(['a', 'a']);
  });

  it("never keeps a key past the key's own expiry, however long the TTL", async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const cache = new TenantCache({ ttlMs: 60_000, now: () => now });
    const { asked, lookup } = lookupOf({ a: 'acme' }, '2026-01-01T00:00:10.000Z');
    await cache.tenantOf('a', lookup);
    now += 9_999;
    await cache.tenantOf('a', lookup);
    expect(asked).toEqual(['a']);
    now += 1;
    await cache.tenantOf('a', lookup);
    expect(asked).toEqual(['a', 'a']);
  });

  it('keeps at most maxEntries keys, forgetting the oldest first', async () => {
    const cache = new TenantCache({ maxEntries: 2 });
    const { asked, lookup } = lookupOf({ a: 't1', b: 't2', c: 't3' });
    for (const key of ['a', 'b', 'c']) await cache.tenantOf(key, lookup);
    expect(cache.size).toBe(2);
    await cache.tenantOf('c', lookup);
    await cache.tenantOf('b', lookup);
    await cache.tenantOf('a', lookup);
    expect(asked).toEqual(['a', 'b', 'c', 'a']);
  });

  it('never keeps an unknown key, nor the key itself', async () => {
    const cache = new TenantCache();
    const { asked, lookup } = lookupOf({});
    expect(await cache.tenantOf('nobody', lookup)).toBeUndefined();
    expect(await cache.tenantOf('nobody', lookup)).toBeUndefined();
    expect(asked).toEqual(['nobody', 'nobody']);
    expect(cache.size).toBe(0);
  });

  it('refuses a TTL or a size that cannot work', () => {
    expect(() => new TenantCache({ ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => new TenantCache({ maxEntries: 0.5 })).toThrow(/maxEntries/);
  });
});

describe('deleteApiKey (npm run api-key -- delete)', () => {
  it('deletes the key by its hash and answers its record, with the key id that names what it opened', async () => {
    ddb.on(DeleteCommand).resolves({ Attributes: { keyHash: hashApiKey(KEY), tenantId: TENANT } });
    expect(await deleteApiKey(documents, API_KEYS_TABLE, KEY)).toMatchObject({ tenantId: TENANT, keyId: `key_${hashApiKey(KEY).slice(0, 16)}` });
    expect(ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input)).toEqual([
      { TableName: API_KEYS_TABLE, Key: { keyHash: hashApiKey(KEY) }, ReturnValues: 'ALL_OLD' },
    ]);
  });

  it('answers undefined for an unknown key, and sends nothing for a malformed one', async () => {
    ddb.on(DeleteCommand).resolves({});
    expect(await deleteApiKey(documents, API_KEYS_TABLE, generateApiKey())).toBeUndefined();
    expect(await deleteApiKey(documents, API_KEYS_TABLE, 'not-a-key')).toBeUndefined();
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(1);
  });
});
