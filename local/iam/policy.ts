import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { type LocalResolver, referencedLogicalId } from '../cloudformation/template.js';
import { type Authentication, checkSignedRequest } from './sigv4.js';

/**
 * IAM for the offline stack: each function signs its AWS calls with credentials of
 * its own, and the local service endpoints check every call against the
 * identity-based policies the template attaches to that function's role, as AWS
 * does. A call its role does not allow fails with AWS's AccessDenied answer and is
 * logged with the function, action and resource, so a missing grant shows here
 * and not first after `cdk deploy`.
 *
 * What is evaluated: `Allow` and `Deny` statements with `Action` and `Resource`
 * (wildcards `*` and `?`, actions case-insensitive), an explicit Deny winning.
 * What is not: `Condition` blocks (a statement with one applies as if its
 * condition held), `NotAction`/`NotResource` (refused at start-up), resource
 * policies, permission boundaries and SCPs. Callers that are not functions (the
 * gateways, the stream poller, the test harness) use the stack's own credentials
 * and are not checked against a role, as the AWS services themselves would not be.
 *
 * Who is calling is checked first (`authenticate`): the S3, DynamoDB, Step
 * Functions and `@connections` endpoints refuse a request that is not
 * SigV4-signed, or signed with a key the stack did not issue, or whose signature
 * does not match, so nothing reaches them as the stack by leaving the signature
 * off. The stack's own secret is new every start and handed out only in the
 * state file (`.local-stack.json`, mode 0600), which `npm run api-key` reads.
 */

export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  /** Resolved to local ARNs; a resource the local stack cannot resolve never matches. */
  resources: string[];
}

/** A function's identity: what it signs with and what its role allows. */
export interface FunctionPrincipal {
  functionLogicalId: string;
  functionName: string;
  roleName: string;
  accessKeyId: string;
  secretAccessKey: string;
  statements: PolicyStatement[];
}

export type Decision = { allowed: true } | { allowed: false; message: string };

const Statement = z.object({
  Effect: z.enum(['Allow', 'Deny']),
  Action: z.union([z.string(), z.array(z.string())]).optional(),
  NotAction: z.unknown().optional(),
  Resource: z.unknown().optional(),
  NotResource: z.unknown().optional(),
  Condition: z.unknown().optional(),
});
const PolicyDocument = z.object({ Statement: z.union([Statement, z.array(Statement)]) });
const PolicyProperties = z.object({ PolicyDocument, Roles: z.array(z.unknown()).default([]) });
const RoleProperties = z.object({
  Policies: z.array(z.object({ PolicyDocument })).default([]),
  ManagedPolicyArns: z.array(z.unknown()).default([]),
});

/** An IAM pattern: `*` any run of characters, `?` any one. */
function wildcard(pattern: string, flags = ''): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
    flags,
  );
}

/** An explicit Deny wins; otherwise an Allow must match both the action and the resource. */
export function evaluate(statements: readonly PolicyStatement[], action: string, resource: string): boolean {
  const applies = (statement: PolicyStatement) =>
    statement.actions.some((pattern) => wildcard(pattern, 'i').test(action)) && statement.resources.some((pattern) => wildcard(pattern).test(resource));
  const matching = statements.filter(applies);
  return !matching.some((statement) => statement.effect === 'Deny') && matching.some((statement) => statement.effect === 'Allow');
}

/** AWS's wording, e.g. in a DynamoDB AccessDeniedException. */
export function accessDeniedMessage(
  principal: Pick<FunctionPrincipal, 'roleName' | 'functionName'>,
  action: string,
  resource: string,
  accountId: string,
): string {
  return `User: arn:aws:sts::${accountId}:assumed-role/${principal.roleName}/${principal.functionName} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
}

/**
 * An access key id shaped like AWS's (20 upper-case characters), derived from the
 * function so it is stable across restarts, and its secret, derived from a seed
 * that is new for every stack.
 */
function credentialsOf(functionLogicalId: string, seed: string): { accessKeyId: string; secretAccessKey: string } {
  const digest = createHash('sha256').update(functionLogicalId).digest('hex').toUpperCase();
  const accessKeyId = `ASIA${digest
    .replace(/[^A-Z2-7]/g, '')
    .padEnd(16, 'Q')
    .slice(0, 16)}`;
  return { accessKeyId, secretAccessKey: createHmac('sha256', seed).update(functionLogicalId).digest('base64').slice(0, 40) };
}

/** The statements of every policy the template attaches to `roleLogicalId`, resolved to local ARNs. */
function statementsOfRole(resolver: LocalResolver, roleLogicalId: string): PolicyStatement[] {
  const role = RoleProperties.parse(resolver.resource(roleLogicalId, 'AWS::IAM::Role').Properties ?? {});
  if (role.ManagedPolicyArns.length > 0) {
    throw new Error(`${roleLogicalId} has managed policies, which the local IAM check cannot read: give the function's role inline grants`);
  }
  const documents = [
    ...role.Policies.map((policy) => policy.PolicyDocument),
    ...Object.values(resolver.template.Resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .map((resource) => PolicyProperties.parse(resource.Properties))
      .filter((policy) => policy.Roles.some((role) => referencedLogicalId(role) === roleLogicalId))
      .map((policy) => policy.PolicyDocument),
  ];
  return documents.flatMap((document) =>
    [document.Statement].flat().map((statement) => {
      if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
        throw new Error(`${roleLogicalId}: NotAction and NotResource are not evaluated by the local IAM check`);
      }
      return {
        effect: statement.Effect,
        actions: [statement.Action ?? []].flat(),
        resources: [statement.Resource ?? []].flat().map((resource) => resolveOrNever(resolver, resource)),
      };
    }),
  );
}

/** A resource of a service the local stack does not run (log groups, X-Ray…) resolves to a pattern nothing matches. */
function resolveOrNever(resolver: LocalResolver, resource: unknown): string {
  try {
    return resolver.resolveString(resource);
  } catch {
    return `unresolved:${JSON.stringify(resource)}`;
  }
}

/** Every function of the template that the local stack runs (`functionLogicalIds`), with its credentials and role. */
export function functionPrincipalsOf(resolver: LocalResolver, functionLogicalIds: readonly string[], seed: string): FunctionPrincipal[] {
  return functionLogicalIds.map((functionLogicalId) => {
    const properties = resolver.resource(functionLogicalId, 'AWS::Lambda::Function').Properties ?? {};
    const roleLogicalId = referencedLogicalId(properties.Role);
    if (roleLogicalId === undefined) throw new Error(`${functionLogicalId} has no role of the template: the local IAM check needs one`);
    return {
      functionLogicalId,
      functionName: resolver.physicalName(functionLogicalId),
      roleName: roleLogicalId,
      ...credentialsOf(functionLogicalId, seed),
      statements: statementsOfRole(resolver, roleLogicalId),
    };
  });
}

/** The checks every local service endpoint makes, by the caller's access key id. */
export class LocalIam {
  private readonly byAccessKey: Map<string, FunctionPrincipal>;

  constructor(
    readonly principals: readonly FunctionPrincipal[],
    private readonly accountId: string,
    private readonly log: (line: string) => void = console.error,
    /** The stack's own key pair (gateways, harness): a known key, never checked against a role. */
    private readonly stackCredentials?: { accessKeyId: string; secretAccessKey: string },
  ) {
    this.byAccessKey = new Map(principals.map((principal) => [principal.accessKeyId, principal]));
  }

  /** The secret of a key the stack issued (a function's or the stack's own); undefined for any other key. */
  secretOf(accessKeyId: string): string | undefined {
    if (this.stackCredentials && accessKeyId === this.stackCredentials.accessKeyId) return this.stackCredentials.secretAccessKey;
    return this.byAccessKey.get(accessKeyId)?.secretAccessKey;
  }

  /** Whether a request is SigV4-signed in its Authorization header by a key the stack issued (local/iam/sigv4.ts). */
  authenticate(
    request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body?: Buffer | undefined },
    now = new Date(),
  ): Authentication {
    return checkSignedRequest(request, (accessKeyId) => this.secretOf(accessKeyId), now);
  }

  /** The function an access key belongs to; undefined for the stack's own callers. */
  principalOf(accessKeyId: string | undefined): FunctionPrincipal | undefined {
    return accessKeyId === undefined ? undefined : this.byAccessKey.get(accessKeyId);
  }

  principalOfFunction(functionLogicalId: string): FunctionPrincipal {
    const principal = this.principals.find((candidate) => candidate.functionLogicalId === functionLogicalId);
    if (!principal) throw new Error(`no local credentials for ${functionLogicalId}`);
    return principal;
  }

  /** Whether the caller may do `action` on `resource`; a denial is logged naming the function, action and resource. */
  authorize(accessKeyId: string | undefined, action: string, resource: string): Decision {
    const principal = this.principalOf(accessKeyId);
    if (!principal || evaluate(principal.statements, action, resource)) return { allowed: true };
    this.log(
      `[iam] AccessDenied: ${principal.functionLogicalId} (role ${principal.roleName}) may not ${action} on ${resource}: no statement of its role allows it`,
    );
    return { allowed: false, message: accessDeniedMessage(principal, action, resource, this.accountId) };
  }

  /** Like `authorize`, for callers that only need to know (e.g. may it ListBucket), without logging a denial. */
  allows(accessKeyId: string | undefined, action: string, resource: string): boolean {
    const principal = this.principalOf(accessKeyId);
    return !principal || evaluate(principal.statements, action, resource);
  }
}

/** The access key id of a SigV4-signed request: its Authorization header or, for a presigned URL, its X-Amz-Credential. */
export function accessKeyOfRequest(headers: Record<string, string | string[] | undefined>, url: string | undefined): string | undefined {
  const authorization = headers.authorization;
  const fromHeader = typeof authorization === 'string' ? /Credential=([^/,\s]+)\//.exec(authorization)?.[1] : undefined;
  if (fromHeader !== undefined) return fromHeader;
  const credential = new URLSearchParams((url ?? '').split('?')[1] ?? '').get('X-Amz-Credential');
  return credential?.split('/')[0];
}
