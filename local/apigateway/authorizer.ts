import { z } from 'zod';

/**
 * What both local gateways do with a Lambda authorizer's answer, as API Gateway
 * does: parse it, evaluate its IAM policy for the request, and stamp requests with
 * API Gateway's `requestTime`.
 */

const Statement = z.object({
  Effect: z.enum(['Allow', 'Deny']),
  Action: z.union([z.string(), z.array(z.string())]),
  Resource: z.union([z.string(), z.array(z.string())]),
});

export const AuthorizerResult = z.object({
  principalId: z.string(),
  policyDocument: z.object({ Statement: z.union([Statement, z.array(Statement)]) }),
  context: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullish(),
});

export type AuthorizerResult = z.infer<typeof AuthorizerResult>;

/** An IAM pattern: `*` any run of characters, `?` any one. */
function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  );
}

/** IAM evaluation for one request: an explicit Deny wins, otherwise an Allow must match. */
export function policyAllows(result: AuthorizerResult, methodArn: string): boolean {
  const statements = [result.policyDocument.Statement].flat();
  const applies = (statement: z.infer<typeof Statement>) =>
    [statement.Action].flat().some((action) => wildcard(action).test('execute-api:Invoke')) &&
    [statement.Resource].flat().some((resource) => wildcard(resource).test(methodArn));
  const matching = statements.filter(applies);
  return !matching.some((statement) => statement.Effect === 'Deny') && matching.some((statement) => statement.Effect === 'Allow');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `22/Nov/2025:18:04:05 +0000`, API Gateway's requestTime format. */
export function apiGatewayTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
