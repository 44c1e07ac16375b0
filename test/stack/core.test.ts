import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp, DEFAULT_STACK_NAME } from '../../lib/app.js';
import { AppFunction, PROJECT_ROOT } from '../../lib/app-function.js';
import { RestApi } from '../../lib/rest-api.js';
import { TRANSIENT_ERRORS } from '../../lib/training-workflow.js';
import { defaultTemplate, flatten, type Json, Synthesized } from './synthesized.js';

/**
 * The core service as `cdk synth` builds it (lib/app.ts), synthesized once with
 * bundling skipped: what is checked here is the template, not the code.
 */
let stack: Synthesized;
let tables: { jobs: string; models: string; apiKeys: string; datasets: string; tenants: string; jobEvents: string };
let stateMachineId: string;

beforeAll(() => {
  // Synthesized once for the run, cdk-nag and cfn-guard included (test/stack/global-setup.ts).
  stack = new Synthesized(defaultTemplate());
  tables = {
    jobs: stack.tableId('tenantId', 'jobId'),
    models: stack.tableId('tenantId', 'modelId'),
    apiKeys: stack.tableId('keyHash'),
    datasets: stack.tableId('tenantId', 'datasetId'),
    tenants: stack.tableId('tenantId', 'sk'),
    jobEvents: stack.tableId('jobKey', 'seq'),
  };
  stateMachineId = stack.trainingStateMachine()[0];
});

describe('tables', () => {
  it('Jobs: tenant + ULID keys, the byStatus index, TTL and a NEW_AND_OLD_IMAGES stream', () => {
    expect(stack.resources[tables.jobs]!.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'jobId', KeyType: 'RANGE' },
      ],
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
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('Models, ApiKeys and Idempotency: their keys and TTL attributes', () => {
    expect(stack.resources[tables.models]!.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'modelId', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(stack.resources[tables.apiKeys]!.Properties!.TimeToLiveSpecification).toBeUndefined();
    for (const id of [tables.models, tables.apiKeys]) {
      expect(stack.resources[id]!.Properties!.StreamSpecification, id).toBeUndefined();
      expect(stack.resources[id]!.Properties!.GlobalSecondaryIndexes, id).toBeUndefined();
    }
  });

  it('Tenants: the active-jobs counter and Idempotency-Key bindings under the tenant, request items expiring', () => {
    expect(stack.resources[tables.tenants]!.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(stack.resources[tables.tenants]!.Properties!.StreamSpecification).toBeUndefined();
  });

  it('every core table: on demand, KMS-encrypted, point-in-time recovery, deleted with the (personal) stack', () => {
    for (const id of [tables.jobs, tables.models, tables.apiKeys, tables.tenants]) {
      expect(stack.resources[id], id).toMatchObject({
        DeletionPolicy: 'Delete',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
      });
      // Enabled without a key of ours: the AWS managed key (aws/dynamodb), not the AWS-owned default.
      expect(stack.resources[id]!.Properties!.SSESpecification, id).toEqual({ SSEEnabled: true });
    }
  });
});

/** The contract's handlers: the environment each reads (beyond the defaults). */
const CONTRACT_ENVIRONMENT: Record<string, string[]> = {
  'lambdas/api/health.ts': ['APP_VERSION'],
  'lambdas/api/openapi.ts': [],
  'lambdas/api/create-job.ts': ['JOBS_TABLE_NAME', 'MODELS_TABLE_NAME', 'TENANTS_TABLE_NAME', 'STATE_MACHINE_ARN', 'RETENTION_DAYS'],
  'lambdas/api/get-job.ts': ['JOBS_TABLE_NAME'],
  'lambdas/api/list-jobs.ts': ['JOBS_TABLE_NAME'],
  'lambdas/api/cancel-job.ts': ['JOBS_TABLE_NAME', 'MODELS_TABLE_NAME', 'TENANTS_TABLE_NAME'],
  'lambdas/api/get-model.ts': ['MODELS_TABLE_NAME'],
  'lambdas/api/list-models.ts': ['MODELS_TABLE_NAME'],
  'lambdas/api/predict.ts': ['MODELS_TABLE_NAME'],
  'lambdas/auth/authorizer.ts': ['API_KEYS_TABLE_NAME'],
  'lambdas/train/train.ts': ['JOBS_TABLE_NAME', 'MODELS_TABLE_NAME', 'TENANTS_TABLE_NAME'],
  'lambdas/train/mark-failed.ts': ['JOBS_TABLE_NAME', 'MODELS_TABLE_NAME', 'TENANTS_TABLE_NAME'],
};

describe('functions', () => {
  it('every function: Node.js 24 on ARM64, traced, source maps, Powertools defaults, its entry recorded', () => {
    const functions = [...stack.appFunctions()];
    expect(functions.length).toBeGreaterThanOrEqual(Object.keys(CONTRACT_ENVIRONMENT).length);
    for (const [entry, [, fn]] of functions) {
      expect(entry).toMatch(/^lambdas\/[a-z-]+\/[a-z-]+\.ts$/);
      expect(fn.Properties, entry).toMatchObject({
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
      expect(stack.environmentOf(entry), entry).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'regression-jobs',
        POWERTOOLS_METRICS_NAMESPACE: 'RegressionJobs',
        LOG_LEVEL: 'INFO',
      });
    }
  });

  it('every function logs to a log group of its own, kept one month', () => {
    const logGroups = [...stack.appFunctions().values()].map(([, fn]) => (fn.Properties!.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref);
    expect(new Set(logGroups).size).toBe(logGroups.length);
    for (const id of logGroups) expect(stack.resources[id], id).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
  });

  it.each(Object.entries(CONTRACT_ENVIRONMENT))('%s gets the environment of the contract, tables by reference', (entry, names) => {
    const environment = stack.environmentOf(entry);
    for (const name of names) expect(environment, name).toHaveProperty(name);
    const tableOf: Record<string, string> = {
      JOBS_TABLE_NAME: tables.jobs,
      MODELS_TABLE_NAME: tables.models,
      API_KEYS_TABLE_NAME: tables.apiKeys,
      TENANTS_TABLE_NAME: tables.tenants,
    };
    for (const name of names.filter((n) => n in tableOf)) expect(environment[name], name).toEqual({ Ref: tableOf[name] });
    if (names.includes('STATE_MACHINE_ARN')) expect(environment.STATE_MACHINE_ARN).toEqual({ Ref: stateMachineId });
  });

  it('train gets 15 minutes and a full vCPU; the API handlers 10 seconds and 512 MB', () => {
    expect(stack.functionOf('lambdas/train/train.ts').Properties).toMatchObject({ Timeout: 900, MemorySize: 1769 });
    for (const entry of Object.keys(CONTRACT_ENVIRONMENT).filter((e) => e.startsWith('lambdas/api/') && e !== 'lambdas/api/openapi.ts')) {
      expect(stack.functionOf(entry).Properties, entry).toMatchObject({ Timeout: 10, MemorySize: 512 });
    }
    // It only returns the document bundled into it.
    expect(stack.functionOf('lambdas/api/openapi.ts').Properties).toMatchObject({ Timeout: 10, MemorySize: 128 });
  });
});

describe('least privilege', () => {
  /** A function's grants beyond what every function has (writing its own log group, X-Ray). */
  function ownGrants(entry: string): string[] {
    const logGroup = (stack.functionOf(entry).Properties!.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const baseline = [`logs:CreateLogStream <${logGroup}.Arn>`, `logs:PutLogEvents <${logGroup}.Arn>`, 'xray:PutTelemetryRecords *', 'xray:PutTraceSegments *'];
    const grants = stack.grantsOf(entry);
    for (const line of baseline) expect(grants, entry).toContain(line);
    // The key check every handler behind the authorizer has is asserted once, for all of them, below.
    const keyCheck = entry === 'lambdas/auth/authorizer.ts' ? [] : [`dynamodb:GetItem ${arn(tables.apiKeys)}`];
    return grants.filter((line) => !baseline.includes(line) && !keyCheck.includes(line));
  }
  const arn = (id: string) => `<${id}.Arn>`;

  it('every handler behind the authorizer, and $connect, may read a key (GetItem on the API keys table, nothing more), for requests without the authorizer', () => {
    const authorized = stack
      .ofType('AWS::ApiGateway::Method')
      .filter(([, method]) => method.Properties!.AuthorizationType === 'CUSTOM')
      .map(([, method]) => flatten((method.Properties!.Integration as { Uri: unknown }).Uri).match(/functions\/<(\w+)\.Arn>\/invocations/)?.[1]);
    const entries = [...stack.appFunctions()].filter(([, [id]]) => authorized.includes(id)).map(([entry]) => entry);
    expect(new Set(authorized).size).toBe(entries.length);
    expect(entries.sort()).toEqual(
      [
        'lambdas/api/create-job.ts',
        'lambdas/api/list-jobs.ts',
        'lambdas/api/get-job.ts',
        'lambdas/api/cancel-job.ts',
        'lambdas/api/list-models.ts',
        'lambdas/api/get-model.ts',
        'lambdas/api/predict.ts',
        'lambdas/datasets/create-dataset.ts',
        'lambdas/datasets/get-dataset.ts',
        'lambdas/datasets/upload-parts.ts',
        'lambdas/datasets/complete-upload.ts',
        'lambdas/api/list-job-events.ts',
      ].sort(),
    );
    for (const entry of [...entries, 'lambdas/realtime/connect.ts']) {
      expect(stack.environmentOf(entry).API_KEYS_TABLE_NAME, entry).toEqual({ Ref: tables.apiKeys });
      expect(
        stack.grantsOf(entry).filter((line) => line.includes(arn(tables.apiKeys))),
        entry,
      ).toEqual([`dynamodb:GetItem ${arn(tables.apiKeys)}`]);
    }
    // The open route does not: GET /health never looks a key up.
    expect(stack.environmentOf('lambdas/api/health.ts').API_KEYS_TABLE_NAME).toBeUndefined();
  });

  it.each([
    // Readiness (?deep=true): one metadata call to each dependency, no data.
    [
      'lambdas/api/health.ts',
      () => [`dynamodb:DescribeTable ${arn(tables.jobs)}`, `s3:ListBucket ${arn(datasetsBucket())}`, `states:DescribeStateMachine <${stateMachineId}>`],
    ],
    [
      'lambdas/train/sweep-jobs.ts',
      () => [
        `dynamodb:Scan ${arn(tables.jobs)}`,
        `dynamodb:UpdateItem ${arn(tables.jobs)}`,
        `dynamodb:UpdateItem ${arn(tables.models)}`,
        `dynamodb:UpdateItem ${arn(tables.tenants)}`,
        `states:StartExecution <${stateMachineId}>`,
        `states:DescribeExecution arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${stateMachineId}.Name>:*`,
      ],
    ],
    ['lambdas/api/list-job-events.ts', () => [`dynamodb:GetItem ${arn(tables.jobs)}`, `dynamodb:Query ${arn(tables.jobEvents)}`]],
    ['lambdas/api/openapi.ts', () => []],
    [
      'lambdas/api/create-job.ts',
      () => [
        `dynamodb:PutItem ${arn(tables.jobs)}`,
        `dynamodb:GetItem ${arn(tables.jobs)}`,
        `dynamodb:Query ${arn(tables.jobs)}`,
        `dynamodb:UpdateItem ${arn(tables.jobs)}`,
        `dynamodb:PutItem ${arn(tables.models)}`,
        `dynamodb:UpdateItem ${arn(tables.models)}`,
        // The active-jobs counter (take, read, correct) and the Idempotency-Key bindings (put, get, delete).
        `dynamodb:UpdateItem ${arn(tables.tenants)}`,
        `dynamodb:GetItem ${arn(tables.tenants)}`,
        `dynamodb:PutItem ${arn(tables.tenants)}`,
        `dynamodb:DeleteItem ${arn(tables.tenants)}`,
        `dynamodb:GetItem ${arn(tables.datasets)}`,
        // The job's inline points: written, and deleted again when the create fails (lambdas/api/create-job.ts).
        `s3:PutObject ${arn(datasetsBucket())}/jobs/*`,
        `s3:DeleteObject ${arn(datasetsBucket())}/jobs/*`,
        `states:StartExecution <${stateMachineId}>`,
      ],
    ],
    ['lambdas/api/get-job.ts', () => [`dynamodb:GetItem ${arn(tables.jobs)}`]],
    ['lambdas/api/list-jobs.ts', () => [`dynamodb:Query ${arn(tables.jobs)}`, `dynamodb:Query ${arn(tables.jobs)}/index/byStatus`]],
    [
      'lambdas/api/cancel-job.ts',
      () => [
        `dynamodb:GetItem ${arn(tables.jobs)}`,
        `dynamodb:UpdateItem ${arn(tables.jobs)}`,
        `dynamodb:UpdateItem ${arn(tables.models)}`,
        `dynamodb:UpdateItem ${arn(tables.tenants)}`,
        `states:StopExecution arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${stateMachineId}.Name>:*`,
      ],
    ],
    ['lambdas/api/get-model.ts', () => [`dynamodb:GetItem ${arn(tables.models)}`]],
    ['lambdas/api/list-models.ts', () => [`dynamodb:Query ${arn(tables.models)}`]],
    ['lambdas/api/predict.ts', () => [`dynamodb:GetItem ${arn(tables.models)}`]],
    ['lambdas/auth/authorizer.ts', () => [`dynamodb:GetItem ${arn(tables.apiKeys)}`]],
    [
      'lambdas/train/train.ts',
      () => [
        `dynamodb:GetItem ${arn(tables.jobs)}`,
        `dynamodb:UpdateItem ${arn(tables.jobs)}`,
        `dynamodb:PutItem ${arn(tables.models)}`,
        `dynamodb:UpdateItem ${arn(tables.models)}`,
        `dynamodb:UpdateItem ${arn(tables.tenants)}`,
        `dynamodb:GetItem ${arn(tables.datasets)}`,
        // The uploaded file (the design pass of a job with a category feature), its inline points and the scan's statistics.
        `s3:GetObject ${arn(datasetsBucket())}/datasets/*`,
        `s3:GetObject ${arn(datasetsBucket())}/jobs/*`,
        `s3:GetObject ${arn(datasetsBucket())}/scans/*`,
        // Twice, each limited by s3:prefix to one of the first two prefixes above (test/stack/deploy.test.ts).
        `s3:ListBucket ${arn(datasetsBucket())}`,
        `s3:ListBucket ${arn(datasetsBucket())}`,
      ],
    ],
    [
      'lambdas/train/mark-failed.ts',
      () => [
        `dynamodb:GetItem ${arn(tables.jobs)}`,
        `dynamodb:UpdateItem ${arn(tables.jobs)}`,
        `dynamodb:UpdateItem ${arn(tables.models)}`,
        `dynamodb:UpdateItem ${arn(tables.tenants)}`,
      ],
    ],
  ] as [string, () => string[]][])('%s may do exactly what its handler does', (entry, expected) => {
    expect(ownGrants(entry)).toEqual(expected().sort());
  });

  it('no statement anywhere has a wildcard action, and no function role an AWS managed policy', () => {
    for (const [id, policy] of stack.ofType('AWS::IAM::Policy')) {
      const statements = (policy.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement;
      for (const action of statements.flatMap((statement) => [statement.Action].flat())) expect(action, `${id}: ${action}`).not.toContain('*');
    }
    for (const [entry, [fnId]] of stack.appFunctions()) {
      expect(stack.resources[stack.roleOf(fnId)]!.Properties!.ManagedPolicyArns ?? [], entry).toEqual([]);
    }
  });

  it('only create-job and the sweeper start executions and only cancel-job stops them', () => {
    const holders = (action: string) =>
      [...stack.appFunctions()].filter(([entry]) => stack.grantsOf(entry).some((line) => line.startsWith(`${action} `))).map(([entry]) => entry);
    // validate-dataset starts the dataset scan, a state machine of its own (test/stack/datasets.test.ts).
    expect(holders('states:StartExecution').sort()).toEqual([
      'lambdas/api/create-job.ts',
      'lambdas/datasets/validate-dataset.ts',
      'lambdas/train/sweep-jobs.ts',
    ]);
    const trainingArn = `states:StartExecution <${stateMachineId}>`;
    expect(
      holders('states:StartExecution')
        .filter((entry) => stack.grantsOf(entry).includes(trainingArn))
        .sort(),
    ).toEqual(['lambdas/api/create-job.ts', 'lambdas/train/sweep-jobs.ts']);
    expect(holders('states:StopExecution')).toEqual(['lambdas/api/cancel-job.ts']);
  });

  it('the state machine may invoke its two task functions (and their versions) and nothing else', () => {
    const role = (stack.resources[stateMachineId]!.Properties!.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const invokes = stack.grantsOfRole(role).filter((line) => !line.endsWith(' *'));
    const train = stack.functionId('lambdas/train/train.ts');
    const markFailed = stack.functionId('lambdas/train/mark-failed.ts');
    expect(invokes).toEqual([train, markFailed].flatMap((id) => [`lambda:InvokeFunction <${id}.Arn>`, `lambda:InvokeFunction <${id}.Arn>:*`]).sort());
    // The `*` lines are the X-Ray and log delivery actions, which have no resource-level permissions.
    for (const line of stack.grantsOfRole(role).filter((l) => l.endsWith(' *'))) expect(line).toMatch(/^(xray|logs):/);
  });
});

/** The datasets' bucket, which also holds each job's inline points under jobs/. */
function datasetsBucket(): string {
  return (stack.template.Outputs.DatasetsBucketName!.Value as { Ref: string }).Ref;
}

describe('training workflow', () => {
  it('an EventBridge rule sends executions that end FAILED, TIMED_OUT or ABORTED to mark-failed', () => {
    const [, rule] = stack.ofType('AWS::Events::Rule').find(([, candidate]) => candidate.Properties?.EventPattern !== undefined) ?? [];
    expect(rule?.Properties).toMatchObject({
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: stateMachineId }] },
      },
      State: 'ENABLED',
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [stack.functionId('lambdas/train/mark-failed.ts'), 'Arn'] } })],
    });
  });

  it('two schedules: the stranded-jobs sweeper every 5 minutes (it waits 5 minutes before touching a QUEUED job), the expired-key connections sweeper every minute', () => {
    const schedules = stack.ofType('AWS::Events::Rule').filter(([, rule]) => rule.Properties?.ScheduleExpression !== undefined);
    expect(schedules.map(([, rule]) => rule.Properties)).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        Targets: [
          expect.objectContaining({
            Arn: { 'Fn::GetAtt': [stack.functionId('lambdas/train/sweep-jobs.ts'), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 600 },
          }),
        ],
      }),
      expect.objectContaining({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        // The next run a minute later is the retry.
        Targets: [
          expect.objectContaining({
            Arn: { 'Fn::GetAtt': [stack.functionId('lambdas/realtime/sweep-connections.ts'), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 0 },
          }),
        ],
      }),
    ]);
    expect(stack.environmentOf('lambdas/train/sweep-jobs.ts')).toMatchObject({ SWEEP_QUEUED_GRACE_SECONDS: '300', STATE_MACHINE_ARN: { Ref: stateMachineId } });
  });

  it('Train invokes train with {tenantId, jobId}, keeps the Payload, retries transient errors with backoff', () => {
    const asl = stack.definitionOf(stateMachineId);
    expect(asl.StartAt).toBe('Train');
    expect(asl.States.Train).toMatchObject({
      Type: 'Task',
      Resource: 'arn:<AWS::Partition>:states:::lambda:invoke',
      Parameters: { FunctionName: `<${stack.functionId('lambdas/train/train.ts')}.Arn>`, Payload: { 'tenantId.$': '$.tenantId', 'jobId.$': '$.jobId' } },
      OutputPath: '$.Payload',
      End: true,
      TimeoutSeconds: 960, // the function's 15 minutes, plus one for the invocation around it
    });
    expect(asl.States.Train!.Retry).toEqual([{ ErrorEquals: TRANSIENT_ERRORS, IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 3 }]);
    expect(TRANSIENT_ERRORS).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'TransientError']));
  });

  it('anything else is caught into MarkFailed (with the failure, its own retries), then a Fail state', () => {
    const asl = stack.definitionOf(stateMachineId);
    expect(asl.States.Train!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'MarkFailed' }]);
    expect(asl.States.MarkFailed).toMatchObject({
      Type: 'Task',
      Resource: 'arn:<AWS::Partition>:states:::lambda:invoke',
      Parameters: {
        FunctionName: `<${stack.functionId('lambdas/train/mark-failed.ts')}.Arn>`,
        Payload: { 'tenantId.$': '$.tenantId', 'jobId.$': '$.jobId', 'failure.$': '$.failure' },
      },
      Retry: [{ ErrorEquals: TRANSIENT_ERRORS, IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 5 }],
      TimeoutSeconds: 60,
      Next: 'TrainingFailed',
    });
    expect(asl.States.TrainingFailed).toMatchObject({ Type: 'Fail', Error: 'TrainingFailed' });
    expect(Object.keys(asl.States).sort()).toEqual(['MarkFailed', 'Train', 'TrainingFailed']);
  });

  it('every Retry of every state machine lists exactly the transient errors, never States.ALL (a Catch may)', () => {
    expect(TRANSIENT_ERRORS).toEqual([
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
      'TransientError',
    ]);
    /** Every state with its path, the states of a Map's ItemProcessor (or Iterator) and a Parallel's branches included. */
    const statesOf = (states: Record<string, Json>, under: string): [string, Json][] =>
      Object.entries(states).flatMap(([name, state]) => [
        [`${under}${name}`, state] as [string, Json],
        ...[state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]
          .filter((nested) => nested !== undefined)
          .flatMap((nested) => statesOf(nested.States, `${under}${name}/`)),
      ]);
    const machines = stack.ofType('AWS::StepFunctions::StateMachine');
    expect(machines.length).toBeGreaterThanOrEqual(2); // training and the dataset scan
    let retries = 0;
    for (const [id] of machines) {
      for (const [path, state] of statesOf(stack.definitionOf(id).States, `${id}/`)) {
        for (const retry of (state.Retry ?? []) as { ErrorEquals: string[] }[]) {
          expect(retry.ErrorEquals, path).not.toContain('States.ALL');
          expect(retry.ErrorEquals, path).toEqual(TRANSIENT_ERRORS);
          retries++;
        }
      }
    }
    // Train and MarkFailed; Plan, ScanRange, Merge and MarkFailed.
    expect(retries).toBe(6);
  });

  it('the execution outlives every attempt of both tasks, so the Catch always gets to run', () => {
    const asl = stack.definitionOf(stateMachineId);
    const train = 4 * 960 + (2 + 4 + 8);
    const markFailed = 6 * 60 + (2 + 4 + 8 + 16 + 32);
    expect(asl.TimeoutSeconds).toBeGreaterThanOrEqual(train + markFailed);
    expect(asl.TimeoutSeconds).toBeLessThanOrEqual(2 * 3600);
  });

  it('is a Standard state machine, traced, logging everything to a log group kept one month', () => {
    const machine = stack.resources[stateMachineId]!.Properties!;
    expect(machine).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    const destination = (machine.LoggingConfiguration as { Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: unknown } }[] }).Destinations[0]!;
    const logGroup = flatten(destination.CloudWatchLogsLogGroup.LogGroupArn).replace(/^<(.+)\.Arn>$/, '$1');
    expect(stack.resources[logGroup]!.Properties!.RetentionInDays).toBe(30);
  });
});

describe('REST API', () => {
  const pathOf = (resourceId: string): string => {
    const resource = stack.resources[resourceId]!;
    const parent = resource.Properties!.ParentId as { Ref?: string };
    const part = resource.Properties!.PathPart as string;
    return parent.Ref && stack.resources[parent.Ref]?.Type === 'AWS::ApiGateway::Resource' ? `${pathOf(parent.Ref)}/${part}` : `/${part}`;
  };
  const methods = () =>
    stack.ofType('AWS::ApiGateway::Method').map(([, method]) => {
      const properties = method.Properties!;
      const resource = (properties.ResourceId as { Ref?: string }).Ref;
      const uri = (properties.Integration as { Uri?: unknown }).Uri;
      return {
        route: `${properties.HttpMethod} ${resource ? pathOf(resource) : '/'}`,
        httpMethod: properties.HttpMethod as string,
        authorization: properties.AuthorizationType,
        authorizer: properties.AuthorizerId,
        target: uri === undefined ? undefined : flatten(uri).match(/functions\/<(\w+)\.Arn>\/invocations/)?.[1],
      };
    });
  const entryOf = (functionId: string | undefined) => [...stack.appFunctions()].find(([, [id]]) => id === functionId)?.[0];

  it('every route of the contract, each proxied to its own handler', () => {
    const routes = Object.fromEntries(
      methods()
        .filter((m) => m.httpMethod !== 'OPTIONS')
        .map((m) => [m.route, entryOf(m.target)]),
    );
    expect(routes).toEqual({
      'GET /health': 'lambdas/api/health.ts',
      'GET /openapi.json': 'lambdas/api/openapi.ts',
      'POST /jobs': 'lambdas/api/create-job.ts',
      'GET /jobs': 'lambdas/api/list-jobs.ts',
      'GET /jobs/{jobId}': 'lambdas/api/get-job.ts',
      'GET /jobs/{jobId}/events': 'lambdas/api/list-job-events.ts',
      'POST /jobs/{jobId}/cancel': 'lambdas/api/cancel-job.ts',
      'GET /models': 'lambdas/api/list-models.ts',
      'GET /models/{modelId}': 'lambdas/api/get-model.ts',
      'POST /models/{modelId}/predict': 'lambdas/api/predict.ts',
      'POST /datasets': 'lambdas/datasets/create-dataset.ts',
      'GET /datasets/{datasetId}': 'lambdas/datasets/get-dataset.ts',
      'GET /datasets/{datasetId}/parts': 'lambdas/datasets/upload-parts.ts',
      'POST /datasets/{datasetId}/complete': 'lambdas/datasets/complete-upload.ts',
    });
  });

  it('serves exactly the routes docs/openapi.json documents, public where the document says so', () => {
    const document = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'docs/openapi.json'), 'utf8'));
    const documented = Object.entries(document.paths).flatMap(([route, item]) =>
      Object.entries(item as Record<string, { security?: unknown[] }>).map(([method, operation]) => ({
        route: `${method.toUpperCase()} ${route}`,
        authorization: operation.security?.length === 0 ? 'NONE' : 'CUSTOM',
      })),
    );
    const deployed = methods()
      .filter((m) => m.httpMethod !== 'OPTIONS')
      .map(({ route, authorization }) => ({ route, authorization }));
    const byRoute = (a: { route: string }, b: { route: string }) => a.route.localeCompare(b.route);
    expect(deployed.sort(byRoute)).toEqual(documented.sort(byRoute));
  });

  it('every method but GET /health, GET /openapi.json (and CORS preflights) is behind the API-key authorizer', () => {
    const [authorizerId] = stack.only('AWS::ApiGateway::Authorizer');
    const all = methods();
    expect(all.length).toBeGreaterThan(10);
    for (const { route, httpMethod, authorization, authorizer } of all) {
      if (route === 'GET /health' || route === 'GET /openapi.json' || httpMethod === 'OPTIONS') {
        expect({ authorization, authorizer }, route).toEqual({ authorization: 'NONE', authorizer: undefined });
      } else {
        expect({ authorization, authorizer }, route).toEqual({ authorization: 'CUSTOM', authorizer: { Ref: authorizerId } });
      }
    }
  });

  it('a TOKEN authorizer on the Authorization header, cached five minutes, run by the authorizer function', () => {
    const [, authorizer] = stack.only('AWS::ApiGateway::Authorizer');
    expect(authorizer.Properties).toMatchObject({ Type: 'TOKEN', IdentitySource: 'method.request.header.Authorization', AuthorizerResultTtlInSeconds: 300 });
    expect(JSON.stringify(authorizer.Properties!.AuthorizerUri)).toContain(`"${stack.functionId('lambdas/auth/authorizer.ts')}","Arn"`);
  });

  it('stage v1: throttled, JSON access logs, traced, error logging without request bodies', () => {
    const [, stage] = stack.only('AWS::ApiGateway::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [
        { HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR', DataTraceEnabled: false },
      ],
    });
    const accessLog = stage.Properties!.AccessLogSetting as { DestinationArn: unknown; Format: string };
    expect(JSON.parse(accessLog.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      tenantId: '$context.authorizer.tenantId',
    });
    const logGroup = flatten(accessLog.DestinationArn).replace(/^<(.+)\.Arn>$/, '$1');
    expect(stack.resources[logGroup]!.Properties!.RetentionInDays).toBe(30);
  });

  it('CORS preflight for every origin, with the headers clients send', () => {
    const [, preflight] = stack.ofType('AWS::ApiGateway::Method').find(([, m]) => m.Properties!.HttpMethod === 'OPTIONS')!;
    const headers = (preflight.Properties!.Integration as { IntegrationResponses: { ResponseParameters: Record<string, string> }[] }).IntegrationResponses[0]!
      .ResponseParameters;
    expect(headers['method.response.header.Access-Control-Allow-Origin']).toBe("'*'");
    expect(headers['method.response.header.Access-Control-Allow-Headers']).toBe("'Authorization,Content-Type,Idempotency-Key'");
  });

  const gatewayResponse = (type: string) => stack.ofType('AWS::ApiGateway::GatewayResponse').find(([, r]) => r.Properties!.ResponseType === type)?.[1];

  it.each([
    ['UNAUTHORIZED', '401', 'UNAUTHORIZED'],
    ['ACCESS_DENIED', '401', 'UNAUTHORIZED'],
    ['MISSING_AUTHENTICATION_TOKEN', '404', 'NOT_FOUND'],
    ['THROTTLED', '429', 'RATE_LIMITED'],
    ['REQUEST_TOO_LARGE', '413', 'PAYLOAD_TOO_LARGE'],
    // The 5xx types keep API Gateway's status (500, 502, 504): none is rewritten.
    ['INTEGRATION_TIMEOUT', undefined, 'INTEGRATION_TIMEOUT'],
    ['INTEGRATION_FAILURE', undefined, 'INTEGRATION_FAILURE'],
    // The authorizer could not read the keys table: the documented 503, never a 500 (docs/openapi.json).
    ['AUTHORIZER_FAILURE', '503', 'SERVICE_UNAVAILABLE'],
    ['AUTHORIZER_CONFIGURATION_ERROR', undefined, 'INTERNAL_ERROR'],
    ['API_CONFIGURATION_ERROR', undefined, 'INTERNAL_ERROR'],
    ['DEFAULT_5XX', undefined, 'BAD_GATEWAY'],
  ] as [string, string | undefined, string][])(
    'gateway response %s: status override %s, code %s in the error shape of docs/openapi.json, readable cross-origin',
    (type, status, code) => {
      const response = gatewayResponse(type)!;
      expect(response.Properties!.StatusCode).toBe(status);
      // 429s and 503s also say when to retry (test/stack/rate-limits.test.ts), and a page may read when.
      const retryAfter = status === '429' || status === '503' ? { 'gatewayresponse.header.Retry-After': expect.stringMatching(/^'\d+'$/) } : {};
      expect(response.Properties!.ResponseParameters).toEqual({
        'gatewayresponse.header.Access-Control-Allow-Origin': "'*'",
        'gatewayresponse.header.Access-Control-Expose-Headers': "'Location, Retry-After'",
        ...retryAfter,
      });
      const body = JSON.parse((response.Properties!.ResponseTemplates as Record<string, string>)['application/json']!);
      expect(body).toEqual({ error: { code, message: expect.any(String) } });
    },
  );

  it('gateway response DEFAULT_4XX keeps each status and names the response type as the code', () => {
    // A StatusCode on DEFAULT_4XX would become the status of every 4xx type without its own response.
    const response = gatewayResponse('DEFAULT_4XX')!;
    expect(response.Properties!.StatusCode).toBeUndefined();
    const template = (response.Properties!.ResponseTemplates as Record<string, string>)['application/json']!;
    // As API Gateway renders it for, e.g., an unsupported media type:
    const rendered = template
      .replace('$context.error.responseType', 'UNSUPPORTED_MEDIA_TYPE')
      .replace('$context.error.messageString', '"Unsupported Media Type"');
    expect(JSON.parse(rendered)).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported Media Type' } });
  });
});

describe('outputs', () => {
  it('every endpoint, table and the state machine, for clients, scripts and the end-to-end tests', () => {
    const outputs = stack.template.Outputs;
    expect(outputs.JobsTableName?.Value).toEqual({ Ref: tables.jobs });
    expect(outputs.ModelsTableName?.Value).toEqual({ Ref: tables.models });
    expect(outputs.ApiKeysTableName?.Value).toEqual({ Ref: tables.apiKeys });
    expect(outputs).not.toHaveProperty('IdempotencyTableName');
    expect(outputs.TenantsTableName?.Value).toEqual({ Ref: tables.tenants });
    expect(outputs.StateMachineArn?.Value).toEqual({ Ref: stateMachineId });
    expect(outputs.StateMachineName?.Value).toEqual({ 'Fn::GetAtt': [stateMachineId, 'Name'] });
    const [stageId] = stack.only('AWS::ApiGateway::Stage');
    expect(flatten(outputs.ApiUrl?.Value)).toMatch(new RegExp(`^https://<\\w+>\\.execute-api\\.<AWS::Region>\\.<AWS::URLSuffix>/<${stageId}>/$`));
    expect(outputs).toHaveProperty('WebSocketUrl');
  });
});

describe('the app', () => {
  it(`names the stack ${DEFAULT_STACK_NAME} unless told otherwise (option or -c stackName=…)`, () => {
    expect(createApp({ skipBundling: true }).stack.stackName).toBe(DEFAULT_STACK_NAME);
    expect(createApp({ skipBundling: true, stackName: 'Mine' }).stack.stackName).toBe('Mine');
    // How the CLI passes -c stackName=Theirs to the app.
    const previous = process.env.CDK_CONTEXT_JSON;
    process.env.CDK_CONTEXT_JSON = JSON.stringify({ stackName: 'Theirs' });
    try {
      expect(createApp({ skipBundling: true }).stack.stackName).toBe('Theirs');
    } finally {
      if (previous === undefined) delete process.env.CDK_CONTEXT_JSON;
      else process.env.CDK_CONTEXT_JSON = previous;
    }
  });
});

describe('cdk-nag', () => {
  it('fails the synth on a finding nobody acknowledged (so the clean synth above means something)', () => {
    const { app, stack: regressionStack } = createApp({ skipBundling: true });
    const health = regressionStack.node.findAll().find((c): c is AppFunction => c instanceof AppFunction && c.node.id === 'HealthFunction')!;
    health.role.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::dynamodb:\*\]/);
  });

  it('acknowledges findings one by one: the open /health does not excuse another open route', () => {
    const { app, stack: regressionStack } = createApp({ skipBundling: true });
    const rest = regressionStack.node.findAll().find((c): c is RestApi => c instanceof RestApi)!;
    const health = regressionStack.node.findAll().find((c): c is AppFunction => c instanceof AppFunction && c.node.id === 'HealthFunction')!;
    rest.api.root.resourceForPath('/jobs').addResource('open').addMethod('GET', new apigateway.LambdaIntegration(health), {
      authorizationType: apigateway.AuthorizationType.NONE,
    });
    expect(() => app.synth()).toThrow(/AwsSolutions-APIG4/);
  });
});
