import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { type CfnResource, type LocalAccount, type LocalResolver, referencedLogicalId, referencedLogicalIds } from '../cloudformation/template.js';
import { close, LOOPBACK, listen, readBody } from '../http-server.js';
import { accessKeyOfRequest, type LocalIam } from '../iam/policy.js';
import { JSON_SERVICE_AUTHENTICATION_ERRORS } from '../iam/sigv4.js';
import { traceRequests } from '../trace.js';
import { AuthorizerResult, apiGatewayTime, asksForUnauthorized, policyAllows } from './authorizer.js';

/**
 * API Gateway v2 WebSocket API emulated on loopback, driven by the synthesized
 * template: its routes, route selection expression, REQUEST authorizer on
 * $connect, two-way route responses and stage throttling. Every route event and
 * the authorizer event are shaped as API Gateway sends them, so the handlers run
 * unchanged.
 *
 * The same server answers the management API (`@connections`) that handlers call
 * with @aws-sdk/client-apigatewaymanagementapi: POST posts to a socket, GET
 * describes it, DELETE closes it, and a connection that is gone is a 410
 * GoneException, exactly as the SDK expects to read it.
 *
 * Behaviour kept from API Gateway: a message route's invocations are not
 * serialised per connection; connections close after 10 idle minutes and after 2
 * hours at most; a message is at most 128 KB; $disconnect runs after the socket
 * is closed and its result is ignored.
 */

// ---------------------------------------------------------------------------
// What the template says

export interface WebSocketRouteDefinition {
  routeKey: string;
  functionLogicalId: string;
  /** The REQUEST authorizer's function and identity sources ($connect only, as on AWS). */
  authorizer: { functionLogicalId: string; identitySources: string[] } | undefined;
  /** A route with a route response sends the integration's `body` back on the socket. */
  twoWay: boolean;
}

export interface WebSocketApiDefinition {
  logicalId: string;
  /** The API id as the local resolver gives it (`Ref`): it is in ARNs, in the callback URL and in `requestContext.apiId`. */
  apiId: string;
  stageName: string;
  /** The path into a JSON frame that names its route (`$request.body.action` -> ['action']). */
  routeSelectionPath: string[];
  routes: Map<string, WebSocketRouteDefinition>;
  throttling: { rateLimit: number; burstLimit: number } | undefined;
}

const ApiProperties = z.object({ ProtocolType: z.string(), RouteSelectionExpression: z.string().optional() });
const RouteProperties = z.object({
  ApiId: z.unknown(),
  RouteKey: z.string(),
  Target: z.unknown().optional(),
  AuthorizationType: z.string().default('NONE'),
  AuthorizerId: z.unknown().optional(),
});
const IntegrationProperties = z.object({ ApiId: z.unknown(), IntegrationType: z.string(), IntegrationUri: z.unknown().optional() });
const AuthorizerProperties = z.object({
  ApiId: z.unknown(),
  AuthorizerType: z.string(),
  AuthorizerUri: z.unknown(),
  IdentitySource: z.array(z.string()).default([]),
});
const StageProperties = z.object({
  ApiId: z.unknown(),
  StageName: z.string(),
  DefaultRouteSettings: z.object({ ThrottlingRateLimit: z.number().optional(), ThrottlingBurstLimit: z.number().optional() }).optional(),
});
const RouteResponseProperties = z.object({ ApiId: z.unknown(), RouteId: z.unknown(), RouteResponseKey: z.string() });

function ofType(resources: Record<string, CfnResource>, type: string): Array<[string, CfnResource]> {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

/** The functions a `Fn::Join`ed Lambda integration or authorizer URI points at. */
function functionIn(resolver: LocalResolver, uri: unknown, what: string): string {
  const id = referencedLogicalIds(uri).find((candidate) => resolver.template.Resources[candidate]?.Type === 'AWS::Lambda::Function');
  if (id === undefined) throw new Error(`the local WebSocket gateway only runs Lambda integrations; ${what} is ${JSON.stringify(uri)}`);
  return id;
}

/** The template's WebSocket API, or undefined if it has none. Anything the gateway cannot emulate fails here, at start-up. */
export function webSocketApiOf(resolver: LocalResolver): WebSocketApiDefinition | undefined {
  const resources = resolver.template.Resources;
  const apis = ofType(resources, 'AWS::ApiGatewayV2::Api').filter(([, api]) => ApiProperties.parse(api.Properties).ProtocolType === 'WEBSOCKET');
  if (apis.length === 0) return undefined;
  if (apis.length > 1) throw new Error(`the local WebSocket gateway serves one API; the template has ${apis.map(([id]) => id).join(', ')}`);
  const [logicalId, api] = apis[0] as [string, CfnResource];
  const belongs = (properties: { ApiId: unknown }) => referencedLogicalId(properties.ApiId) === logicalId;

  const expression = ApiProperties.parse(api.Properties).RouteSelectionExpression ?? '$request.body.action';
  const selection = /^\$request\.body\.([A-Za-z0-9_$]+(?:\.[A-Za-z0-9_$]+)*)$/.exec(expression);
  if (!selection?.[1]) throw new Error(`the local WebSocket gateway supports route selection on $request.body.<path>, not ${expression}`);

  const twoWayRoutes = new Set(
    ofType(resources, 'AWS::ApiGatewayV2::RouteResponse')
      .map(([, resource]) => RouteResponseProperties.parse(resource.Properties))
      .filter((response) => belongs(response) && response.RouteResponseKey === '$default')
      .map((response) => referencedLogicalId(response.RouteId)),
  );

  const routes = new Map<string, WebSocketRouteDefinition>();
  for (const [routeLogicalId, resource] of ofType(resources, 'AWS::ApiGatewayV2::Route')) {
    const route = RouteProperties.parse(resource.Properties);
    if (!belongs(route)) continue;
    const integrationId = referencedLogicalIds(route.Target).find((id) => resources[id]?.Type === 'AWS::ApiGatewayV2::Integration');
    if (integrationId === undefined) throw new Error(`WebSocket route ${route.RouteKey} has no integration the local gateway can run`);
    const integration = IntegrationProperties.parse(resolver.resource(integrationId).Properties);
    if (integration.IntegrationType !== 'AWS_PROXY')
      throw new Error(`WebSocket route ${route.RouteKey}: the local gateway runs AWS_PROXY integrations, not ${integration.IntegrationType}`);

    let authorizer: WebSocketRouteDefinition['authorizer'];
    if (route.AuthorizationType === 'CUSTOM') {
      const authorizerId = referencedLogicalId(route.AuthorizerId);
      const properties = AuthorizerProperties.parse(resolver.resource(authorizerId ?? '', 'AWS::ApiGatewayV2::Authorizer').Properties);
      if (properties.AuthorizerType !== 'REQUEST')
        throw new Error(`WebSocket authorizer ${authorizerId} is ${properties.AuthorizerType}; the local gateway runs REQUEST authorizers`);
      authorizer = {
        functionLogicalId: functionIn(resolver, properties.AuthorizerUri, `authorizer ${authorizerId}`),
        identitySources: properties.IdentitySource,
      };
    } else if (route.AuthorizationType !== 'NONE') {
      throw new Error(`WebSocket route ${route.RouteKey} uses ${route.AuthorizationType} authorization, which the local gateway does not emulate`);
    }
    routes.set(route.RouteKey, {
      routeKey: route.RouteKey,
      functionLogicalId: functionIn(resolver, integration.IntegrationUri, `the integration of ${route.RouteKey}`),
      authorizer,
      twoWay: twoWayRoutes.has(routeLogicalId),
    });
  }

  const stages = ofType(resources, 'AWS::ApiGatewayV2::Stage')
    .map(([, resource]) => StageProperties.parse(resource.Properties))
    .filter(belongs);
  const stage = stages[0];
  if (!stage) throw new Error(`WebSocket API ${logicalId} has no stage`);
  const { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit } = stage.DefaultRouteSettings ?? {};

  return {
    logicalId,
    apiId: resolver.apiId(logicalId),
    stageName: stage.StageName,
    routeSelectionPath: selection[1].split('.'),
    routes,
    throttling: rateLimit !== undefined && burstLimit !== undefined ? { rateLimit, burstLimit } : undefined,
  };
}

/** The stage's callback URL as it is deployed (what `WebSocketStage.callbackUrl` resolves to). */
export function deployedCallbackUrl(api: WebSocketApiDefinition, account: LocalAccount): string {
  return `https://${api.apiId}.execute-api.${account.region}.amazonaws.com/${api.stageName}`;
}

/**
 * A function environment with the deployed callback URL replaced by the local
 * gateway's: the notifier's explicit management endpoint then reaches this
 * process. Apply it to every function's environment before the handlers load.
 */
export function withLocalCallbackUrl(
  environment: Record<string, string>,
  api: WebSocketApiDefinition,
  account: LocalAccount,
  localCallbackUrl: string,
): Record<string, string> {
  const deployed = deployedCallbackUrl(api, account);
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, value === deployed ? localCallbackUrl : value]));
}

// ---------------------------------------------------------------------------
// The gateway

/** Calls a function of the template by logical id, like Lambda Invoke; rejects when the handler fails. */
export type Invoke = (functionLogicalId: string, event: unknown) => Promise<unknown>;

export interface WebSocketGatewayOptions {
  api: WebSocketApiDefinition;
  account: LocalAccount;
  invoke: Invoke;
  /** WS_PORT; 0 binds any free port (tests). */
  port: number;
  /** Where failures of handlers and of the gateway itself are reported. */
  log?: (line: string) => void;
  /** Checks the callers of `@connections`: their signature, then their roles (execute-api:ManageConnections); unchecked when absent. */
  iam?: Pick<LocalIam, 'authorize' | 'authenticate'>;
  /** API Gateway's limits; shorter in tests. */
  idleTimeoutMs?: number;
  maxLifetimeMs?: number;
}

export interface WebSocketGateway {
  /** `ws://127.0.0.1:<port>`: clients may also connect to `/<stage>`, as on AWS. */
  readonly url: string;
  /** `http://127.0.0.1:<port>/<stage>`: the management endpoint handlers post to. */
  readonly callbackUrl: string;
  readonly port: number;
  readonly connectionCount: number;
  /** Closes every connection (running its $disconnect) and stops listening. */
  close(): Promise<void>;
}

const IDLE_TIMEOUT_MS = 10 * 60 * 1000;
const MAX_LIFETIME_MS = 2 * 60 * 60 * 1000;
const MAX_MESSAGE_BYTES = 128 * 1024;

interface Connection {
  id: string;
  socket: WebSocket;
  connectedAt: number;
  lastActiveAt: number;
  identity: { sourceIp: string; userAgent: string | undefined };
  authorizer: Record<string, unknown> | undefined;
  timers: NodeJS.Timeout[];
}

const ProxyResult = z.object({ statusCode: z.number().int().optional(), body: z.string().optional() }).loose();

export async function startWebSocketGateway(options: WebSocketGatewayOptions): Promise<WebSocketGateway> {
  const { api, account, invoke } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const maxLifetimeMs = options.maxLifetimeMs ?? MAX_LIFETIME_MS;
  const connections = new Map<string, Connection>();
  const pendingDisconnects = new Set<Promise<void>>();
  const throttle = api.throttling ? new TokenBucket(api.throttling.rateLimit, api.throttling.burstLimit) : undefined;
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  let port = options.port;
  const domainName = () => `${LOOPBACK}:${port}`;

  const baseContext = (connectionId: string, connectedAt: number, routeKey: string, eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT') => {
    const now = Date.now();
    return {
      routeKey,
      eventType,
      extendedRequestId: randomId(),
      requestTime: apiGatewayTime(new Date(now)),
      messageDirection: 'IN',
      stage: api.stageName,
      connectedAt,
      requestTimeEpoch: now,
      requestId: randomId(),
      domainName: domainName(),
      connectionId,
      apiId: api.apiId,
    };
  };

  async function authorize(
    route: WebSocketRouteDefinition,
    request: IncomingMessage,
    connectionId: string,
    connectedAt: number,
  ): Promise<{ status: number } | { context: Record<string, unknown> }> {
    const authorizer = route.authorizer;
    if (!authorizer) return { context: {} };
    const query = queryOf(request);
    const headers = headersOf(request);
    // API Gateway answers 401 itself, without calling the authorizer, when an identity source is missing.
    for (const source of authorizer.identitySources) {
      const [, kind, name = ''] = /^route\.request\.(querystring|header)\.(.+)$/.exec(source) ?? [];
      const value = kind === 'querystring' ? query.single[name] : headers.single[name.toLowerCase()];
      if (value === undefined || value === '') return { status: 401 };
    }
    const methodArn = `arn:aws:execute-api:${account.region}:${account.accountId}:${api.apiId}/${api.stageName}/${route.routeKey}`;
    const started = Date.now();
    let result: AuthorizerResult;
    try {
      result = AuthorizerResult.parse(
        await invoke(authorizer.functionLogicalId, {
          type: 'REQUEST',
          methodArn,
          headers: headers.single,
          multiValueHeaders: headers.multi,
          queryStringParameters: query.single,
          multiValueQueryStringParameters: query.multi,
          stageVariables: {},
          requestContext: { ...baseContext(connectionId, connectedAt, route.routeKey, 'CONNECT'), identity: identityOf(request) },
        }),
      );
    } catch (error) {
      // Anything but the authorizer asking for a 401 is the authorizer failing.
      if (asksForUnauthorized(error)) return { status: 401 };
      log(`[ws] authorizer failed: ${String(error)}`);
      return { status: 500 };
    }
    if (!policyAllows(result, methodArn)) return { status: 403 };
    return { context: { ...result.context, principalId: result.principalId, integrationLatency: Date.now() - started } };
  }

  async function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    if (path !== '/' && path !== `/${api.stageName}`) return refuse(socket, 404);
    if (throttle && !throttle.take()) return refuse(socket, 429);
    const connectionId = newConnectionId();
    const connectedAt = Date.now();
    const connect = api.routes.get('$connect');
    let authorizer: Record<string, unknown> | undefined;
    if (connect) {
      const decision = await authorize(connect, request, connectionId, connectedAt);
      if ('status' in decision) return refuse(socket, decision.status);
      authorizer = connect.authorizer ? decision.context : undefined;
      const query = queryOf(request);
      const headers = headersOf(request);
      try {
        const result = ProxyResult.safeParse(
          await invoke(connect.functionLogicalId, {
            headers: headers.single,
            multiValueHeaders: headers.multi,
            queryStringParameters: query.single,
            multiValueQueryStringParameters: query.multi,
            requestContext: {
              ...baseContext(connectionId, connectedAt, '$connect', 'CONNECT'),
              identity: identityOf(request),
              ...(authorizer ? { authorizer } : {}),
            },
            isBase64Encoded: false,
          }),
        );
        const status = result.success ? (result.data.statusCode ?? 200) : 200;
        if (status < 200 || status > 299) return refuse(socket, status);
      } catch (error) {
        log(`[ws] $connect failed: ${String(error)}`);
        return refuse(socket, 500);
      }
    }
    if (socket.destroyed) return;
    sockets.handleUpgrade(request, socket, head, (ws) => accept(ws, { id: connectionId, connectedAt, identity: identityOf(request), authorizer }));
  }

  function accept(socket: WebSocket, init: Pick<Connection, 'id' | 'connectedAt' | 'identity' | 'authorizer'>): void {
    const connection: Connection = { ...init, socket, lastActiveAt: init.connectedAt, timers: [] };
    connections.set(connection.id, connection);
    const lifetime = setTimeout(() => socket.close(1001, 'Going away'), maxLifetimeMs);
    lifetime.unref();
    connection.timers.push(lifetime);
    const idle = setTimeout(() => socket.close(1001, 'Going away'), idleTimeoutMs);
    idle.unref();
    connection.timers.push(idle);

    socket.on('message', (data, isBinary) => {
      connection.lastActiveAt = Date.now();
      idle.refresh();
      void onMessage(connection, data, isBinary);
    });
    socket.on('close', (code, reason) => {
      connection.timers.forEach(clearTimeout);
      connections.delete(connection.id);
      const disconnect = onDisconnect(connection, code, reason.toString('utf8'));
      pendingDisconnects.add(disconnect);
      void disconnect.finally(() => pendingDisconnects.delete(disconnect));
    });
    socket.on('error', (error) => log(`[ws] connection ${connection.id}: ${error.message}`));
  }

  function routeFor(text: string | undefined): WebSocketRouteDefinition | undefined {
    let value: unknown;
    try {
      value = text === undefined ? undefined : (JSON.parse(text) as unknown);
    } catch {
      value = undefined;
    }
    for (const key of api.routeSelectionPath) {
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
    }
    const selected = typeof value === 'string' && !value.startsWith('$') ? api.routes.get(value) : undefined;
    return selected ?? api.routes.get('$default');
  }

  async function onMessage(connection: Connection, data: RawData, isBinary: boolean): Promise<void> {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const text = isBinary ? undefined : bytes.toString('utf8');
    const requestId = randomId();
    const answer = (message: string) => send(connection.socket, JSON.stringify({ message, connectionId: connection.id, requestId }));
    if (throttle && !throttle.take()) return answer('Too Many Requests');
    const route = routeFor(text);
    if (!route) return answer('Forbidden');
    try {
      const result = await invoke(route.functionLogicalId, {
        requestContext: {
          ...baseContext(connection.id, connection.connectedAt, route.routeKey, 'MESSAGE'),
          messageId: randomId(),
          identity: connection.identity,
          ...(connection.authorizer ? { authorizer: connection.authorizer } : {}),
        },
        body: text ?? bytes.toString('base64'),
        isBase64Encoded: isBinary,
      });
      const parsed = ProxyResult.safeParse(result);
      if (route.twoWay && parsed.success && parsed.data.body !== undefined) send(connection.socket, parsed.data.body);
    } catch (error) {
      log(`[ws] ${route.routeKey} failed: ${String(error)}`);
      answer('Internal server error');
    }
  }

  async function onDisconnect(connection: Connection, code: number, reason: string): Promise<void> {
    const route = api.routes.get('$disconnect');
    if (!route) return;
    try {
      await invoke(route.functionLogicalId, {
        headers: { Host: domainName() },
        multiValueHeaders: { Host: [domainName()] },
        requestContext: {
          ...baseContext(connection.id, connection.connectedAt, '$disconnect', 'DISCONNECT'),
          disconnectStatusCode: code,
          disconnectReason: reason,
          identity: connection.identity,
          ...(connection.authorizer ? { authorizer: connection.authorizer } : {}),
        },
        isBase64Encoded: false,
      });
    } catch (error) {
      log(`[ws] $disconnect failed: ${String(error)}`);
    }
  }

  /** The management API: /@connections/{id}, with or without the stage in front, as the callback URL is built. */
  async function onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    const match = new RegExp(`^(?:/${escapeRegExp(api.stageName)})?/@connections/([^/]+)$`).exec(path);
    if (!match?.[1]) return reply(response, 404, { message: 'Not Found' }, 'NotFoundException');
    // Read first: the signature covers the body. A body too large for a message cannot be a valid call anyway.
    const { body, tooLarge } = await readBody(request, MAX_MESSAGE_BYTES);
    if (tooLarge) return reply(response, 413, { message: `the message must be at most ${MAX_MESSAGE_BYTES} bytes` }, 'PayloadTooLargeException');
    // Only a caller signing with a key the stack issued (a function's, or the stack's own) may manage connections.
    const authentication = options.iam?.authenticate({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body });
    if (authentication && !authentication.ok) {
      return reply(response, 403, { message: authentication.message }, JSON_SERVICE_AUTHENTICATION_ERRORS[authentication.reason]);
    }
    const resource = `arn:aws:execute-api:${account.region}:${account.accountId}:${api.apiId}/${api.stageName}/${request.method}/@connections/${match[1]}`;
    const decision = options.iam?.authorize(accessKeyOfRequest(request.headers, request.url), 'execute-api:ManageConnections', resource);
    if (decision && !decision.allowed) {
      return reply(response, 403, { Message: decision.message }, 'AccessDeniedException');
    }
    const connection = connections.get(decodeURIComponent(match[1]));
    if (!connection || connection.socket.readyState !== connection.socket.OPEN) {
      return reply(response, 410, { message: 'Gone' }, 'GoneException');
    }
    switch (request.method) {
      case 'POST': {
        const text = utf8(body);
        const sent = await new Promise<boolean>((resolve) => connection.socket.send(text ?? body, { binary: text === undefined }, (error) => resolve(!error)));
        return sent ? reply(response, 200) : reply(response, 410, { message: 'Gone' }, 'GoneException');
      }
      case 'GET':
        return reply(response, 200, {
          connectedAt: new Date(connection.connectedAt).toISOString(),
          identity: connection.identity,
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        });
      case 'DELETE':
        connection.socket.close(1000, 'Closed by the server');
        return reply(response, 204);
      default:
        return reply(response, 405, { message: `${request.method} is not allowed on @connections` }, 'MethodNotAllowedException');
    }
  }

  const server = createServer((request, response) => {
    onRequest(request, response).catch((error: unknown) => {
      log(`[ws] @connections failed: ${String(error)}`);
      if (!response.headersSent) reply(response, 500, { message: 'Internal server error' }, 'InternalServerErrorException');
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined); // a client that drops mid-handshake is not the gateway's failure
    onUpgrade(request, socket, head).catch((error: unknown) => {
      log(`[ws] upgrade failed: ${String(error)}`);
      refuse(socket, 500);
    });
  });
  traceRequests(server, 'ws.connections', (request) => ({ detail: { method: request.method } }));
  port = await listen(server, options.port);

  return {
    url: `ws://${LOOPBACK}:${port}`,
    callbackUrl: `http://${LOOPBACK}:${port}/${api.stageName}`,
    port,
    get connectionCount() {
      return connections.size;
    },
    async close() {
      // Each close runs $disconnect; give them a moment, as the tables they write to are about to stop.
      const grace = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
      const closed = [...connections.values()].map(({ socket }) => {
        const done = new Promise((resolve) => socket.once('close', resolve));
        socket.close(1001, 'Going away');
        return Promise.race([done, grace(1_000).then(() => socket.terminate())]);
      });
      await Promise.all(closed);
      await Promise.race([Promise.allSettled([...pendingDisconnects]), grace(5_000)]);
      sockets.close();
      await close(server);
    },
  };
}

// ---------------------------------------------------------------------------
// Helpers

/** Connection ids look like API Gateway's (base64, ending with `=`), which exercises URL-encoding in callers. */
function newConnectionId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

function randomId(): string {
  return randomUUID();
}

function queryOf(request: IncomingMessage): { single: Record<string, string>; multi: Record<string, string[]> } {
  const params = new URL(request.url ?? '/', 'http://local').searchParams;
  const multi: Record<string, string[]> = {};
  for (const [name, value] of params) (multi[name] ??= []).push(value);
  const single = Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, values[values.length - 1] as string]));
  return { single, multi };
}

function headersOf(request: IncomingMessage): { single: Record<string, string>; multi: Record<string, string[]> } {
  const multi: Record<string, string[]> = {};
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] as string;
    (multi[name] ??= []).push(request.rawHeaders[index + 1] as string);
  }
  // Authorizers look headers up by their lower-case name; the original spelling stays in multiValueHeaders.
  const single = Object.fromEntries(Object.entries(multi).map(([name, values]) => [name.toLowerCase(), values.join(',')]));
  return { single, multi };
}

function identityOf(request: IncomingMessage): Connection['identity'] {
  return { sourceIp: request.socket.remoteAddress ?? LOOPBACK, userAgent: request.headers['user-agent'] };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function send(socket: WebSocket, text: string): void {
  if (socket.readyState === socket.OPEN) socket.send(text);
}

function refuse(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message: STATUS_CODES[status] ?? 'Error' });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function reply(response: ServerResponse, status: number, body?: unknown, errorType?: string): void {
  const headers: Record<string, string> = errorType ? { 'x-amzn-errortype': errorType } : {};
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) }).end(text);
}

/** The stage's throttling: `rateLimit` requests a second on average, bursts of `burstLimit`. */
class TokenBucket {
  private tokens: number;
  private updatedAt = Date.now();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
