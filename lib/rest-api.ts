import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CORS_EXPOSED_HEADERS } from '#contract/cors.js';
import { DEFAULT_TENANT_LIMITS, type TenantLimits, tenantLimitsProblem } from '#domain/rate-limits.js';

export const REST_STAGE_NAME = 'v1';

/** One handler per route of the OpenAPI document (docs/openapi.json). */
export interface RestApiFunctions {
  /** `GET /health`, without an API key. */
  readonly health: lambda.IFunction;
  /** `GET /openapi.json`, the API's own document, without an API key. */
  readonly openApiDocument: lambda.IFunction;
  /** `POST /jobs` */
  readonly createJob: lambda.IFunction;
  /** `GET /jobs` */
  readonly listJobs: lambda.IFunction;
  /** `GET /jobs/{jobId}` */
  readonly getJob: lambda.IFunction;
  /** `POST /jobs/{jobId}/cancel` */
  readonly cancelJob: lambda.IFunction;
  /** `GET /models` */
  readonly listModels: lambda.IFunction;
  /** `GET /models/{modelId}` */
  readonly getModel: lambda.IFunction;
  /** `POST /models/{modelId}/predict` */
  readonly predict: lambda.IFunction;
}

/** Stage throttling, for the whole stage (every client together). */
export interface RestApiThrottle {
  /** Steady requests per second. */
  readonly rateLimit: number;
  /** Requests allowed at once above the steady rate. */
  readonly burstLimit: number;
}

export interface RestApiProps {
  /** The route handlers. */
  readonly functions: RestApiFunctions;
  /** The API-key authorizer: reads `Authorization: Bearer <key>`, answers the tenant as context `tenantId`. */
  readonly authorizerFunction: lambda.IFunction;
  /** @default 50 requests a second, bursts of 100 */
  readonly throttle?: RestApiThrottle;
  /** The API's name in the console; two stacks in one account must not share it. @default `<stack name>-api` */
  readonly apiName?: string;
  /** Every tenant's default usage plan; `npm run api-key -- limits` gives a tenant its own. @default 25/s, bursts of 50, 200,000 a day */
  readonly tenantLimits?: TenantLimits;
}

/** An answer API Gateway gives by itself, in the API's error shape `{"error":{"code","message"}}` (docs/openapi.json). */
interface GatewayError {
  readonly type: apigateway.ResponseType;
  /** @default the status API Gateway gives that response type */
  readonly statusCode?: string;
  /** A fixed code, or a VTL expression that API Gateway fills in. */
  readonly code: string;
  /** JSON text: a quoted string, or `$context.error.messageString` (API Gateway's own message, quoted). */
  readonly message: string;
  /** Seconds, for a `Retry-After` header. */
  readonly retryAfter?: string;
}

const quoted = (text: string) => JSON.stringify(text);

const GATEWAY_ERRORS: readonly GatewayError[] = [
  // No key, or the authorizer's "Unauthorized".
  { type: apigateway.ResponseType.UNAUTHORIZED, statusCode: '401', code: 'UNAUTHORIZED', message: quoted('missing or unknown API key') },
  // The authorizer's Deny policy: to a client, an unknown key all the same (401, docs/openapi.json).
  { type: apigateway.ResponseType.ACCESS_DENIED, statusCode: '401', code: 'UNAUTHORIZED', message: quoted('missing or unknown API key') },
  // What API Gateway answers for an unknown route or method (403 by default).
  { type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '404', code: 'NOT_FOUND', message: quoted('no such route') },
  { type: apigateway.ResponseType.RESOURCE_NOT_FOUND, statusCode: '404', code: 'NOT_FOUND', message: quoted('no such route') },
  {
    type: apigateway.ResponseType.THROTTLED,
    statusCode: '429',
    code: 'RATE_LIMITED',
    message: quoted('too many requests; slow down and retry'),
    retryAfter: '1',
  },
  // The tenant's daily quota is spent; it resets at 00:00 UTC.
  {
    type: apigateway.ResponseType.QUOTA_EXCEEDED,
    statusCode: '429',
    code: 'RATE_LIMITED',
    message: quoted('the daily request quota is used up; it resets at 00:00 UTC'),
    retryAfter: '3600',
  },
  { type: apigateway.ResponseType.REQUEST_TOO_LARGE, statusCode: '413', code: 'PAYLOAD_TOO_LARGE', message: quoted('the request is too large') },
  // Every other 4xx keeps its own status: a status set here would replace the status of every 4xx type not listed above.
  { type: apigateway.ResponseType.DEFAULT_4XX, code: '$context.error.responseType', message: '$context.error.messageString' },
  // The 5xx answers keep API Gateway's own status too (a status on DEFAULT_5XX would turn the 504 of a timeout into
  // a 500, and clients would lose the "retry" signal); each gets a code of its own and never API Gateway's wording.
  // 504: the integration did not answer within API Gateway's 29 seconds.
  { type: apigateway.ResponseType.INTEGRATION_TIMEOUT, code: 'INTEGRATION_TIMEOUT', message: quoted('the request took too long to answer; retry') },
  // 504 as well: API Gateway could not reach the handler at all.
  { type: apigateway.ResponseType.INTEGRATION_FAILURE, code: 'INTEGRATION_FAILURE', message: quoted('the request could not reach its handler; retry') },
  // The authorizer threw: it could not read the keys table (a timeout, a throttle, an outage). API Gateway's 500
  // would tell a client its request is wrong; it is the documented 503, worth retrying (docs/openapi.json).
  {
    type: apigateway.ResponseType.AUTHORIZER_FAILURE,
    statusCode: '503',
    code: 'SERVICE_UNAVAILABLE',
    message: quoted('the API key could not be checked just now; retry after Retry-After seconds'),
    retryAfter: '2',
  },
  // 500: the authorizer answered something API Gateway cannot use (a bug, not an outage).
  { type: apigateway.ResponseType.AUTHORIZER_CONFIGURATION_ERROR, code: 'INTERNAL_ERROR', message: quoted('internal error') },
  { type: apigateway.ResponseType.API_CONFIGURATION_ERROR, code: 'INTERNAL_ERROR', message: quoted('internal error') },
  // What is left: a handler that crashed, ran out of time or memory, or answered no valid response (502).
  { type: apigateway.ResponseType.DEFAULT_5XX, code: 'BAD_GATEWAY', message: quoted('the request failed before it could be answered; retry') },
];

const field = apigateway.AccessLogField;
/**
 * One JSON line per request. Unlike the standard fields (IAM caller and user, unused
 * here), it names the tenant, the latencies and why API Gateway itself refused or
 * failed a request, which is what an operator looks for.
 */
const ACCESS_LOG_FORMAT = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: field.contextRequestId(),
    traceId: field.contextXrayTraceId(),
    ip: field.contextIdentitySourceIp(),
    requestTime: field.contextRequestTime(),
    httpMethod: field.contextHttpMethod(),
    resourcePath: field.contextResourcePath(),
    status: field.contextStatus(),
    responseLength: field.contextResponseLength(),
    responseLatency: field.contextResponseLatency(),
    integrationLatency: field.contextIntegrationLatency(),
    tenantId: field.contextAuthorizer('tenantId'),
    errorType: field.contextErrorResponseType(),
    error: field.contextErrorMessage(),
    integrationError: field.contextIntegrationErrorMessage(),
  }),
);

/**
 * The HTTP API (REST, v1): every route but `GET /health` behind the API-key
 * authorizer (answers cached 5 minutes per key), stage throttling, JSON access
 * logs, X-Ray tracing, CORS for browsers, and API Gateway's own errors in the same
 * shape as the handlers' errors.
 */
export class RestApi extends Construct {
  readonly api: apigateway.RestApi;
  /** Shared with routes other constructs add (datasets). */
  readonly authorizer: apigateway.TokenAuthorizer;
  /**
   * API Gateway's account settings in this region (`AWS::ApiGateway::Account`: the CloudWatch role every stage's
   * logging needs). Another API's stage that logs must depend on it, or it may be created first and fail.
   */
  readonly cloudWatchAccount: apigateway.CfnAccount;
  /** The usage plan every tenant is in by default. */
  readonly defaultUsagePlan: apigateway.UsagePlan;

  constructor(scope: Construct, id: string, props: RestApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };
    if (!(throttle.rateLimit > 0) || !Number.isInteger(throttle.burstLimit) || throttle.burstLimit < 1) {
      throw new Error(`RestApi: throttle needs rateLimit > 0 and a whole burstLimit >= 1; got ${JSON.stringify(throttle)}`);
    }

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.authorizer = new apigateway.TokenAuthorizer(this, 'ApiKeyAuthorizer', {
      handler: props.authorizerFunction,
      identitySource: apigateway.IdentitySource.header('Authorization'),
      resultsCacheTtl: Duration.minutes(5),
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: props.apiName ?? `${Stack.of(this).stackName}-api`,
      description: 'Regression jobs: train models asynchronously, predict synchronously',
      // Stage logging needs API Gateway's account-level CloudWatch role (the WebSocket stage uses it too).
      cloudWatchRole: true,
      // Kept when the stack goes: the role is the account's setting for every API in the region, which a deleted role would break.
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: REST_STAGE_NAME,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        tracingEnabled: true,
        // Execution logs for errors only: the access log already has a line per request, and INFO would double it.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // request bodies hold clients' data: keep them out of the logs
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: ACCESS_LOG_FORMAT,
      },
      defaultCorsPreflightOptions: {
        allowOrigins: apigateway.Cors.ALL_ORIGINS,
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        maxAge: Duration.hours(1), // every call carries Authorization, so browsers would otherwise preflight each one
      },
      // Every method needs an API key unless it says otherwise (only GET /health does), and counts against its
      // tenant's usage plan: the authorizer answers the tenant's usage identifier (apiKeySource AUTHORIZER).
      defaultMethodOptions: { authorizer: this.authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM, apiKeyRequired: true },
      apiKeySourceType: apigateway.ApiKeySourceType.AUTHORIZER,
    });
    const limits = props.tenantLimits ?? DEFAULT_TENANT_LIMITS;
    const problem = tenantLimitsProblem(limits);
    if (problem) throw new Error(`RestApi: tenantLimits ${problem}; got ${JSON.stringify(limits)}`);
    // Every tenant's API Gateway key joins this plan when its first API key is created (npm run api-key).
    this.defaultUsagePlan = this.api.addUsagePlan('DefaultTenantPlan', {
      name: `${Stack.of(this).stackName}-tenant-default`,
      description: 'Every tenant, unless npm run api-key -- limits gave it a plan of its own',
      throttle: { rateLimit: limits.rateLimit, burstLimit: limits.burstLimit },
      quota: { limit: limits.dailyQuota, period: apigateway.Period.DAY },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    // Made by RestApi itself for `cloudWatchRole: true`.
    const account = this.api.node.tryFindChild('Account');
    if (!(account instanceof apigateway.CfnAccount)) throw new Error('RestApi: the API has no AWS::ApiGateway::Account (cloudWatchRole)');
    this.cloudWatchAccount = account;

    for (const { type, statusCode, code, message, retryAfter } of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(`Gateway${type.responseType}`, {
        type,
        ...(statusCode ? { statusCode } : {}),
        // Browsers only let a page read an error that carries the CORS header.
        responseHeaders: {
          'Access-Control-Allow-Origin': "'*'",
          'Access-Control-Expose-Headers': `'${CORS_EXPOSED_HEADERS}'`,
          ...(retryAfter ? { 'Retry-After': `'${retryAfter}'` } : {}),
        },
        templates: { 'application/json': `{"error":{"code":"${code}","message":${message}}}` },
      });
    }

    const route = (resource: apigateway.IResource, method: string, fn: lambda.IFunction, options?: apigateway.MethodOptions) =>
      resource.addMethod(method, new apigateway.LambdaIntegration(fn, { allowTestInvoke: false }), options);
    const { functions } = props;
    const root = this.api.root;
    const health = root.addResource('health');
    route(health, 'GET', functions.health, { authorizationType: apigateway.AuthorizationType.NONE, apiKeyRequired: false });
    const openApiDocument = root.addResource('openapi.json');
    route(openApiDocument, 'GET', functions.openApiDocument, { authorizationType: apigateway.AuthorizationType.NONE, apiKeyRequired: false });
    const jobs = root.addResource('jobs');
    route(jobs, 'POST', functions.createJob);
    route(jobs, 'GET', functions.listJobs);
    const job = jobs.addResource('{jobId}');
    route(job, 'GET', functions.getJob);
    route(job.addResource('cancel'), 'POST', functions.cancelJob);
    const models = root.addResource('models');
    route(models, 'GET', functions.listModels);
    const model = models.addResource('{modelId}');
    route(model, 'GET', functions.getModel);
    route(model.addResource('predict'), 'POST', functions.predict);

    Validations.of(health).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: 'GET /health is the unauthenticated liveness probe (docs/openapi.json).' },
      { id: 'AwsSolutions-COG4', reason: 'GET /health is the unauthenticated liveness probe (docs/openapi.json).' },
    );
    Validations.of(openApiDocument).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: 'GET /openapi.json serves the public API description, which a client reads before it has a key.' },
      { id: 'AwsSolutions-COG4', reason: 'GET /openapi.json serves the public API description, which a client reads before it has a key.' },
    );
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Every handler validates its input with zod and answers the error shape of docs/openapi.json with the failing fields, which API Gateway request validation cannot produce.',
      },
      { id: 'AwsSolutions-COG4', reason: 'Clients authenticate with per-tenant API keys checked by the Lambda authorizer, not with Cognito user pools.' },
      {
        id: 'AwsSolutions-APIG3',
        reason: 'A personal stack relies on stage throttling and the API-key authorizer; a WAF web ACL is a paid add-on to attach in production.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: "API Gateway's account-level logging role: AWS's managed policy for it is the documented way to let the service write its logs.",
      },
    );
  }
}
