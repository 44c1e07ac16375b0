import path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The project root: entries are given relative to it. */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

export interface AppFunctionProps {
  /** The handler's source, relative to the project root, under `lambdas/` (it exports `handler`). */
  readonly entry: string;
  /** Merged over the defaults (Powertools service, namespace, log level); never replaces them. */
  readonly environment?: Record<string, string>;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** @default 512 MB */
  readonly memorySize?: number;
  readonly description?: string;
}

const DEFAULT_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: 'regression-jobs',
  POWERTOOLS_METRICS_NAMESPACE: 'RegressionJobs',
  LOG_LEVEL: 'INFO',
  NODE_OPTIONS: '--enable-source-maps',
};

/**
 * Every function of the project, with its defaults fixed once: the newest Node.js
 * runtime (24) on ARM64, X-Ray tracing, a log group kept one month that only this
 * function may write (its own role, no AWS managed policy), and an ESM bundle built
 * by the local esbuild (no Docker). The AWS SDK is bundled rather than taken from the runtime so
 * the version that ran the tests is the version that runs in Lambda.
 *
 * Its CloudFormation metadata `app:entry` names the handler's source, so the
 * offline stack can run the very same handler with the environment given here.
 */
export class AppFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    const entry = path.normalize(props.entry);
    if (!entry.startsWith(`lambdas${path.sep}`) || !entry.endsWith('.ts')) {
      throw new Error(`AppFunction ${id}: entry must be a .ts file under lambdas/, got ${props.entry}`);
    }
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role instead of AWSLambdaBasicExecutionRole: writing to its one log group is all it needs by default.
    const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    super(scope, id, {
      role,
      entry: path.join(PROJECT_ROOT, entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      description: props.description,
      logGroup,
      environment: { ...DEFAULT_ENVIRONMENT, ...props.environment },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        externalModules: [],
        forceDockerBundling: false,
        mainFields: ['module', 'main'],
        // Some dependencies are CommonJS and call require(); ESM bundles need it defined.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
    });
    (this.node.defaultChild as lambda.CfnFunction).addMetadata('app:entry', entry.split(path.sep).join('/'));
    Validations.of(role).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray PutTraceSegments and PutTelemetryRecords have no resource-level permissions.' },
      {
        id: `AwsSolutions-IAM5[Resource::<${scopeLogicalId(logGroup)}.Arn>:*]`,
        reason: 'Log streams are created at run time inside the function\'s own log group.',
      },
    );
  }
}

function scopeLogicalId(logGroup: logs.LogGroup): string {
  return Stack.of(logGroup).getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup);
}
