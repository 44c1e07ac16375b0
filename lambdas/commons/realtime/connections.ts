import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateQuery,
  paginateScan,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { documents } from '#commons/runtime/clients.js';
import type { SubscriptionTarget } from '#domain/realtime.js';
import * as z from '#domain/zod.js';

/**
 * Who listens to what, in the Connections table (PK `pk`, SK `sk`, TTL `expiresAt`):
 *
 * - `CONN#<connectionId>` / `META`            the connection's tenant (written at $connect)
 * - `CONN#<connectionId>` / `SUB#<jobId|*>`   one per subscription, so a disconnect finds them all
 * - `SUB#<tenantId>#<jobId|*>` / `<connectionId>`  the fan-out index the notifier queries
 *
 * The tenant is part of every subscription key, and the notifier builds the key
 * from the changed job's own tenant, so a change can only ever reach connections
 * of the tenant that owns the job. Every item carries the connection's expiry.
 */

const ALL_JOBS = '*';

function targetKey(target: SubscriptionTarget): string {
  return target ?? ALL_JOBS;
}

function connectionPk(connectionId: string): string {
  return `CONN#${connectionId}`;
}

function subscriptionPk(tenantId: string, target: SubscriptionTarget): string {
  return `SUB#${tenantId}#${targetKey(target)}`;
}

const META = 'META';

export interface Connection {
  connectionId: string;
  tenantId: string;
  /** The API key that opened it (from the authorizer), so revoking the key can close it. */
  keyId?: string;
  /** Epoch seconds: when that key expires, so the sweeper can close the connection then. */
  keyExpiresAt?: number;
  /** Epoch seconds: API Gateway's two-hour limit, counted from the connection's start. */
  expiresAt: number;
}

/** The per-connection subscription items, as a disconnect reads them back. */
const ConnectionSubscription = z.object({ sk: z.string().check(z.startsWith('SUB#')), tenantId: z.string(), target: z.string() });

/** BatchWriteItem takes at most 25 requests; unprocessed ones are retried this many times. */
const BATCH_SIZE = 25;
const BATCH_ATTEMPTS = 5;

export class ConnectionStore {
  constructor(
    readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = documents,
  ) {}

  async register(connection: Connection): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: connectionPk(connection.connectionId),
          sk: META,
          tenantId: connection.tenantId,
          ...(connection.keyId === undefined ? {} : { keyId: connection.keyId }),
          ...(connection.keyExpiresAt === undefined ? {} : { keyExpiresAt: connection.keyExpiresAt }),
          expiresAt: connection.expiresAt,
        },
      }),
    );
  }

  /**
   * Adds a subscription (both of its items at once). Answers false when the
   * connection is no longer registered: a subscribe that loses the race with its
   * own $disconnect must not leave items nobody will clean up before the TTL.
   */
  async subscribe(connection: Connection, target: SubscriptionTarget): Promise<boolean> {
    const { connectionId, tenantId, expiresAt } = connection;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: { pk: connectionPk(connectionId), sk: META },
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            { Put: { TableName: this.tableName, Item: { pk: subscriptionPk(tenantId, target), sk: connectionId, expiresAt } } },
            {
              Put: {
                TableName: this.tableName,
                Item: { pk: connectionPk(connectionId), sk: `SUB#${targetKey(target)}`, tenantId, target: targetKey(target), expiresAt },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  /** Removes a subscription; removing one that does not exist is not an error. */
  async unsubscribe(connection: Pick<Connection, 'connectionId' | 'tenantId'>, target: SubscriptionTarget): Promise<void> {
    const { connectionId, tenantId } = connection;
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.tableName, Key: { pk: subscriptionPk(tenantId, target), sk: connectionId } } },
          { Delete: { TableName: this.tableName, Key: { pk: connectionPk(connectionId), sk: `SUB#${targetKey(target)}` } } },
        ],
      }),
    );
  }

  /**
   * The connections subscribed to a job of `tenantId`: to that job or to all of
   * the tenant's jobs, each once.
   */
  async subscribers(tenantId: string, jobId: string): Promise<string[]> {
    const [ofJob, ofTenant] = await Promise.all([this.subscribedTo(tenantId, jobId), this.subscribedTo(tenantId, null)]);
    return [...new Set([...ofJob, ...ofTenant])];
  }

  /** The connections subscribed to one job of the tenant, or (`null`) to all its jobs. */
  async subscribedTo(tenantId: string, target: SubscriptionTarget): Promise<string[]> {
    const ids: string[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': subscriptionPk(tenantId, target) },
        ProjectionExpression: 'sk',
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) if (typeof item.sk === 'string') ids.push(item.sk);
    return ids;
  }

  /**
   * The connections opened with a key that has expired by `nowSeconds` (epoch
   * seconds), for the sweeper to close. A scan of the META items: the table holds
   * open connections only (their items go at $disconnect), a few per client.
   */
  async *openedWithExpiredKeys(nowSeconds: number): AsyncGenerator<string> {
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        FilterExpression: 'sk = :meta AND keyExpiresAt <= :now',
        ExpressionAttributeValues: { ':meta': META, ':now': nowSeconds },
        ProjectionExpression: 'pk',
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) if (typeof item.pk === 'string') yield item.pk.replace(/^CONN#/, '');
    }
  }

  /**
   * Removes everything a connection owns. The META item goes first: from then on
   * a racing subscribe fails its condition, so the query below sees every
   * subscription the connection will ever have.
   */
  async remove(connectionId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: connectionPk(connectionId), sk: META } }));
    const keys: Array<{ pk: string; sk: string }> = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': connectionPk(connectionId) },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const subscription = ConnectionSubscription.safeParse(item);
        if (!subscription.success) continue;
        const { sk, tenantId, target } = subscription.data;
        keys.push({ pk: subscriptionPk(tenantId, target === ALL_JOBS ? null : target), sk: connectionId }, { pk: connectionPk(connectionId), sk });
      }
    }
    await this.deleteAll(keys);
  }

  private async deleteAll(keys: Array<{ pk: string; sk: string }>): Promise<void> {
    for (let start = 0; start < keys.length; start += BATCH_SIZE) {
      let requests = keys.slice(start, start + BATCH_SIZE).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 1; requests.length > 0; attempt += 1) {
        if (attempt > BATCH_ATTEMPTS) throw new Error(`could not delete ${requests.length} connection items after ${BATCH_ATTEMPTS} attempts`);
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const { UnprocessedItems } = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }
}
