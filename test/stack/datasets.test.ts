import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { AppFunction, type AppFunctionProps } from '../../lib/app-function.js';
import { Datasets } from '../../lib/datasets.js';
import { TRANSIENT_ERRORS } from '../../lib/training-workflow.js';
import { type CfnResource, type CfnTemplate, defaultTemplate, flatten, type Json, Synthesized } from './synthesized.js';

/**
 * Uploaded datasets as `cdk synth` builds them (lib/app.ts, cdk-nag included):
 * the private bucket, its notification to the validation function, the table, the
 * routes, and what each function may do with them.
 */
let stack: Synthesized;
let bucketId: string;
let tableId: string;

beforeAll(() => {
  // Synthesized once for the run, cdk-nag and cfn-guard included (test/stack/global-setup.ts).
  stack = new Synthesized(defaultTemplate());
  bucketId = (stack.template.Outputs.DatasetsBucketName!.Value as { Ref: string }).Ref;
  tableId = (stack.template.Outputs.DatasetsTableName!.Value as { Ref: string }).Ref;
});

const bucket = () => stack.resources[bucketId]!;
const policyOf = (id: string) => stack.ofType('AWS::S3::BucketPolicy').find(([, policy]) => (policy.Properties!.Bucket as { Ref: string }).Ref === id)?.[1];

/** A bucket that only TLS requests reach. */
function expectTlsOnly(id: string): void {
  const statements = (policyOf(id)!.Properties!.PolicyDocument as { Statement: { Effect: string; Action: string; Condition?: unknown }[] }).Statement;
  expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
}

const PRIVATE = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true };
const ENCRYPTED = { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] };

describe('datasets bucket', () => {
  it('is private, encrypted at rest, TLS only, owned by the account (no ACLs)', () => {
    expect(bucket().Properties).toMatchObject({
      PublicAccessBlockConfiguration: PRIVATE,
      BucketEncryption: ENCRYPTED,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expectTlsOnly(bucketId);
  });

  it('expires datasets after 7 days (as the table TTL does) and abandoned multipart uploads after a day', () => {
    const rules = (bucket().Properties!.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'datasets/', ExpirationInDays: 7, Status: 'Enabled' }));
    expect(rules).toContainEqual(expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }));
  });

  it('logs every access to its own private, encrypted, TLS-only log bucket', () => {
    const logging = bucket().Properties!.LoggingConfiguration as { DestinationBucketName: { Ref: string }; LogFilePrefix: string };
    const logsId = logging.DestinationBucketName.Ref;
    expect(logsId).not.toBe(bucketId);
    expect(stack.resources[logsId]!.Properties).toMatchObject({ PublicAccessBlockConfiguration: PRIVATE, BucketEncryption: ENCRYPTED });
    expectTlsOnly(logsId);
  });

  it("lets browsers POST uploads and PUT parts cross-origin, and read each part's ETag; nothing else", () => {
    expect(bucket().Properties!.CorsConfiguration).toEqual({
      CorsRules: [{ AllowedMethods: ['POST', 'PUT'], AllowedOrigins: ['*'], AllowedHeaders: ['*'], ExposedHeaders: ['ETag'], MaxAge: 3000 }],
    });
  });

  it('notifies the validation function of every new .csv under datasets/', () => {
    const [, notifications] = stack.only('Custom::S3BucketNotifications');
    expect((notifications.Properties!.BucketName as { Ref: string }).Ref).toBe(bucketId);
    expect(notifications.Properties!.NotificationConfiguration).toEqual({
      LambdaFunctionConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          LambdaFunctionArn: { 'Fn::GetAtt': [stack.functionId('lambdas/datasets/validate-dataset.ts'), 'Arn'] },
          Filter: {
            Key: {
              FilterRules: [
                { Name: 'suffix', Value: '.csv' },
                { Name: 'prefix', Value: 'datasets/' },
              ],
            },
          },
        },
      ],
    });
    const invoke = stack
      .ofType('AWS::Lambda::Permission')
      .map(([, permission]) => permission.Properties!)
      .find((properties) => properties.Principal === 's3.amazonaws.com');
    expect(invoke).toMatchObject({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [stack.functionId('lambdas/datasets/validate-dataset.ts'), 'Arn'] },
    });
    expect(flatten(invoke!.SourceArn)).toBe(`<${bucketId}.Arn>`);
  });
});

describe('datasets table', () => {
  it('tenant + ULID keys, on demand, encrypted, point-in-time recovery, TTL on expiresAt', () => {
    expect(stack.resources[tableId]!.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'datasetId', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });
});

describe('functions and grants', () => {
  /** A function's grants on the datasets bucket and table (its logs and X-Ray grants are AppFunction's). */
  const datasetGrants = (entry: string) => stack.grantsOf(entry).filter((line) => line.includes(`<${tableId}.Arn>`) || line.includes(`<${bucketId}.Arn>`));
  const objects = () => `<${bucketId}.Arn>/datasets/*`;
  const scans = () => `<${bucketId}.Arn>/scans/*`;
  const table = () => `<${tableId}.Arn>`;

  it.each([
    // PutObject covers what it signs (POST, UploadPart) and CreateMultipartUpload; it aborts an upload it could not record.
    ['lambdas/datasets/create-dataset.ts', () => [`dynamodb:PutItem ${table()}`, `s3:AbortMultipartUpload ${objects()}`, `s3:PutObject ${objects()}`]],
    ['lambdas/datasets/upload-parts.ts', () => [`dynamodb:GetItem ${table()}`, `s3:ListMultipartUploadParts ${objects()}`, `s3:PutObject ${objects()}`]],
    // CompleteMultipartUpload is authorised as s3:PutObject; ListParts checks the parts' sizes, and an upload with a part
    // larger than declared is aborted.
    [
      'lambdas/datasets/complete-upload.ts',
      () => [
        `dynamodb:GetItem ${table()}`,
        `dynamodb:UpdateItem ${table()}`,
        `s3:AbortMultipartUpload ${objects()}`,
        `s3:ListMultipartUploadParts ${objects()}`,
        `s3:PutObject ${objects()}`,
      ],
    ],
    ['lambdas/datasets/get-dataset.ts', () => [`dynamodb:GetItem ${table()}`]],
    // ListBucket (limited by s3:prefix to what the function reads) makes S3 answer a missing object 404, not 403.
    // DeleteObject: an object over its size limit is removed.
    [
      'lambdas/datasets/validate-dataset.ts',
      () => [`dynamodb:UpdateItem ${table()}`, `s3:DeleteObject ${objects()}`, `s3:GetObject ${objects()}`, `s3:ListBucket <${bucketId}.Arn>`],
    ],
    ['lambdas/datasets/validation-failed.ts', () => [`dynamodb:UpdateItem ${table()}`]],
    // The scan: the plan reads the object's head, each child its range and writes its partial, the merge reads the
    // partials, writes the statistics and the dataset's status; nothing else.
    ['lambdas/datasets/plan-scan.ts', () => [`s3:GetObject ${objects()}`, `s3:ListBucket <${bucketId}.Arn>`]],
    ['lambdas/datasets/scan-range.ts', () => [`s3:GetObject ${objects()}`, `s3:ListBucket <${bucketId}.Arn>`, `s3:PutObject ${scans()}`]],
    ['lambdas/datasets/merge-scan.ts', () => [`dynamodb:UpdateItem ${table()}`, `s3:GetObject ${scans()}`, `s3:PutObject ${scans()}`]],
    ['lambdas/datasets/scan-failed.ts', () => [`dynamodb:UpdateItem ${table()}`]],
    ['lambdas/api/create-job.ts', () => [`dynamodb:GetItem ${table()}`, `s3:DeleteObject <${bucketId}.Arn>/jobs/*`, `s3:PutObject <${bucketId}.Arn>/jobs/*`]],
    [
      'lambdas/train/train.ts',
      () => [
        `dynamodb:GetItem ${table()}`,
        `s3:GetObject ${objects()}`,
        `s3:GetObject <${bucketId}.Arn>/jobs/*`,
        `s3:GetObject ${scans()}`,
        `s3:ListBucket <${bucketId}.Arn>`,
        `s3:ListBucket <${bucketId}.Arn>`,
      ],
    ],
  ] as [string, () => string[]][])('%s: exactly what its handler does, objects only under their prefix', (entry, expected) => {
    expect(datasetGrants(entry)).toEqual(expected().sort());
  });

  it('no other function of the stack touches the datasets bucket or table', () => {
    const holders = [...stack.appFunctions().keys()].filter((entry) => datasetGrants(entry).length > 0).sort();
    expect(holders).toEqual(
      [
        'lambdas/api/create-job.ts',
        // Readiness: HeadBucket (s3:ListBucket on the bucket), never an object.
        'lambdas/api/health.ts',
        'lambdas/datasets/complete-upload.ts',
        'lambdas/datasets/create-dataset.ts',
        'lambdas/datasets/get-dataset.ts',
        'lambdas/datasets/merge-scan.ts',
        'lambdas/datasets/plan-scan.ts',
        'lambdas/datasets/scan-failed.ts',
        'lambdas/datasets/scan-range.ts',
        'lambdas/datasets/upload-parts.ts',
        'lambdas/datasets/validate-dataset.ts',
        'lambdas/datasets/validation-failed.ts',
        'lambdas/train/train.ts',
      ].sort(),
    );
  });

  it('every function gets the names it reads (and the upload policy its retention)', () => {
    const names = { DATASETS_TABLE_NAME: { Ref: tableId }, DATASETS_BUCKET_NAME: { Ref: bucketId } };
    // 100 GB at most; one presigned POST up to 5 GiB, parts of 100 MiB above it.
    const uploads = { LIMIT_MAX_DATASET_BYTES: '100000000000', DATASET_MULTIPART_THRESHOLD_BYTES: '5368709120', DATASET_PART_BYTES: '104857600' };
    expect(stack.environmentOf('lambdas/datasets/create-dataset.ts')).toMatchObject({ ...names, ...uploads, DATASET_RETENTION_DAYS: '7' });
    expect(stack.environmentOf('lambdas/datasets/upload-parts.ts')).toMatchObject(names);
    expect(stack.environmentOf('lambdas/datasets/complete-upload.ts')).toMatchObject(names);
    // The size is checked again after upload, against the same limit.
    expect(stack.environmentOf('lambdas/datasets/validate-dataset.ts')).toMatchObject({ LIMIT_MAX_DATASET_BYTES: '100000000000' });
    expect(stack.environmentOf('lambdas/datasets/get-dataset.ts')).toMatchObject({ DATASETS_TABLE_NAME: names.DATASETS_TABLE_NAME });
    expect(stack.environmentOf('lambdas/datasets/validate-dataset.ts')).toMatchObject({ DATASETS_TABLE_NAME: names.DATASETS_TABLE_NAME });
    expect(stack.environmentOf('lambdas/api/create-job.ts')).toMatchObject({ DATASETS_TABLE_NAME: names.DATASETS_TABLE_NAME });
    expect(stack.environmentOf('lambdas/train/train.ts')).toMatchObject(names);
  });

  it('each scan child reads its range in one pass: a full vCPU and up to 15 minutes', () => {
    expect(stack.functionOf('lambdas/datasets/scan-range.ts').Properties).toMatchObject({ MemorySize: 1769, Timeout: 900 });
    expect(stack.environmentOf('lambdas/datasets/plan-scan.ts')).toMatchObject({ SCAN_RANGE_BYTES: String(64 * 1024 * 1024), SCAN_MAX_RANGES: '1000' });
  });
});

describe('the dataset scan', () => {
  let scanId: string;
  let scan: CfnResource;
  let definition: { StartAt: string; States: Record<string, Json> };
  beforeAll(() => {
    [scanId, scan] = stack.scanStateMachine();
    definition = stack.definitionOf(scanId) as unknown as typeof definition;
  });

  it('plans, maps the ranges in DISTRIBUTED mode at the stack prop concurrency, then merges; every step caught', () => {
    expect(definition.StartAt).toBe('Plan');
    expect(definition.States.Plan).toMatchObject({ Next: 'ScanRanges', ResultPath: '$.plan' });
    const map = definition.States.ScanRanges;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.ranges',
      MaxConcurrency: 10,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ResultSelector: { 'rangeCount.$': 'States.ArrayLength($)' },
      Next: 'Merge',
    });
    // Every row counts: no tolerated failure.
    expect(map.ToleratedFailurePercentage).toBeUndefined();
    expect(map.ToleratedFailureCount).toBeUndefined();
    expect(map.ItemProcessor.States.ScanRange.Retry).toEqual([{ ErrorEquals: TRANSIENT_ERRORS, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }]);
    for (const step of ['Plan', 'ScanRanges', 'Merge']) {
      expect(definition.States[step].Catch, step).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'MarkFailed' }]);
    }
    expect(definition.States.MarkFailed.Next).toBe('ScanFailed');
  });

  it('its role may invoke its four functions, start, describe and stop its own executions, and nothing else', () => {
    const role = (scan.Properties!.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const grants = stack
      .grantsOfRole(role)
      .filter((line) => !line.startsWith('logs:') && !line.startsWith('xray:'))
      .sort();
    const fn = (entry: string) => `<${stack.functionId(entry)}.Arn>`;
    const functions = ['merge-scan', 'plan-scan', 'scan-failed', 'scan-range'].map((name) => fn(`lambdas/datasets/${name}.ts`));
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${scanId}"}]}]}`;
    expect(grants).toEqual(
      [
        ...functions.flatMap((arn) => [`lambda:InvokeFunction ${arn}`, `lambda:InvokeFunction ${arn}:*`]),
        `states:StartExecution <${scanId}>`,
        `states:DescribeExecution ${executions}:*`,
        `states:StopExecution ${executions}:*`,
        `states:RedriveExecution ${executions}/*:*`,
      ].sort(),
    );
  });

  it('is started by validate-dataset alone, which is told its ARN', () => {
    expect(stack.environmentOf('lambdas/datasets/validate-dataset.ts')).toMatchObject({ SCAN_STATE_MACHINE_ARN: { Ref: scanId } });
    const starters = [...stack.appFunctions().keys()].filter((entry) => stack.grantsOf(entry).some((line) => line === `states:StartExecution <${scanId}>`));
    expect(starters).toEqual(['lambdas/datasets/validate-dataset.ts']);
  });
});

describe('routes', () => {
  const method = (httpMethod: string, path: string): CfnResource => {
    const resources = new Map(
      stack.ofType('AWS::ApiGateway::Resource').map(([id, resource]) => [id, resource.Properties as { ParentId: unknown; PathPart: string }]),
    );
    const pathOf = (id: unknown): string => {
      const resource = resources.get((id as { Ref?: string }).Ref ?? '');
      return resource ? `${pathOf(resource.ParentId)}/${resource.PathPart}` : '';
    };
    const found = stack.ofType('AWS::ApiGateway::Method').find(([, m]) => m.Properties!.HttpMethod === httpMethod && pathOf(m.Properties!.ResourceId) === path);
    if (!found) throw new Error(`no ${httpMethod} ${path}`);
    return found[1];
  };

  it.each([
    ['POST', '/datasets', 'lambdas/datasets/create-dataset.ts'],
    ['GET', '/datasets/{datasetId}', 'lambdas/datasets/get-dataset.ts'],
    ['GET', '/datasets/{datasetId}/parts', 'lambdas/datasets/upload-parts.ts'],
    ['POST', '/datasets/{datasetId}/complete', 'lambdas/datasets/complete-upload.ts'],
  ])('%s %s: a Lambda proxy to its handler, behind the API-key authorizer', (httpMethod, path, entry) => {
    const [authorizerId] = stack.only('AWS::ApiGateway::Authorizer');
    const properties = method(httpMethod, path).Properties!;
    expect(properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId }, Integration: { Type: 'AWS_PROXY' } });
    expect(flatten((properties.Integration as { Uri: unknown }).Uri)).toContain(`<${stack.functionId(entry)}.Arn>`);
  });
});

describe('outputs', () => {
  it('DatasetsBucketName and DatasetsTableName', () => {
    expect(stack.template.Outputs.DatasetsBucketName!.Value).toEqual({ Ref: bucketId });
    expect(stack.template.Outputs.DatasetsTableName!.Value).toEqual({ Ref: tableId });
  });
});

describe('Datasets construct', () => {
  function build(retentionDays?: number, uploads: Record<string, number> = {}): Stack {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const scope = new Stack(app, 'Test');
    const api = new apigateway.RestApi(scope, 'Api');
    const fn = (id: string, props: AppFunctionProps) => new AppFunction(scope, id, props);
    const authorizer = new apigateway.TokenAuthorizer(scope, 'Authorizer', { handler: fn('Auth', { entry: 'lambdas/auth/authorizer.ts' }) });
    new Datasets(scope, 'Datasets', {
      api,
      authorizer,
      newFunction: (parent, id, options) => new AppFunction(parent, id, options),
      createJobFunction: fn('CreateJob', { entry: 'lambdas/api/create-job.ts' }),
      trainFunction: fn('Train', { entry: 'lambdas/train/train.ts', timeout: Duration.minutes(15) }),
      ...(retentionDays === undefined ? {} : { retentionDays }),
      ...uploads,
    });
    return scope;
  }

  it('takes the size limit, the multipart threshold and the part size as props, for every upload function', () => {
    const template = new Synthesized(
      Template.fromStack(
        build(undefined, { maxDatasetBytes: 10_000_000, multipartThresholdBytes: 1_048_576, multipartPartBytes: 262_144 }),
      ).toJSON() as CfnTemplate,
    );
    expect(template.environmentOf('lambdas/datasets/create-dataset.ts')).toMatchObject({
      LIMIT_MAX_DATASET_BYTES: '10000000',
      DATASET_MULTIPART_THRESHOLD_BYTES: '1048576',
      DATASET_PART_BYTES: '262144',
    });
    expect(template.environmentOf('lambdas/datasets/validate-dataset.ts')).toMatchObject({ LIMIT_MAX_DATASET_BYTES: '10000000' });
  });

  it.each([
    [{ multipartThresholdBytes: 6 * 1024 ** 3 }, /multipartThresholdBytes must be at most 5368709120/],
    [{ multipartPartBytes: 0 }, /multipartPartBytes must be a whole number of bytes >= 1/],
    [{ maxDatasetBytes: 1.5 }, /maxDatasetBytes must be a whole number of bytes >= 1/],
    [{ maxDatasetBytes: 1000 * 5 * 1024 ** 3 + 1 }, /maxDatasetBytes must be at most 5,000 GiB/],
  ])('refuses upload props %j at synth time', (uploads, message) => {
    expect(() => build(undefined, uploads)).toThrow(message);
  });

  it('reads the upload settings from the CDK context (the offline stack tries multipart uploads with small files)', () => {
    const previous = process.env.CDK_CONTEXT_JSON;
    process.env.CDK_CONTEXT_JSON = JSON.stringify({ datasetMultipartThresholdBytes: 1_048_576, datasetPartBytes: '262144', datasetMaxBytes: 50_000_000 });
    try {
      const { stack: small } = createApp({ skipBundling: true });
      const template = new Synthesized(Template.fromStack(small).toJSON() as CfnTemplate);
      expect(template.environmentOf('lambdas/datasets/create-dataset.ts')).toMatchObject({
        LIMIT_MAX_DATASET_BYTES: '50000000',
        DATASET_MULTIPART_THRESHOLD_BYTES: '1048576',
        DATASET_PART_BYTES: '262144',
      });
    } finally {
      if (previous === undefined) delete process.env.CDK_CONTEXT_JSON;
      else process.env.CDK_CONTEXT_JSON = previous;
    }
  });

  it('keeps objects and records the same number of days', () => {
    const template = new Synthesized(Template.fromStack(build(3)).toJSON() as CfnTemplate);
    const [, created] = template
      .ofType('AWS::S3::Bucket')
      .find(([, b]) => b.Properties!.NotificationConfiguration !== undefined || b.Properties!.CorsConfiguration !== undefined)!;
    expect((created.Properties!.LifecycleConfiguration as { Rules: unknown[] }).Rules).toContainEqual(
      expect.objectContaining({ Prefix: 'datasets/', ExpirationInDays: 3 }),
    );
    expect(template.environmentOf('lambdas/datasets/create-dataset.ts')).toMatchObject({ DATASET_RETENTION_DAYS: '3' });
  });

  it("delivers access logs through a bucket policy (no ACLs) even without the app's S3 feature flags", () => {
    const template = new Synthesized(Template.fromStack(build()).toJSON() as CfnTemplate);
    for (const [id, bucket] of template.ofType('AWS::S3::Bucket')) {
      expect(bucket.Properties!.AccessControl, id).toBeUndefined();
      expect(bucket.Properties!.OwnershipControls, id).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    }
  });

  it.each([0, -1, 1.5])('refuses a retention of %s days at synth time', (days) => {
    expect(() => build(days)).toThrow(/retentionDays must be a whole number of days >= 1/);
  });
});
