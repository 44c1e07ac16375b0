import path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag.js';

/** The project root: entries are given relative to it. */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

/** Template metadata naming a function's handler source, read by the offline stack (local/). */
export const ENTRY_METADATA = 'app:entry';

/** Every function's environment unless the caller gives another value for a key. */
export const DEFAULT_ENVIRONMENT: Readonly<Record<string, string>> = {
  POWERTOOLS_SERVICE_NAME: 'regression-jobs',
  POWERTOOLS_METRICS_NAMESPACE: 'RegressionJobs',
  LOG_LEVEL: 'INFO',
  // Stack traces point at the TypeScript sources instead of the minified bundle.
  NODE_OPTIONS: '--enable-source-maps',
};

/**
 * How every function is bundled for deployment; the offline stack builds its
 * bundles from these same options (local/lambda/bundles.ts), and a stack test
 * checks that both produce the same bytes.
 */
export const BUNDLING = {
  // ESM output is written as index.mjs, which tells the Node.js runtime to load it as a module.
  format: OutputFormat.ESM,
  target: 'node24',
  // Prefer the ESM builds of dependencies: esbuild can drop what a handler never imports.
  mainFields: ['module', 'main'],
  // Some dependencies are CommonJS and call require(), which an ES module does not define.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  // Mappings only: stack traces need no copy of the sources, and a map three times smaller loads faster at cold start.
  sourcesContent: false,
  bundleAwsSDK: true,
  // Lambda gives a function its credentials in the environment: the SDK's full default chain (profiles, SSO, STS, IMDS)
  // would add about 100 KB to every bundle for nothing (lambdas/commons/runtime/lambda-credentials.ts).
  // Event streams likewise: no function calls an operation that streams messages (lambdas/commons/runtime/no-event-streams.ts).
  esbuildArgs: {
    '--alias:@aws-sdk/credential-provider-node': './lambdas/commons/runtime/lambda-credentials.ts',
    '--alias:@smithy/core/event-streams': './lambdas/commons/runtime/no-event-streams.ts',
  },
  forceDockerBundling: false,
} as const satisfies BundlingOptions;

// Lambda's own limits, checked at synth time so a bad value fails here and not halfway through a deployment.
const MEMORY_LIMITS_MB = { min: 128, max: 10_240 };
const MAX_TIMEOUT = Duration.minutes(15);
const ENVIRONMENT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export interface AppFunctionProps {
  /**
   * The handler's source relative to the project root: a `.ts` file under `lambdas/`
   * that exports `handler`. Also recorded as the function's `app:entry` metadata.
   */
  readonly entry: string;
  /**
   * Extra variables, merged over `DEFAULT_ENVIRONMENT`: a caller may give a default
   * another value (e.g. `LOG_LEVEL`) but never drops the others.
   * @default none beyond the defaults
   */
  readonly environment?: Record<string, string>;
  /**
   * At most 15 minutes (Lambda's maximum).
   * @default 10 seconds: enough for an API handler, far below API Gateway's 29 s
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB, 128 to 10,240; Lambda gives CPU in proportion (one full vCPU at 1,769 MB).
   * @default 512
   */
  readonly memorySize?: number;
  /** What the function does, shown in the console. @default none */
  readonly description?: string;
}

/**
 * Every function of the project, its defaults fixed once:
 * - Node.js 24 (the newest Lambda runtime aws-cdk-lib knows; cdk-nag's L1 wants the
 *   newest) on ARM64 (cheaper per GB-second), X-Ray tracing, source-mapped stack traces;
 * - a log group kept one month, written through the function's own role (no
 *   `AWSLambdaBasicExecutionRole`, whose logs grant covers every log group);
 * - an ESM bundle (`index.mjs`) built by the project's esbuild, without Docker.
 *
 * The AWS SDK is bundled instead of taken from the runtime: the SDK version that
 * passed the tests is the one that runs in Lambda, and a runtime update cannot
 * change it. It costs about 350 KB per bundle (minified), which is fine next to
 * Lambda's 50 MB zip limit and barely shows in cold starts.
 *
 * Its CloudFormation metadata `app:entry` names the handler's source, so the
 * offline stack runs the very same handler with the environment given here.
 */
export class AppFunction extends NodejsFunction {
  /** The function's own role (always set: it is made here), narrowed so grants and acknowledgements can name it. */
  declare readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    const entry = validEntry(id, props.entry);
    const memorySize = props.memorySize ?? 512;
    const timeout = props.timeout ?? Duration.seconds(10);
    const environment = { ...DEFAULT_ENVIRONMENT, ...props.environment };
    validateLimits(id, memorySize, timeout, environment);

    // Created beside the function (not inside it): NodejsFunction needs its role and log group before `this` exists.
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);

    super(scope, id, {
      role,
      entry: path.join(PROJECT_ROOT, entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      memorySize,
      timeout,
      description: props.description,
      logGroup,
      environment,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: BUNDLING,
    });
    (this.node.defaultChild as lambda.CfnFunction).addMetadata(ENTRY_METADATA, entry);

    acknowledgeWildcardResource(role, '*', 'X-Ray PutTraceSegments and PutTelemetryRecords have no resource-level permissions.');
    acknowledgeWildcardResource(role, `${logGroup.logGroupArn}:*`, "Log streams are created at run time, inside the function's own log group only.");
  }
}

/** The entry as a project-relative POSIX path, or an error naming the function. */
function validEntry(id: string, entry: string): string {
  const relative = path.posix.normalize(entry.split(path.sep).join('/'));
  if (path.isAbsolute(entry) || !relative.startsWith('lambdas/') || !relative.endsWith('.ts')) {
    throw new Error(`AppFunction ${id}: entry must be a .ts file under lambdas/, relative to the project root; got ${entry}`);
  }
  return relative;
}

function validateLimits(id: string, memorySize: number, timeout: Duration, environment: Record<string, string>): void {
  if (!Number.isInteger(memorySize) || memorySize < MEMORY_LIMITS_MB.min || memorySize > MEMORY_LIMITS_MB.max) {
    throw new Error(`AppFunction ${id}: memorySize must be a whole number of MB from ${MEMORY_LIMITS_MB.min} to ${MEMORY_LIMITS_MB.max}; got ${memorySize}`);
  }
  if (timeout.toMilliseconds() < 1000 || timeout.toMilliseconds() > MAX_TIMEOUT.toMilliseconds()) {
    throw new Error(`AppFunction ${id}: timeout must be from 1 second to 15 minutes; got ${timeout.toHumanString()}`);
  }
  const badName = Object.keys(environment).find((name) => !ENVIRONMENT_NAME.test(name));
  if (badName !== undefined) throw new Error(`AppFunction ${id}: "${badName}" is not a valid environment variable name`);
}

/** DynamoDB actions a handler may be given on a table; a wildcard cannot be written here. */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:Scan'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:ConditionCheckItem';

/**
 * Grant and wire in one step: puts `table`'s name in `fn`'s environment as
 * `variable`, and lets `fn` do exactly `actions` on the table, plus Query on the
 * named `indexes`.
 *
 * Named actions instead of `grantReadData`/`grantReadWriteData`: those also grant
 * Scan, DescribeTable, the stream reads and every index (`index/*`), none of which
 * a handler here needs; a transaction needs no action of its own, only the item
 * actions it is made of.
 */
export function useTable(
  fn: lambda.Function,
  variable: string,
  table: dynamodb.ITable,
  actions: readonly TableAction[],
  indexes: readonly string[] = [],
): void {
  if (actions.length === 0) throw new Error(`useTable ${variable}: give at least one action`);
  if (indexes.length > 0 && !actions.includes('dynamodb:Query')) {
    throw new Error(`useTable ${variable}: indexes are read only by Query, which is not among the actions`);
  }
  fn.addEnvironment(variable, table.tableName);
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...actions], resources: [table.tableArn] }));
  if (indexes.length > 0) {
    const indexArns = indexes.map((index) => `${table.tableArn}/index/${index}`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns }));
  }
}
