import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#commons/runtime/clients.js';
import { ValidationFailed } from '#domain/errors.js';
import type { JobEvent } from '#domain/job-events.js';
import * as z from '#domain/zod.js';
import type { ListOptions, Page } from './store.js';

/**
 * The job events table (PK `jobKey` = `<tenantId>#<jobId>`, SK `seq`, TTL
 * `expiresAt`): one item per event of a job's history, written by the jobs-stream
 * consumer (lambdas/history/record-job-events.ts).
 *
 * `seq` is the stream record's sequence number, zero-padded to 40 digits so that
 * text order is number order: a job's changes reach the stream in the order they
 * were written, each with a greater sequence number, so `seq` orders a job's events
 * as they happened, and a record delivered twice (a retried batch) writes the same
 * item again, which the conditional put refuses: never a lost, duplicated or
 * reordered event.
 */

export interface StoredJobEvent extends JobEvent {
  jobKey: string;
  seq: string;
  expiresAt: number;
}

function jobKeyOf(tenantId: string, jobId: string): string {
  return `${tenantId}#${jobId}`;
}

export function sequenceKey(sequenceNumber: string): string {
  if (!/^\d{1,40}$/.test(sequenceNumber)) throw new Error(`not a stream sequence number: ${sequenceNumber}`);
  return sequenceNumber.padStart(40, '0');
}

const PageKey = z.strictObject({ jobKey: z.string(), seq: z.string().check(z.regex(/^\d{40}$/)) });

export class JobEventStore {
  constructor(
    readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = documents,
  ) {}

  /** Writes one event; answers false when it was already written (the same stream record again). */
  async record(tenantId: string, jobId: string, sequenceNumber: string, event: JobEvent, expiresAt: number): Promise<boolean> {
    const item: StoredJobEvent = { jobKey: jobKeyOf(tenantId, jobId), seq: sequenceKey(sequenceNumber), ...event, expiresAt };
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(seq)' }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** A job's events, oldest first. A page token is only accepted for the same job. */
  async list(tenantId: string, jobId: string, options: ListOptions): Promise<Page<JobEvent>> {
    const jobKey = jobKeyOf(tenantId, jobId);
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'jobKey = :jobKey',
        ExpressionAttributeValues: { ':jobKey': jobKey },
        ScanIndexForward: true,
        Limit: options.limit,
        ExclusiveStartKey: decodeToken(options.nextToken, jobKey),
      }),
    );
    const items = ((result.Items ?? []) as StoredJobEvent[]).map(({ jobKey: _key, seq: _seq, expiresAt: _expires, ...event }) => event);
    return { items, nextToken: result.LastEvaluatedKey ? Buffer.from(JSON.stringify(result.LastEvaluatedKey), 'utf8').toString('base64url') : null };
  }
}

function decodeToken(token: string | undefined, jobKey: string): Record<string, string> | undefined {
  if (token === undefined) return undefined;
  const invalid = new ValidationFailed('nextToken is not a token this API gave you', [{ path: 'nextToken', message: 'invalid token' }]);
  try {
    const key = PageKey.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    if (key.jobKey !== jobKey) throw invalid;
    return key;
  } catch {
    throw invalid;
  }
}
