import { type Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';

/**
 * The REST API as LocalStack's free edition can deploy it. That edition has no
 * Lambda authorizers: CloudFormation skips `AWS::ApiGateway::Authorizer` as an
 * unsupported type, and a method that names the skipped authorizer fails with
 * "Invalid authorizer ID specified". Synthesized with `-c restAuthorizer=none`,
 * every method that uses the authorizer is deployed without it instead, and each
 * handler checks the bearer key itself, with the authorizer's code and answers
 * (lambdas/commons/auth/authentication.ts). Without the authorizer no request carries a
 * usage identifier, so the methods require none (no per-tenant usage plan, only the
 * stage's throttling). Nothing else changes: the authorizer stays
 * in the template (LocalStack skips it), and a deployment to AWS never uses this.
 *
 * Answers how many methods it changed.
 */
export function withoutRestAuthorizer(stack: Stack): number {
  const methods = stack.node
    .findAll()
    .filter((construct): construct is apigateway.CfnMethod => construct instanceof apigateway.CfnMethod && construct.authorizationType === 'CUSTOM');
  const reason = 'Synthesized with -c restAuthorizer=none for LocalStack, which has no Lambda authorizers: the handler authenticates the bearer key itself.';
  for (const method of methods) {
    method.authorizationType = apigateway.AuthorizationType.NONE;
    method.authorizerId = undefined;
    // The tenant's usage identifier comes from the authorizer (apiKeySource AUTHORIZER): without it, no usage plan.
    method.apiKeyRequired = false;
    Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason }, { id: 'AwsSolutions-COG4', reason });
  }
  return methods.length;
}

/** The `restAuthorizer` context value: `lambda` (the default) or `none`. */
export type RestAuthorizerMode = 'lambda' | 'none';

export function restAuthorizerMode(value: unknown): RestAuthorizerMode {
  if (value === undefined || value === 'lambda') return 'lambda';
  if (value === 'none') return 'none';
  throw new Error(
    `restAuthorizer must be "lambda" or "none" (-c restAuthorizer=none deploys without the API Gateway authorizer); got ${JSON.stringify(value)}`,
  );
}
