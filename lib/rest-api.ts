import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export const REST_STAGE_NAME = 'v1';

export interface RestApiFunctions {
  readonly health: lambda.IFunction;
  readonly createJob: lambda.IFunction;
  readonly listJobs: lambda.IFunction;
  readonly getJob: lambda.IFunction;
  readonly cancelJob: lambda.IFunction;
  readonly listModels: lambda.IFunction;
  readonly getModel: lambda.IFunction;
  readonly predict: lambda.IFunction;
}

export interface RestApiProps {
  /** The route handlers, one function per route. */
  readonly functions: RestApiFunctions;
  /** The API-key authorizer (`Authorization: Bearer <key>`). */
  readonly authorizerFunction: lambda.IFunction;
  /** Stage throttling. @default 50 requests a second, bursts of 100 */
  readonly throttle?: { rateLimit: number; burstLimit: number };
}

/** API Gateway's own answers, in the SPEC's error shape: `{"error":{"code","message"}}`. */
const GATEWAY_ERRORS: ReadonlyArray<[apigateway.ResponseType, string, string, string]> = [
  [apigateway.ResponseType.UNAUTHORIZED, '401', 'UNAUTHORIZED', 'missing or unknown API key'],
  [apigateway.ResponseType.ACCESS_DENIED, '401', 'UNAUTHORIZED', 'missing or unknown API key'],
  // API Gateway answers an unknown route or method with MISSING_AUTHENTICATION_TOKEN.
  [apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', 'NOT_FOUND', 'no such route'],
  [apigateway.ResponseType.RESOURCE_NOT_FOUND, '404', 'NOT_FOUND', 'no such route'],
  [apigateway.ResponseType.THROTTLED, '429', 'RATE_LIMITED', 'too many requests; slow down and retry'],
  [apigateway.ResponseType.QUOTA_EXCEEDED, '429', 'RATE_LIMITED', 'request quota exceeded'],
  [apigateway.ResponseType.REQUEST_TOO_LARGE, '413', 'PAYLOAD_TOO_LARGE', 'the request body is too large'],
  [apigateway.ResponseType.BAD_REQUEST_BODY, '400', 'VALIDATION_ERROR', 'the request body is invalid'],
  [apigateway.ResponseType.DEFAULT_4XX, '400', 'BAD_REQUEST', 'the request was rejected'],
  [apigateway.ResponseType.DEFAULT_5XX, '500', 'INTERNAL_ERROR', 'internal error'],
];

/**
 * The HTTP API (REST, v1): every route but `GET /health` behind the API-key
 * authorizer (answers cached 5 minutes per key), stage throttling, JSON access
 * logs, X-Ray tracing, CORS, and gateway errors in the same shape as the handlers'.
 */
export class RestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly authorizer: apigateway.TokenAuthorizer;

  constructor(scope: Construct, id: string, props: RestApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };
    if (throttle.rateLimit <= 0 || throttle.burstLimit < 1) throw new Error('RestApi: throttle limits must be positive');

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.authorizer = new apigateway.TokenAuthorizer(this, 'ApiKeyAuthorizer', {
      handler: props.authorizerFunction,
      identitySource: apigateway.IdentitySource.header('Authorization'),
      resultsCacheTtl: Duration.minutes(5),
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'Regression jobs: train models asynchronously, predict synchronously',
      // Access logging needs API Gateway's account-level CloudWatch role (the WebSocket stage uses it too).
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: REST_STAGE_NAME,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        tracingEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // request bodies hold clients' data: keep them out of the logs
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      },
      defaultCorsPreflightOptions: {
        allowOrigins: apigateway.Cors.ALL_ORIGINS,
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
        allowMethods: ['GET', 'POST', 'OPTIONS'],
      },
      defaultMethodOptions: { authorizer: this.authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM },
    });
    for (const [type, statusCode, code, message] of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(`Gateway${type.responseType}`, {
        type,
        statusCode,
        responseHeaders: { 'Access-Control-Allow-Origin': "'*'" },
        templates: { 'application/json': JSON.stringify({ error: { code, message } }) },
      });
    }

    const route = (resource: apigateway.IResource, method: string, fn: lambda.IFunction, options?: apigateway.MethodOptions) =>
      resource.addMethod(method, new apigateway.LambdaIntegration(fn), options);
    const { functions } = props;
    const root = this.api.root;
    route(root.addResource('health'), 'GET', functions.health, { authorizationType: apigateway.AuthorizationType.NONE });
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
  }
}
