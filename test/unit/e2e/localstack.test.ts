import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { describeSkips } from '../../e2e/checks.js';
import { cdklocalEnvironment, executeApiUrl, howToStartLocalStack, localStackFeatures, localStackSkips, probeLocalStack } from '../../e2e/localstack.js';

/** The `localstack` e2e target's own logic, against LocalStack's answers (test/fixtures/localstack/). */

const answer = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/localstack/${name}.json`, import.meta.url), 'utf8'));
const community = () => localStackFeatures(answer('health-community-4.14.0'), answer('info-community-4.14.0'));
const licensed = () => localStackFeatures(answer('health-pro'), answer('info-pro'));

describe('edition detection', () => {
  it('LocalStack 4.14.0 community: no WebSocket, no REST authorizer, every service the stack needs', () => {
    expect(community()).toEqual({ edition: 'community', version: '4.14.0', licensed: false, webSocket: false, restAuthorizer: 'none', missingServices: [] });
  });

  it('a licensed paid edition: WebSocket (API Gateway v2) and the Lambda authorizer', () => {
    expect(licensed()).toMatchObject({ edition: 'pro', licensed: true, webSocket: true, restAuthorizer: 'lambda', missingServices: [] });
  });

  it('a paid image whose licence is not active is treated as the free edition', () => {
    expect(localStackFeatures(answer('health-pro'), answer('info-pro-unlicensed'))).toMatchObject({
      licensed: false,
      webSocket: false,
      restAuthorizer: 'none',
    });
  });

  it('a licensed edition with API Gateway v2 disabled or failed has no WebSocket', () => {
    for (const state of ['disabled', 'error', 'stopped']) {
      const health = answer('health-pro') as { services: Record<string, string> };
      health.services.apigatewayv2 = state;
      expect(localStackFeatures(health, answer('info-pro')).webSocket, state).toBe(false);
    }
  });

  it('names the services the stack deploys to that LocalStack lacks (SERVICES= restricted, or one failed)', () => {
    const health = answer('health-community-4.14.0') as { services: Record<string, string> };
    delete health.services.stepfunctions;
    health.services.sqs = 'error';
    expect(localStackFeatures(health, answer('info-community-4.14.0')).missingServices).toEqual(['stepfunctions', 'sqs']);
  });

  it('refuses an answer that is not LocalStack’s', () => {
    expect(() => localStackFeatures({ status: 'ok' }, answer('info-community-4.14.0'))).toThrow();
    expect(() => localStackFeatures(answer('health-community-4.14.0'), { version: '4.14.0' })).toThrow();
  });
});

describe('skip rules', () => {
  it('community: WebSocket, gateway error bodies and bisect are skipped; 401 bodies come from the handlers and run', () => {
    const skips = localStackSkips(community());
    expect(Object.keys(skips).sort()).toEqual(['bisect', 'gateway-errors', 'websocket']);
    expect(skips.websocket).toBe('LocalStack community 4.14.0 has no API Gateway v2 (WebSocket APIs need a LocalStack licence)');
    expect(skips['gateway-errors']).toMatch(/^LocalStack community 4\.14\.0 answers API Gateway's own errors .* with its status and \{"message":…\} only/);
  });

  it('licensed: WebSocket runs; the authorizer’s 401 bodies are LocalStack’s and are skipped with gateway errors and bisect', () => {
    expect(Object.keys(localStackSkips(licensed())).sort()).toEqual(['authorizer-errors', 'bisect', 'gateway-errors']);
  });

  it('prints one line per skipped kind of check, with its reason', () => {
    expect(describeSkips('localstack (community 4.14.0)', { websocket: 'no v2', bisect: 'no bisect' })).toEqual([
      '[e2e] localstack (community 4.14.0): 2 kind(s) of check skipped',
      '[e2e]   skipped websocket: no v2',
      '[e2e]   skipped bisect: no bisect',
    ]);
    expect(describeSkips('aws (RegressionJobs)', {})).toEqual(['[e2e] aws (RegressionJobs): every check runs']);
  });
});

describe('the REST API URL', () => {
  it.each([
    ['https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/', 'http://localhost:4566', 'http://localhost:4566/_aws/execute-api/a1b2c3d4e5/v1/'],
    [
      'https://a1b2c3d4e5.execute-api.us-east-1.localhost.localstack.cloud/v1/',
      'http://localhost:4566',
      'http://localhost:4566/_aws/execute-api/a1b2c3d4e5/v1/',
    ],
    ['https://a1b2c3d4e5.execute-api.localhost.localstack.cloud:4566/v1', 'http://127.0.0.1:4567/', 'http://127.0.0.1:4567/_aws/execute-api/a1b2c3d4e5/v1/'],
  ])('%s on %s -> %s', (apiUrl, endpoint, expected) => {
    expect(executeApiUrl(apiUrl, endpoint)).toBe(expected);
  });

  it('refuses a URL that is not an execute-api stage', () => {
    expect(() => executeApiUrl('https://example.com/v1/', 'http://localhost:4566')).toThrow(/not a REST API stage URL/);
    expect(() => executeApiUrl('https://a1b2.execute-api.us-east-1.amazonaws.com/', 'http://localhost:4566')).toThrow(/not a REST API stage URL/);
  });
});

describe('the environment cdklocal gets', () => {
  const developer = {
    PATH: '/usr/bin',
    AWS_PROFILE: 'work',
    AWS_SESSION_TOKEN: 'real-token',
    AWS_ACCESS_KEY_ID: 'AKIAREAL',
    AWS_REGION: 'eu-west-3',
    HOME: '/home/dev',
  };

  it("sets both endpoints, LocalStack's credentials and region, and the allow-list; drops the developer's profile", () => {
    const env = cdklocalEnvironment(developer, 'http://localhost:4566');
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/dev',
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_ENDPOINT_URL_S3: 'http://s3.localhost.localstack.cloud:4566',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ENVAR_ALLOWLIST: 'AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_REGION,AWS_DEFAULT_REGION',
    });
  });

  it('is accepted by aws-cdk-local’s own configureEnvironment, which keeps every value it needs', () => {
    const { configureEnvironment } = createRequire(import.meta.url)('aws-cdk-local/src/index.js') as {
      configureEnvironment: (env: NodeJS.ProcessEnv, allowList: string) => void;
    };
    const env = cdklocalEnvironment(developer, 'http://127.0.0.1:4566');
    const configured = { ...env };
    configureEnvironment(configured, env.AWS_ENVAR_ALLOWLIST as string);
    // It reads the allow-list at start-up, then drops that variable too (it is an AWS_* variable not on the list).
    const { AWS_ENVAR_ALLOWLIST: _, ...kept } = env;
    expect(configured).toEqual(kept);
    // What the target used to give it: AWS_ENDPOINT_URL alone, which cdklocal refuses outright.
    expect(() => configureEnvironment({ AWS_ENDPOINT_URL: 'http://localhost:4566' }, '')).toThrow(/AWS_ENDPOINT_URL_S3' must be specified/);
  });

  it('keeps the edge port, and needs LOCALSTACK_S3_ENDPOINT for a LocalStack on another host', () => {
    expect(cdklocalEnvironment({}, 'http://localhost:4567').AWS_ENDPOINT_URL_S3).toBe('http://s3.localhost.localstack.cloud:4567');
    expect(() => cdklocalEnvironment({}, 'http://localstack:4566')).toThrow(/set LOCALSTACK_S3_ENDPOINT/);
    expect(cdklocalEnvironment({ LOCALSTACK_S3_ENDPOINT: 'http://s3.localstack:4566' }, 'http://localstack:4566').AWS_ENDPOINT_URL_S3).toBe(
      'http://s3.localstack:4566',
    );
  });
});

describe('reaching LocalStack', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('reads health and info from the edge URL', async () => {
    const endpoint = await serve((request, response) => {
      const name =
        request.url === '/_localstack/health' ? 'health-community-4.14.0' : request.url === '/_localstack/info' ? 'info-community-4.14.0' : undefined;
      response.writeHead(name ? 200 : 404, { 'Content-Type': 'application/json' });
      response.end(name ? JSON.stringify(answer(name)) : '{}');
    });
    expect(await probeLocalStack(endpoint)).toEqual({ health: answer('health-community-4.14.0'), info: answer('info-community-4.14.0') });
  });

  it('answers undefined, without waiting, when nothing listens', async () => {
    const endpoint = await serve(() => undefined);
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    expect(await probeLocalStack(endpoint)).toBeUndefined();
  });

  it('answers undefined after its timeout when something listens but never answers', async () => {
    const endpoint = await serve(() => undefined); // accepts, never responds
    const started = Date.now();
    expect(await probeLocalStack(endpoint, 300)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5_000);
    server?.closeAllConnections();
  });

  it('answers undefined when the port answers something other than LocalStack (404)', async () => {
    const endpoint = await serve((_, response) => {
      response.writeHead(404);
      response.end();
    });
    expect(await probeLocalStack(endpoint)).toBeUndefined();
  });

  it('tells how to start LocalStack in one line', () => {
    const line = howToStartLocalStack('http://localhost:4566');
    expect(line).not.toContain('\n');
    expect(line).toContain('docker run --rm -p 4566:4566 -e LAMBDA_IGNORE_ARCHITECTURE=1');
    expect(line).toContain('localstack/localstack:4.14.0');
    expect(line).toContain('LOCALSTACK_AUTH_TOKEN');
  });
});
