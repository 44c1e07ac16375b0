import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  startWebSocketGateway,
  type WebSocketApiDefinition,
  type WebSocketGateway,
  webSocketApiOf,
  withLocalCallbackUrl,
} from '../../../../local/apigateway/websocket.js';
import { type CfnTemplate, LocalResolver } from '../../../../local/cloudformation/template.js';
import { LocalIam } from '../../../../local/iam/policy.js';
import { FunctionError } from '../../../../local/lambda/functions.js';

/** The shape CDK synthesizes for a WebSocket API with a REQUEST authorizer on $connect. */
const lambdaUri = (fn: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':apigateway:',
      { Ref: 'AWS::Region' },
      ':lambda:path/2015-03-31/functions/',
      { 'Fn::GetAtt': [fn, 'Arn'] },
      '/invocations',
    ],
  ],
});
const route = (key: string, integration: string, extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::ApiGatewayV2::Route',
  Properties: {
    ApiId: { Ref: 'Ws' },
    RouteKey: key,
    Target: { 'Fn::Join': ['', ['integrations/', { Ref: integration }]] },
    AuthorizationType: 'NONE',
    ...extra,
  },
});
const integration = (fn: string) => ({
  Type: 'AWS::ApiGatewayV2::Integration',
  Properties: { ApiId: { Ref: 'Ws' }, IntegrationType: 'AWS_PROXY', IntegrationUri: lambdaUri(fn) },
});
const fn = { Type: 'AWS::Lambda::Function', Properties: {} };

const template: CfnTemplate = {
  Resources: {
    Ws: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: 'ws', ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' } },
    AuthFn: fn,
    ConnectFn: fn,
    DisconnectFn: fn,
    EchoFn: fn,
    DefaultFn: fn,
    Auth: {
      Type: 'AWS::ApiGatewayV2::Authorizer',
      Properties: {
        ApiId: { Ref: 'Ws' },
        AuthorizerType: 'REQUEST',
        AuthorizerUri: lambdaUri('AuthFn'),
        IdentitySource: ['route.request.querystring.token'],
        Name: 'auth',
      },
    },
    ConnectIntegration: integration('ConnectFn'),
    DisconnectIntegration: integration('DisconnectFn'),
    EchoIntegration: integration('EchoFn'),
    DefaultIntegration: integration('DefaultFn'),
    ConnectRoute: route('$connect', 'ConnectIntegration', { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: 'Auth' } }),
    DisconnectRoute: route('$disconnect', 'DisconnectIntegration'),
    EchoRoute: route('echo', 'EchoIntegration', { RouteResponseSelectionExpression: '$default' }),
    EchoResponse: {
      Type: 'AWS::ApiGatewayV2::RouteResponse',
      Properties: { ApiId: { Ref: 'Ws' }, RouteId: { Ref: 'EchoRoute' }, RouteResponseKey: '$default' },
    },
    DefaultRoute: route('$default', 'DefaultIntegration'),
    Stage: {
      Type: 'AWS::ApiGatewayV2::Stage',
      Properties: { ApiId: { Ref: 'Ws' }, StageName: 'v1', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 500 } },
    },
  },
};
const account = { region: 'eu-west-1', accountId: '000000000000' };

interface Call {
  fn: string;
  event: { requestContext: Record<string, unknown>; body?: string; queryStringParameters?: Record<string, string>; type?: string; methodArn?: string };
}

let gateway: WebSocketGateway;
let api: WebSocketApiDefinition;
let calls: Call[];
let management: ApiGatewayManagementApiClient;
const open: WebSocket[] = [];

/** Stand-ins for the Lambdas: accept the token "good", echo on `echo`, fail on `boom`. */
async function invoke(fnId: string, event: unknown): Promise<unknown> {
  const call = { fn: fnId, event: event as Call['event'] };
  calls.push(call);
  switch (fnId) {
    case 'AuthFn': {
      const token = call.event.queryStringParameters?.token;
      if (token !== 'good') throw new FunctionError('Error', 'Unauthorized', []);
      return {
        principalId: 'acme',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${call.event.methodArn?.split('/').slice(0, 2).join('/')}/*` }],
        },
        context: { tenantId: 'acme' },
      };
    }
    case 'EchoFn':
      if (call.event.body?.includes('boom')) throw new Error('handler failed');
      return {
        statusCode: 200,
        body: JSON.stringify({ echoed: call.event.body, tenant: (call.event.requestContext.authorizer as { tenantId?: string }).tenantId }),
      };
    default:
      return { statusCode: 200 };
  }
}

function connect(query = '?token=good', path = ''): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${gateway.url}${path}${query}`);
    open.push(socket);
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    socket.once('error', reject);
  });
}

function nextMessage(socket: WebSocket): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message within 2 s')), 2_000);
    socket.once('message', (data) => {
      clearTimeout(timer);
      resolve(JSON.parse(String(data)));
    });
  });
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const connectionIdOf = () => calls.find((call) => call.fn === 'ConnectFn')?.event.requestContext.connectionId as string;

beforeEach(async () => {
  calls = [];
  api = webSocketApiOf(new LocalResolver(template, account)) as WebSocketApiDefinition;
  // The stack's own key pair and no functions: every management call must be signed with it.
  const iam = new LocalIam([], account.accountId, () => undefined, { accessKeyId: 'local', secretAccessKey: 'local' });
  gateway = await startWebSocketGateway({ api, account, invoke, iam, port: 0, log: () => undefined });
  management = new ApiGatewayManagementApiClient({
    endpoint: gateway.callbackUrl,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterEach(async () => {
  for (const socket of open.splice(0)) socket.terminate();
  await gateway.close();
  management.destroy();
});

describe('local WebSocket gateway: the template', () => {
  it('reads routes, the $connect authorizer, two-way routes and the stage', () => {
    expect(api.stageName).toBe('v1');
    expect(api.routeSelectionPath).toEqual(['action']);
    expect([...api.routes.keys()].sort()).toEqual(['$connect', '$default', '$disconnect', 'echo']);
    expect(api.routes.get('$connect')?.authorizer).toEqual({ functionLogicalId: 'AuthFn', identitySources: ['route.request.querystring.token'] });
    expect(api.routes.get('echo')).toMatchObject({ functionLogicalId: 'EchoFn', twoWay: true, authorizer: undefined });
    expect(api.routes.get('$default')?.twoWay).toBe(false);
    expect(api.throttling).toEqual({ rateLimit: 1000, burstLimit: 500 });
  });

  it('points the deployed callback URL of a function environment at the local gateway', () => {
    const deployed = `https://${api.apiId}.execute-api.eu-west-1.amazonaws.com/v1`;
    expect(withLocalCallbackUrl({ CONNECTIONS_ENDPOINT: deployed, OTHER: 'x' }, api, account, gateway.callbackUrl)).toEqual({
      CONNECTIONS_ENDPOINT: gateway.callbackUrl,
      OTHER: 'x',
    });
  });
});

describe('local WebSocket gateway: connections', () => {
  it('authorizes $connect with a REQUEST event like API Gateway, then runs $connect with the authorizer context', async () => {
    await connect('?token=good&x=1');

    const [authorize, connected] = calls;
    expect(authorize?.fn).toBe('AuthFn');
    expect(authorize?.event).toMatchObject({
      type: 'REQUEST',
      methodArn: `arn:aws:execute-api:eu-west-1:000000000000:${api.apiId}/v1/$connect`,
      queryStringParameters: { token: 'good', x: '1' },
      requestContext: { routeKey: '$connect', eventType: 'CONNECT', stage: 'v1', apiId: api.apiId },
    });
    expect(connected?.fn).toBe('ConnectFn');
    expect(connected?.event.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      authorizer: { tenantId: 'acme', principalId: 'acme' },
    });
    expect(connected?.event.requestContext.connectionId).toEqual(authorize?.event.requestContext.connectionId);
  });

  it.each([
    ['an unknown token', '?token=bad'],
    ['no token at all (the authorizer is not even called)', ''],
  ])('refuses the upgrade with 401 for %s', async (_, query) => {
    await expect(connect(query)).rejects.toThrow('HTTP 401');
    expect(calls.filter((call) => call.fn === 'ConnectFn')).toHaveLength(0);
    if (query === '') expect(calls).toHaveLength(0);
  });

  it('accepts the stage path as the deployed URL has it, and refuses other paths', async () => {
    await connect('?token=good', '/v1');
    await expect(connect('?token=good', '/v2')).rejects.toThrow('HTTP 404');
  });

  it('selects the route from the action, answers two-way routes, and sends everything else to $default', async () => {
    const socket = await connect();

    socket.send(JSON.stringify({ action: 'echo', n: 1 }));
    expect(await nextMessage(socket)).toEqual({ echoed: '{"action":"echo","n":1}', tenant: 'acme' });

    socket.send('not json');
    await until(() => calls.some((call) => call.fn === 'DefaultFn'));
    const message = calls.find((call) => call.fn === 'DefaultFn')?.event;
    expect(message).toMatchObject({ body: 'not json', requestContext: { routeKey: '$default', eventType: 'MESSAGE', authorizer: { tenantId: 'acme' } } });
  });

  it('answers "Internal server error" when a route handler fails', async () => {
    const socket = await connect();
    socket.send(JSON.stringify({ action: 'echo', boom: true }));
    expect(await nextMessage(socket)).toMatchObject({ message: 'Internal server error', connectionId: expect.any(String) });
  });

  it('runs $disconnect when the client closes', async () => {
    const socket = await connect();
    socket.close(1000, 'bye');
    await until(() => calls.some((call) => call.fn === 'DisconnectFn'));
    expect(calls.find((call) => call.fn === 'DisconnectFn')?.event.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId: connectionIdOf(),
      disconnectStatusCode: 1000,
    });
    await until(() => gateway.connectionCount === 0);
  });

  it('closes a connection that stays idle too long', async () => {
    await gateway.close();
    gateway = await startWebSocketGateway({ api, account, invoke, port: 0, log: () => undefined, idleTimeoutMs: 100 });
    const socket = await connect();
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    expect(await closed).toBe(1001);
  });
});

describe('local WebSocket gateway: @connections through the SDK', () => {
  it('posts to a connection, describes it and deletes it', async () => {
    const socket = await connect();
    const ConnectionId = connectionIdOf();

    const received = nextMessage(socket);
    await management.send(new PostToConnectionCommand({ ConnectionId, Data: JSON.stringify({ type: 'job', n: 1 }) }));
    expect(await received).toEqual({ type: 'job', n: 1 });

    const description = await management.send(new GetConnectionCommand({ ConnectionId }));
    expect(description.ConnectedAt).toBeInstanceOf(Date);
    expect(description.Identity?.SourceIp).toBe('127.0.0.1');

    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await management.send(new DeleteConnectionCommand({ ConnectionId }));
    await closed;
    await until(() => calls.some((call) => call.fn === 'DisconnectFn'));
  });

  it('answers 410 GoneException for a connection that is gone', async () => {
    const socket = await connect();
    const ConnectionId = connectionIdOf();
    socket.close();
    await until(() => gateway.connectionCount === 0);

    const post = management.send(new PostToConnectionCommand({ ConnectionId, Data: 'x' }));
    await expect(post).rejects.toBeInstanceOf(GoneException);
    await expect(management.send(new GetConnectionCommand({ ConnectionId: 'never-existed=' }))).rejects.toBeInstanceOf(GoneException);
  });

  it('also serves the management API without the stage prefix', async () => {
    const socket = await connect();
    const bare = new ApiGatewayManagementApiClient({
      endpoint: gateway.callbackUrl.replace(/\/v1$/, ''),
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const received = nextMessage(socket);
    await bare.send(new PostToConnectionCommand({ ConnectionId: connectionIdOf(), Data: '{"ok":true}' }));
    expect(await received).toEqual({ ok: true });
    bare.destroy();
  });
  it('refuses an unsigned call with 403 MissingAuthenticationTokenException, and touches no connection', async () => {
    const socket = await connect();
    const url = `${gateway.callbackUrl}/@connections/${encodeURIComponent(connectionIdOf())}`;
    let received = false;
    socket.on('message', () => (received = true));
    const response = await fetch(url, { method: 'POST', body: 'not signed' });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toBe(false);
    expect(gateway.connectionCount).toBe(1);
  });

  it('refuses a key the stack did not issue (UnrecognizedClientException) and a wrong secret (InvalidSignatureException)', async () => {
    await connect();
    const as = (accessKeyId: string, secretAccessKey: string) =>
      new ApiGatewayManagementApiClient({ endpoint: gateway.callbackUrl, region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey } });
    const stranger = as('AKIASTRANGER', 'local');
    const forger = as('local', 'guessed');
    try {
      await expect(stranger.send(new PostToConnectionCommand({ ConnectionId: connectionIdOf(), Data: 'x' }))).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
        $metadata: { httpStatusCode: 403 },
      });
      await expect(forger.send(new DeleteConnectionCommand({ ConnectionId: connectionIdOf() }))).rejects.toMatchObject({
        name: 'InvalidSignatureException',
        $metadata: { httpStatusCode: 403 },
      });
      expect(gateway.connectionCount).toBe(1);
    } finally {
      stranger.destroy();
      forger.destroy();
    }
  });
});
