import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface StorageProps {
  /** @default RemovalPolicy.DESTROY: a personal stack's data goes with it. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The core tables. Every item is owned by a tenant: jobs and models are keyed by
 * tenant first and by a ULID (creation order) second, so "the caller's items,
 * newest first" is one Query and no query can reach another tenant's partition.
 */
export class Storage extends Construct {
  /** Jobs; its stream (NEW_AND_OLD_IMAGES) feeds the WebSocket notifier. */
  readonly jobsTable: dynamodb.Table;
  readonly modelsTable: dynamodb.Table;
  /** API keys by the SHA-256 of the key; the key itself is never stored. */
  readonly apiKeysTable: dynamodb.Table;
  /** Powertools idempotency records for the Idempotency-Key header (24 h). */
  readonly idempotencyTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    };
    const string = dynamodb.AttributeType.STRING;

    this.jobsTable = new dynamodb.Table(this, 'JobsTable', {
      ...common,
      partitionKey: { name: 'tenantId', type: string },
      sortKey: { name: 'jobId', type: string },
      timeToLiveAttribute: 'expiresAt',
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    // `tenantStatus` is `<tenantId>#<status>`: one tenant's jobs of one status, newest first.
    this.jobsTable.addGlobalSecondaryIndex({
      indexName: 'byStatus',
      partitionKey: { name: 'tenantStatus', type: string },
      sortKey: { name: 'jobId', type: string },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.modelsTable = new dynamodb.Table(this, 'ModelsTable', {
      ...common,
      partitionKey: { name: 'tenantId', type: string },
      sortKey: { name: 'modelId', type: string },
      timeToLiveAttribute: 'expiresAt',
    });

    this.apiKeysTable = new dynamodb.Table(this, 'ApiKeysTable', {
      ...common,
      partitionKey: { name: 'keyHash', type: string },
    });

    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      ...common,
      partitionKey: { name: 'id', type: string },
      timeToLiveAttribute: 'expiration',
    });
  }
}
