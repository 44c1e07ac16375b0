import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import type { AuthorizerDefinition, GatewayResponseDefinition, LocalAccount, RestApiDefinition, RouteDefinition } from '../cloudformation/template.js';
import { close, listen, readBody } from '../http-server.js';
import { FunctionError, type LocalLambdas } from '../lambda/functions.js';
import { traced, traceRequests } from '../trace.js';
import { AuthorizerResult, apiGatewayTime, authorizerFailureOf, policyAllows } from './authorizer.js';
import type { UsageLimits } from './usage-plans.js';

/**
 * API Gateway's REST API (v1) on loopback, as the template defines it: its
 * resources and methods, Lambda proxy integrations, the TOKEN authorizer with its
 * result cache, CORS preflight MOCK integrations, and the gateway's own errors
 * shaped by the stack's gateway responses.
 *
 * It answers what API Gateway answers, not what would be convenient: an unknown
 * route or method is a MISSING_AUTHENTICATION_TOKEN response (403 unless the stack
 * customises it), exactly as on AWS, so a local run cannot hide a stack gap.
 */

export interface RestGatewayOptions {
  api: RestApiDefinition;
  authorizers: ReadonlyMap<string, AuthorizerDefinition>;
  gatewayResponses: ReadonlyMap<string, GatewayResponseDefinition>;
  functions: Pick<LocalLambdas, 'invoke'>;
  account: LocalAccount;
  /** Stage throttling and the tenants' usage plan (local/apigateway/usage-plans.ts); unlimited when absent. */
  limits?: UsageLimits;
  log?: (line: string) => void;
  /** @default 29 s, API Gateway's; shorter in tests. */
  integrationTimeoutMs?: number;
}

/** API Gateway's payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway's default (and, for REST APIs, usual maximum) integration timeout. */
const INTEGRATION_TIMEOUT_MS = 29_000;

/** Default status and message of the gateway responses the local gateway can produce. */
const RESPONSE_TYPES = {
  MISSING_AUTHENTICATION_TOKEN: { status: 403, message: 'Missing Authentication Token' },
  UNAUTHORIZED: { status: 401, message: 'Unauthorized' },
  ACCESS_DENIED: { status: 403, message: 'User is not authorized to access this resource with an explicit deny' },
  REQUEST_TOO_LARGE: { status: 413, message: 'Request Too Long' },
  THROTTLED: { status: 429, message: 'Too Many Requests' },
  QUOTA_EXCEEDED: { status: 429, message: 'Limit Exceeded' },
  AUTHORIZER_CONFIGURATION_ERROR: { status: 500, message: 'Internal server error' },
  // The authorizer function failed (the stack answers it 503 SERVICE_UNAVAILABLE; lib/rest-api.ts).
  AUTHORIZER_FAILURE: { status: 500, message: 'Internal server error' },
  // A Lambda proxy integration that throws or answers a malformed result.
  DEFAULT_5XX: { status: 502, message: 'Internal server error' },
  // The integration did not answer within API Gateway's 29 s.
  INTEGRATION_TIMEOUT: { status: 504, message: 'Endpoint request timed out' },
} as const;

type ResponseType = keyof typeof RESPONSE_TYPES;

class GatewayFailure extends Error {
  constructor(readonly type: ResponseType) {
    super(RESPONSE_TYPES[type].message);
  }
}

interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer | string;
}

// ---------------------------------------------------------------------------
// Routing

type Segment = { kind: 'literal'; value: string } | { kind: 'parameter'; name: string } | { kind: 'greedy'; name: string };

interface Resource {
  path: string;
  segments: Segment[];
  methods: Map<string, RouteDefinition>;
}

function compileResources(routes: readonly RouteDefinition[]): Resource[] {
  const resources = new Map<string, Resource>();
  for (const route of routes) {
    let resource = resources.get(route.resourcePath);
    if (!resource) {
      const segments = route.resourcePath
        .split('/')
        .filter(Boolean)
        .map((part): Segment => {
          const parameter = /^\{(.+?)(\+?)\}$/.exec(part);
          if (!parameter) return { kind: 'literal', value: part };
          return { kind: parameter[2] ? 'greedy' : 'parameter', name: parameter[1] as string };
        });
      resource = { path: route.resourcePath, segments, methods: new Map() };
      resources.set(route.resourcePath, resource);
    }
    resource.methods.set(route.httpMethod, route);
  }
  return [...resources.values()];
}

const SPECIFICITY = { literal: 0, parameter: 1, greedy: 2 } as const;

/**
 * The resource a path belongs to, with its path parameters. Like API Gateway, a
 * literal segment wins over a parameter, and a parameter over a greedy `{proxy+}`.
 */
export function matchResource(resources: readonly Resource[], pathname: string): { resource: Resource; parameters: Record<string, string> } | undefined {
  // As API Gateway reads a path: no `.`/`..` resolution and no `//` folding (an empty segment matches nothing).
  const trimmed = pathname.replace(/^\//, '').replace(/\/$/, '');
  const parts = trimmed === '' ? [] : trimmed.split('/').map(decodeSegment);
  let best: { resource: Resource; parameters: Record<string, string>; rank: number[] } | undefined;
  for (const resource of resources) {
    const parameters: Record<string, string> = {};
    const matched = resource.segments.every((segment, index) => {
      const part = parts[index];
      if (part === undefined || part === '') return false;
      if (segment.kind === 'literal') return segment.value === part;
      if (segment.kind === 'parameter') parameters[segment.name] = part;
      else parameters[segment.name] = parts.slice(index).join('/');
      return true;
    });
    const greedy = resource.segments.at(-1)?.kind === 'greedy';
    if (!matched || (!greedy && resource.segments.length !== parts.length)) continue;
    const rank = resource.segments.map((segment) => SPECIFICITY[segment.kind]);
    if (!best || compareRanks(rank, best.rank) < 0) best = { resource, parameters, rank };
  }
  return best && { resource: best.resource, parameters: best.parameters };
}

function compareRanks(a: number[], b: number[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const difference = (a[index] as number) - (b[index] as number);
    if (difference !== 0) return difference;
  }
  return b.length - a.length;
}

/** The request's path exactly as sent (WHATWG URL parsing would resolve `..` and `.`), and its query. */
type RequestUrl = Pick<URL, 'pathname' | 'search' | 'searchParams'>;

function requestUrl(raw = '/'): RequestUrl {
  const [pathname = '/', query] = raw.split(/\?(.*)/s);
  return { pathname, search: query === undefined ? '' : `?${query}`, searchParams: new URLSearchParams(query ?? '') };
}

function decodeSegment(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

// ---------------------------------------------------------------------------
// The gateway

/** Lambda proxy output; anything else is the gateway's 502, as on AWS. */
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const ProxyResult = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), scalar).nullish(),
  multiValueHeaders: z.record(z.string(), z.array(scalar)).nullish(),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().nullish(),
});

export class RestGateway {
  private readonly resources: Resource[];
  private readonly authorizerCache = new Map<string, { result: AuthorizerResult; expires: number }>();
  private readonly server: Server = createServer((request, response) => void this.serve(request, response));
  private readonly log: (line: string) => void;

  constructor(private readonly options: RestGatewayOptions) {
    this.resources = compileResources(options.api.routes);
    this.log = options.log ?? console.log;
  }

  async listen(port: number): Promise<string> {
    traceRequests(this.server, 'gateway', (request) => ({ detail: { method: request.method, path: request.url } }));
    return `http://127.0.0.1:${await listen(this.server, port)}`;
  }

  async close(): Promise<void> {
    await close(this.server);
  }

  /** FlushStageAuthorizersCache: every cached authorizer answer is forgotten, so a revoked key is refused on its next request. */
  flushAuthorizerCache(): number {
    const flushed = this.authorizerCache.size;
    this.authorizerCache.clear();
    return flushed;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const requestId = randomUUID();
    const url = requestUrl(request.url);
    let reply: Reply;
    try {
      reply = await this.handle(request, url, requestId);
    } catch (error) {
      if (!(error instanceof GatewayFailure)) this.log(`[gateway] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      reply = this.gatewayResponse(error instanceof GatewayFailure ? error.type : 'DEFAULT_5XX', requestId);
    }
    // API Gateway's default content type; setHeader is case-insensitive, so the reply's own wins.
    response.setHeader('Content-Type', 'application/json');
    for (const [name, value] of Object.entries(reply.headers)) response.setHeader(name, value);
    response.setHeader('x-amzn-RequestId', requestId);
    response.writeHead(reply.status);
    response.end(reply.body);
    this.log(`${request.method} ${url.pathname}${url.search} ${reply.status} ${Date.now() - started}ms`);
  }

  private async handle(request: IncomingMessage, url: RequestUrl, requestId: string): Promise<Reply> {
    const { body, tooLarge } = await readBody(request, MAX_BODY_BYTES);
    if (tooLarge) throw new GatewayFailure('REQUEST_TOO_LARGE');
    const httpMethod = (request.method ?? 'GET').toUpperCase();
    const match = matchResource(this.resources, url.pathname);
    const route = match && (match.resource.methods.get(httpMethod) ?? match.resource.methods.get('ANY'));
    if (!match || !route) throw new GatewayFailure('MISSING_AUTHENTICATION_TOKEN');

    if (route.integration.type === 'mock') {
      return { status: route.integration.statusCode, headers: route.integration.headers, body: '' };
    }

    const { stageName } = this.options.api;
    const { region, accountId } = this.options.account;
    const methodArn = `arn:aws:execute-api:${region}:${accountId}:${this.options.api.apiId}/${stageName}/${httpMethod}${url.pathname}`;
    const { authorizerLogicalId } = route;
    const authorized =
      authorizerLogicalId === undefined ? undefined : await traced('authorizer', () => this.authorize(authorizerLogicalId, request, methodArn));
    const authorizer = authorized?.context;
    const admission = this.options.limits?.admit(authorized?.usageIdentifierKey) ?? 'allowed';
    if (admission !== 'allowed') throw new GatewayFailure(admission);
    const event = proxyEvent({ request, url, httpMethod, route, parameters: match.parameters, body, requestId, api: this.options.api, accountId, authorizer });
    let output: unknown;
    try {
      // The function may go on running (as on AWS); the client gets API Gateway's 504 at 29 s.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new GatewayFailure('INTEGRATION_TIMEOUT')), this.options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS);
      });
      output = await Promise.race([this.options.functions.invoke(route.integration.functionLogicalId, event), timedOut]).finally(() => clearTimeout(timer));
    } catch (error) {
      if (error instanceof FunctionError) throw new GatewayFailure('DEFAULT_5XX');
      throw error;
    }
    const result = ProxyResult.safeParse(output);
    if (!result.success) {
      this.log(`[gateway] malformed Lambda proxy response from ${route.integration.functionLogicalId}: ${JSON.stringify(output)}`);
      throw new GatewayFailure('DEFAULT_5XX');
    }
    return proxyReply(result.data);
  }

  /**
   * Runs the route's TOKEN authorizer as API Gateway does: no token (or one that
   * fails the validation expression) is 401 without calling it; its answer is
   * cached per token for the authorizer's TTL and evaluated against each request's
   * method ARN; a thrown "Unauthorized" is 401, any other failure of the function
   * the stack's AUTHORIZER_FAILURE response, and nothing failed is cached.
   */
  private async authorize(
    logicalId: string,
    request: IncomingMessage,
    methodArn: string,
  ): Promise<{ context: Record<string, string>; usageIdentifierKey: string | undefined }> {
    const authorizer = this.options.authorizers.get(logicalId);
    if (!authorizer) throw new Error(`no authorizer ${logicalId}`);
    const token = request.headers[authorizer.tokenHeader.toLowerCase()];
    if (typeof token !== 'string' || token === '' || (authorizer.validationExpression && !authorizer.validationExpression.test(token))) {
      throw new GatewayFailure('UNAUTHORIZED');
    }
    const cacheKey = `${logicalId}\n${token}`;
    const cached = this.authorizerCache.get(cacheKey);
    let result: AuthorizerResult;
    if (cached && cached.expires > Date.now()) {
      result = cached.result;
    } else {
      result = await this.invokeAuthorizer(authorizer, token, methodArn);
      if (authorizer.ttlSeconds > 0) this.authorizerCache.set(cacheKey, { result, expires: Date.now() + authorizer.ttlSeconds * 1000 });
    }
    if (!policyAllows(result, methodArn)) throw new GatewayFailure('ACCESS_DENIED');
    // The REST API hands context values to the integration as strings.
    const context = Object.fromEntries(Object.entries(result.context ?? {}).map(([key, value]) => [key, String(value)]));
    return { context: { ...context, principalId: result.principalId }, usageIdentifierKey: result.usageIdentifierKey };
  }

  private async invokeAuthorizer(authorizer: AuthorizerDefinition, token: string, methodArn: string): Promise<AuthorizerResult> {
    let output: unknown;
    try {
      output = await this.options.functions.invoke(authorizer.functionLogicalId, { type: 'TOKEN', authorizationToken: token, methodArn });
    } catch (error) {
      const failure = authorizerFailureOf(error);
      if (failure !== 'UNAUTHORIZED') this.log(`[gateway] authorizer failed: ${error instanceof Error ? error.message : String(error)}`);
      throw new GatewayFailure(failure);
    }
    const result = AuthorizerResult.safeParse(output);
    if (!result.success) {
      this.log(`[gateway] invalid authorizer response: ${JSON.stringify(output)}`);
      throw new GatewayFailure('AUTHORIZER_CONFIGURATION_ERROR');
    }
    return result.data;
  }

  /**
   * The gateway's own answer: the stack's gateway response for the type, else its
   * DEFAULT_4XX / DEFAULT_5XX, else API Gateway's built-in `{"message": …}`.
   */
  private gatewayResponse(type: ResponseType, requestId: string): Reply {
    const { status: defaultStatus, message } = RESPONSE_TYPES[type];
    const specific = this.options.gatewayResponses.get(type);
    const configured = specific ?? this.options.gatewayResponses.get(defaultStatus >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX');
    const template = configured?.template ?? '{"message":$context.error.messageString}';
    const variables: Record<string, string> = {
      'error.message': message,
      'error.messageString': JSON.stringify(message),
      'error.responseType': type,
      requestId,
      extendedRequestId: requestId,
      stage: this.options.api.stageName,
    };
    const body = template.replace(
      /\$!?\{context\.([\w.]+)\}|\$!?context\.(\w+(?:\.\w+)*)/g,
      (text, braced?: string, bare?: string) => variables[(braced ?? bare) as string] ?? text,
    );
    return { status: specific?.statusCode ?? defaultStatus, headers: configured?.headers ?? {}, body };
  }
}

interface ProxyEventInput {
  request: IncomingMessage;
  url: RequestUrl;
  httpMethod: string;
  route: RouteDefinition;
  parameters: Record<string, string>;
  body: Buffer;
  requestId: string;
  api: RestApiDefinition;
  accountId: string;
  authorizer: Record<string, string> | undefined;
}

/** The event API Gateway's Lambda proxy integration sends (REST API, payload format 1.0). */
function proxyEvent(input: ProxyEventInput): APIGatewayProxyEvent {
  const { request, url, route, parameters, requestId, api } = input;
  const multiValueHeaders: Record<string, string[]> = {};
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] as string;
    (multiValueHeaders[name] ??= []).push(request.rawHeaders[index + 1] as string);
  }
  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (multiValueQuery[name] ??= []).push(value);
  const last = (values: Record<string, string[]>) => Object.fromEntries(Object.entries(values).map(([name, list]) => [name, list.at(-1) as string]));
  const hasQuery = Object.keys(multiValueQuery).length > 0;
  const now = new Date();
  const host = request.headers.host ?? '127.0.0.1';
  const sourceIp = request.socket.remoteAddress ?? '127.0.0.1';

  return {
    resource: route.resourcePath,
    path: url.pathname,
    httpMethod: input.httpMethod,
    headers: last(multiValueHeaders),
    multiValueHeaders,
    queryStringParameters: hasQuery ? last(multiValueQuery) : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    pathParameters: Object.keys(parameters).length > 0 ? parameters : null,
    stageVariables: null,
    body: input.body.length > 0 ? input.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: input.accountId,
      apiId: api.apiId,
      authorizer: input.authorizer ?? null,
      domainName: host,
      domainPrefix: host.split('.')[0] as string,
      extendedRequestId: requestId,
      httpMethod: input.httpMethod,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: null,
      },
      // The path the client used: on AWS it includes the stage because the URL does; locally the URL has none.
      path: url.pathname,
      protocol: `HTTP/${request.httpVersion}`,
      requestId,
      requestTime: apiGatewayTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: route.resourceLogicalId,
      resourcePath: route.resourcePath,
      stage: api.stageName,
    },
  };
}

function proxyReply(result: z.infer<typeof ProxyResult>): Reply {
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
  return { status: result.statusCode, headers, body };
}
