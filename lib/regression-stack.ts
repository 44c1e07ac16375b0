import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { DATASETS_PREFIX, INLINE_DATA_PREFIX } from '#domain/object-keys.js';
import type { TenantLimits } from '#domain/rate-limits.js';
import { AppFunction, type AppFunctionProps, PROJECT_ROOT, useTable } from './app-function.js';
import { Console } from './console.js';
import { Datasets, type DatasetsProps, DEFAULT_MAX_DATASET_BYTES } from './datasets.js';
import { JobHistory } from './job-history.js';
import { Monitoring } from './monitoring.js';
import { acknowledgeEnterpriseControls, acknowledgeGuardFinding, acknowledgeWildcardResource } from './nag.js';
import { addProviderLogGroups } from './provider-logs.js';
import { Realtime } from './realtime.js';
import { RestApi, type RestApiThrottle } from './rest-api.js';
import { JOBS_BY_STATUS_INDEX, Storage } from './storage.js';
import { TrainingWorkflow } from './training-workflow.js';

export interface RegressionStackProps extends StackProps {
  /** Days jobs and models are kept before DynamoDB's TTL removes them. @default 30 */
  readonly retentionDays?: number;
  /** Subscribed to the topic every alarm notifies. @default the `alarmEmail` context value, else no subscription */
  readonly alarmEmail?: string;
  /** Byte ranges of one dataset scanned at once (docs/design.md, "The dataset scan"). @default 10 */
  readonly scanConcurrency?: number;
  /** Bytes per scanned range. @default 64 MiB */
  readonly scanRangeBytes?: number;
  /**
   * The dataset size limit and how uploads are split (lib/datasets.ts). @default the context values
   * `datasetMaxBytes`, `datasetMultipartThresholdBytes` and `datasetPartBytes`, else 100 GB, 5 GiB and 100 MiB
   */
  readonly datasetUploads?: DatasetUploadProps;
}

export type DatasetUploadProps = Pick<DatasetsProps, 'maxDatasetBytes' | 'multipartThresholdBytes' | 'multipartPartBytes'>;

/** Upload settings from the CDK context (`-c datasetPartBytes=…` gives a string; CDK_CONTEXT_JSON may give a number). */
function datasetUploadsFromContext(scope: Construct): DatasetUploadProps {
  const read = (name: string): number | undefined => {
    const value = scope.node.tryGetContext(name) as unknown;
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isSafeInteger(number)) throw new Error(`context ${name} must be a whole number of bytes, got ${String(value)}`);
    return number;
  };
  const settings = {
    maxDatasetBytes: read('datasetMaxBytes'),
    multipartThresholdBytes: read('datasetMultipartThresholdBytes'),
    multipartPartBytes: read('datasetPartBytes'),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

const VERSION = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The whole service: tables, the training workflow, the REST API and its handlers,
 * live notifications over WebSocket and uploaded datasets. Each concern is its own
 * construct; this stack wires them together and grants each function only what its
 * handler does (the contract's table of handlers, environment and grants).
 */
export class RegressionStack extends Stack {
  constructor(scope: Construct, id: string, props: RegressionStackProps = {}) {
    super(scope, id, props);
    const retentionDays = props.retentionDays ?? 30;
    if (!Number.isInteger(retentionDays) || retentionDays < 1)
      throw new Error(`RegressionStack: retentionDays must be a whole number >= 1; got ${retentionDays}`);

    const { jobsTable, modelsTable, apiKeysTable, tenantsTable } = new Storage(this, 'Storage');
    // How the realtime and datasets constructs build their functions: with the same defaults as every other.
    const newFunction = (parent: Construct, name: string, options: AppFunctionProps): lambda.Function => new AppFunction(parent, name, options);

    // Every end of a job gives its tenant's active-job slot back in the same transaction (ADD -1 on the counter).
    const releasesSlots = (fn: lambda.Function) => useTable(fn, 'TENANTS_TABLE_NAME', tenantsTable, ['dynamodb:UpdateItem']);

    // Training: the workflow's two tasks. Both end a job and settle its model in one transaction.
    const trainingTimeout = Duration.minutes(15);
    const trainFunction = new AppFunction(this, 'TrainFunction', {
      entry: 'lambdas/train/train.ts',
      timeout: trainingTimeout,
      memorySize: 1769, // one full vCPU: fitting is CPU-bound
      description: 'Trains one job: one pass over its data, fit, store the model',
    });
    useTable(trainFunction, 'JOBS_TABLE_NAME', jobsTable, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    // PutItem: the models of a regularisation path past the first (docs/design.md, Large datasets) are written by training.
    useTable(trainFunction, 'MODELS_TABLE_NAME', modelsTable, ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    releasesSlots(trainFunction);
    const markFailedFunction = new AppFunction(this, 'MarkFailedFunction', {
      entry: 'lambdas/train/mark-failed.ts',
      description: 'Marks a job FAILED after its training task failed for good',
    });
    useTable(markFailedFunction, 'JOBS_TABLE_NAME', jobsTable, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    useTable(markFailedFunction, 'MODELS_TABLE_NAME', modelsTable, ['dynamodb:UpdateItem']);
    releasesSlots(markFailedFunction);
    const workflow = new TrainingWorkflow(this, 'Training', { trainFunction, markFailedFunction, trainingTimeout });
    const { stateMachine } = workflow;

    // The sweeper: every few minutes, starts a job stranded QUEUED before its execution started (POST /jobs died
    // between its two steps), and fails one whose execution ended without settling it (lambdas/train/sweep-jobs.ts).
    const sweepJobs = new AppFunction(this, 'SweepJobsFunction', {
      entry: 'lambdas/train/sweep-jobs.ts',
      timeout: Duration.minutes(2),
      description: 'Starts or fails jobs stranded QUEUED or RUNNING without a running execution',
      environment: { STATE_MACHINE_ARN: stateMachine.stateMachineArn, SWEEP_QUEUED_GRACE_SECONDS: '300' },
    });
    useTable(sweepJobs, 'JOBS_TABLE_NAME', jobsTable, ['dynamodb:Scan', 'dynamodb:UpdateItem']);
    useTable(sweepJobs, 'MODELS_TABLE_NAME', modelsTable, ['dynamodb:UpdateItem']);
    releasesSlots(sweepJobs);
    workflow.grantStartExecution(sweepJobs);
    workflow.grantDescribeExecution(sweepJobs);
    new events.Rule(this, 'SweepSchedule', {
      description: 'Runs the stranded-jobs sweeper',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(sweepJobs, { retryAttempts: 2, maxEventAge: Duration.minutes(10) })],
    });

    // The REST API's handlers.
    const health = new AppFunction(this, 'HealthFunction', { entry: 'lambdas/api/health.ts', environment: { APP_VERSION: VERSION } });
    // Serves the OpenAPI document bundled into it: no table, no grant, the smallest memory size.
    const openApiDocument = new AppFunction(this, 'OpenApiFunction', {
      entry: 'lambdas/api/openapi.ts',
      memorySize: 128,
      description: 'GET /openapi.json: the REST API OpenAPI document',
    });

    const createJob = new AppFunction(this, 'CreateJobFunction', {
      entry: 'lambdas/api/create-job.ts',
      environment: { STATE_MACHINE_ARN: stateMachine.stateMachineArn, RETENTION_DAYS: String(retentionDays) },
    });
    // Puts the job, reads it back for a replayed Idempotency-Key, counts the tenant's active jobs (Query, the
    // counter's repair path), settles it if the start fails.
    useTable(createJob, 'JOBS_TABLE_NAME', jobsTable, ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    useTable(createJob, 'MODELS_TABLE_NAME', modelsTable, ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // The active-jobs counter (take a slot, read and correct it, give it back) and the Idempotency-Key's job (put in the create transaction, get, delete when its job could not start).
    useTable(createJob, 'TENANTS_TABLE_NAME', tenantsTable, ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']);
    workflow.grantStartExecution(createJob);

    const getJob = new AppFunction(this, 'GetJobFunction', { entry: 'lambdas/api/get-job.ts' });
    useTable(getJob, 'JOBS_TABLE_NAME', jobsTable, ['dynamodb:GetItem']);
    const listJobs = new AppFunction(this, 'ListJobsFunction', { entry: 'lambdas/api/list-jobs.ts' });
    useTable(listJobs, 'JOBS_TABLE_NAME', jobsTable, ['dynamodb:Query'], [JOBS_BY_STATUS_INDEX]);
    const cancelJob = new AppFunction(this, 'CancelJobFunction', { entry: 'lambdas/api/cancel-job.ts' });
    useTable(cancelJob, 'JOBS_TABLE_NAME', jobsTable, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    useTable(cancelJob, 'MODELS_TABLE_NAME', modelsTable, ['dynamodb:UpdateItem']);
    releasesSlots(cancelJob);
    workflow.grantStopExecution(cancelJob);

    const getModel = new AppFunction(this, 'GetModelFunction', { entry: 'lambdas/api/get-model.ts' });
    useTable(getModel, 'MODELS_TABLE_NAME', modelsTable, ['dynamodb:GetItem']);
    const listModels = new AppFunction(this, 'ListModelsFunction', { entry: 'lambdas/api/list-models.ts' });
    useTable(listModels, 'MODELS_TABLE_NAME', modelsTable, ['dynamodb:Query']);
    const predict = new AppFunction(this, 'PredictFunction', { entry: 'lambdas/api/predict.ts' });
    useTable(predict, 'MODELS_TABLE_NAME', modelsTable, ['dynamodb:GetItem']);

    const authorizerFunction = new AppFunction(this, 'AuthorizerFunction', {
      entry: 'lambdas/auth/authorizer.ts',
      description: 'API key -> tenant, for the REST API and the WebSocket $connect',
    });
    useTable(authorizerFunction, 'API_KEYS_TABLE_NAME', apiKeysTable, ['dynamodb:GetItem']);
    // Each tenant's API Gateway key (its usage plan) has this prefix and the tenant id as its value.
    authorizerFunction.addEnvironment('USAGE_IDENTIFIER_PREFIX', `${this.stackName}-tenant-`);

    const rest = new RestApi(this, 'Http', {
      functions: { health, openApiDocument, createJob, listJobs, getJob, cancelJob, listModels, getModel, predict },
      authorizerFunction,
      // docs/operations.md, Rate limits: the stage's throttling and every tenant's default plan, set at deploy time
      // (`-c apiThrottle='{"rateLimit":…,"burstLimit":…}'`, `-c tenantLimits='{…,"dailyQuota":…}'`); RestApi checks them.
      throttle: jsonContext<RestApiThrottle>(this, 'apiThrottle'),
      tenantLimits: jsonContext<TenantLimits>(this, 'tenantLimits'),
    });

    const realtime = new Realtime(this, 'Realtime', { newFunction, jobsTable, authorizerFunction, apiGatewayAccount: rest.cloudWatchAccount });
    const datasetUploads = props.datasetUploads ?? datasetUploadsFromContext(this);
    const datasets = new Datasets(this, 'Datasets', {
      api: rest.api,
      authorizer: rest.authorizer,
      newFunction,
      createJobFunction: createJob,
      trainFunction,
      ...(props.scanConcurrency === undefined ? {} : { scanConcurrency: props.scanConcurrency }),
      ...(props.scanRangeBytes === undefined ? {} : { scanRangeBytes: props.scanRangeBytes }),
      ...datasetUploads,
    });

    const jobResource = rest.api.root.resourceForPath('jobs/{jobId}');
    const history = new JobHistory(this, 'History', { jobsTable, jobResource, authorizer: rest.authorizer, newFunction });

    // Every handler behind the authorizer checks the key itself when a request arrives without the authorizer's
    // context (a stage deployed without it, as on LocalStack's free edition): the same lookup, GetItem by key hash.
    const authenticated = [
      createJob,
      listJobs,
      getJob,
      cancelJob,
      listModels,
      getModel,
      predict,
      datasets.createDatasetFunction,
      datasets.getDatasetFunction,
      datasets.uploadPartsFunction,
      datasets.completeUploadFunction,
      history.listFunction,
    ];
    for (const fn of [...authenticated, realtime.connectFunction]) useTable(fn, 'API_KEYS_TABLE_NAME', apiKeysTable, ['dynamodb:GetItem']);

    // Readiness (GET /health?deep=true): one metadata call to each dependency, and no data read.
    health.addEnvironment('JOBS_TABLE_NAME', jobsTable.tableName);
    health.addEnvironment('DATASETS_BUCKET_NAME', datasets.bucket.bucketName);
    health.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    health.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [jobsTable.tableArn] }));
    health.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [datasets.bucket.bucketArn] }));
    health.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:DescribeStateMachine'], resources: [stateMachine.stateMachineArn] }));

    // Each job's inline points: one object in the datasets' private bucket, kept as long as the job.
    const inlineObjects = datasets.bucket.arnForObjects(`${INLINE_DATA_PREFIX}*`);
    datasets.bucket.addLifecycleRule({ prefix: INLINE_DATA_PREFIX, expiration: Duration.days(retentionDays) });
    createJob.addEnvironment('DATASETS_BUCKET_NAME', datasets.bucket.bucketName);
    // DeleteObject: a create that fails after writing the points removes them (lambdas/api/create-job.ts).
    createJob.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:DeleteObject'], resources: [inlineObjects] }));
    const inlineReason = `Each job's inline points are one object under ${INLINE_DATA_PREFIX}<tenant>/, named at run time; nothing else in the bucket.`;
    acknowledgeWildcardResource(createJob.role, inlineObjects, inlineReason);
    datasets.grantReadPrefix(trainFunction, INLINE_DATA_PREFIX, inlineReason);

    // Alarms on every failure an operator must act on, one topic for them all, and the operations dashboard.
    const functions = Object.fromEntries(
      this.node
        .findAll()
        .filter((construct): construct is AppFunction => construct instanceof AppFunction)
        .map((fn) => [
          fn.node.path
            .split('/')
            .slice(1)
            .join('')
            .replace(/Function$/, ''),
          fn,
        ]),
    );
    const monitoring = new Monitoring(this, 'Monitoring', {
      functions,
      streamConsumers: { Notify: realtime.notifyFunction, HistoryRecorder: history.recordFunction },
      failureQueues: {
        FailedNotifications: { queue: realtime.failedNotifications, what: 'The notifier gave up on jobs-stream records: some clients missed job updates.' },
        FailedHistoryRecords: {
          queue: history.failedRecords,
          what: "The history recorder gave up on jobs-stream records: some jobs' event histories have gaps.",
        },
        DatasetValidationDeadLetters: {
          queue: datasets.validationDeadLetters,
          what: 'A dataset validation failure could not even be recorded: that dataset may stay VALIDATING.',
        },
      },
      stateMachine,
      api: rest.api,
      tables: {
        Jobs: jobsTable,
        Models: modelsTable,
        ApiKeys: apiKeysTable,
        JobEvents: history.table,
        Datasets: datasets.table,
        Connections: realtime.connectionsTable,
        Tenants: tenantsTable,
      },
      alarmEmail: props.alarmEmail ?? (this.node.tryGetContext('alarmEmail') as string | undefined),
    });

    // Every endpoint and table, for clients, scripts (npm run api-key) and the end-to-end tests.
    const output = (name: string, value: string, description?: string) => new CfnOutput(this, name, { value, description });
    output('ApiUrl', rest.api.url, 'REST API base URL (ends with /v1/)');
    output('DefaultUsagePlanId', rest.defaultUsagePlan.usagePlanId, "Every tenant's API Gateway key joins this plan (npm run api-key)");
    output('JobsTableName', jobsTable.tableName);
    output('ModelsTableName', modelsTable.tableName);
    output('ApiKeysTableName', apiKeysTable.tableName, 'npm run api-key -- create <tenant> --stack <name> writes here');
    output('TenantsTableName', tenantsTable.tableName);
    output('StateMachineArn', stateMachine.stateMachineArn);
    output('StateMachineName', stateMachine.stateMachineName);
    output('DatasetsBucketName', datasets.bucket.bucketName);
    output('DatasetsTableName', datasets.table.tableName);
    output('JobEventsTableName', history.table.tableName);
    // The browser console (docs/operations.md, "Console"): static files behind CloudFront, calling the two APIs above.
    const site = new Console(this, 'Console', {
      apiUrl: rest.api.url,
      webSocketUrl: realtime.stage.url,
      maxDatasetBytes: datasetUploads.maxDatasetBytes ?? DEFAULT_MAX_DATASET_BYTES,
      uploadBucket: datasets.bucket,
      accessLogsBucket: datasets.accessLogs,
    });
    output('ConsoleUrl', site.url, 'The console: open it and paste an API key');
    output('AlarmTopicArn', monitoring.topic.topicArn, 'Every alarm notifies this topic: subscribe to it, or deploy with -c alarmEmail=<address>');

    // Control Tower's proactive controls (lib/nag.ts): what a personal stack acknowledges, each with its reason.
    acknowledgeEnterpriseControls(this);
    const invokedByApiGateway =
      'API Gateway (the service principal) may invoke the function only for this API: the permission names its execute-api ARN as SourceArn, and test invocations from the console are not allowed (allowTestInvoke: false).';
    for (const scope of [rest.api, realtime.webSocketApi, authorizerFunction]) {
      acknowledgeGuardFinding(scope, 'lambda_function_public_access_prohibited_check', invokedByApiGateway);
    }
    acknowledgeGuardFinding(
      realtime.webSocketApi,
      'api_gw_v2_authorization_type_configured_check',
      'A WebSocket API can only authorize $connect; every other route runs on a connection the API-key authorizer accepted at $connect.',
    );
    for (const queue of [realtime.failedNotifications, history.failedRecords, datasets.validationDeadLetters]) {
      acknowledgeGuardFinding(
        queue,
        'sqs_dlq_check',
        'This queue is itself a dead-letter or on-failure destination: a queue behind it would only move the same messages again.',
      );
    }
    acknowledgeGuardFinding(
      datasets.accessLogs,
      's3_bucket_logging_enabled_check',
      'This is the access log bucket of the datasets bucket; logging it into itself would loop.',
    );
    acknowledgeGuardFinding(
      datasets.accessLogs,
      's3_bucket_versioning_enabled_check',
      'Access logs are written once by S3 and expire after 90 days; versions would keep nothing worth recovering.',
    );
    acknowledgeGuardFinding(
      datasets.accessLogs,
      's3_event_notifications_enabled_check',
      'Nothing reacts to an access log being written: the logs are read only when investigating.',
    );
    acknowledgeGuardFinding(
      datasets.bucket,
      's3_event_notifications_enabled_check',
      `The bucket does notify (each uploaded CSV under ${DATASETS_PREFIX} runs the validation function), through the CDK custom resource that configures notifications, which this check does not see.`,
    );

    // Last: the functions CDK added for its custom resources exist only now.
    addProviderLogGroups(this);
  }
}

/** A context value that is an object: as given by CDK_CONTEXT_JSON or cdk.json, or as JSON text (`-c name='{…}'`). */
function jsonContext<T>(scope: Construct, name: string): T | undefined {
  const value: unknown = scope.node.tryGetContext(name);
  return (typeof value === 'string' ? JSON.parse(value) : value) as T | undefined;
}
