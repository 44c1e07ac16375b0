import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DATASETS_PREFIX, SCANS_PREFIX } from '#domain/object-keys.js';
import { useTable } from './app-function.js';
import { DatasetScan } from './dataset-scan.js';
import { acknowledgeWildcardResource } from './nag.js';

/** Why a grant on every dataset object is the narrowest there is (cdk-nag). */
const DATASET_OBJECTS = `Dataset objects are ${DATASETS_PREFIX}<tenant>/<datasetId>.csv, named at run time; the grant covers that prefix of this bucket only.`;

/** What a function factory needs to build one of this construct's functions. */
export interface DatasetFunctionOptions {
  readonly entry: string;
  readonly environment: Record<string, string>;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly description?: string;
}

export interface DatasetsProps {
  /** The REST API that gets `POST /datasets` and `GET /datasets/{datasetId}`. */
  readonly api: apigateway.RestApi;
  /** The API's shared TOKEN authorizer: every dataset route needs an API key. */
  readonly authorizer: apigateway.IAuthorizer;
  /** Builds a function with the project's defaults (runtime, bundling, Powertools, `app:entry`). */
  readonly newFunction: (scope: Construct, id: string, options: DatasetFunctionOptions) => lambda.Function;
  /** `POST /jobs`: checks that a job's dataset is the caller's and READY. */
  readonly createJobFunction: lambda.Function;
  /** The training task: streams a dataset's object from S3. */
  readonly trainFunction: lambda.Function;
  /** Days a dataset (object and record) is kept. Default 7. */
  readonly retentionDays?: number;
  /** Environment every function shares (limits), so the upload policy and the checks agree. */
  readonly sharedEnvironment?: Record<string, string>;
  /** Ranges of one dataset scanned at once (the Distributed Map's MaxConcurrency). @default 10 */
  readonly scanConcurrency?: number;
  /** Bytes per scanned range (fewer, larger ranges when a file would need more than `scanMaxRanges`). @default 64 MiB */
  readonly scanRangeBytes?: number;
  /** Most ranges one scan is cut into. @default 1,000 */
  readonly scanMaxRanges?: number;
  /**
   * The largest dataset accepted, in bytes: `POST /datasets` refuses a larger declared size, and the validation
   * refuses a larger object (HeadObject, after upload). Default 100 GB.
   */
  readonly maxDatasetBytes?: number;
  /**
   * Above this declared size an upload is an S3 multipart upload; at or below it, one presigned POST. Default and
   * maximum 5 GiB, what one POST may carry; lower it only to try multipart uploads with small files.
   */
  readonly multipartThresholdBytes?: number;
  /**
   * The part size multipart uploads start from (larger when a file would need more than 1,000 parts). Default
   * 100 MiB. S3 refuses parts under 5 MiB but the last: smaller values only work against the offline S3 with a
   * matching `LOCAL_S3_MIN_PART_BYTES`, for tests.
   */
  readonly multipartPartBytes?: number;
}

/** 100 GB: the default largest dataset. */
export const DEFAULT_MAX_DATASET_BYTES = 100 * 1000 ** 3;
/** 5 GiB, the most one presigned POST may carry: the default multipart threshold. */
export const DEFAULT_MULTIPART_THRESHOLD_BYTES = 5 * 1024 ** 3;
/** 100 MiB parts: 1,000 of them make 100 GB, the default limit. */
export const DEFAULT_MULTIPART_PART_BYTES = 100 * 1024 ** 2;

/**
 * Uploaded CSV datasets: a private bucket for the objects, a table for their
 * state, the upload and status routes, and the validation function that S3 calls
 * for each new object. Each function gets only the access its handler uses.
 */
export class Datasets extends Construct {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.Table;
  readonly createDatasetFunction: lambda.Function;
  readonly getDatasetFunction: lambda.Function;
  readonly validateDatasetFunction: lambda.Function;
  /** `GET /datasets/{datasetId}/parts`: the parts of a multipart upload S3 holds, and URLs for the others. */
  readonly uploadPartsFunction: lambda.Function;
  /** `POST /datasets/{datasetId}/complete`: completes a multipart upload. */
  readonly completeUploadFunction: lambda.Function;
  /** Where Lambda sends a validation that failed for good (after its retries), as an on-failure destination record. */
  readonly validationFailures: sqs.Queue;
  /** What `validationFailedFunction` could not record ends here (the stack alarms on it). */
  readonly validationDeadLetters: sqs.Queue;
  /** The datasets bucket's server access logs (the stack's other buckets log here too). */
  readonly accessLogs: s3.Bucket;
  /** Reads `validationFailures` and marks each such dataset INVALID. */
  readonly validationFailedFunction: lambda.Function;
  /** The dataset scan: plan, a Distributed Map over byte ranges, merge. */
  readonly scan: DatasetScan;

  constructor(scope: Construct, id: string, props: DatasetsProps) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 7;
    if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error(`retentionDays must be a whole number of days >= 1, got ${retentionDays}`);
    const maxDatasetBytes = props.maxDatasetBytes ?? DEFAULT_MAX_DATASET_BYTES;
    const multipartThresholdBytes = props.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD_BYTES;
    const multipartPartBytes = props.multipartPartBytes ?? DEFAULT_MULTIPART_PART_BYTES;
    for (const [name, value] of Object.entries({ maxDatasetBytes, multipartThresholdBytes, multipartPartBytes })) {
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`Datasets: ${name} must be a whole number of bytes >= 1, got ${value}`);
    }
    if (multipartThresholdBytes > DEFAULT_MULTIPART_THRESHOLD_BYTES) {
      throw new Error(
        `Datasets: multipartThresholdBytes must be at most ${DEFAULT_MULTIPART_THRESHOLD_BYTES} (5 GiB, one POST's limit), got ${multipartThresholdBytes}`,
      );
    }
    // 1,000 parts (lambdas/commons/datasets/multipart.ts) of at most 5 GiB each.
    if (maxDatasetBytes > 1000 * 5 * 1024 ** 3)
      throw new Error(`Datasets: maxDatasetBytes must be at most 5,000 GiB (1,000 parts of 5 GiB), got ${maxDatasetBytes}`);

    // Log delivery through a bucket policy, whatever the app's feature flags: the ACL the old default
    // uses cannot coexist with BucketOwnerEnforced (no ACLs) on the log bucket.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    // S3 cannot log a bucket into itself: access logs go to their own bucket, which logs nowhere.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    this.accessLogs = accessLogs;
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access log bucket of the datasets bucket; logging it into itself would loop.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'datasets-bucket/',
      // Versioned, so an object overwritten or deleted by mistake can be recovered for a day (Control Tower CT.S3.PR.11).
      versioned: true,
      // Datasets are working copies: they expire with their record (the table's TTL).
      lifecycleRules: [
        { prefix: DATASETS_PREFIX, expiration: Duration.days(retentionDays) },
        { prefix: SCANS_PREFIX, expiration: Duration.days(retentionDays) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { noncurrentVersionExpiration: Duration.days(1), expiredObjectDeleteMarker: true },
      ],
      // Browsers upload straight to S3: the presigned POST, or each part's presigned PUT, whose ETag they must read.
      cors: [
        { allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.PUT], allowedOrigins: ['*'], allowedHeaders: ['*'], exposedHeaders: ['ETag'], maxAge: 3000 },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'datasetId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const shared = { ...props.sharedEnvironment, LIMIT_MAX_DATASET_BYTES: String(maxDatasetBytes) };
    const uploadSettings = { DATASET_MULTIPART_THRESHOLD_BYTES: String(multipartThresholdBytes), DATASET_PART_BYTES: String(multipartPartBytes) };
    const bucketName = { DATASETS_BUCKET_NAME: this.bucket.bucketName };
    const objects = this.bucket.arnForObjects(`${DATASETS_PREFIX}*`);
    const readObjects = (fn: lambda.Function) => this.grantReadPrefix(fn, DATASETS_PREFIX, DATASET_OBJECTS);

    this.createDatasetFunction = props.newFunction(this, 'CreateDataset', {
      entry: 'lambdas/datasets/create-dataset.ts',
      description: 'POST /datasets: registers a dataset and presigns its upload',
      environment: { ...shared, ...bucketName, ...uploadSettings, DATASET_RETENTION_DAYS: String(retentionDays) },
    });
    useTable(this.createDatasetFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:PutItem']);
    // A presigned POST or UploadPart URL carries this role's signature: the role itself must be allowed the upload it
    // signs (s3:PutObject covers PutObject, POST, CreateMultipartUpload and UploadPart). It aborts an upload it
    // started and could not record.
    this.createDatasetFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [objects] }));
    this.acknowledgePrefix(this.createDatasetFunction, objects);

    // Resuming a multipart upload: ListParts, and new part URLs (signed by this role, hence s3:PutObject).
    this.uploadPartsFunction = props.newFunction(this, 'UploadParts', {
      entry: 'lambdas/datasets/upload-parts.ts',
      description: 'GET /datasets/{datasetId}/parts: the parts of a multipart upload S3 holds, and URLs for the others',
      environment: { ...shared, ...bucketName },
    });
    useTable(this.uploadPartsFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:GetItem']);
    this.uploadPartsFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListMultipartUploadParts', 's3:PutObject'], resources: [objects] }));
    this.acknowledgePrefix(this.uploadPartsFunction, objects);

    // CompleteMultipartUpload is authorised as s3:PutObject; it lists the parts (ListParts) to check their sizes and
    // aborts an upload whose parts are larger than declared.
    this.completeUploadFunction = props.newFunction(this, 'CompleteUpload', {
      entry: 'lambdas/datasets/complete-upload.ts',
      description: 'POST /datasets/{datasetId}/complete: completes a multipart upload',
      environment: { ...shared, ...bucketName },
    });
    useTable(this.completeUploadFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    this.completeUploadFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], resources: [objects] }),
    );
    this.acknowledgePrefix(this.completeUploadFunction, objects);

    this.getDatasetFunction = props.newFunction(this, 'GetDataset', {
      entry: 'lambdas/datasets/get-dataset.ts',
      description: 'GET /datasets/{datasetId}',
      environment: shared,
    });
    useTable(this.getDatasetFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:GetItem']);

    // The scan: a plan, one child per byte range (each a full vCPU, reading in one pass), a merge of their partials.
    const scanObjects = this.bucket.arnForObjects(`${SCANS_PREFIX}*`);
    const SCAN_OBJECTS = `Scan objects are ${SCANS_PREFIX}<tenant>/<datasetId>/<etag>/…, named at run time; the grant covers that prefix of this bucket only.`;
    const planFunction = props.newFunction(this, 'PlanScan', {
      entry: 'lambdas/datasets/plan-scan.ts',
      description: 'Dataset scan: cuts an uploaded object into byte ranges',
      environment: {
        ...shared,
        ...bucketName,
        SCAN_RANGE_BYTES: String(props.scanRangeBytes ?? 64 * 1024 * 1024),
        SCAN_MAX_RANGES: String(props.scanMaxRanges ?? 1_000),
      },
    });
    readObjects(planFunction);
    const rangeFunction = props.newFunction(this, 'ScanRange', {
      entry: 'lambdas/datasets/scan-range.ts',
      description: 'Dataset scan: validates one byte range and writes its partial statistics',
      environment: { ...shared, ...bucketName },
      timeout: Duration.minutes(15),
      memorySize: 1769,
    });
    readObjects(rangeFunction);
    rangeFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [scanObjects] }));
    this.acknowledgePrefix(rangeFunction, scanObjects, SCAN_OBJECTS);
    const mergeFunction = props.newFunction(this, 'MergeScan', {
      entry: 'lambdas/datasets/merge-scan.ts',
      description: "Dataset scan: merges the ranges' partials; READY with statistics or INVALID",
      environment: { ...shared, ...bucketName },
      timeout: Duration.minutes(4),
      memorySize: 1769,
    });
    useTable(mergeFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:UpdateItem']);
    mergeFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [scanObjects] }));
    this.acknowledgePrefix(mergeFunction, scanObjects, SCAN_OBJECTS);
    const failedFunction = props.newFunction(this, 'ScanFailed', {
      entry: 'lambdas/datasets/scan-failed.ts',
      description: 'Dataset scan: marks the dataset INVALID when a step failed for good',
      environment: shared,
    });
    useTable(failedFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:UpdateItem']);
    this.scan = new DatasetScan(this, 'Scan', {
      planFunction,
      rangeFunction,
      mergeFunction,
      failedFunction,
      ...(props.scanConcurrency === undefined ? {} : { maxConcurrency: props.scanConcurrency }),
    });

    // Starts the scan of each uploaded object, once.
    this.validateDatasetFunction = props.newFunction(this, 'ValidateDataset', {
      entry: 'lambdas/datasets/validate-dataset.ts',
      description: 'Checks the size of each uploaded dataset and starts its scan',
      environment: { ...shared, SCAN_STATE_MACHINE_ARN: this.scan.stateMachine.stateMachineArn },
    });
    useTable(this.validateDatasetFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:UpdateItem']);
    readObjects(this.validateDatasetFunction);
    // It deletes an object over its size limit (or its declared size), which no dataset may use.
    this.validateDatasetFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [objects] }));
    this.scan.stateMachine.grantStartExecution(this.validateDatasetFunction);
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.validateDatasetFunction), {
      prefix: DATASETS_PREFIX,
      suffix: '.csv',
    });

    // S3 invokes the validation asynchronously: Lambda retries a failed invocation twice, then drops the event, which
    // would leave the dataset VALIDATING for good. The failure goes to a queue instead, and a function marks the
    // dataset INVALID (VALIDATION_FAILED) from it; what that function cannot handle ends in a dead-letter queue.
    const unhandledFailures = new sqs.Queue(this, 'ValidationFailuresDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.validationDeadLetters = unhandledFailures;
    this.validationFailures = new sqs.Queue(this, 'ValidationFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: unhandledFailures, maxReceiveCount: 5 },
    });
    this.validateDatasetFunction.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.validationFailures),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    this.validationFailedFunction = props.newFunction(this, 'ValidationFailed', {
      entry: 'lambdas/datasets/validation-failed.ts',
      description: 'Marks a dataset INVALID when its validation failed for good (the validation function on-failure queue)',
      environment: shared,
    });
    useTable(this.validationFailedFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:UpdateItem']);
    this.validationFailedFunction.addEventSource(new SqsEventSource(this.validationFailures, { batchSize: 10, reportBatchItemFailures: true }));
    Validations.of(unhandledFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the validation failures queue; it keeps what could not be recorded for inspection.',
    });

    // Jobs on datasets: create-job checks the dataset; training reads its statistics, and the uploaded object itself
    // for a job with a category feature (the design pass, lambdas/commons/datasets/training.ts).
    useTable(props.createJobFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:GetItem']);
    useTable(props.trainFunction, 'DATASETS_TABLE_NAME', this.table, ['dynamodb:GetItem']);
    props.trainFunction.addEnvironment('DATASETS_BUCKET_NAME', this.bucket.bucketName);
    readObjects(props.trainFunction);
    props.trainFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [scanObjects] }));
    this.acknowledgePrefix(props.trainFunction, scanObjects, SCAN_OBJECTS);

    const datasets = props.api.root.addResource('datasets');
    const authorized = { authorizer: props.authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM };
    datasets.addMethod('POST', new apigateway.LambdaIntegration(this.createDatasetFunction, { allowTestInvoke: false }), authorized);
    const dataset = datasets.addResource('{datasetId}');
    dataset.addMethod('GET', new apigateway.LambdaIntegration(this.getDatasetFunction, { allowTestInvoke: false }), authorized);
    dataset.addResource('parts').addMethod('GET', new apigateway.LambdaIntegration(this.uploadPartsFunction, { allowTestInvoke: false }), authorized);
    dataset.addResource('complete').addMethod('POST', new apigateway.LambdaIntegration(this.completeUploadFunction, { allowTestInvoke: false }), authorized);

    this.acknowledgeNotificationsHandler();
  }

  /**
   * Lets `fn` read the bucket's objects under `prefix` (which ends in `/`): GetObject on them, and ListBucket limited
   * by `s3:prefix` to the same keys. S3 answers a missing object with 404 (NoSuchKey / NotFound) only to a caller that
   * may list it, and with 403 AccessDenied otherwise; it checks the listing right with the object's key as the
   * `s3:prefix`, so the condition keeps the 404 without letting `fn` list anything outside the prefix.
   * `reason` says why the wildcard on the prefix is the narrowest grant there is (cdk-nag).
   */
  grantReadPrefix(fn: lambda.Function, prefix: string, reason: string): void {
    if (!prefix.endsWith('/')) throw new Error(`Datasets.grantReadPrefix: the prefix must end with /, got ${prefix}`);
    const objects = this.bucket.arnForObjects(`${prefix}*`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': `${prefix}*` } } }),
    );
    this.acknowledgePrefix(fn, objects, reason);
  }

  /** Object keys name a tenant and a dataset, known only at run time: a grant on the prefix is the narrowest there is. */
  private acknowledgePrefix(fn: lambda.Function, objects: string, reason = DATASET_OBJECTS): void {
    if (!fn.role) throw new Error(`Datasets: function ${fn.node.id} has no role to grant`);
    acknowledgeWildcardResource(fn.role, objects, reason);
  }

  /** CDK's own singleton that writes the bucket's notification configuration at deploy time. */
  private acknowledgeNotificationsHandler(): void {
    const handler = Stack.of(this).node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (!handler) return;
    Validations.of(handler).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'CDK-managed deploy-time handler (bucket notifications): it only needs basic Lambda logging.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'CDK-managed deploy-time handler: its s3:PutBucketNotification grant is on * by construction, and it runs only during deployments.',
      },
    );
  }
}
