import { createHash, randomBytes } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';

/**
 * API keys are random 256-bit secrets shown once; only their SHA-256 is stored, so
 * a leaked table does not leak a usable key. A fast hash is right here (unlike for
 * passwords): the keys are long random strings, not guessable words.
 */
const PREFIX = 'rj_';

export function generateApiKey(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Shape check before any lookup, so junk never reaches the table. */
export function looksLikeApiKey(key: string): boolean {
  return /^rj_[A-Za-z0-9_-]{43}$/.test(key);
}

/**
 * A key's public name: the first 16 hex digits of its hash, so it can be listed,
 * logged and revoked without ever showing the key (records written before ids
 * existed get the same id from their hash).
 */
export function keyIdOf(keyHash: string): string {
  return `key_${keyHash.slice(0, 16)}`;
}

export function looksLikeKeyId(value: string): boolean {
  return /^key_[0-9a-f]{16}$/.test(value);
}

export interface ApiKeyRecord {
  keyHash: string;
  keyId: string;
  tenantId: string;
  createdAt: string;
  /** ISO time after which the key is refused; absent: it never expires. */
  expiresAt?: string;
}

/** What an accepted key stands for. */
export interface KeyOwner {
  tenantId: string;
  keyId: string;
  /** ISO time the key stops working, when it has one: it travels with every answer cached for the key. */
  expiresAt?: string;
}

export interface StoreApiKeyOptions {
  /** The key itself. @default a new random one */
  key?: string;
  /** When the key stops working. @default never */
  expiresAt?: Date;
}

export async function storeApiKey(
  client: DynamoDBDocumentClient,
  tableName: string,
  tenantId: string,
  options: StoreApiKeyOptions | string = {},
): Promise<string> {
  const { key = generateApiKey(), expiresAt } = typeof options === 'string' ? { key: options } : options;
  const keyHash = hashApiKey(key);
  const record: ApiKeyRecord = {
    keyHash,
    keyId: keyIdOf(keyHash),
    tenantId,
    createdAt: new Date().toISOString(),
    ...(expiresAt === undefined ? {} : { expiresAt: expiresAt.toISOString() }),
  };
  await client.send(new PutCommand({ TableName: tableName, Item: record, ConditionExpression: 'attribute_not_exists(keyHash)' }));
  return key;
}

/** True once a key's `expiresAt` (ISO time; absent: never) has come. */
export function isExpired(record: { expiresAt?: string | undefined }, now: Date = new Date()): boolean {
  return record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now.getTime();
}

/** The tenant and key id of a known, unexpired key; undefined for anything else. */
export async function findKey(client: DynamoDBDocumentClient, tableName: string, key: string, now: Date = new Date()): Promise<KeyOwner | undefined> {
  if (!looksLikeApiKey(key)) return undefined;
  const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { keyHash: hashApiKey(key) } }));
  const record = Item as ApiKeyRecord | undefined;
  if (record === undefined || isExpired(record, now)) return undefined;
  return {
    tenantId: record.tenantId,
    keyId: record.keyId ?? keyIdOf(record.keyHash),
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
  };
}

export async function findTenant(client: DynamoDBDocumentClient, tableName: string, key: string): Promise<string | undefined> {
  return (await findKey(client, tableName, key))?.tenantId;
}

/**
 * Deletes a key given the key itself; answers its record (with its key id, so the
 * caller can close what the key opened), or undefined when there was no such key.
 */
export async function deleteApiKey(client: DynamoDBDocumentClient, tableName: string, key: string): Promise<ApiKeyRecord | undefined> {
  if (!looksLikeApiKey(key)) return undefined;
  const { Attributes } = await client.send(new DeleteCommand({ TableName: tableName, Key: { keyHash: hashApiKey(key) }, ReturnValues: 'ALL_OLD' }));
  const record = Attributes as ApiKeyRecord | undefined;
  return record && { ...record, keyId: record.keyId ?? keyIdOf(record.keyHash) };
}

/** Every key's record (never the key), for `npm run api-key -- list`: an operator's scan of a small table. */
export async function listApiKeys(client: DynamoDBDocumentClient, tableName: string): Promise<ApiKeyRecord[]> {
  const records: ApiKeyRecord[] = [];
  for await (const page of paginateScan({ client }, { TableName: tableName })) {
    for (const item of page.Items ?? []) {
      const record = item as ApiKeyRecord;
      records.push({ ...record, keyId: record.keyId ?? keyIdOf(record.keyHash) });
    }
  }
  return records.sort((a, b) => a.tenantId.localeCompare(b.tenantId) || a.createdAt.localeCompare(b.createdAt));
}

/**
 * Deletes the keys a selector names: a key id (`key_…`) names one key, anything
 * else a tenant, all of whose keys go. Answers the records deleted (none when
 * nothing matched).
 */
export async function revokeApiKeys(client: DynamoDBDocumentClient, tableName: string, selector: string): Promise<ApiKeyRecord[]> {
  const byId = looksLikeKeyId(selector);
  const chosen = (await listApiKeys(client, tableName)).filter((record) => (byId ? record.keyId === selector : record.tenantId === selector));
  const deleted: ApiKeyRecord[] = [];
  for (const record of chosen) {
    const { Attributes } = await client.send(new DeleteCommand({ TableName: tableName, Key: { keyHash: record.keyHash }, ReturnValues: 'ALL_OLD' }));
    if (Attributes !== undefined) deleted.push(record);
  }
  return deleted;
}

/** API Gateway refuses an API key value shorter than this. */
const USAGE_IDENTIFIER_MIN_LENGTH = 20;

/**
 * The tenant's usage identifier: the value of its API Gateway API key, which puts
 * every request of the tenant in the tenant's usage plan (rate, burst, daily quota;
 * lib/rest-api.ts). One per tenant, whichever of its keys the request carries;
 * `npm run api-key` creates it with the tenant's first key.
 *
 * Two tenants must never share one, or they would share a plan's rate and quota.
 * The tenant id goes in after its length (`<prefix><length>-<tenant>`), so the
 * `_` padding up to API Gateway's 20 characters can always be told apart from the
 * id (`a` and `a_` once padded to the same value).
 */
export function usageIdentifierOf(prefix: string, tenantId: string): string {
  return `${prefix}${tenantId.length}-${tenantId}`.padEnd(USAGE_IDENTIFIER_MIN_LENGTH, '_');
}

/**
 * The name of a usage plan `npm run api-key -- limits` gives one tenant. Its
 * prefix is not the default plan's (`<stack>-tenant-default`, lib/rest-api.ts), so
 * no tenant id, `default` included, names a plan that is not its own.
 */
export function tenantPlanName(stackName: string, tenantId: string): string {
  return `${stackName}-tenant-plan-${tenantId}`;
}
