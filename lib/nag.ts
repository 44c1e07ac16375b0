import { type App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag, the security review every synth goes through. cdk-nag 3 is a CDK
 * validation plugin (not an aspect): a finding nobody acknowledged fails the synth,
 * in `cdk synth`, in the stack tests and in the offline stack alike.
 *
 * Acknowledgements are made where the finding arises (the construct that creates
 * the grant), one finding at a time, each with its reason; the helpers below name
 * a wildcard-resource finding exactly as cdk-nag prints it, so an acknowledgement
 * never covers more than the one ARN it was written for.
 */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
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
  }
  throw new Error(`cdk-nag finding: cannot name ${JSON.stringify(value)} (only literals, Ref, Fn::GetAtt and Fn::Join)`);
}
