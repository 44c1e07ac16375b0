import { createRequire } from 'node:module';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { RestGateway } from '../../local/apigateway/rest.js';
import { gatewayResponsesOf, LocalResolver, type RestApiDefinition, restApiOf, stateMachinesOf } from '../../local/cloudformation/template.js';
import { onFailureQueueOf } from '../../local/lambda/async-destinations.js';
import { FunctionError } from '../../local/lambda/functions.js';
import { type CfnTemplate, defaultTemplate, flatten, Synthesized } from './synthesized.js';

/**
 * What a first deployment to a fresh account or region needs from the template,
 * beyond what the other stack tests check (docs/operations.md, Deploying): the order of the
 * account-level logging setup, API Gateway's own errors, log groups that neither
 * fill the account's resource policy nor outlive the stack, what happens to a
 * validation that fails for good, and names that tell two stacks apart.
 */
let stack: Synthesized;

beforeAll(() => {
  // Synthesized once for the run, cdk-nag and cfn-guard included (test/stack/global-setup.ts).
  stack = new Synthesized(defaultTemplate());
});

describe('synthesized as the CDK CLI does', () => {
  // The CLI always sets an account and region before it runs the app: literal ones with credentials, and
  // `unknown-account`/`us-east-1` without. Every cdk-nag acknowledgement must still match then (CI also runs
  // `npx cdk synth --quiet` both ways).
  it('passes the security review with a literal account and region', () => {
    const env = { account: '123456789012', region: 'eu-west-1' };
    const { app, stack: regressionStack } = createApp({ skipBundling: true, env });
    expect(() => app.synth()).not.toThrow();
    const template = Template.fromStack(regressionStack).toJSON() as CfnTemplate;
    // The acknowledged wildcard is the bootstrap bucket of exactly this account and region.
    expect(JSON.stringify(template)).toContain(`cdk-hnb659fds-assets-${env.account}-${env.region}`);
  });
});

const dependsOn = (id: string) => [(stack.resources[id] as { DependsOn?: string | string[] }).DependsOn ?? []].flat();

describe('account-level API Gateway logging', () => {
  it('both stages wait for the account settings that name the CloudWatch role, since both log', () => {
    const [accountId, account] = stack.only('AWS::ApiGateway::Account');
    expect(flatten(account.Properties!.CloudWatchRoleArn)).toMatch(/^<.+\.Arn>$/);
    const [restStage] = stack.only('AWS::ApiGateway::Stage');
    const [webSocketStage, stage] = stack.only('AWS::ApiGatewayV2::Stage');
    expect(stage.Properties!.AccessLogSettings).toBeDefined();
    expect(dependsOn(restStage)).toContain(accountId);
    expect(dependsOn(webSocketStage)).toContain(accountId);
  });

  it('keeps the logging role when the stack goes: it is the setting of every API in the region', () => {
    const [, account] = stack.only('AWS::ApiGateway::Account');
    const roleId = flatten(account.Properties!.CloudWatchRoleArn).slice(1, -'.Arn>'.length);
    expect(stack.resources[roleId]!.DeletionPolicy).toBe('Retain');
  });
});

describe('API Gateway 5xx answers', () => {
  const FIVE_XX = [
    'INTEGRATION_TIMEOUT',
    'INTEGRATION_FAILURE',
    'AUTHORIZER_FAILURE',
    'AUTHORIZER_CONFIGURATION_ERROR',
    'API_CONFIGURATION_ERROR',
    'DEFAULT_5XX',
  ];
  const responses = () => stack.ofType('AWS::ApiGateway::GatewayResponse').map(([, response]) => response.Properties!);

  it('never set a status: a timeout stays 504, a failed handler 502, so clients keep the retry signal', () => {
    const fiveXx = responses().filter((response) => FIVE_XX.includes(response.ResponseType as string));
    expect(fiveXx.map((response) => response.ResponseType).sort()).toEqual([...FIVE_XX].sort());
    for (const response of fiveXx) {
      // The one exception: an authorizer that could not read the keys table is an outage, the documented 503.
      expect(response.StatusCode, response.ResponseType as string).toBe(response.ResponseType === 'AUTHORIZER_FAILURE' ? '503' : undefined);
    }
  });

  it('give 502 and 504 codes of their own', () => {
    const codeOf = (type: string) => {
      const response = responses().find((candidate) => candidate.ResponseType === type)!;
      return (JSON.parse((response.ResponseTemplates as Record<string, string>)['application/json']!) as { error: { code: string } }).error.code;
    };
    expect(codeOf('DEFAULT_5XX')).toBe('BAD_GATEWAY');
    expect(codeOf('INTEGRATION_TIMEOUT')).toBe('INTEGRATION_TIMEOUT');
    expect(codeOf('AUTHORIZER_FAILURE')).toBe('SERVICE_UNAVAILABLE');
    expect(codeOf('AUTHORIZER_CONFIGURATION_ERROR')).toBe('INTERNAL_ERROR');
  });

  describe('offline, with these gateway responses', () => {
    let gateway: RestGateway;
    let url: string;

    beforeAll(async () => {
      const account = { region: 'eu-west-1', accountId: '000000000000' };
      const template = stack.template as unknown as ConstructorParameters<typeof LocalResolver>[0];
      const resolver = new LocalResolver(template, account);
      gateway = new RestGateway({
        api: restApiOf(resolver) as RestApiDefinition,
        authorizers: new Map(),
        gatewayResponses: gatewayResponsesOf(template),
        // Every handler crashes.
        functions: {
          invoke: async () => {
            throw new FunctionError('Error', 'boom', []);
          },
        },
        account,
        log: () => undefined,
      });
      url = await gateway.listen(0);
    });
    afterAll(async () => {
      await gateway.close();
    });

    it('a handler that crashes answers 502 BAD_GATEWAY, as on AWS', async () => {
      const response = await fetch(`${url}/health`);
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ error: { code: 'BAD_GATEWAY', message: 'the request failed before it could be answered; retry' } });
    });
  });
});

describe('state machine logs', () => {
  it('go to a log group under /aws/vendedlogs/ (no entry in the account-wide resource policy), named after the stack', () => {
    const [, machine] = stack.trainingStateMachine();
    const destination = (machine.Properties!.LoggingConfiguration as { Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: unknown } }[] }).Destinations[0]!
      .CloudWatchLogsLogGroup.LogGroupArn;
    const logGroupId = flatten(destination).slice(1, -'.Arn>'.length);
    const logGroup = stack.resources[logGroupId]!;
    expect(logGroup.Properties!.LogGroupName).toMatch(/^\/aws\/vendedlogs\/states\/RegressionJobs-Training-[0-9A-F]{8}$/);
    expect(logGroup.Properties!.RetentionInDays).toBe(30);
    expect(logGroup.DeletionPolicy).toBe('Delete');
  });
});

describe('a dataset validation that fails for good', () => {
  const queueArnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

  it('goes to an encrypted queue after two retries, as the validation function on-failure destination', () => {
    const [, config] = stack.only('AWS::Lambda::EventInvokeConfig');
    expect(config.Properties!.FunctionName).toEqual({ Ref: stack.functionId('lambdas/datasets/validate-dataset.ts') });
    expect(config.Properties).toMatchObject({ Qualifier: '$LATEST', MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 6 * 3600 });
    const destination = (config.Properties!.DestinationConfig as { OnFailure: { Destination: { 'Fn::GetAtt': [string, string] } } }).OnFailure.Destination;
    const queueId = destination['Fn::GetAtt'][0];
    const queue = stack.resources[queueId]!;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    // What cannot be recorded ends in a dead-letter queue, encrypted too.
    const redrive = queue.Properties!.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number };
    expect(redrive.maxReceiveCount).toBe(5);
    expect(stack.resources[redrive.deadLetterTargetArn['Fn::GetAtt'][0]]!.Properties).toMatchObject({ SqsManagedSseEnabled: true });
    // The validation function may send there (Lambda sends with the function's role).
    expect(stack.grantsOf('lambdas/datasets/validate-dataset.ts')).toContain(`sqs:SendMessage <${queueId}.Arn>`);
  });

  it('is read by validation-failed, which reports partial batch failures and may only update the datasets table', () => {
    const [, config] = stack.only('AWS::Lambda::EventInvokeConfig');
    const queueId = (config.Properties!.DestinationConfig as { OnFailure: { Destination: { 'Fn::GetAtt': [string, string] } } }).OnFailure.Destination[
      'Fn::GetAtt'
    ][0];
    const mapping = stack
      .ofType('AWS::Lambda::EventSourceMapping')
      .map(([, resource]) => resource.Properties!)
      .find((properties) => JSON.stringify(properties.EventSourceArn) === JSON.stringify(queueArnOf(queueId)));
    expect(mapping).toMatchObject({
      FunctionName: { Ref: stack.functionId('lambdas/datasets/validation-failed.ts') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
    const datasetsTable = stack.tableId('tenantId', 'datasetId');
    const own = stack.grantsOf('lambdas/datasets/validation-failed.ts').filter((line) => !line.startsWith('logs:') && !line.startsWith('xray:'));
    expect(own).toEqual(
      [
        `dynamodb:UpdateItem <${datasetsTable}.Arn>`,
        `sqs:ChangeMessageVisibility <${queueId}.Arn>`,
        `sqs:DeleteMessage <${queueId}.Arn>`,
        `sqs:GetQueueAttributes <${queueId}.Arn>`,
        `sqs:GetQueueUrl <${queueId}.Arn>`,
        `sqs:ReceiveMessage <${queueId}.Arn>`,
      ].sort(),
    );
    expect(stack.environmentOf('lambdas/datasets/validation-failed.ts')).toMatchObject({ DATASETS_TABLE_NAME: { Ref: datasetsTable } });
  });
});

describe('offline, the same on-failure queue', () => {
  it('is found in the template, read by validation-failed', () => {
    const resolver = new LocalResolver(stack.template as unknown as ConstructorParameters<typeof LocalResolver>[0], {
      region: 'eu-west-1',
      accountId: '000000000000',
    });
    const target = onFailureQueueOf(resolver, stack.functionId('lambdas/datasets/validate-dataset.ts'));
    expect(target?.readerLogicalIds).toEqual([stack.functionId('lambdas/datasets/validation-failed.ts')]);
  });
});

describe('reading a missing object answers 404, not 403', () => {
  /** The s3:prefix values each ListBucket statement of a function is limited to. */
  const listPrefixes = (entry: string) =>
    stack
      .statementsOfRole(stack.roleOf(stack.functionId(entry)))
      .filter((statement) => statement.Action === 's3:ListBucket')
      .map((statement) => {
        const condition = (statement as { Condition?: { StringLike?: Record<string, string> } }).Condition;
        expect(condition, `${entry}: ListBucket without a condition`).toBeDefined();
        return condition!.StringLike!['s3:prefix'];
      })
      .sort();

  it('validation may list only under datasets/, training only under datasets/ and jobs/ (what each reads)', () => {
    expect(listPrefixes('lambdas/datasets/validate-dataset.ts')).toEqual(['datasets/*']);
    expect(listPrefixes('lambdas/datasets/plan-scan.ts')).toEqual(['datasets/*']);
    expect(listPrefixes('lambdas/datasets/scan-range.ts')).toEqual(['datasets/*']);
    expect(listPrefixes('lambdas/train/train.ts')).toEqual(['datasets/*', 'jobs/*']);
  });

  it('no other function may list the bucket', () => {
    const listers = [...stack.appFunctions().keys()].filter((entry) => stack.grantsOf(entry).some((line) => line.startsWith('s3:ListBucket '))).sort();
    // Health's readiness check heads the bucket (HeadBucket needs s3:ListBucket) and may read no object.
    expect(listers).toEqual([
      'lambdas/api/health.ts',
      'lambdas/datasets/plan-scan.ts',
      'lambdas/datasets/scan-range.ts',
      'lambdas/datasets/validate-dataset.ts',
      'lambdas/train/train.ts',
    ]);
    expect(stack.grantsOf('lambdas/api/health.ts').filter((line) => line.startsWith('s3:'))).toEqual([expect.stringMatching(/^s3:ListBucket /)]);
  });
});

describe('names and leftovers', () => {
  it('both APIs carry the stack name', () => {
    const [, rest] = stack.only('AWS::ApiGateway::RestApi');
    const [, webSocket] = stack.only('AWS::ApiGatewayV2::Api');
    expect(rest.Properties!.Name).toBe('RegressionJobs-api');
    expect(webSocket.Properties!.Name).toBe('RegressionJobs-websocket');
  });

  it('another stack name, other API names', () => {
    const { stack: other } = createApp({ skipBundling: true, stackName: 'RegressionJobsTest' });
    const template = new Synthesized(Template.fromStack(other).toJSON() as CfnTemplate);
    expect(template.only('AWS::ApiGateway::RestApi')[1].Properties!.Name).toBe('RegressionJobsTest-api');
    expect(template.only('AWS::ApiGatewayV2::Api')[1].Properties!.Name).toBe('RegressionJobsTest-websocket');
  });

  it("CDK's own custom-resource functions log to groups kept a month and deleted with the stack", () => {
    const providers = stack.ofType('AWS::Lambda::Function').filter(([, fn]) => fn.Metadata?.['app:entry'] === undefined);
    // The S3 bucket notifications handler, the auto-delete-objects provider (every bucket shares it) and the console's BucketDeployment.
    expect(providers.map(([id]) => id).sort()).toEqual([
      expect.stringMatching(/^BucketNotificationsHandler/),
      expect.stringMatching(/^CustomCDKBucketDeployment/),
      expect.stringMatching(/^CustomS3AutoDeleteObjectsCustomResourceProviderHandler/),
    ]);
    for (const [id, fn] of providers) {
      const logGroup = (fn.Properties!.LoggingConfig as { LogGroup?: { Ref: string } } | undefined)?.LogGroup;
      expect(logGroup, id).toBeDefined();
      const group = stack.resources[logGroup!.Ref]!;
      expect(group.Type).toBe('AWS::Logs::LogGroup');
      expect(group.Properties!.RetentionInDays).toBe(30);
      expect(group.DeletionPolicy).toBe('Delete');
    }
  });

  it('every log group of the stack expires and goes with it', () => {
    for (const [id, group] of stack.ofType('AWS::Logs::LogGroup')) {
      expect(group.Properties!.RetentionInDays, id).toBe(30);
      expect(group.DeletionPolicy, id).toBe('Delete');
    }
  });
});

describe('state machine definitions', () => {
  // asl-validator ships no types: its one export, as its README documents it.
  type AslValidator = (definition: unknown) => { isValid: boolean; errors: unknown[] };
  const validateAsl = createRequire(import.meta.url)('asl-validator') as AslValidator;

  it('both (training and dataset scan) are valid Amazon States Language, as Step Functions will check them at deploy', () => {
    const resolver = new LocalResolver(stack.template as unknown as ConstructorParameters<typeof LocalResolver>[0], {
      region: 'eu-west-1',
      accountId: '123456789012',
    });
    const machines = stateMachinesOf(resolver);
    expect(machines.map((machine) => machine.logicalId).sort()).toEqual([stack.scanStateMachine()[0], stack.trainingStateMachine()[0]].sort());
    for (const machine of machines) expect(validateAsl(machine.definition), machine.logicalId).toMatchObject({ isValid: true, errors: [] });
    // The check can fail: a definition that points at a state that does not exist.
    const broken = structuredClone(machines[0]!.definition) as { StartAt: string };
    broken.StartAt = 'NoSuchState';
    expect(validateAsl(broken).isValid).toBe(false);
  });
});
