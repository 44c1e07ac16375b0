import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AppFunctionProps } from './app-function.js';

export interface JobHistoryProps {
  /** The jobs table, with its NEW_AND_OLD_IMAGES stream. */
  readonly jobsTable: dynamodb.ITable;
  /** `/jobs/{jobId}`, under which `GET events` goes. */
  readonly jobResource: apigateway.IResource;
  readonly authorizer: apigateway.IAuthorizer;
  /** How functions are built: with the same defaults as every other. */
  readonly newFunction: (scope: Construct, id: string, props: AppFunctionProps) => lambda.Function;
}

/**
 * Each job's history (docs/design.md: a job's history): a stream consumer records one
 * event per status change and retry in the job events table
 * (lambdas/history/record-job-events.ts says why from the stream), and
 * `GET /jobs/{jobId}/events` pages through them oldest first.
 */
export class JobHistory extends Construct {
  readonly table: dynamodb.Table;
  readonly recordFunction: lambda.Function;
  readonly listFunction: lambda.Function;
  /** Stream records the recorder gave up on: each is a gap in some job's history, so an alarm watches it. */
  readonly failedRecords: sqs.Queue;

  constructor(scope: Construct, id: string, props: JobHistoryProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'JobEventsTable', {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
      partitionKey: { name: 'jobKey', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'seq', type: dynamodb.AttributeType.STRING },
      // Copied from the job: a job's events expire with it.
      timeToLiveAttribute: 'expiresAt',
    });
    const environment = { JOB_EVENTS_TABLE_NAME: this.table.tableName };

    this.failedRecords = new sqs.Queue(this, 'FailedRecords', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.recordFunction = props.newFunction(this, 'RecordFunction', {
      entry: 'lambdas/history/record-job-events.ts',
      environment,
      timeout: Duration.seconds(30),
      description: 'Jobs stream -> job events: one event per status change and retry',
    });
    this.recordFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [this.table.tableArn] }));
    this.recordFunction.addEventSource(
      new DynamoEventSource(props.jobsTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        parallelizationFactor: 1,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 10,
        // A stream keeps records 24 hours: retry for as long as it has them.
        maxRecordAge: Duration.hours(24),
        onFailure: new SqsDlq(this.failedRecords),
        filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.or('INSERT', 'MODIFY') })],
      }),
    );

    this.listFunction = props.newFunction(this, 'ListFunction', { entry: 'lambdas/api/list-job-events.ts', environment });
    this.listFunction.addEnvironment('JOBS_TABLE_NAME', props.jobsTable.tableName);
    this.listFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.jobsTable.tableArn] }));
    this.listFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [this.table.tableArn] }));
    props.jobResource.addResource('events').addMethod('GET', new apigateway.LambdaIntegration(this.listFunction, { allowTestInvoke: false }), {
      authorizer: props.authorizer,
      authorizationType: apigateway.AuthorizationType.CUSTOM,
    });

    Validations.of(this.failedRecords).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the on-failure destination of the history recorder; it keeps the failed stream positions for inspection.',
    });
    Validations.of(this.recordFunction.role ?? this.recordFunction).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams, granted for the Jobs stream event source, has no resource-level permissions.',
    });
  }
}
