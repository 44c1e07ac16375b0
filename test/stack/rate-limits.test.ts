import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { RestApi } from '../../lib/rest-api.js';
import { type CfnTemplate, defaultTemplate, Synthesized } from './synthesized.js';

/** Per-tenant usage plans (lib/rest-api.ts): the authorizer names the tenant's plan key, API Gateway enforces it. */
let stack: Synthesized;

beforeAll(() => {
  // Synthesized once for the run, cdk-nag and cfn-guard included (test/stack/global-setup.ts).
  stack = new Synthesized(defaultTemplate());
});

describe('per-tenant rate limits', () => {
  it('the API takes the usage identifier from the authorizer, and every authorized method counts against it', () => {
    expect(stack.only('AWS::ApiGateway::RestApi')[1].Properties).toMatchObject({ ApiKeySourceType: 'AUTHORIZER' });
    const methods = stack.ofType('AWS::ApiGateway::Method').map(([, method]) => method.Properties!);
    const authorized = methods.filter((method) => method.AuthorizationType === 'CUSTOM');
    expect(authorized.length).toBeGreaterThan(8);
    for (const method of authorized) expect(method.ApiKeyRequired, JSON.stringify(method.ResourceId)).toBe(true);
    for (const method of methods.filter((candidate) => candidate.AuthorizationType === 'NONE')) expect(method.ApiKeyRequired ?? false).toBe(false);
  });

  it('the default plan: 25 requests/s, bursts of 50, 200,000 a day, on the API stage', () => {
    const [, plan] = stack.only('AWS::ApiGateway::UsagePlan');
    expect(plan.Properties).toMatchObject({
      Throttle: { RateLimit: 25, BurstLimit: 50 },
      Quota: { Limit: 200_000, Period: 'DAY' },
      ApiStages: [{ ApiId: { Ref: stack.only('AWS::ApiGateway::RestApi')[0] }, Stage: { Ref: stack.only('AWS::ApiGateway::Stage')[0] } }],
    });
    expect(stack.environmentOf('lambdas/auth/authorizer.ts').USAGE_IDENTIFIER_PREFIX).toBe('RegressionJobs-tenant-');
    expect(stack.template.Outputs?.DefaultUsagePlanId?.Value).toEqual({ Ref: stack.only('AWS::ApiGateway::UsagePlan')[0] });
  });

  it.each([
    ['THROTTLED', 'too many requests; slow down and retry', "'1'"],
    ['QUOTA_EXCEEDED', 'the daily request quota is used up; it resets at 00:00 UTC', "'3600'"],
  ])('%s answers 429 RATE_LIMITED with Retry-After', (type, message, retryAfter) => {
    const [, response] = stack.ofType('AWS::ApiGateway::GatewayResponse').find(([, candidate]) => candidate.Properties!.ResponseType === type)!;
    expect(response.Properties).toMatchObject({
      StatusCode: '429',
      ResponseParameters: { 'gatewayresponse.header.Retry-After': retryAfter },
      ResponseTemplates: { 'application/json': `{"error":{"code":"RATE_LIMITED","message":${JSON.stringify(message)}}}` },
    });
  });

  it.each([
    [{ rateLimit: 0, burstLimit: 10, dailyQuota: 100 }, /rateLimit must be a whole number >= 1/],
    [{ rateLimit: 10, burstLimit: 5, dailyQuota: 100 }, /burstLimit must be at least rateLimit/],
    [{ rateLimit: 10, burstLimit: 20, dailyQuota: 1.5 }, /dailyQuota must be a whole number >= 1/],
  ])('refuses limits %o at synth time', (tenantLimits, message) => {
    const scope = new Stack(new App(), 'Limits');
    const fn = lambda.Function.fromFunctionArn(scope, 'Fn', 'arn:aws:lambda:us-east-1:123456789012:function:fn');
    const functions = { health: fn, openApiDocument: fn, createJob: fn, listJobs: fn, getJob: fn, cancelJob: fn, listModels: fn, getModel: fn, predict: fn };
    expect(() => new RestApi(scope, 'Api', { functions, authorizerFunction: fn, tenantLimits })).toThrow(message);
  });
});

describe('rate limits set at deploy time', () => {
  it('apiThrottle and tenantLimits context values (JSON text, as `-c` gives them) set the stage and the default plan', () => {
    const previous = process.env.CDK_CONTEXT_JSON;
    process.env.CDK_CONTEXT_JSON = JSON.stringify({
      apiThrottle: '{"rateLimit":3000,"burstLimit":3000}',
      tenantLimits: { rateLimit: 2000, burstLimit: 2000, dailyQuota: 10_000_000 },
    });
    try {
      const { stack: raised } = createApp({ skipBundling: true });
      const synthesized = new Synthesized(Template.fromStack(raised).toJSON() as CfnTemplate);
      expect(synthesized.only('AWS::ApiGateway::UsagePlan')[1].Properties).toMatchObject({
        Throttle: { RateLimit: 2000, BurstLimit: 2000 },
        Quota: { Limit: 10_000_000, Period: 'DAY' },
      });
      expect(synthesized.only('AWS::ApiGateway::Stage')[1].Properties).toMatchObject({
        MethodSettings: [expect.objectContaining({ ThrottlingRateLimit: 3000, ThrottlingBurstLimit: 3000 })],
      });
    } finally {
      if (previous === undefined) delete process.env.CDK_CONTEXT_JSON;
      else process.env.CDK_CONTEXT_JSON = previous;
    }
  });
});
