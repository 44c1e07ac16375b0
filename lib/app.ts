import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT } from './app-function.js';
import { RegressionStack } from './regression-stack.js';

export const DEFAULT_STACK_NAME = 'RegressionJobs';

export interface CreateAppOptions {
  /** Skip esbuild bundling (stack tests and the offline stack read the template, not the code). */
  readonly skipBundling?: boolean;
  /** Where the cloud assembly goes. @default the CLI's choice, or a temporary folder */
  readonly outdir?: string;
  readonly stackName?: string;
}

/**
 * The CDK app, built the same way by `cdk synth`/`cdk deploy` (bin/app.ts), the
 * stack tests and the offline stack: the feature flags of cdk.json, cdk-nag's
 * AwsSolutions pack (an unacknowledged finding fails the synth), one stack.
 */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: RegressionStack } {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: { ...cdkJson.context, ...(options.skipBundling ? { 'aws:cdk:bundling-stacks': [] } : {}) },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stackName = options.stackName ?? (app.node.tryGetContext('stackName') as string | undefined) ?? DEFAULT_STACK_NAME;
  const stack = new RegressionStack(app, stackName, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  return { app, stack };
}
