import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IDependable } from 'constructs';
import { acknowledgeWildcardResource } from './nag.js';

/** Stage throttling of the WebSocket API: messages (and connects) per second, steady and burst. */
export interface WebSocketThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** What a function factory needs to build one of this construct's functions. */
export interface RealtimeFunctionOptions {
  readonly entry: string;
  readonly environment: Record<string, string>;
  readonly timeout?: Duration;
  readonly description?: string;
}

export interface RealtimeProps {
  /** Builds a function with the project's defaults (runtime, bundling, Powertools, `app:entry`). */
  readonly newFunction: (scope: Construct, id: string, options: RealtimeFunctionOptions) => lambda.Function;
  /** The Jobs table. Its stream (NEW_AND_OLD_IMAGES) feeds the notifier. */
  readonly jobsTable: dynamodb.ITable;
  /** The API-key authorizer shared with the REST API; it handles the WebSocket REQUEST event (`?token=`). */
  readonly authorizerFunction: lambda.IFunction;
  /** @default 100 messages a second, bursts of 200 */
  readonly throttle?: WebSocketThrottle;
  /** @default RemovalPolicy.DESTROY (a personal stack) */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * API Gateway's account settings (`AWS::ApiGateway::Account`, which sets the CloudWatch role): the stage's access
   * logging fails on a fresh account or region if the stage is created before them. @default none (already set)
   */
  readonly apiGatewayAccount?: IDependable;
  /** The API's name in the console; two stacks in one account must not share it. @default `<stack name>-websocket` */
  readonly apiName?: string;
}

/** API Gateway closes a WebSocket connection after two hours, whatever happens. */
const CONNECTION_TTL_ATTRIBUTE = 'expiresAt';
const STAGE_NAME = 'v1';

/**
 * Live job status over WebSocket (docs/asyncapi.json): the WebSocket API with its
 * routes, the Connections table of who listens to what, and the notifier that
 * turns every change in the Jobs table's stream into a message to each subscribed
 * connection.
 *
 * Outputs `WebSocketUrl` and `ConnectionsTableName`.
 */
export class Realtime extends Construct {
  readonly connectionsTable: dynamodb.Table;
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly notifyFunction: lambda.Function;
  /** $connect's handler, for the stack to grant it what it checks a key with when the authorizer is absent. */
  readonly connectFunction: lambda.Function;
  /** Closes connections whose API key has expired, every minute. */
  readonly sweepConnectionsFunction: lambda.Function;
  /** Where the notifier sends what it could not deliver (the stream positions of the failed batch). */
  readonly failedNotifications: sqs.Queue;

  constructor(scope: Construct, id: string, props: RealtimeProps) {
    super(scope, id);
    if (props.jobsTable.tableStreamArn === undefined) {
      throw new Error('Realtime: jobsTable must have a stream (NEW_AND_OLD_IMAGES) for the notifier to read');
    }
    const throttle = props.throttle ?? { rateLimit: 100, burstLimit: 200 };
    if (throttle.rateLimit <= 0 || throttle.burstLimit < 1) throw new Error('Realtime: throttle limits must be positive');
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    // Items: CONN#<connectionId> / META | SUB#<jobId|*>, and SUB#<tenantId>#<jobId|*> / <connectionId>.
    // Every item expires with its connection (API Gateway's two-hour limit), even if $disconnect never runs.
    this.connectionsTable = new dynamodb.Table(this, 'ConnectionsTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: CONNECTION_TTL_ATTRIBUTE,
      removalPolicy,
    });
    const connections = { CONNECTIONS_TABLE_NAME: this.connectionsTable.tableName };

    const newFunction = (id: string, options: RealtimeFunctionOptions) => props.newFunction(this, id, options);

    const connectFunction = newFunction('ConnectFunction', {
      entry: 'lambdas/realtime/connect.ts',
      environment: connections,
      description: 'WebSocket $connect: registers the connection under its tenant',
    });
    this.connectionsTable.grant(connectFunction, 'dynamodb:PutItem');
    this.connectFunction = connectFunction;

    const disconnectFunction = newFunction('DisconnectFunction', {
      entry: 'lambdas/realtime/disconnect.ts',
      environment: connections,
      description: 'WebSocket $disconnect: removes the connection and its subscriptions',
    });
    this.connectionsTable.grant(disconnectFunction, 'dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem');

    const subscribeFunction = newFunction('SubscribeFunction', {
      entry: 'lambdas/realtime/subscribe.ts',
      environment: { ...connections, JOBS_TABLE_NAME: props.jobsTable.tableName },
      description: "WebSocket subscribe: stores the subscription and answers the job's current state",
    });
    // A transaction: ConditionCheck on the connection, two Puts; a Delete of both undoes it for an unknown job.
    this.connectionsTable.grant(subscribeFunction, 'dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    // The table alone: table.grant would add the indexes (index/*), which a GetItem never reads.
    subscribeFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.jobsTable.tableArn] }));

    const unsubscribeFunction = newFunction('UnsubscribeFunction', {
      entry: 'lambdas/realtime/unsubscribe.ts',
      environment: connections,
      description: 'WebSocket unsubscribe: removes one subscription',
    });
    this.connectionsTable.grant(unsubscribeFunction, 'dynamodb:DeleteItem');

    const defaultFunction = newFunction('DefaultFunction', {
      entry: 'lambdas/realtime/default.ts',
      environment: {},
      description: 'WebSocket $default: answers UNKNOWN_ACTION',
    });

    this.webSocketApi = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      apiName: props.apiName ?? `${Stack.of(this).stackName}-websocket`,
      description: 'Live job status: subscribe to a job (or all of them) and receive every change',
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('ConnectIntegration', connectFunction),
        // The same authorizer Lambda as the REST API; browsers cannot set headers on a WebSocket, hence the query string.
        authorizer: new WebSocketLambdaAuthorizer('ApiKeyAuthorizer', props.authorizerFunction, {
          identitySource: ['route.request.querystring.token'],
        }),
      },
      disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('DisconnectIntegration', disconnectFunction) },
      // Two-way: the route's answer (an error naming what is understood) goes back on the socket.
      defaultRouteOptions: { integration: new WebSocketLambdaIntegration('DefaultIntegration', defaultFunction), returnResponse: true },
    });
    this.webSocketApi.addRoute('subscribe', { integration: new WebSocketLambdaIntegration('SubscribeIntegration', subscribeFunction), returnResponse: true });
    this.webSocketApi.addRoute('unsubscribe', {
      integration: new WebSocketLambdaIntegration('UnsubscribeIntegration', unsubscribeFunction),
      returnResponse: true,
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.webSocketApi,
      stageName: STAGE_NAME,
      autoDeploy: true,
      throttle,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    if (props.apiGatewayAccount) this.stage.node.addDependency(props.apiGatewayAccount);

    this.failedNotifications = new sqs.Queue(this, 'FailedNotifications', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.notifyFunction = newFunction('NotifyFunction', {
      entry: 'lambdas/realtime/notify.ts',
      environment: { ...connections, CONNECTIONS_ENDPOINT: this.stage.callbackUrl },
      timeout: Duration.seconds(30),
      description: 'Jobs stream -> WebSocket: posts every job change to its subscribers',
    });
    this.connectionsTable.grant(this.notifyFunction, 'dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem');
    // Posting only, and only to this API's stage (not DELETE or GET, not another API's connections).
    const connectionsArn = Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.webSocketApi.apiId,
      resourceName: `${STAGE_NAME}/POST/@connections/*`,
    });
    this.notifyFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [connectionsArn] }));
    this.notifyFunction.addEventSource(
      new DynamoEventSource(props.jobsTable, {
        startingPosition: lambda.StartingPosition.LATEST,
        // Up to 100 changes per invocation; the notifier keeps only the newest state of each job among them.
        batchSize: 100,
        // No waiting to fill a batch: a change is sent as soon as the poller reads it (lateness, not cost, is what matters here).
        maxBatchingWindow: Duration.seconds(0),
        // Ten batches of one shard at once. Lambda keeps records of one partition key (one tenant's jobs) in one
        // batch sequence, so each job's changes still reach clients in order while tenants no longer wait on each other.
        parallelizationFactor: 10,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 5,
        // Past this a change is stale: later ones (or a fresh subscribe's snapshot) supersede it.
        maxRecordAge: Duration.hours(1),
        onFailure: new SqsDlq(this.failedNotifications),
        // REMOVE is the TTL expiring a job: nothing a subscriber can act on, so it never costs an invocation.
        filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.or('INSERT', 'MODIFY') })],
      }),
    );

    // API Gateway checks a key at $connect only: a connection opened with a key that has expired since is closed by
    // this sweeper (its messages are already refused; lambdas/realtime/sweep-connections.ts). A minute is
    // EventBridge's shortest period.
    const sweepConnections = newFunction('SweepConnectionsFunction', {
      entry: 'lambdas/realtime/sweep-connections.ts',
      environment: { ...connections, CONNECTIONS_ENDPOINT: this.stage.callbackUrl },
      timeout: Duration.seconds(60),
      description: 'Closes WebSocket connections whose API key has expired',
    });
    this.connectionsTable.grant(sweepConnections, 'dynamodb:Scan', 'dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem');
    // Closing only (DELETE), and only on this API's stage.
    const closeConnectionsArn = Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.webSocketApi.apiId,
      resourceName: `${STAGE_NAME}/DELETE/@connections/*`,
    });
    sweepConnections.addToRolePolicy(new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [closeConnectionsArn] }));
    new events.Rule(this, 'SweepConnectionsSchedule', {
      description: 'Runs the expired-key connections sweeper',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(sweepConnections, { retryAttempts: 0 })],
    });
    this.sweepConnectionsFunction = sweepConnections;

    const url = new CfnOutput(this, 'WebSocketUrl', { value: this.stage.url, description: 'WebSocket API: connect with ?token=<api key>' });
    url.overrideLogicalId('WebSocketUrl');
    const table = new CfnOutput(this, 'ConnectionsTableName', { value: this.connectionsTable.tableName });
    table.overrideLogicalId('ConnectionsTableName');

    Validations.of(this.webSocketApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'A WebSocket API can only authorize $connect; every other route runs on a connection the API-key authorizer accepted at $connect.',
    });
    Validations.of(this.failedNotifications).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the on-failure destination of the notifier; it keeps the failed stream positions for inspection.',
    });
    // Findings are acknowledged one by one, so any other wildcard added later still fails the synth.
    acknowledgeWildcardResource(
      this.notifyFunction.role ?? this.notifyFunction,
      connectionsArn,
      "Connection ids exist only at run time: the grant is POST on this API stage's @connections/*, nothing wider.",
    );
    acknowledgeWildcardResource(
      sweepConnections.role ?? sweepConnections,
      closeConnectionsArn,
      "Connection ids exist only at run time: the grant is DELETE on this API stage's @connections/*, nothing wider.",
    );
    Validations.of(this.notifyFunction.role ?? this.notifyFunction).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams, granted for the Jobs stream event source, has no resource-level permissions.',
    });
  }
}
