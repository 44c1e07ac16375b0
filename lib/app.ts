import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import { PROJECT_ROOT } from './app-function.js';
import { addNagChecks } from './nag.js';
import { RegressionStack } from './regression-stack.js';
import { type RestAuthorizerMode, restAuthorizerMode, withoutRestAuthorizer } from './without-authorizer.js';

export const DEFAULT_STACK_NAME = 'RegressionJobs';

export interface CreateAppOptions {
  /** Skip esbuild bundling: stack tests and the offline stack read the template, not the code. @default false */
  readonly skipBundling?: boolean;
  /** Where the cloud assembly goes. @default the CLI's choice, else a temporary folder */
  readonly outdir?: string;
  /** @default the `stackName` context value, else `RegressionJobs` */
  readonly stackName?: string;
  /**
   * `none` deploys the REST API without its Lambda authorizer, for LocalStack's free
   * edition (lib/without-authorizer.ts). @default the `restAuthorizer` context value, else `lambda`
   */
  readonly restAuthorizer?: RestAuthorizerMode;
  /**
   * The account and region to synthesize for. @default what the CDK CLI sets (`CDK_DEFAULT_ACCOUNT`/`CDK_DEFAULT_REGION`:
   * literal values, `unknown-account` without credentials), else an environment-agnostic template (tests, local/)
   */
  readonly env?: Environment;
  /**
   * Run AWS Control Tower's proactive controls (cfn-guard, lib/nag.ts) beside cdk-nag. They take about 13 s a
   * synth; `cdk synth`/`cdk deploy`, CI and the stack tests always run them. @default true
   */
  readonly controlTowerChecks?: boolean;
}

/**
 * The CDK app, built the same way by `cdk synth`/`cdk deploy` (bin/app.ts), the
 * stack tests and the offline stack: the feature flags of cdk.json, cdk-nag's
 * AwsSolutions pack (an unacknowledged finding fails the synth), one stack.
 */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: RegressionStack } {
  // The CLI hands cdk.json's context to the app itself; in-process callers (tests, local/) read it here, so every synth
  // sees the same feature flags. Context given on the command line (-c stackName=…) still wins.
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: { ...cdkJson.context, ...(options.skipBundling ? { 'aws:cdk:bundling-stacks': [] } : {}) },
  });
  addNagChecks(app, { controlTower: options.controlTowerChecks ?? true });
  const stackName = options.stackName ?? (app.node.tryGetContext('stackName') as string | undefined) ?? DEFAULT_STACK_NAME;
  const stack = new RegressionStack(app, stackName, {
    description: 'Regression jobs: asynchronous model training and synchronous predictions (REST + WebSocket)',
    // The CLI's account and region when it has credentials; an environment-agnostic template otherwise (tests, local/).
    env: options.env ?? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    ...numberContext(app, 'scanConcurrency'),
    ...numberContext(app, 'scanRangeBytes'),
  });
  if (restAuthorizerMode(options.restAuthorizer ?? app.node.tryGetContext('restAuthorizer')) === 'none') withoutRestAuthorizer(stack);
  return { app, stack };
}

/** `{[name]: n}` for a numeric context value (`-c scanConcurrency=4` arrives as a string), `{}` when unset. */
function numberContext(app: App, name: 'scanConcurrency' | 'scanRangeBytes'): { [key: string]: number } {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined) return {};
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`the ${name} context value must be a whole number >= 1; got ${String(value)}`);
  return { [name]: number };
}
