import { z } from 'zod';
import type { Skips } from './checks.js';

/**
 * What the `localstack` target needs to know about a running LocalStack, as pure
 * functions (unit-tested against LocalStack's recorded answers in
 * test/unit/e2e/localstack.test.ts): how to reach it, which edition it is, the
 * environment cdklocal needs, the URL of a REST API stage, and which checks that
 * edition cannot pass.
 *
 * Read against LocalStack's own source, tag v4.14.0 (the last image that starts
 * without LOCALSTACK_AUTH_TOKEN): `GET /_localstack/health` answers
 * `{services: {<name>: <state>}, edition, version}` and `GET /_localstack/info`
 * `{version, edition, is_license_activated, session_id, machine_id, system,
 * is_docker, server_time_utc, uptime}` (localstack-core/localstack/services/internal.py).
 */

export const DEFAULT_LOCALSTACK_ENDPOINT = 'http://localhost:4566';
export const LOCALSTACK_REGION = 'us-east-1';

/** The one line printed when no LocalStack answers. */
export function howToStartLocalStack(endpoint: string): string {
  return (
    `TEST_TARGET=localstack: no LocalStack answers at ${endpoint}. Start one with ` +
    '`docker run --rm -p 4566:4566 -e LAMBDA_IGNORE_ARCHITECTURE=1 -e CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=1 ' +
    '-v /var/run/docker.sock:/var/run/docker.sock localstack/localstack:4.14.0` ' +
    '(a later image also needs -e LOCALSTACK_AUTH_TOKEN=<token>), or set LOCALSTACK_ENDPOINT.'
  );
}

const ServiceState = z.enum(['unknown', 'available', 'disabled', 'starting', 'running', 'stopping', 'stopped', 'error']);

export const Health = z.object({
  services: z.record(z.string(), z.union([ServiceState, z.string()])),
  edition: z.string(),
  version: z.string(),
});
export type Health = z.infer<typeof Health>;

export const Info = z.object({
  version: z.string(),
  edition: z.string(),
  is_license_activated: z.boolean(),
});
export type Info = z.infer<typeof Info>;

/** Services the stack deploys to (CloudFormation resources and what the handlers call). */
export const REQUIRED_SERVICES = [
  'cloudformation',
  'apigateway',
  'lambda',
  'dynamodb',
  'dynamodbstreams',
  'stepfunctions',
  's3',
  'sqs',
  'events',
  'iam',
  'sts',
  'logs',
] as const;

const USABLE: ReadonlySet<string> = new Set(['available', 'running', 'starting']);

export interface LocalStackFeatures {
  edition: string;
  version: string;
  /** A paid edition whose licence is active: Lambda authorizers and API Gateway v2 exist. */
  licensed: boolean;
  /** API Gateway v2 (WebSocket APIs) is there. */
  webSocket: boolean;
  /**
   * How to synthesize the REST API: with its Lambda authorizer where LocalStack
   * runs one, else without (`-c restAuthorizer=none`, lib/without-authorizer.ts),
   * the handlers then checking keys themselves.
   */
  restAuthorizer: 'lambda' | 'none';
  /** Required services this LocalStack does not offer (the deploy would fail). */
  missingServices: string[];
}

/** Reads what a running LocalStack supports from its health and info answers. */
export function localStackFeatures(healthJson: unknown, infoJson: unknown): LocalStackFeatures {
  const health = Health.parse(healthJson);
  const info = Info.parse(infoJson);
  const edition = info.edition || health.edition;
  const paid = edition === 'pro' || edition === 'enterprise';
  const licensed = paid && info.is_license_activated;
  const usable = (service: string) => USABLE.has(health.services[service] ?? 'absent');
  return {
    edition,
    version: info.version || health.version,
    licensed,
    webSocket: licensed && usable('apigatewayv2'),
    restAuthorizer: licensed ? 'lambda' : 'none',
    missingServices: REQUIRED_SERVICES.filter((service) => !usable(service)),
  };
}

/**
 * The checks this LocalStack cannot pass, each with its reason (printed when the
 * run starts and in the skipped test's title). Everything else runs unchanged.
 */
export function localStackSkips(features: LocalStackFeatures): Skips {
  const which = `LocalStack ${features.edition} ${features.version}`;
  const skips: Skips = {
    'gateway-errors':
      `${which} answers API Gateway's own errors (unknown route or method, the 10 MB limit) with its status and {"message":…} only: ` +
      "it does not apply the stack's gateway response templates",
    bisect: `${which} accepts BisectBatchOnFunctionError on the jobs stream mapping but does not bisect a failing batch`,
  };
  if (features.restAuthorizer === 'lambda') {
    // With the authorizer deployed, a missing or unknown key is refused by API Gateway itself, in LocalStack's shape.
    skips['authorizer-errors'] = `${which} refuses a missing or unknown key at its authorizer with {"message":…}, not the stack's gateway response`;
  }
  if (!features.webSocket) skips.websocket = `${which} has no API Gateway v2 (WebSocket APIs need a LocalStack licence)`;
  return skips;
}

/**
 * The environment cdklocal (aws-cdk-local 3.x with aws-cdk >= 2.177) and the
 * api-key script need to reach LocalStack:
 * - `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_S3` together (cdklocal exits at once
 *   with only the first), the S3 one with `s3.` in its host so LocalStack
 *   recognises S3 requests (`s3.localhost.localstack.cloud` resolves to 127.0.0.1);
 * - LocalStack's dummy credentials and a region, kept by cdklocal only if listed in
 *   `AWS_ENVAR_ALLOWLIST` (it drops every other `AWS_*` variable);
 * - no profile or session token of the developer's own, so nothing reaches AWS.
 * `LOCALSTACK_S3_ENDPOINT` overrides the S3 endpoint (required when LocalStack is
 * not on this machine).
 */
export function cdklocalEnvironment(base: NodeJS.ProcessEnv, endpoint: string, region = LOCALSTACK_REGION): NodeJS.ProcessEnv {
  const url = new URL(endpoint);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  let s3 = base.LOCALSTACK_S3_ENDPOINT;
  if (s3 === undefined) {
    if (!['localhost', '127.0.0.1', '[::1]', 'localhost.localstack.cloud'].includes(url.hostname)) {
      throw new Error(`LOCALSTACK_ENDPOINT ${endpoint} is not on this machine: set LOCALSTACK_S3_ENDPOINT too (its S3 host must start with "s3.")`);
    }
    s3 = `${url.protocol}//s3.localhost.localstack.cloud:${port}`;
  }
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete env[name];
  const credentials = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: region, AWS_DEFAULT_REGION: region };
  return {
    ...env,
    ...credentials,
    AWS_ENDPOINT_URL: url.origin,
    AWS_ENDPOINT_URL_S3: s3,
    AWS_ENVAR_ALLOWLIST: Object.keys(credentials).join(','),
  };
}

/**
 * A REST API stage's URL as LocalStack serves it without DNS: the `ApiUrl` output
 * (`https://<apiId>.execute-api.<region>.<suffix>/<stage>/`, port 443, where
 * LocalStack does not listen) becomes `<edge>/_aws/execute-api/<apiId>/<stage>/`.
 */
export function executeApiUrl(apiUrl: string, endpoint: string): string {
  const url = new URL(apiUrl);
  const [apiId, marker] = url.hostname.split('.');
  const stage = url.pathname.split('/').find(Boolean);
  if (!apiId || marker !== 'execute-api' || !stage) {
    throw new Error(`not a REST API stage URL (https://<apiId>.execute-api.<region>.<suffix>/<stage>/): ${apiUrl}`);
  }
  return `${new URL(endpoint).origin}/_aws/execute-api/${apiId}/${stage}/`;
}

/** GET a LocalStack endpoint's JSON within `timeoutMs`; undefined when nothing answers. */
export async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    return (await response.json()) as unknown;
  } catch {
    return undefined;
  }
}

/** LocalStack's health and info, or undefined when it does not answer (within `timeoutMs` each). */
export async function probeLocalStack(endpoint: string, timeoutMs = 2_000): Promise<{ health: unknown; info: unknown } | undefined> {
  const origin = new URL(endpoint).origin;
  const [health, info] = await Promise.all([getJson(`${origin}/_localstack/health`, timeoutMs), getJson(`${origin}/_localstack/info`, timeoutMs)]);
  return health === undefined || info === undefined ? undefined : { health, info };
}
