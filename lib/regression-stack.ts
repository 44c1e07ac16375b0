import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CfnElement, CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AppFunction, PROJECT_ROOT, type AppFunctionProps } from './app-function.js';
import { Datasets } from './datasets.js';
import { Realtime } from './realtime.js';
import { RestApi } from './rest-api.js';
import { Storage } from './storage.js';
import { TrainingWorkflow } from './training-workflow.js';

export interface RegressionStackProps extends StackProps {
  /** Days jobs and models are kept before DynamoDB's TTL removes them. @default 30 */
  readonly retentionDays?: number;
}

const VERSION = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The whole service: tables, the REST API and its handlers, the training workflow,
 * live notifications over WebSocket and uploaded datasets. Each concern is its own
 * construct; this stack wires them together and grants each function only what its
 * handler does.
 */
export class RegressionStack extends Stack {
  constructor(scope: Construct, id: string, props: RegressionStackProps = {}) {
    super(scope, id, props);
    const retentionDays = props.retentionDays ?? 30;
    const storage = new Storage(this, 'Storage');
    const { jobsTable, modelsTable, apiKeysTable, idempotencyTable } = storage;

    const newFunction = (scope: Construct, id: string, options: AppFunctionProps): lambda.Function => new AppFunction(scope, id, options);
    const fn = (id: string, entry: string, environment: Record<string, string> = {}, options: Partial<AppFunctionProps> = {}) =>
      newFunction(this, id, { entry, environment, ...options });
    const jobs = { JOBS_TABLE_NAME: jobsTable.tableName };
    const models = { MODELS_TABLE_NAME: modelsTable.tableName };
    // Named actions on the table itself (and the byStatus index for queries), never table.grant's index/* wildcard.
    const grant = (table: dynamodb.ITable, grantee: lambda.IFunction, ...actions: string[]) =>
      grantee.addToRolePolicy(
        new iam.PolicyStatement({
          actions,
          resources: actions.includes('dynamodb:Query') && table === jobsTable ? [table.tableArn, `${table.tableArn}/index/byStatus`] : [table.tableArn],
        }),
      );

    // Training: the workflow's two tasks.
    const trainFunction = fn('TrainFunction', 'lambdas/train/train.ts', { ...jobs, ...models }, {
      timeout: Duration.minutes(15),
      memorySize: 1769, // one full vCPU: fitting is CPU-bound
      description: 'Trains one job: one pass over its data, fit, store the model',
    });
    grant(jobsTable, trainFunction, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    grant(modelsTable, trainFunction, 'dynamodb:UpdateItem');
    const markFailedFunction = fn('MarkFailedFunction', 'lambdas/train/mark-failed.ts', { ...jobs, ...models }, {
      description: 'Marks a job FAILED after its training task failed for good',
    });
    grant(jobsTable, markFailedFunction, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    grant(modelsTable, markFailedFunction, 'dynamodb:UpdateItem');
    const workflow = new TrainingWorkflow(this, 'Training', { trainFunction, markFailedFunction });
    const { stateMachine } = workflow;

    // The REST API's handlers.
    const health = fn('HealthFunction', 'lambdas/api/health.ts', { APP_VERSION: VERSION });
    const createJob = fn('CreateJobFunction', 'lambdas/api/create-job.ts', {
      ...jobs,
      ...models,
      IDEMPOTENCY_TABLE_NAME: idempotencyTable.tableName,
      STATE_MACHINE_ARN: stateMachine.stateMachineArn,
      RETENTION_DAYS: String(retentionDays),
    });
    grant(jobsTable, createJob, 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem');
    grant(modelsTable, createJob, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    grant(idempotencyTable, createJob, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    stateMachine.grantStartExecution(createJob);

    const getJob = fn('GetJobFunction', 'lambdas/api/get-job.ts', jobs);
    grant(jobsTable, getJob, 'dynamodb:GetItem');
    const listJobs = fn('ListJobsFunction', 'lambdas/api/list-jobs.ts', jobs);
    grant(jobsTable, listJobs, 'dynamodb:Query');
    const cancelJob = fn('CancelJobFunction', 'lambdas/api/cancel-job.ts', { ...jobs, ...models });
    grant(jobsTable, cancelJob, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    grant(modelsTable, cancelJob, 'dynamodb:UpdateItem');
    workflow.grantStopExecution(cancelJob);

    const getModel = fn('GetModelFunction', 'lambdas/api/get-model.ts', models);
    grant(modelsTable, getModel, 'dynamodb:GetItem');
    const listModels = fn('ListModelsFunction', 'lambdas/api/list-models.ts', models);
    grant(modelsTable, listModels, 'dynamodb:Query');
    const predict = fn('PredictFunction', 'lambdas/api/predict.ts', models);
    grant(modelsTable, predict, 'dynamodb:GetItem');

    const authorizerFunction = fn('AuthorizerFunction', 'lambdas/auth/authorizer.ts', { API_KEYS_TABLE_NAME: apiKeysTable.tableName }, {
      description: 'API key -> tenant, for the REST API and the WebSocket $connect',
    });
    grant(apiKeysTable, authorizerFunction, 'dynamodb:GetItem');

    const rest = new RestApi(this, 'Http', {
      functions: { health, createJob, listJobs, getJob, cancelJob, listModels, getModel, predict },
      authorizerFunction,
    });

    new Realtime(this, 'Realtime', { newFunction, jobsTable, authorizerFunction });
    const datasets = new Datasets(this, 'Datasets', {
      api: rest.api,
      authorizer: rest.authorizer,
      newFunction,
      createJobFunction: createJob,
      trainFunction,
    });

    // Inline points of each job, in the same private bucket as the datasets, kept as long as the job.
    const inlineObjects = datasets.bucket.arnForObjects('jobs/*');
    datasets.bucket.addLifecycleRule({ prefix: 'jobs/', expiration: Duration.days(retentionDays) });
    createJob.addEnvironment('DATASETS_BUCKET_NAME', datasets.bucket.bucketName);
    createJob.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [inlineObjects] }));
    trainFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [inlineObjects] }));
    const bucketId = this.getLogicalId(datasets.bucket.node.defaultChild as CfnElement);
    for (const fn of [createJob, trainFunction]) {
      Validations.of(fn.role ?? fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/jobs/*]`,
        reason: "Each job's inline points are one object under jobs/<tenant>/, named at run time; nothing else in the bucket.",
      });
    }

    const output = (name: string, value: string, description?: string) => new CfnOutput(this, name, { value, description });
    output('ApiUrl', rest.api.url, 'REST API base URL (ends with /v1/)');
    output('JobsTableName', jobsTable.tableName);
    output('ModelsTableName', modelsTable.tableName);
    output('ApiKeysTableName', apiKeysTable.tableName, 'npm run api-key -- create <tenant> --stack <name> writes here');
    output('IdempotencyTableName', idempotencyTable.tableName);
    output('StateMachineArn', stateMachine.stateMachineArn);
    output('StateMachineName', stateMachine.stateMachineName);
    output('DatasetsBucketName', datasets.bucket.bucketName);
    output('DatasetsTableName', datasets.table.tableName);

    this.acknowledgeFindings(rest);
  }

  /** cdk-nag findings that are deliberate, each with its reason. */
  private acknowledgeFindings(rest: RestApi): void {
    Validations.of(rest.api).acknowledge(
      { id: 'AwsSolutions-APIG2', reason: 'Every handler validates its input with zod and answers the SPEC error shape, which API Gateway request validation cannot produce.' },
      { id: 'AwsSolutions-COG4', reason: 'Clients authenticate with per-tenant API keys checked by the Lambda authorizer, not Cognito user pools.' },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: "API Gateway's account-level logging role: AWS's policy for it is the documented way to let the service write its logs.",
      },
      { id: 'AwsSolutions-APIG3', reason: 'A personal stack relies on stage throttling and the API-key authorizer; a WAF web ACL is a paid add-on to attach in production.' },
    );
    Validations.of(rest.api.root.resourceForPath('/health')).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: 'GET /health is the unauthenticated liveness probe the SPEC requires.' },
      { id: 'AwsSolutions-COG4', reason: 'GET /health is the unauthenticated liveness probe the SPEC requires.' },
    );
  }
}
