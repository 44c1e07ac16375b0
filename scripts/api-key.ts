/**
 * Manages the API keys of a running stack. Without --stack it talks to the local
 * stack (`npm start`); with --stack <name>, to a deployed one with your AWS credentials.
 *
 *   npm run api-key -- create <tenant> [--expires <date|days>]   prints the key alone on its last line
 *   npm run api-key -- list                                       key id, tenant, created, expiry (never the key)
 *   npm run api-key -- revoke <key-id|tenant>                     deletes the key (or all of a tenant's keys), flushes
 *                                                                 the stage's authorizer cache and closes the keys'
 *                                                                 open WebSocket connections
 *   npm run api-key -- delete <key>                               deletes one key given the key itself, and cuts its
 *                                                                 access as revoke does
 *   npm run api-key -- limits <tenant> --rate <n> --burst <n> --quota <n>
 *                                                                 gives a tenant its own usage plan (requests per
 *                                                                 second, burst, requests per day; deployed stacks)
 *
 * Only the key's hash is stored; the key itself is shown once, here. Revoking or
 * deleting takes effect at once: API Gateway caches the authorizer's answer per
 * key for five minutes, and `FlushStageAuthorizersCache` empties that cache. A key
 * past its --expires time needs no command: the handlers refuse it from its
 * expiry on, and the connections sweeper closes its WebSockets.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  DeleteUsagePlanKeyCommand,
  FlushStageAuthorizersCacheCommand,
  GetApiKeysCommand,
  GetUsagePlansCommand,
  UpdateUsagePlanCommand,
} from '@aws-sdk/client-api-gateway';
import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException } from '@aws-sdk/client-apigatewaymanagementapi';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { type ApiKeyRecord, deleteApiKey, listApiKeys, revokeApiKeys, storeApiKey, tenantPlanName, usageIdentifierOf } from '#commons/auth/api-keys.js';
import { tenantLimitsProblem } from '#domain/rate-limits.js';
import { TenantId } from '#domain/schemas.js';

const LOCAL_STATE_FILE = new URL('../.local-stack.json', import.meta.url);
const USAGE =
  'usage: npm run api-key -- create <tenant> [--expires <ISO date|N days>] | list | revoke <key-id|tenant> | delete <key> | limits <tenant> …   [--stack <name>]';

interface Target {
  where: string;
  tableName: string;
  documents: DynamoDBDocumentClient;
  /** The REST stage whose authorizer cache a revocation flushes. */
  restApi: { apiId: string; stageName: string; client: APIGatewayClient } | undefined;
  /** Where open WebSocket connections are listed and closed. */
  webSocket: { connectionsTable: string; management: ApiGatewayManagementApiClient } | undefined;
  /** A deployed stack's usage plans (tenants' rate limits and quotas); the local stack has its one plan built in. */
  usagePlans: { stackName: string; defaultPlanId: string } | undefined;
}

const LocalState = z.object({
  dynamodbEndpoint: z.string(),
  region: z.string(),
  apiKeysTable: z.string(),
  restApi: z.object({ apiId: z.string(), stageName: z.string() }).optional(),
  controlEndpoint: z.string().optional(),
  wsUrl: z.string().nullish(),
  connectionsTable: z.string().nullish(),
  // The running stack's own key pair (new every start): its endpoints refuse calls signed with any other.
  stackCredentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }),
});

async function localTarget(file: URL | string): Promise<Target> {
  let state: z.infer<typeof LocalState>;
  try {
    state = LocalState.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    throw new Error('no local stack is running (start it with `npm start`), or pass --stack <name> for a deployed one');
  }
  const { region, stackCredentials } = state;
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: state.dynamodbEndpoint, region, credentials: stackCredentials }));
  const restApi =
    state.restApi && state.controlEndpoint
      ? { ...state.restApi, client: new APIGatewayClient({ endpoint: state.controlEndpoint, region, credentials: stackCredentials }) }
      : undefined;
  const webSocket =
    state.wsUrl && state.connectionsTable
      ? {
          connectionsTable: state.connectionsTable,
          management: new ApiGatewayManagementApiClient({ endpoint: state.wsUrl.replace(/^ws/, 'http'), region, credentials: stackCredentials }),
        }
      : undefined;
  return { where: `local stack (${state.dynamodbEndpoint})`, tableName: state.apiKeysTable, documents, restApi, webSocket, usagePlans: undefined };
}

async function stackTarget(stackName: string): Promise<Target> {
  const { Stacks } = await new CloudFormationClient({}).send(new DescribeStacksCommand({ StackName: stackName }));
  const output = (name: string) => Stacks?.[0]?.Outputs?.find((candidate) => candidate.OutputKey === name)?.OutputValue;
  const tableName = output('ApiKeysTableName');
  if (!tableName) throw new Error(`stack ${stackName} has no ApiKeysTableName output`);
  // ApiUrl: https://<restApiId>.execute-api.<region>.amazonaws.com/<stage>/
  const apiUrl = /^https:\/\/([^.]+)\.execute-api\.[^/]+\/([^/]+)\/?$/.exec(output('ApiUrl') ?? '');
  const wsUrl = output('WebSocketUrl');
  const connectionsTable = output('ConnectionsTableName');
  const defaultPlanId = output('DefaultUsagePlanId');
  return {
    where: `stack ${stackName}`,
    tableName,
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    restApi: apiUrl?.[1] && apiUrl[2] ? { apiId: apiUrl[1], stageName: apiUrl[2], client: new APIGatewayClient({}) } : undefined,
    webSocket:
      wsUrl && connectionsTable
        ? { connectionsTable, management: new ApiGatewayManagementApiClient({ endpoint: wsUrl.replace(/^wss:/, 'https:') }) }
        : undefined,
    usagePlans: defaultPlanId ? { stackName, defaultPlanId } : undefined,
  };
}

/** `--expires 2027-01-31` (or any ISO date and time) or `--expires 30` (days from now); it must lie ahead. */
function parseExpiry(value: string, now: Date = new Date()): Date {
  const days = /^(\d+)d?$/.exec(value);
  const expiry = days ? new Date(now.getTime() + Number(days[1]) * 86_400_000) : new Date(value);
  if (Number.isNaN(expiry.getTime()) || (days && Number(days[1]) < 1)) {
    throw new Error(`--expires must be an ISO date (2027-01-31) or a whole number of days >= 1; got "${value}"`);
  }
  if (expiry.getTime() <= now.getTime()) throw new Error(`--expires must lie in the future; got ${expiry.toISOString()}`);
  return expiry;
}

function formatKeys(records: readonly ApiKeyRecord[]): string[] {
  if (records.length === 0) return ['(no API keys)'];
  const rows = [
    ['KEY ID', 'TENANT', 'CREATED', 'EXPIRES'],
    ...records.map((record) => [record.keyId, record.tenantId, record.createdAt, record.expiresAt ?? 'never']),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** Closes every open WebSocket connection a revoked key opened (their `$disconnect` cleans their items up). */
async function closeConnections(target: Target, keyIds: ReadonlySet<string>): Promise<number> {
  if (!target.webSocket || keyIds.size === 0) return 0;
  const { connectionsTable, management } = target.webSocket;
  let closed = 0;
  const pages = paginateScan(
    { client: target.documents },
    { TableName: connectionsTable, FilterExpression: 'sk = :meta AND attribute_exists(keyId)', ExpressionAttributeValues: { ':meta': 'META' } },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      if (!keyIds.has(String(item.keyId))) continue;
      const connectionId = String(item.pk).replace(/^CONN#/, '');
      try {
        await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
        closed++;
      } catch (error) {
        if (!(error instanceof GoneException)) throw error; // already gone: nothing to close
      }
    }
  }
  return closed;
}

/**
 * The tenant's API Gateway key (its value is the usage identifier the authorizer
 * answers), created with the tenant's first key and put in the default plan.
 */
async function ensureTenantApiKey(target: Target, tenantId: string): Promise<string | undefined> {
  if (!target.usagePlans || !target.restApi) return undefined;
  const { client } = target.restApi;
  const name = usageIdentifierOf(`${target.usagePlans.stackName}-tenant-`, tenantId);
  const { items } = await client.send(new GetApiKeysCommand({ nameQuery: name, limit: 500 }));
  const existing = items?.find((key) => key.name === name);
  if (existing?.id) return existing.id;
  const created = await client.send(new CreateApiKeyCommand({ name, value: name, enabled: true, description: `usage identifier of tenant ${tenantId}` }));
  await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: target.usagePlans.defaultPlanId, keyId: created.id, keyType: 'API_KEY' }));
  console.log(`Tenant "${tenantId}" joined the default usage plan`);
  return created.id;
}

const whole = (name: string) =>
  z
    .string({ error: `--${name} is required` })
    .regex(/^\d+$/, `--${name} must be a whole number >= 1`)
    .transform(Number);

/** Gives a tenant a usage plan of its own (or updates it), and moves its key there from the default plan. */
async function setLimits(target: Target, tenantId: string, options: Record<string, string | undefined>): Promise<void> {
  const parsed = z.object({ rate: whole('rate'), burst: whole('burst'), quota: whole('quota') }).safeParse(options);
  if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'invalid limits');
  const limits = { rateLimit: parsed.data.rate, burstLimit: parsed.data.burst, dailyQuota: parsed.data.quota };
  const problem = tenantLimitsProblem(limits);
  if (problem) throw new Error(problem.replace('rateLimit', '--rate').replace('burstLimit', '--burst').replace('dailyQuota', '--quota'));
  if (!target.usagePlans || !target.restApi) {
    throw new Error('per-tenant usage plans exist on a deployed stack only (--stack <name>); the local stack enforces the default plan for every tenant');
  }
  const { client, apiId, stageName } = target.restApi;
  const keyId = await ensureTenantApiKey(target, tenantId);
  const planName = tenantPlanName(target.usagePlans.stackName, tenantId);
  const { items } = await client.send(new GetUsagePlansCommand({ limit: 500 }));
  let plan = items?.find((candidate) => candidate.name === planName);
  const throttle = { rateLimit: limits.rateLimit, burstLimit: limits.burstLimit };
  const quota = { limit: limits.dailyQuota, period: 'DAY' as const };
  if (plan?.id) {
    await client.send(
      new UpdateUsagePlanCommand({
        usagePlanId: plan.id,
        patchOperations: [
          { op: 'replace', path: '/throttle/rateLimit', value: String(throttle.rateLimit) },
          { op: 'replace', path: '/throttle/burstLimit', value: String(throttle.burstLimit) },
          { op: 'replace', path: '/quota/limit', value: String(quota.limit) },
        ],
      }),
    );
  } else {
    plan = await client.send(new CreateUsagePlanCommand({ name: planName, throttle, quota, apiStages: [{ apiId, stage: stageName }] }));
    await client.send(new DeleteUsagePlanKeyCommand({ usagePlanId: target.usagePlans.defaultPlanId, keyId })).catch(() => undefined);
    await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: plan.id, keyId, keyType: 'API_KEY' }));
  }
  console.log(`Tenant "${tenantId}": ${throttle.rateLimit} requests/s, bursts of ${throttle.burstLimit}, ${quota.limit} a day (plan ${planName})`);
}

async function revoke(target: Target, selector: string): Promise<void> {
  const deleted = await revokeApiKeys(target.documents, target.tableName, selector);
  if (deleted.length === 0) throw new Error(`no API key with id or tenant "${selector}" on the ${target.where}`);
  for (const record of deleted) console.log(`Revoked ${record.keyId} of tenant "${record.tenantId}"`);
  await cutAccess(target, deleted);
}

async function deleteKey(target: Target, key: string): Promise<void> {
  const deleted = await deleteApiKey(target.documents, target.tableName, key);
  if (deleted === undefined) throw new Error(`no such API key on the ${target.where}`);
  console.log(`Deleted ${deleted.keyId} of tenant "${deleted.tenantId}" on the ${target.where}`);
  await cutAccess(target, [deleted]);
}

/**
 * What makes a key that is gone from the table stop working at once: the stage's
 * cached authorizer answers are flushed, and the WebSockets the keys opened closed.
 */
async function cutAccess(target: Target, deleted: readonly ApiKeyRecord[]): Promise<void> {
  if (target.restApi) {
    const { apiId, stageName, client } = target.restApi;
    await client.send(new FlushStageAuthorizersCacheCommand({ restApiId: apiId, stageName }));
    console.log(`Flushed the authorizer cache of stage ${stageName}: the keys are refused from the next request`);
  } else {
    console.log('No REST API found: cached authorizer answers expire within 5 minutes');
  }
  const closed = await closeConnections(target, new Set(deleted.map((record) => record.keyId)));
  console.log(`Closed ${closed} open WebSocket connection${closed === 1 ? '' : 's'}`);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { stack: { type: 'string' }, expires: { type: 'string' }, rate: { type: 'string' }, burst: { type: 'string' }, quota: { type: 'string' } },
  });
  const [command, argument] = positionals;
  const arity = command === 'list' ? 1 : 2;
  if (!['create', 'list', 'revoke', 'delete', 'limits'].includes(command ?? '') || positionals.length !== arity) throw new Error(USAGE);
  if (values.expires !== undefined && command !== 'create') throw new Error('--expires is for create only');
  if ((values.rate ?? values.burst ?? values.quota) !== undefined && command !== 'limits') throw new Error('--rate, --burst and --quota are for limits only');
  const tenantId = command === 'create' || command === 'limits' ? TenantId.safeParse(argument) : undefined;
  if (tenantId && !tenantId.success) throw new Error(`"${argument}" is not a tenant id: ${tenantId.error.issues[0]?.message ?? 'invalid'}`);
  const expiresAt = values.expires === undefined ? undefined : parseExpiry(values.expires);
  const target = values.stack ? await stackTarget(values.stack) : await localTarget(process.env.LOCAL_STACK_FILE ?? LOCAL_STATE_FILE);

  switch (command) {
    case 'list':
      for (const line of formatKeys(await listApiKeys(target.documents, target.tableName))) console.log(line);
      return;
    case 'revoke':
      return revoke(target, argument as string);
    case 'limits':
      return setLimits(target, tenantId?.data as string, values);
    case 'delete':
      return deleteKey(target, argument as string);
    default: {
      const tenant = tenantId?.data as string;
      await ensureTenantApiKey(target, tenant);
      const key = await storeApiKey(target.documents, target.tableName, tenant, expiresAt === undefined ? {} : { expiresAt });
      console.log(`API key for tenant "${tenant}" on the ${target.where}${expiresAt ? `, expires ${expiresAt.toISOString()}` : ''}:`);
      console.log(key);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
