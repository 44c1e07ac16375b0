import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Realtime, type RealtimeFunctionOptions } from '../../lib/realtime.js';
import { webSocketApiOf } from '../../local/apigateway/websocket.js';
import { type CfnTemplate, LocalResolver } from '../../local/cloudformation/template.js';
import { defaultTemplate } from './synthesized.js';

/**
 * The realtime construct on its own, with stand-in functions (no bundling): what
 * matters here is how it wires the API, the table, the stream and the grants.
 */
function inlineFunction(scope: Construct, id: string, options: RealtimeFunctionOptions): lambda.Function {
  const fn = new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => ({ statusCode: 200 });'),
    environment: options.environment,
    ...(options.timeout ? { timeout: options.timeout } : {}),
  });
  (fn.node.defaultChild as lambda.CfnFunction).addMetadata('app:entry', options.entry);
  return fn;
}

function synth(withNag = false): { template: Template; json: CfnTemplate } {
  const app = new App();
  const stack = new Stack(app, 'RealtimeTest');
  const jobsTable = new dynamodb.Table(stack, 'Jobs', {
    partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'jobId', type: dynamodb.AttributeType.STRING },
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  const authorizerFunction = inlineFunction(stack, 'Authorizer', { entry: 'lambdas/auth/authorizer.ts', environment: {} });
  new Realtime(stack, 'Realtime', { newFunction: inlineFunction, jobsTable, authorizerFunction });
  if (withNag) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // The stand-in functions' own findings (managed execution policy, runtime) belong to the project's function factory, not to this construct.
    Validations.of(stack).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'stand-in functions',
    });
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-L1', reason: 'stand-in functions' });
    app.synth();
  }
  const template = Template.fromStack(stack);
  return { template, json: template.toJSON() as CfnTemplate };
}

let template: Template;
let json: CfnTemplate;

beforeAll(() => {
  ({ template, json } = synth());
});

function logicalIdOf(type: string, props: Record<string, unknown> = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

function functionOf(entry: string): string {
  const ids = Object.keys(template.findResources('AWS::Lambda::Function', { Metadata: { 'app:entry': entry } }));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

const apiRef = () => ({ Ref: logicalIdOf('AWS::ApiGatewayV2::Api') });

describe('WebSocket API', () => {
  it('is a WebSocket API routing on the action of each message', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
  });

  it.each([
    ['$connect', 'connect', false],
    ['$disconnect', 'disconnect', false],
    ['subscribe', 'subscribe', true],
    ['unsubscribe', 'unsubscribe', true],
    ['$default', 'default', true],
  ])('routes %s to lambdas/realtime/%s.ts (answers on the socket: %s)', (routeKey, handler, twoWay) => {
    const routeId = logicalIdOf('AWS::ApiGatewayV2::Route', { RouteKey: routeKey });
    const route = json.Resources[routeId]?.Properties as { Target: unknown };
    const integrationId = JSON.stringify(route.Target).match(/"Ref":"([^"]+)"/)?.[1] as string;
    expect(json.Resources[integrationId]?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::Join': ['', expect.arrayContaining([{ 'Fn::GetAtt': [functionOf(`lambdas/realtime/${handler}.ts`), 'Arn'] }])] },
    });
    const responses = template.findResources('AWS::ApiGatewayV2::RouteResponse', { Properties: { RouteId: { Ref: routeId }, RouteResponseKey: '$default' } });
    expect(Object.keys(responses)).toHaveLength(twoWay ? 1 : 0);
  });

  it('authorizes $connect, and only $connect, with the shared authorizer Lambda on ?token=', () => {
    const authorizerId = logicalIdOf('AWS::ApiGatewayV2::Authorizer');
    expect(json.Resources[authorizerId]?.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.token'],
      AuthorizerUri: { 'Fn::Join': ['', expect.arrayContaining([{ 'Fn::GetAtt': [functionOf('lambdas/auth/authorizer.ts'), 'Arn'] }])] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
    const others = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter((route) => route.Properties.RouteKey !== '$connect');
    expect(others).toHaveLength(4);
    for (const route of others) expect(route.Properties.AuthorizationType).toBe('NONE');
  });

  it('deploys stage v1 automatically, throttled and access-logged, and outputs its URL', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: apiRef(),
      StageName: 'v1',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
    });
    template.hasOutput('WebSocketUrl', {
      Value: { 'Fn::Join': ['', ['wss://', apiRef(), '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/v1']] },
    });
  });
});

describe('Connections table', () => {
  it('is keyed pk/sk, expires items with TTL, and is encrypted with PITR', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.hasOutput('ConnectionsTableName', Match.anyValue());
  });
});

describe('notifier', () => {
  it('consumes the Jobs stream with ten batches per shard (in order per tenant), no batching window, partial failures, bisection, bounded retries and an on-failure queue', () => {
    const queueId = logicalIdOf('AWS::SQS::Queue');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionOf('lambdas/realtime/notify.ts') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Jobs'), 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      ParallelizationFactor: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: Match.anyValue(),
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('never receives REMOVE records (TTL expiry)', () => {
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0];
    const patterns = (mapping!.Properties.FilterCriteria.Filters as Array<{ Pattern: string }>).map(
      (filter) => JSON.parse(filter.Pattern) as { eventName: string[] },
    );
    expect(patterns).toEqual([{ eventName: ['INSERT', 'MODIFY'] }]);
  });

  it('sends what it could not deliver to an encrypted queue that refuses plain HTTP', () => {
    const queueId = logicalIdOf('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it("posts through this stage's callback URL", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          CONNECTIONS_ENDPOINT: { 'Fn::Join': ['', ['https://', apiRef(), '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/v1']] },
          CONNECTIONS_TABLE_NAME: { Ref: logicalIdOf('AWS::DynamoDB::Table', { KeySchema: Match.arrayWith([{ AttributeName: 'pk', KeyType: 'HASH' }]) }) },
        },
      },
    });
  });
});

describe('least privilege', () => {
  type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
  const statementsOf = (entry: string): Statement[] => {
    const roleId = (json.Resources[functionOf(entry)]!.Properties as { Role: { 'Fn::GetAtt': [string, string] } }).Role['Fn::GetAtt'][0];
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  };
  const actionsOf = (entry: string) =>
    statementsOf(entry)
      .flatMap((statement) => [statement.Action].flat())
      .sort();

  const manageConnectionsOn = (method: string) => ({
    Action: 'execute-api:ManageConnections',
    Effect: 'Allow',
    Resource: {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':execute-api:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':',
          apiRef(),
          `/v1/${method}/@connections/*`,
        ],
      ],
    },
  });

  it('lets the notifier post (only POST) and the connections sweeper close (only DELETE) connections of this API stage and nowhere else', () => {
    const manage = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).filter((statement) =>
        [statement.Action].flat().some((action) => action.startsWith('execute-api:')),
      ),
    );
    expect(manage).toEqual([manageConnectionsOn('POST'), manageConnectionsOn('DELETE')]);
    expect(statementsOf('lambdas/realtime/notify.ts')).toContainEqual(manage[0]);
    expect(statementsOf('lambdas/realtime/sweep-connections.ts')).toContainEqual(manage[1]);
  });

  it.each([
    ['connect', ['dynamodb:PutItem']],
    ['disconnect', ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:Query']],
    ['subscribe', ['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']],
    ['unsubscribe', ['dynamodb:DeleteItem']],
    ['default', []],
    ['sweep-connections', ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:Scan', 'execute-api:ManageConnections']],
  ])('grants %s exactly what its handler calls', (handler, actions) => {
    expect(actionsOf(`lambdas/realtime/${handler}.ts`)).toEqual(actions);
  });

  it('lets subscribe read jobs (GetItem) and nothing else of the Jobs table', () => {
    const jobs = statementsOf('lambdas/realtime/subscribe.ts')
      .filter((statement) => JSON.stringify(statement.Resource).includes('"Jobs'))
      .map((statement) => ({ ...statement, Resource: [statement.Resource].flat() }));
    expect(jobs).toEqual([{ Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [expect.stringMatching(/^Jobs/), 'Arn'] }] }]);
  });

  it('grants no wildcard action anywhere', () => {
    const actions = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).flatMap((statement) => [statement.Action].flat()),
    );
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });
});

describe('checks', () => {
  it('passes cdk-nag AwsSolutions with every acknowledgement specific to a finding', () => {
    expect(() => synth(true)).not.toThrow();
  });

  it('fails at synth time when the Jobs table has no stream', () => {
    const stack = new Stack(new App(), 'NoStream');
    const jobsTable = new dynamodb.Table(stack, 'Jobs', { partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING } });
    const authorizerFunction = inlineFunction(stack, 'Authorizer', { entry: 'lambdas/auth/authorizer.ts', environment: {} });
    expect(() => new Realtime(stack, 'Realtime', { newFunction: inlineFunction, jobsTable, authorizerFunction })).toThrow(/stream/);
  });

  it('is what the local WebSocket gateway reads', () => {
    const api = webSocketApiOf(new LocalResolver(json, { region: 'eu-west-1', accountId: '000000000000' }));
    expect(api?.stageName).toBe('v1');
    expect(api?.routeSelectionPath).toEqual(['action']);
    expect(
      [...(api?.routes.values() ?? [])].map((route) => [route.routeKey, route.functionLogicalId, route.twoWay, route.authorizer?.functionLogicalId]).sort(),
    ).toEqual(
      [
        ['$connect', functionOf('lambdas/realtime/connect.ts'), false, functionOf('lambdas/auth/authorizer.ts')],
        ['$default', functionOf('lambdas/realtime/default.ts'), true, undefined],
        ['$disconnect', functionOf('lambdas/realtime/disconnect.ts'), false, undefined],
        ['subscribe', functionOf('lambdas/realtime/subscribe.ts'), true, undefined],
        ['unsubscribe', functionOf('lambdas/realtime/unsubscribe.ts'), true, undefined],
      ].sort(),
    );
  });
});

describe('in the application stack', () => {
  let app: Template;

  beforeAll(() => {
    // The real app: AppFunction, Storage's Jobs table, the REST API's authorizer, cdk-nag on synth.
    app = Template.fromJSON(defaultTemplate());
  });

  const functionIdIn = (uri: unknown) => JSON.stringify(uri).match(/"Fn::GetAtt":\["([^"]+)","Arn"\]/)?.[1];

  it('authorizes $connect with the very Lambda that authorizes the REST API', () => {
    const rest = Object.values(app.findResources('AWS::ApiGateway::Authorizer'));
    const ws = Object.values(app.findResources('AWS::ApiGatewayV2::Authorizer'));
    expect(rest).toHaveLength(1);
    expect(ws).toHaveLength(1);
    expect(functionIdIn(ws[0]?.Properties.AuthorizerUri)).toBeDefined();
    expect(functionIdIn(ws[0]?.Properties.AuthorizerUri)).toBe(functionIdIn(rest[0]?.Properties.AuthorizerUri));
  });

  it("feeds the notifier from the Jobs table's stream", () => {
    const jobsTable = Object.entries(app.findResources('AWS::DynamoDB::Table')).find(
      ([, table]) => (table.Properties.KeySchema as Array<{ AttributeName: string }>).map((key) => key.AttributeName).join() === 'tenantId,jobId',
    );
    expect(jobsTable?.[1].Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    app.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [jobsTable?.[0], 'StreamArn'] },
      ParallelizationFactor: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    app.hasOutput('WebSocketUrl', Match.anyValue());
  });

  it('gives execute-api:ManageConnections to the notifier and the connections sweeper only', () => {
    const holders = Object.values(app.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('execute-api:ManageConnections'),
    );
    expect(holders).toHaveLength(2);
    for (const [holder, entry] of [
      [holders[0]!, 'lambdas/realtime/notify.ts'],
      [holders[1]!, 'lambdas/realtime/sweep-connections.ts'],
    ] as const) {
      const role = (holder.Properties.Roles as Array<{ Ref: string }>)[0]?.Ref;
      app.hasResource('AWS::Lambda::Function', { Metadata: { 'app:entry': entry }, Properties: { Role: { 'Fn::GetAtt': [role, 'Arn'] } } });
    }
  });
});
