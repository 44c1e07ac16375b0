import { z } from 'zod';
import { evaluate } from '../iam/policy.js';
import { FunctionError } from '../lambda/functions.js';

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
  /** The API Gateway API key (usage plan) the request counts against, for an API whose key source is AUTHORIZER. */
  usageIdentifierKey: z.string().optional(),
});

export type AuthorizerResult = z.infer<typeof AuthorizerResult>;

/** How an authorizer asks API Gateway for a 401: it fails with the message `Unauthorized`, exactly. */
export function asksForUnauthorized(error: unknown): boolean {
  return error instanceof FunctionError && error.errorMessage === 'Unauthorized';
}

/**
 * The gateway response API Gateway answers when calling the authorizer did not
 * give an answer it can use: UNAUTHORIZED when it asked for a 401, AUTHORIZER_FAILURE
 * when the function failed in any other way (threw, timed out: its keys table
 * could not be read, lambdas/auth/authorizer.ts), AUTHORIZER_CONFIGURATION_ERROR
 * when it could not be called at all.
 */
export function authorizerFailureOf(error: unknown): 'UNAUTHORIZED' | 'AUTHORIZER_FAILURE' | 'AUTHORIZER_CONFIGURATION_ERROR' {
  if (asksForUnauthorized(error)) return 'UNAUTHORIZED';
  return error instanceof FunctionError ? 'AUTHORIZER_FAILURE' : 'AUTHORIZER_CONFIGURATION_ERROR';
}

/** IAM evaluation of the returned policy for one request (local/iam/policy.ts): an explicit Deny wins, otherwise an Allow must match. */
export function policyAllows(result: AuthorizerResult, methodArn: string): boolean {
  const statements = [result.policyDocument.Statement].flat().map((statement) => ({
    effect: statement.Effect,
    actions: [statement.Action].flat(),
    resources: [statement.Resource].flat(),
  }));
  return evaluate(statements, 'execute-api:Invoke', methodArn);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `22/Nov/2025:18:04:05 +0000`, API Gateway's requestTime format. */
export function apiGatewayTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
