import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#commons/runtime/clients.js';
import * as z from '#domain/zod.js';

/**
 * Per-tenant items in the Tenants table (PK `tenantId`, SK `sk`, TTL `expiresAt`):
 *
 * - `ACTIVE_JOBS`        `activeJobs`: how many of the tenant's jobs are QUEUED or RUNNING;
 *                        `revision`: bumped by every write of the counter; `changedAt`: epoch ms of the last
 * - `REQUEST#<key>`      the job an Idempotency-Key created, with the hash of its request: the key's one
 *                        record, written in the job's create transaction; expired after 24 h
 *
 * The counter is what makes the active-jobs limit atomic: a job is admitted by the
 * same transaction that creates it (a conditional ADD of one), and released by
 * the same transaction that ends it (ADD of minus one), so N concurrent creates
 * admit exactly `limit - active` of them. These are the transaction items; the
 * Lifecycle (store.ts) puts them in its transactions.
 */

export const ACTIVE_JOBS = 'ACTIVE_JOBS';

const requestSk = (idempotencyKey: string) => `REQUEST#${idempotencyKey}`;

/** How long a request item keeps its key bound to its job: as long as the Idempotency-Key promise (24 h). */
export const REQUEST_TTL_SECONDS = 24 * 3600;

const ActiveCounter = z.object({
  activeJobs: z._default(z.number().check(z.int()), 0),
  revision: z._default(z.number().check(z.int()), 0),
  changedAt: z._default(z.number(), 0),
});
const RequestItem = z.object({ jobId: z.string(), requestHash: z.string(), expiresAt: z.number() });
export type RequestRecord = Omit<z.infer<typeof RequestItem>, 'expiresAt'>;

export class TenantStore {
  constructor(
    readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = documents,
  ) {}

  /** The transaction item that takes one active slot, or fails its condition when `limit` are taken. */
  admitItem(tenantId: string, limit: number, now: Date) {
    return {
      Update: {
        TableName: this.tableName,
        Key: { tenantId, sk: ACTIVE_JOBS },
        UpdateExpression: 'SET changedAt = :now ADD activeJobs :one, revision :one',
        ConditionExpression: 'attribute_not_exists(activeJobs) OR activeJobs < :limit',
        ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':now': now.getTime() },
      },
    };
  }

  /** The transaction item that gives a slot back when a job ends. */
  releaseItem(tenantId: string, now: Date) {
    return {
      Update: {
        TableName: this.tableName,
        Key: { tenantId, sk: ACTIVE_JOBS },
        UpdateExpression: 'SET changedAt = :now ADD activeJobs :minusOne, revision :one',
        ExpressionAttributeValues: { ':minusOne': -1, ':one': 1, ':now': now.getTime() },
      },
    };
  }

  /**
   * The transaction item that binds an Idempotency-Key to the job it creates; fails
   * if the key is bound already. A record past its expiry counts as absent: TTL
   * deletes lazily (up to days late), and the key's promise is 24 h, not longer.
   */
  requestItem(tenantId: string, idempotencyKey: string, request: RequestRecord, now: Date) {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    return {
      Put: {
        TableName: this.tableName,
        Item: { tenantId, sk: requestSk(idempotencyKey), ...request, expiresAt: nowSeconds + REQUEST_TTL_SECONDS },
        ConditionExpression: 'attribute_not_exists(sk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': nowSeconds },
      },
    };
  }

  /** The job a key is bound to, if the binding has not expired (TTL may not have deleted it yet). */
  async request(tenantId: string, idempotencyKey: string, now = new Date()): Promise<RequestRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { tenantId, sk: requestSk(idempotencyKey) }, ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    const record = RequestItem.parse(Item);
    return record.expiresAt < Math.floor(now.getTime() / 1000) ? undefined : record;
  }

  /**
   * Frees a key whose job could not be started, so the same key can submit it
   * again; a key bound since to another job is left as it is.
   */
  async releaseRequest(tenantId: string, idempotencyKey: string, jobId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { tenantId, sk: requestSk(idempotencyKey) },
          ConditionExpression: 'jobId = :jobId',
          ExpressionAttributeValues: { ':jobId': jobId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async activeCounter(tenantId: string): Promise<z.infer<typeof ActiveCounter>> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { tenantId, sk: ACTIVE_JOBS }, ConsistentRead: true }));
    return ActiveCounter.parse(Item ?? {});
  }

  /**
   * Sets the counter to `activeJobs` if nothing wrote it since it was read at
   * `revision`; answers whether it did. The revision makes the repair safe against
   * any create or end that happened between the count and this write.
   */
  async correctActive(tenantId: string, counted: { activeJobs: number; revision: number }, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tenantId, sk: ACTIVE_JOBS },
          UpdateExpression: 'SET activeJobs = :active, changedAt = :now ADD revision :one',
          ConditionExpression: 'revision = :revision',
          ExpressionAttributeValues: { ':active': counted.activeJobs, ':revision': counted.revision, ':one': 1, ':now': now.getTime() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
