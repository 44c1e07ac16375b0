import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { TRANSIENT_ERRORS } from '../../lib/training-workflow.js';

/** The whole stack, synthesized once (bundling skipped: the template is what is checked). */
let template: Template;
let resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;

beforeAll(() => {
  const { app, stack } = createApp({ skipBundling: true });
  app.synth(); // runs cdk-nag: an unacknowledged finding throws here
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const logicalIdOf = (entry: string) => {
  const found = ofType('AWS::Lambda::Function').find(([, resource]) => resource.Metadata?.['app:entry'] === entry);
  if (!found) throw new Error(`no function for ${entry}`);
  return found[0];
};

/** Every statement of the policies attached to the role of the function built from `entry`. */
function statementsOf(entry: string): { Action: string | string[]; Resource: unknown }[] {
  const role = (resources[logicalIdOf(entry)]!.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties!.Roles as { Ref: string }[]).some((ref) => ref.Ref === role))
    .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
}
const actionsOf = (entry: string) => statementsOf(entry).flatMap((statement) => [statement.Action].flat());

describe('tables', () => {
  it('jobs: tenant + ULID keys, the byStatus index, TTL and a NEW_AND_OLD_IMAGES stream', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'jobId', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byStatus',
          KeySchema: [
            { AttributeName: 'tenantStatus', KeyType: 'HASH' },
            { AttributeName: 'jobId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('models, API keys and idempotency records', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'modelId', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'keyHash', KeyType: 'HASH' }] });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });
});

describe('functions', () => {
  it('every function: Node.js 24 on ARM64, traced, source maps, its own log group, and its entry recorded', () => {
    const functions = ofType('AWS::Lambda::Function').filter(([, resource]) => resource.Metadata?.['app:entry'] !== undefined);
    expect(functions.length).toBeGreaterThanOrEqual(17);
    for (const [, { Properties, Metadata }] of functions) {
      expect(Metadata?.['app:entry']).toMatch(/^lambdas\/[a-z-]+\/[a-z-]+\.ts$/);
      expect(Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
      const environment = (Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(environment).toMatchObject({ NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'regression-jobs' });
    }
    for (const [, group] of ofType('AWS::Logs::LogGroup')) expect(group.Properties?.RetentionInDays).toBe(30);
  });

  it('no function role uses an AWS managed policy and no statement has a wildcard action', () => {
    const appFunctions = ofType('AWS::Lambda::Function').filter(([, resource]) => resource.Metadata?.['app:entry'] !== undefined);
    for (const [id, fn] of appFunctions) {
      const role = resources[(fn.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]]!;
      expect(role.Properties!.ManagedPolicyArns ?? [], id).toEqual([]);
    }
    for (const [id, policy] of ofType('AWS::IAM::Policy')) {
      const actions = (policy.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap((s) => [s.Action].flat());
      for (const action of actions) expect(action, `${id}: ${action}`).not.toMatch(/\*/);
    }
  });

  it('create-job: writes jobs and models, starts executions of this state machine, counts active jobs on the index', () => {
    const statements = statementsOf('lambdas/api/create-job.ts');
    const machine = ofType('AWS::StepFunctions::StateMachine')[0]![0];
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: machine } }));
    const jobsQuery = statements.find((statement) => [statement.Action].flat().includes('dynamodb:Query'));
    expect(JSON.stringify(jobsQuery?.Resource)).toContain('/index/byStatus');
    expect(actionsOf('lambdas/api/create-job.ts')).not.toContain('dynamodb:DeleteTable');
  });

  it('cancel-job may stop only this state machine\'s executions', () => {
    const stop = statementsOf('lambdas/api/cancel-job.ts').find((statement) => statement.Action === 'states:StopExecution');
    expect(JSON.stringify(stop?.Resource)).toMatch(/:execution:.*StateMachine.*Name.*:\*/);
    expect(actionsOf('lambdas/api/cancel-job.ts')).not.toContain('states:StartExecution');
  });

  it('read-only routes only read', () => {
    for (const entry of ['lambdas/api/get-job.ts', 'lambdas/api/get-model.ts', 'lambdas/api/predict.ts', 'lambdas/auth/authorizer.ts']) {
      expect(actionsOf(entry).filter((action) => action.startsWith('dynamodb:'))).toEqual(['dynamodb:GetItem']);
    }
    for (const entry of ['lambdas/api/list-jobs.ts', 'lambdas/api/list-models.ts']) {
      expect(actionsOf(entry).filter((action) => action.startsWith('dynamodb:'))).toEqual(['dynamodb:Query']);
    }
    expect(actionsOf('lambdas/api/health.ts').filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
  });
});

describe('training workflow', () => {
  const definition = () => {
    const [, machine] = ofType('AWS::StepFunctions::StateMachine')[0]!;
    const parts = (machine.Properties!.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    // Tokens (function ARNs) become placeholders; the rest is the ASL as deployed.
    return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as {
      StartAt: string;
      TimeoutSeconds: number;
      States: Record<string, { Type: string; Retry?: unknown[]; Catch?: unknown[]; Next?: string; TimeoutSeconds?: number; OutputPath?: string }>;
    };
  };

  it('Train retries transient errors only, with backoff, and catches everything into MarkFailed then Fail', () => {
    const asl = definition();
    expect(asl.StartAt).toBe('Train');
    const train = asl.States.Train!;
    expect(train.OutputPath).toBe('$.Payload');
    expect(train.Retry).toEqual([{ ErrorEquals: TRANSIENT_ERRORS, IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 3 }]);
    expect(train.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'MarkFailed' }]);
    expect(train.TimeoutSeconds).toBe(960);
    expect(asl.States.MarkFailed).toMatchObject({ Type: 'Task', Next: 'TrainingFailed' });
    expect(asl.States.TrainingFailed).toMatchObject({ Type: 'Fail' });
    // The execution outlives three attempts plus backoff, so the Catch always gets to run.
    expect(asl.TimeoutSeconds).toBeGreaterThan(3 * 960 + 2 + 4);
  });

  it('is a Standard state machine with tracing and full logging', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
  });
});

describe('REST API', () => {
  const pathOf = (resourceId: string): string => {
    const resource = resources[resourceId]!;
    const parent = resource.Properties!.ParentId as { Ref?: string };
    const part = resource.Properties!.PathPart as string;
    return parent.Ref && resources[parent.Ref]?.Type === 'AWS::ApiGateway::Resource' ? `${pathOf(parent.Ref)}/${part}` : `/${part}`;
  };
  const routes = () =>
    ofType('AWS::ApiGateway::Method')
      .filter(([, method]) => method.Properties!.HttpMethod !== 'OPTIONS')
      .map(([, method]) => ({
        route: `${method.Properties!.HttpMethod} ${pathOf((method.Properties!.ResourceId as { Ref: string }).Ref)}`,
        authorization: method.Properties!.AuthorizationType,
      }));

  it('has every route of the SPEC, all behind the authorizer but GET /health', () => {
    const all = routes();
    expect(all.map((r) => r.route).sort()).toEqual(
      [
        'GET /health',
        'POST /jobs',
        'GET /jobs',
        'GET /jobs/{jobId}',
        'POST /jobs/{jobId}/cancel',
        'GET /models',
        'GET /models/{modelId}',
        'POST /models/{modelId}/predict',
        'POST /datasets',
        'GET /datasets/{datasetId}',
      ].sort(),
    );
    for (const { route, authorization } of all) expect(authorization, route).toBe(route === 'GET /health' ? 'NONE' : 'CUSTOM');
  });

  it('a TOKEN authorizer on the Authorization header, cached five minutes', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
  });

  it('stage v1 with throttling, access logs and tracing', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, DataTraceEnabled: false })]),
    });
  });

  it.each([
    ['UNAUTHORIZED', '401', 'UNAUTHORIZED'],
    ['ACCESS_DENIED', '401', 'UNAUTHORIZED'],
    ['MISSING_AUTHENTICATION_TOKEN', '404', 'NOT_FOUND'],
    ['THROTTLED', '429', 'RATE_LIMITED'],
    ['REQUEST_TOO_LARGE', '413', 'PAYLOAD_TOO_LARGE'],
    ['DEFAULT_5XX', '500', 'INTERNAL_ERROR'],
  ])('gateway response %s answers %s in the SPEC error shape', (type, status, code) => {
    const [, response] = ofType('AWS::ApiGateway::GatewayResponse').find(([, r]) => r.Properties!.ResponseType === type)!;
    expect(response.Properties!.StatusCode).toBe(status);
    const body = JSON.parse((response.Properties!.ResponseTemplates as Record<string, string>)['application/json']!);
    expect(body).toEqual({ error: { code, message: expect.any(String) } });
  });
});

describe('outputs and review', () => {
  it('outputs what clients, scripts and tests need', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    for (const name of ['ApiUrl', 'WebSocketUrl', 'JobsTableName', 'ModelsTableName', 'ApiKeysTableName', 'StateMachineArn', 'StateMachineName']) {
      expect(outputs).toContain(name);
    }
  });

  it('cdk-nag reviews the synth and fails it on a finding nobody acknowledged', () => {
    const { app, stack } = createApp({ skipBundling: true });
    // A deliberately bad resource: a wildcard action that nobody acknowledged.
    const role = stack.node.findAll().find((construct) => construct.node.id === 'HealthFunctionRole') as iam.Role;
    role.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::dynamodb:\*\]/);
  });
});
