import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#commons/runtime/clients.js';
import { type DatasetError, type DatasetRecord, isExpired } from '#domain/datasets.js';
import type { ColumnSchema } from '#domain/schema.js';

/**
 * Data access for datasets. Items are keyed by tenant first, so a caller can only
 * ever read its own; every status change is a conditional write tied to the ETag of
 * the object being validated, so a duplicate S3 notification or a retried
 * validation never overwrites a settled result with another object's.
 */
export class DatasetStore {
  constructor(
    readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = documents,
  ) {}

  async create(dataset: DatasetRecord): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: dataset, ConditionExpression: 'attribute_not_exists(datasetId)' }));
  }

  /** The dataset, unless it is unknown or past its expiry (the TTL sweep may lag). */
  async get(tenantId: string, datasetId: string): Promise<DatasetRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { tenantId, datasetId }, ConsistentRead: true }));
    const dataset = Item as DatasetRecord | undefined;
    return dataset && !isExpired(dataset) ? dataset : undefined;
  }

  /**
   * PENDING_UPLOAD -> VALIDATING for the object `etag`. A retry for the same object
   * may take over a validation left unfinished; any other object is refused
   * (undefined): a dataset is validated once, for its first upload.
   */
  async beginValidation(tenantId: string, datasetId: string, etag: string, sizeBytes: number): Promise<DatasetRecord | undefined> {
    return this.update(tenantId, datasetId, {
      UpdateExpression: 'SET #status = :validating, etag = :etag, sizeBytes = :size',
      ConditionExpression: '#status = :pending OR (#status = :validating AND etag = :etag)',
      ExpressionAttributeValues: { ':validating': 'VALIDATING', ':pending': 'PENDING_UPLOAD', ':etag': etag, ':size': sizeBytes },
    });
  }

  /** VALIDATING -> READY with what validation found. */
  async markReady(
    tenantId: string,
    datasetId: string,
    etag: string,
    found: { rows: number; columns: string[]; schema: ColumnSchema[]; statisticsKey: string; compression?: 'gzip' | null | undefined },
  ): Promise<DatasetRecord | undefined> {
    const gzip = found.compression === 'gzip';
    return this.update(tenantId, datasetId, {
      UpdateExpression: `SET #status = :ready, #rows = :rows, #columns = :columns, #schema = :schema, #error = :null, validatedAt = :now, statisticsKey = :statisticsKey${gzip ? ', compression = :gzip' : ''}`,
      ConditionExpression: '#status = :validating AND etag = :etag',
      ExpressionAttributeNames: { '#rows': 'rows', '#columns': 'columns', '#schema': 'schema', '#error': 'error' },
      ExpressionAttributeValues: {
        ':ready': 'READY',
        ':validating': 'VALIDATING',
        ':etag': etag,
        ':rows': found.rows,
        ':columns': found.columns,
        ':schema': found.schema,
        ':null': null,
        ':now': new Date().toISOString(),
        ':statisticsKey': found.statisticsKey,
        ...(gzip ? { ':gzip': 'gzip' } : {}),
      },
    });
  }

  /** VALIDATING -> INVALID with the reason. */
  async markInvalid(tenantId: string, datasetId: string, etag: string, error: DatasetError): Promise<DatasetRecord | undefined> {
    return this.update(tenantId, datasetId, {
      UpdateExpression: 'SET #status = :invalid, #error = :error, validatedAt = :now',
      ConditionExpression: '#status = :validating AND etag = :etag',
      ExpressionAttributeNames: { '#error': 'error' },
      ExpressionAttributeValues: { ':invalid': 'INVALID', ':validating': 'VALIDATING', ':etag': etag, ':error': error, ':now': new Date().toISOString() },
    });
  }

  /**
   * PENDING_UPLOAD or VALIDATING -> INVALID with `error`: the object's validation failed for good (Lambda gave up
   * retrying it), so the dataset would otherwise never settle. A dataset already READY or INVALID is left as it is.
   */
  async markValidationFailed(tenantId: string, datasetId: string, error: DatasetError): Promise<DatasetRecord | undefined> {
    return this.update(tenantId, datasetId, {
      UpdateExpression: 'SET #status = :invalid, #error = :error, validatedAt = :now',
      ConditionExpression: '#status IN (:pending, :validating)',
      ExpressionAttributeNames: { '#error': 'error' },
      ExpressionAttributeValues: {
        ':invalid': 'INVALID',
        ':pending': 'PENDING_UPLOAD',
        ':validating': 'VALIDATING',
        ':error': error,
        ':now': new Date().toISOString(),
      },
    });
  }

  /**
   * Records that the multipart upload `uploadId` was completed, once: undefined when it was completed already (or the
   * dataset is unknown, or has another upload), so of two concurrent completions one answers 409.
   */
  async markUploadCompleted(tenantId: string, datasetId: string, uploadId: string): Promise<DatasetRecord | undefined> {
    return this.update(tenantId, datasetId, {
      UpdateExpression: 'SET #multipart.#completedAt = :now',
      // The status is not a condition: validation may already have started (S3 announces the object at once).
      ConditionExpression: 'attribute_exists(#status) AND #multipart.#uploadId = :uploadId AND #multipart.#completedAt = :null',
      ExpressionAttributeNames: { '#multipart': 'multipart', '#uploadId': 'uploadId', '#completedAt': 'completedAt' },
      ExpressionAttributeValues: { ':uploadId': uploadId, ':null': null, ':now': new Date().toISOString() },
    });
  }

  private async update(
    tenantId: string,
    datasetId: string,
    update: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<DatasetRecord | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tenantId, datasetId },
          ...update,
          // The item must exist: an update would otherwise create a bare one for a key this service never issued.
          ConditionExpression: `attribute_exists(datasetId) AND (${update.ConditionExpression})`,
          ExpressionAttributeNames: { '#status': 'status', ...update.ExpressionAttributeNames },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as DatasetRecord;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}
