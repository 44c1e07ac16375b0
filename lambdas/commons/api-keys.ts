import { createHash, randomBytes } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

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

export interface ApiKeyRecord {
  keyHash: string;
  tenantId: string;
  createdAt: string;
}

export async function storeApiKey(client: DynamoDBDocumentClient, tableName: string, tenantId: string, key: string = generateApiKey()): Promise<string> {
  const record: ApiKeyRecord = { keyHash: hashApiKey(key), tenantId, createdAt: new Date().toISOString() };
  await client.send(new PutCommand({ TableName: tableName, Item: record, ConditionExpression: 'attribute_not_exists(keyHash)' }));
  return key;
}

export async function findTenant(client: DynamoDBDocumentClient, tableName: string, key: string): Promise<string | undefined> {
  if (!looksLikeApiKey(key)) return undefined;
  const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { keyHash: hashApiKey(key) } }));
  return (Item as ApiKeyRecord | undefined)?.tenantId;
}

/** Revokes a key; answers the tenant it belonged to, or undefined when there was no such key. */
export async function deleteApiKey(client: DynamoDBDocumentClient, tableName: string, key: string): Promise<string | undefined> {
  if (!looksLikeApiKey(key)) return undefined;
  const { Attributes } = await client.send(new DeleteCommand({ TableName: tableName, Key: { keyHash: hashApiKey(key) }, ReturnValues: 'ALL_OLD' }));
  return (Attributes as ApiKeyRecord | undefined)?.tenantId;
}
