import { readFileSync } from 'node:fs';
import { inject } from 'vitest';

/**
 * Reading a synthesized template the way the stack tests ask about it: functions by
 * their handler entry, their grants as flat `action resource` lines, the state
 * machine's definition as parsed ASL.
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
}

/** A value of the template read loosely, for the tests whose assertions check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON read loosely; the assertions that use it check its shape.
export type Json = any;

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { Value: unknown; Description?: string }>;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/**
 * A CloudFormation value as one string: `Ref`s as `<LogicalId>`, `Fn::GetAtt`s as
 * `<LogicalId.Attribute>`, `Fn::Join`s joined (the way cdk-nag prints resources).
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (typeof node.Ref === 'string') return `<${node.Ref}>`;
  if (Array.isArray(node['Fn::GetAtt'])) return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
  if (Array.isArray(node['Fn::Join'])) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  // CDK's Distributed Map grant names its state machine with Fn::Select; cdk-nag prints it as JSON too.
  if (Array.isArray(node['Fn::Select'])) return JSON.stringify(value);
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

/**
 * The default app's template, synthesized (and reviewed by cdk-nag and cfn-guard) once for the run by
 * test/stack/global-setup.ts; a fresh copy for each caller, which may change it.
 */
export function defaultTemplate(): CfnTemplate {
  return JSON.parse(readFileSync(inject('stackTemplateFile'), 'utf8')) as CfnTemplate;
}

export class Synthesized {
  constructor(readonly template: CfnTemplate) {}

  get resources(): Record<string, CfnResource> {
    return this.template.Resources;
  }

  ofType(type: string): [string, CfnResource][] {
    return Object.entries(this.resources).filter(([, resource]) => resource.Type === type);
  }

  /** The one resource of `type`; fails the test when there are several or none. */
  only(type: string): [string, CfnResource] {
    const found = this.ofType(type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0]!;
  }

  /** The training workflow's state machine (the dataset scan has its own: `scanStateMachine`). */
  trainingStateMachine(): [string, CfnResource] {
    return this.stateMachineUnder('Training');
  }

  /** The dataset scan's state machine (lib/dataset-scan.ts). */
  scanStateMachine(): [string, CfnResource] {
    return this.stateMachineUnder('DatasetsScan');
  }

  private stateMachineUnder(prefix: string): [string, CfnResource] {
    const found = this.ofType('AWS::StepFunctions::StateMachine').filter(([id]) => id.startsWith(prefix));
    if (found.length !== 1) throw new Error(`expected one state machine under ${prefix}, found ${found.length}`);
    return found[0]!;
  }

  /** Functions built by AppFunction (they carry `app:entry`), by entry. */
  appFunctions(): Map<string, [string, CfnResource]> {
    return new Map(
      this.ofType('AWS::Lambda::Function')
        .filter(([, fn]) => typeof fn.Metadata?.['app:entry'] === 'string')
        .map(([id, fn]) => [fn.Metadata!['app:entry'] as string, [id, fn]]),
    );
  }

  functionId(entry: string): string {
    const found = this.appFunctions().get(entry);
    if (!found) throw new Error(`no function for ${entry}`);
    return found[0];
  }

  functionOf(entry: string): CfnResource {
    return this.resources[this.functionId(entry)]!;
  }

  environmentOf(entry: string): Record<string, unknown> {
    return (this.functionOf(entry).Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
  }

  /** The logical id of the role a function (by logical id) runs with. */
  roleOf(functionId: string): string {
    return (this.resources[functionId]!.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  }

  /** Every Allow statement of the policies attached to a role. */
  statementsOfRole(roleId: string): Statement[] {
    return this.ofType('AWS::IAM::Policy')
      .filter(([, policy]) => (policy.Properties!.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((statement) => statement.Effect === 'Allow');
  }

  /** What a role may do, one `action resource` line per pair, sorted. */
  grantsOfRole(roleId: string): string[] {
    return this.statementsOfRole(roleId)
      .flatMap((statement) => [statement.Action].flat().flatMap((action) => [statement.Resource].flat().map((resource) => `${action} ${flatten(resource)}`)))
      .sort();
  }

  grantsOf(entry: string): string[] {
    return this.grantsOfRole(this.roleOf(this.functionId(entry)));
  }

  /** The logical id of the table whose key is `keys` (partition key, then sort key). */
  tableId(...keys: string[]): string {
    const found = this.ofType('AWS::DynamoDB::Table').filter(
      ([, table]) => (table.Properties!.KeySchema as { AttributeName: string }[]).map((key) => key.AttributeName).join() === keys.join(),
    );
    if (found.length !== 1) throw new Error(`expected one table keyed ${keys.join()}, found ${found.length}`);
    return found[0]![0];
  }

  /**
   * A state machine's definition as deployed: the `Fn::Join` of its DefinitionString
   * with each token (function ARNs, partition) flattened to `<LogicalId.Attribute>`.
   */
  definitionOf(stateMachineId: string): Asl {
    const definition = this.resources[stateMachineId]!.Properties!.DefinitionString;
    const [separator, parts] = (definition as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return JSON.parse(parts.map(flatten).join(separator)) as Asl;
  }
}

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  OutputPath?: string;
  ResultPath?: string;
  TimeoutSeconds?: number;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; BackoffRate?: number; MaxAttempts?: number }[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  Next?: string;
  End?: boolean;
  Error?: string;
  Cause?: string;
}

export interface Asl {
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, AslState>;
}
