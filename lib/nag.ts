import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag, the security review every synth goes through. cdk-nag 3 is a CDK
 * validation plugin (not an aspect): a finding nobody acknowledged fails the synth,
 * in `cdk synth`, in the stack tests and in the offline stack alike. Control
 * Tower's controls (below) run beside it unless `controlTower` is false, which
 * only the offline stack asks (local/cloudformation/template.ts).
 *
 * Acknowledgements are made where the finding arises (the construct that creates
 * the grant), one finding at a time, each with its reason; the helpers below name
 * a wildcard-resource finding exactly as cdk-nag prints it, so an acknowledgement
 * never covers more than the one ARN it was written for.
 */
export function addNagChecks(app: App, options: { controlTower?: boolean } = {}): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  if (options.controlTower ?? true) Validations.of(app).addPlugins(new CfnGuardValidator());
}

/**
 * Acknowledges the AwsSolutions-IAM5 finding that a grant on `arn` (an ARN that ends
 * in a wildcard, tokens allowed) raises on the policies under `principal`.
 */
export function acknowledgeWildcardResource(principal: IConstruct, arn: string, reason: string): void {
  Validations.of(principal).acknowledge({ id: wildcardResourceFinding(principal, arn), reason });
}

/**
 * The id of the AwsSolutions-IAM5 finding for `arn`: cdk-nag resolves the ARN and
 * prints `Ref`s as `<LogicalId>` and `Fn::GetAtt`s as `<LogicalId.Attribute>`
 * (pseudo parameters included: `<AWS::Partition>`). Computing it from the ARN the
 * grant used keeps it right whether the stack's account and region are literal
 * (`cdk synth` with credentials) or tokens (tests, the offline stack).
 */
export function wildcardResourceFinding(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(arn))}]`;
}

function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    if ('Ref' in value && typeof value.Ref === 'string') return `<${value.Ref}>`;
    if ('Fn::GetAtt' in value && Array.isArray(value['Fn::GetAtt'])) return `<${value['Fn::GetAtt'].join('.')}>`;
    if ('Fn::Join' in value && Array.isArray(value['Fn::Join'])) {
      const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    // cdk-nag prints any other intrinsic (CDK's Distributed Map grant names its state machine with Fn::Select) as its JSON.
    if ('Fn::Select' in value) return JSON.stringify(value);
  }
  throw new Error(`cdk-nag finding: cannot name ${JSON.stringify(value)} (only literals, Ref, Fn::GetAtt, Fn::Join and Fn::Select)`);
}

/**
 * The second review: AWS Control Tower's proactive controls, run by cfn-guard
 * (`@cdklabs/cdk-validator-cfnguard` ships the binary and the rules; nothing is
 * downloaded). Its findings are acknowledged like cdk-nag's, with the check's name.
 */
export function acknowledgeGuardFinding(scope: IConstruct, check: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `cdk-validator-cfnguard::${check}`, reason });
}

/**
 * The Control Tower controls meant for an organisation's accounts, not for a
 * personal stack, acknowledged once for the whole stack with the reason each does
 * not fit. Everything else is fixed where it arises or acknowledged there.
 */
export function acknowledgeEnterpriseControls(stack: Stack): void {
  const controls: [string, string][] = [
    [
      'lambda_inside_vpc_check',
      'The functions call only AWS APIs (DynamoDB, S3, Step Functions, API Gateway) over TLS with IAM; a VPC with endpoints or NAT is cost and moving parts a personal stack does without.',
    ],
    [
      'cloudwatch_log_group_encrypted_check',
      'Log groups use CloudWatch Logs encryption with AWS owned keys; a customer managed KMS key per stack is an enterprise control (cost, key policy) the logs (no client data: bodies are never logged) do not need.',
    ],
    [
      'cloudwatch_log_group_retention_period_check',
      "Logs are kept one month and deleted with the stack: this is a personal stack's debugging aid, not an audit record (CloudTrail is the account's).",
    ],
    [
      's3_bucket_default_encryption_kms_check',
      'Buckets are encrypted with S3 managed keys (SSE-S3); SSE-KMS with a customer managed key is an enterprise control (cost per request, key policy) beyond what working copies of datasets need.',
    ],
    [
      's3_bucket_object_lock_enabled_check',
      'Object lock (WORM retention) is for records that must not be deleted; datasets and access logs here expire by design and go with the stack.',
    ],
  ];
  for (const [check, reason] of controls) acknowledgeGuardFinding(stack, check, reason);
}
