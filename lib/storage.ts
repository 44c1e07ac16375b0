import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** The Jobs index of one tenant's jobs in one status (partition `tenantStatus` = `<tenantId>#<status>`). */
export const JOBS_BY_STATUS_INDEX = 'byStatus';

export interface StorageProps {
  /**
   * What happens to the tables when they leave the stack.
   * @default RemovalPolicy.DESTROY: this is a personal stack, whose data goes with it;
   * a shared or production stack should pass RETAIN (point-in-time recovery is on either way).
   */
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
  /**
   * Per-tenant items: the active-jobs counter that makes the limit atomic, and the
   * job each Idempotency-Key created, the key's one record (lambdas/commons/jobs/tenants.ts).
   */
  readonly tenantsTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // The AWS managed KMS key (aws/dynamodb): every use of it shows in CloudTrail, and there is no key to manage.
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
    // One tenant's jobs of one status, newest first: list by status and count active jobs without a Scan.
    this.jobsTable.addGlobalSecondaryIndex({
      indexName: JOBS_BY_STATUS_INDEX,
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

    this.tenantsTable = new dynamodb.Table(this, 'TenantsTable', {
      ...common,
      partitionKey: { name: 'tenantId', type: string },
      sortKey: { name: 'sk', type: string },
      timeToLiveAttribute: 'expiresAt',
    });
  }
}
