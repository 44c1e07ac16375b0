import { CfnResource, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ENTRY_METADATA } from './app-function.js';

/**
 * Gives every function CDK adds by itself (the deploy-time handlers of custom
 * resources: S3 bucket notifications, auto-delete-objects) a log group of its own,
 * kept `retention`, deleted with the stack. Left alone, Lambda creates
 * `/aws/lambda/<name>` on their first run, never expiring, and `cdk destroy` leaves
 * it behind.
 *
 * The function names the group in its `LoggingConfig`, so the group exists before
 * the function first runs and is deleted only after it (CloudFormation deletes in
 * reverse dependency order, after the custom resources that invoke it on delete).
 * Their roles already write logs anywhere (CDK gives them AWSLambdaBasicExecutionRole).
 *
 * Call it last, once every construct of the stack exists. Answers the log groups
 * added, by the function's logical id.
 */
export function addProviderLogGroups(stack: Stack, retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH): Map<string, logs.LogGroup> {
  const added = new Map<string, logs.LogGroup>();
  const providers = stack.node
    .findAll()
    .filter((node): node is CfnResource => CfnResource.isCfnResource(node) && node.cfnResourceType === 'AWS::Lambda::Function')
    // AppFunction sets its own log group (and marks its functions with their handler's entry).
    .filter((fn) => fn.getMetadata(ENTRY_METADATA) === undefined);
  for (const fn of providers) {
    const functionId = stack.getLogicalId(fn);
    const logGroup = new logs.LogGroup(stack, `${functionId}Logs`, { retention, removalPolicy: RemovalPolicy.DESTROY });
    fn.addPropertyOverride('LoggingConfig.LogGroup', logGroup.logGroupName);
    added.set(functionId, logGroup);
  }
  return added;
}
