import type { CfnTemplate } from '../../../local/cloudformation/template.js';

/**
 * A small template in the shapes CDK synthesizes (tokens and all): a table with a
 * GSI, TTL and stream; two functions; a REST API with a TOKEN authorizer, a CORS
 * preflight and gateway responses; a state machine whose definition is an
 * `Fn::Join`; a stream mapping; and outputs.
 */

export const account = { region: 'eu-west-1', accountId: '000000000000' };

const lambdaUri = (fn: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':apigateway:',
      { Ref: 'AWS::Region' },
      ':lambda:path/2015-03-31/functions/',
      { 'Fn::GetAtt': [fn, 'Arn'] },
      '/invocations',
    ],
  ],
});

const lambda = (entry: string | undefined, variables: Record<string, unknown>, timeout = 10) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Timeout: timeout, MemorySize: 256, Environment: { Variables: variables } },
  ...(entry ? { Metadata: { 'aws:cdk:path': 'Stack/Fn/Resource', 'app:entry': entry } } : {}),
});

const method = (httpMethod: string, resource: unknown, fn: string, authorized: boolean) => ({
  Type: 'AWS::ApiGateway::Method',
  Properties: {
    HttpMethod: httpMethod,
    ResourceId: resource,
    RestApiId: { Ref: 'Api' },
    AuthorizationType: authorized ? 'CUSTOM' : 'NONE',
    ...(authorized ? { AuthorizerId: { Ref: 'Authorizer' } } : {}),
    Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', Uri: lambdaUri(fn) },
  },
});

const root = { 'Fn::GetAtt': ['Api', 'RootResourceId'] };

export const template: CfnTemplate = {
  Resources: {
    JobsTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [
          { AttributeName: 'tenantId', KeyType: 'HASH' },
          { AttributeName: 'jobId', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'tenantId', AttributeType: 'S' },
          { AttributeName: 'jobId', AttributeType: 'S' },
          { AttributeName: 'tenantStatus', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byStatus',
            KeySchema: [
              { AttributeName: 'tenantStatus', KeyType: 'HASH' },
              { AttributeName: 'jobId', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
    },
    KeysTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'api-keys',
        KeySchema: [{ AttributeName: 'keyHash', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'keyHash', AttributeType: 'S' }],
      },
    },
    AuthFn: lambda('lambdas/auth/authorizer.ts', { API_KEYS_TABLE_NAME: { Ref: 'KeysTable' }, LOG_LEVEL: 'INFO' }),
    JobsFn: lambda('lambdas/api/jobs.ts', {
      JOBS_TABLE_NAME: { Ref: 'JobsTable' },
      STATE_MACHINE_ARN: { Ref: 'Workflow' },
      JOBS_TABLE_ARN: { 'Fn::GetAtt': ['JobsTable', 'Arn'] },
      LOG_LEVEL: 'INFO',
    }),
    TrainFn: lambda('lambdas/train/train.ts', { JOBS_TABLE_NAME: { Ref: 'JobsTable' } }, 2),
    MarkFailedFn: lambda('lambdas/train/mark-failed.ts', { JOBS_TABLE_NAME: { Ref: 'JobsTable' } }),
    // CDK's own helper functions have no entry and are not part of the local stack.
    LogRetentionFn: lambda(undefined, {}),
    Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'api' } },
    Deployment: { Type: 'AWS::ApiGateway::Deployment', Properties: { RestApiId: { Ref: 'Api' } } },
    Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: { Ref: 'Api' }, DeploymentId: { Ref: 'Deployment' }, StageName: 'v1' } },
    Authorizer: {
      Type: 'AWS::ApiGateway::Authorizer',
      Properties: {
        Type: 'TOKEN',
        RestApiId: { Ref: 'Api' },
        AuthorizerUri: lambdaUri('AuthFn'),
        IdentitySource: 'method.request.header.Authorization',
        AuthorizerResultTtlInSeconds: 300,
        Name: 'auth',
      },
    },
    HealthResource: { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: root, PathPart: 'health', RestApiId: { Ref: 'Api' } } },
    JobsResource: { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: root, PathPart: 'jobs', RestApiId: { Ref: 'Api' } } },
    JobResource: { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: { Ref: 'JobsResource' }, PathPart: '{jobId}', RestApiId: { Ref: 'Api' } } },
    CancelResource: { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: { Ref: 'JobResource' }, PathPart: 'cancel', RestApiId: { Ref: 'Api' } } },
    ReportResource: { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: { Ref: 'JobsResource' }, PathPart: 'report', RestApiId: { Ref: 'Api' } } },
    HealthGet: method('GET', { Ref: 'HealthResource' }, 'JobsFn', false),
    JobsPost: method('POST', { Ref: 'JobsResource' }, 'JobsFn', true),
    JobsGet: method('GET', { Ref: 'JobsResource' }, 'JobsFn', true),
    JobGet: method('GET', { Ref: 'JobResource' }, 'JobsFn', true),
    CancelPost: method('POST', { Ref: 'CancelResource' }, 'JobsFn', true),
    ReportGet: method('GET', { Ref: 'ReportResource' }, 'JobsFn', true),
    JobsOptions: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        HttpMethod: 'OPTIONS',
        ResourceId: { Ref: 'JobsResource' },
        RestApiId: { Ref: 'Api' },
        AuthorizationType: 'NONE',
        Integration: {
          Type: 'MOCK',
          RequestTemplates: { 'application/json': '{ statusCode: 200 }' },
          IntegrationResponses: [
            {
              StatusCode: '204',
              ResponseParameters: {
                'method.response.header.Access-Control-Allow-Headers': "'Content-Type,Authorization,Idempotency-Key'",
                'method.response.header.Access-Control-Allow-Origin': "'*'",
                'method.response.header.Access-Control-Allow-Methods': "'OPTIONS,GET,POST'",
              },
            },
          ],
        },
        MethodResponses: [{ StatusCode: '204' }],
      },
    },
    MissingTokenResponse: {
      Type: 'AWS::ApiGateway::GatewayResponse',
      Properties: {
        ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
        RestApiId: { Ref: 'Api' },
        StatusCode: '404',
        ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" },
        ResponseTemplates: { 'application/json': '{"error":{"code":"NOT_FOUND","message":"no such route"}}' },
      },
    },
    UnauthorizedResponse: {
      Type: 'AWS::ApiGateway::GatewayResponse',
      Properties: {
        ResponseType: 'UNAUTHORIZED',
        RestApiId: { Ref: 'Api' },
        StatusCode: '401',
        ResponseTemplates: { 'application/json': '{"error":{"code":"UNAUTHORIZED","message":$context.error.messageString}}' },
      },
    },
    Default4xx: {
      Type: 'AWS::ApiGateway::GatewayResponse',
      Properties: {
        ResponseType: 'DEFAULT_4XX',
        RestApiId: { Ref: 'Api' },
        ResponseTemplates: { 'application/json': '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}' },
      },
    },
    Workflow: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"Train","States":{"Train":{"Next":"Done","Retry":[{"ErrorEquals":["TransientError"],"IntervalSeconds":1,"MaxAttempts":2,"BackoffRate":1}],',
              '"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.failure","Next":"MarkFailed"}],"Type":"Task","OutputPath":"$.Payload","Resource":"arn:',
              { Ref: 'AWS::Partition' },
              ':states:::lambda:invoke","Parameters":{"FunctionName":"',
              { 'Fn::GetAtt': ['TrainFn', 'Arn'] },
              '","Payload.$":"$"}},"Done":{"Type":"Succeed"},',
              '"MarkFailed":{"Next":"Failed","Type":"Task","Resource":"arn:',
              { Ref: 'AWS::Partition' },
              ':states:::lambda:invoke","Parameters":{"FunctionName":"',
              { 'Fn::GetAtt': ['MarkFailedFn', 'Arn'] },
              '","Payload.$":"$"}},"Failed":{"Type":"Fail","Error":"TrainingFailed","Cause":"see the job"}}}',
            ],
          ],
        },
        RoleArn: { 'Fn::GetAtt': ['WorkflowRole', 'Arn'] },
      },
    },
    StreamMapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'JobsFn' },
        EventSourceArn: { 'Fn::GetAtt': ['JobsTable', 'StreamArn'] },
        BatchSize: 10,
        StartingPosition: 'LATEST',
        MaximumRetryAttempts: 2,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ParallelizationFactor: 4,
      },
    },
  },
  Outputs: {
    ApiKeysTableName: { Value: { Ref: 'KeysTable' } },
    ApiUrl: {
      Value: {
        'Fn::Join': ['', ['https://', { Ref: 'Api' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: 'Stage' }, '/']],
      },
    },
  },
};
