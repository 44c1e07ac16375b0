import { App, ArnFormat, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { AppFunction, type AppFunctionProps, DEFAULT_ENVIRONMENT, useTable } from '../../lib/app-function.js';
import { wildcardResourceFinding } from '../../lib/nag.js';
import { RestApi } from '../../lib/rest-api.js';
import { TrainingWorkflow } from '../../lib/training-workflow.js';
import { type CfnTemplate, Synthesized } from './synthesized.js';

/**
 * The constructs on their own, in a bare stack (bundling skipped): their defaults,
 * and the mistakes they refuse at synth time.
 */
function newStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Test');
}
const synthesized = (stack: Stack) => new Synthesized(Template.fromStack(stack).toJSON() as CfnTemplate);
const health = (props: Partial<AppFunctionProps> = {}): AppFunctionProps => ({ entry: 'lambdas/api/health.ts', ...props });

describe('AppFunction', () => {
  it('merges the caller environment over the defaults, never dropping them', () => {
    const stack = newStack();
    new AppFunction(stack, 'Fn', health({ environment: { APP_VERSION: '1.2.3', LOG_LEVEL: 'DEBUG' } }));
    expect(synthesized(stack).environmentOf('lambdas/api/health.ts')).toEqual({ ...DEFAULT_ENVIRONMENT, APP_VERSION: '1.2.3', LOG_LEVEL: 'DEBUG' });
  });

  it('records its entry as a project-relative path, whatever way it was written', () => {
    const stack = newStack();
    new AppFunction(stack, 'Fn', health({ entry: './lambdas/api/../api/health.ts' }));
    expect([...synthesized(stack).appFunctions().keys()]).toEqual(['lambdas/api/health.ts']);
  });

  it('defaults to 10 seconds and 512 MB, and takes other values within Lambda limits', () => {
    const stack = newStack();
    new AppFunction(stack, 'Default', health());
    new AppFunction(stack, 'Big', { entry: 'lambdas/train/train.ts', timeout: Duration.minutes(15), memorySize: 1769 });
    const template = synthesized(stack);
    expect(template.functionOf('lambdas/api/health.ts').Properties).toMatchObject({ Timeout: 10, MemorySize: 512 });
    expect(template.functionOf('lambdas/train/train.ts').Properties).toMatchObject({ Timeout: 900, MemorySize: 1769 });
  });

  it.each([
    ['outside lambdas/', health({ entry: 'src/domain/jobs.ts' }), /entry must be a \.ts file under lambdas\//],
    ['escaping lambdas/', health({ entry: 'lambdas/../src/domain/jobs.ts' }), /entry must be a \.ts file under lambdas\//],
    ['absolute', health({ entry: '/srv/app/lambdas/api/health.ts' }), /entry must be a \.ts file under lambdas\//],
    ['not TypeScript', health({ entry: 'lambdas/api/health.js' }), /entry must be a \.ts file under lambdas\//],
    ['too little memory', health({ memorySize: 64 }), /memorySize must be a whole number of MB from 128 to 10240/],
    ['fractional memory', health({ memorySize: 512.5 }), /memorySize/],
    ['too long a timeout', health({ timeout: Duration.minutes(16) }), /timeout must be from 1 second to 15 minutes/],
    ['an invalid variable name', health({ environment: { 'BAD-NAME': 'x' } }), /"BAD-NAME" is not a valid environment variable name/],
  ])('refuses an entry or limit that is %s', (_, props, message) => {
    expect(() => new AppFunction(newStack(), 'Fn', props)).toThrow(message);
  });
});

describe('useTable', () => {
  const table = (stack: Stack) =>
    new dynamodb.Table(stack, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    });

  it('names the table in the environment and grants exactly the actions given, on the table only', () => {
    const stack = newStack();
    const fn = new AppFunction(stack, 'Fn', health());
    const jobs = table(stack);
    useTable(fn, 'JOBS_TABLE_NAME', jobs, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    const template = synthesized(stack);
    const tableId = stack.getLogicalId(jobs.node.defaultChild as dynamodb.CfnTable);
    expect(template.environmentOf('lambdas/api/health.ts').JOBS_TABLE_NAME).toEqual({ Ref: tableId });
    expect(template.grantsOf('lambdas/api/health.ts').filter((line) => line.startsWith('dynamodb:'))).toEqual([
      `dynamodb:GetItem <${tableId}.Arn>`,
      `dynamodb:UpdateItem <${tableId}.Arn>`,
    ]);
  });

  it('grants Query on the named indexes only, never index/*', () => {
    const stack = newStack();
    const fn = new AppFunction(stack, 'Fn', health());
    const jobs = table(stack);
    useTable(fn, 'JOBS_TABLE_NAME', jobs, ['dynamodb:Query'], ['byStatus']);
    const tableId = stack.getLogicalId(jobs.node.defaultChild as dynamodb.CfnTable);
    expect(
      synthesized(stack)
        .grantsOf('lambdas/api/health.ts')
        .filter((line) => line.startsWith('dynamodb:')),
    ).toEqual([`dynamodb:Query <${tableId}.Arn>`, `dynamodb:Query <${tableId}.Arn>/index/byStatus`]);
  });

  it('refuses indexes without Query, and an empty grant', () => {
    const stack = newStack();
    const fn = new AppFunction(stack, 'Fn', health());
    expect(() => useTable(fn, 'JOBS_TABLE_NAME', table(stack), ['dynamodb:GetItem'], ['byStatus'])).toThrow(/indexes are read only by Query/);
    expect(() => useTable(fn, 'JOBS_TABLE_NAME', dynamodb.Table.fromTableName(stack, 'Other', 'other'), [])).toThrow(/at least one action/);
  });
});

describe('TrainingWorkflow', () => {
  const functions = (stack: Stack) => ({
    trainFunction: new AppFunction(stack, 'Train', { entry: 'lambdas/train/train.ts' }),
    markFailedFunction: new AppFunction(stack, 'MarkFailed', { entry: 'lambdas/train/mark-failed.ts' }),
  });

  it('refuses a training timeout Lambda cannot honour', () => {
    const stack = newStack();
    expect(() => new TrainingWorkflow(stack, 'Workflow', { ...functions(stack), trainingTimeout: Duration.minutes(20) })).toThrow(/from 1 to 15 minutes/);
  });

  it('sizes the Train task timeout from the training timeout', () => {
    const stack = newStack();
    const workflow = new TrainingWorkflow(stack, 'Workflow', { ...functions(stack), trainingTimeout: Duration.minutes(5) });
    const template = synthesized(stack);
    const asl = template.definitionOf(stack.getLogicalId(workflow.stateMachine.node.defaultChild as CfnElement));
    expect(asl.States.Train!.TimeoutSeconds).toBe(360);
  });

  it('stops executions of its own state machine, by an ARN cdk-nag names like the grant', () => {
    const stack = newStack();
    const workflow = new TrainingWorkflow(stack, 'Workflow', functions(stack));
    const role = new iam.Role(stack, 'Canceller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    workflow.grantStopExecution(role);
    const template = synthesized(stack);
    const machineId = template.only('AWS::StepFunctions::StateMachine')[0];
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${machineId}.Name>:*`;
    expect(template.grantsOfRole(stack.getLogicalId(role.node.defaultChild as iam.CfnRole))).toEqual([`states:StopExecution ${executions}`]);
    const arn = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${workflow.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    expect(wildcardResourceFinding(stack, arn)).toBe(`AwsSolutions-IAM5[Resource::${executions}]`);
  });
});

describe('RestApi', () => {
  it('refuses throttle limits that would shut the API', () => {
    const stack = newStack();
    const fn = new AppFunction(stack, 'Fn', health());
    const functions = { health: fn, openApiDocument: fn, createJob: fn, listJobs: fn, getJob: fn, cancelJob: fn, listModels: fn, getModel: fn, predict: fn };
    expect(() => new RestApi(stack, 'Api', { functions, authorizerFunction: fn, throttle: { rateLimit: 0, burstLimit: 10 } })).toThrow(/rateLimit > 0/);
  });
});
