/**
 * Manages the API keys of a running stack. Without --stack it talks to the local
 * stack (`npm start`); with --stack <name>, to a deployed one with your AWS credentials.
 *
 *   npm run api-key -- create <tenant> [--expires <date|days>]   prints the key alone on its last line
 *   npm run api-key -- list                                       key id, tenant, created, expiry (never the key)
 *   npm run api-key -- revoke <key-id|tenant>                     deletes the key (or all of a tenant's keys), flushes
 *                                                                 the stage's authorizer cache and closes the keys'
 *                                                                 open WebSocket connections
 *   npm run api-key -- delete <key>                               deletes one key given the key itself
 *
 * Only the key's hash is stored; the key itself is shown once, here. Revocation
 * takes effect at once: API Gateway caches the authorizer's answer per key for
 * five minutes, and `FlushStageAuthorizersCache` empties that cache.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { APIGatewayClient, FlushStageAuthorizersCacheCommand } from '@aws-sdk/client-api-gateway';
import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException } from '@aws-sdk/client-apigatewaymanagementapi';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { type ApiKeyRecord, deleteApiKey, listApiKeys, revokeApiKeys, storeApiKey } from '../lambdas/commons/api-keys.js';
import { TenantId } from '../src/domain/schemas.js';

const LOCAL_STATE_FILE = new URL('../.local-stack.json', import.meta.url);
const USAGE = 'usage: npm run api-key -- create <tenant> [--expires <ISO date|N days>] | list | revoke <key-id|tenant> | delete <key>   [--stack <name>]';

interface Target {
  where: string;
  tableName: string;
  documents: DynamoDBDocumentClient;
  /** The REST stage whose authorizer cache a revocation flushes. */
  restApi: { apiId: string; stageName: string; client: APIGatewayClient } | undefined;
  /** Where open WebSocket connections are listed and closed. */
  webSocket: { connectionsTable: string; management: ApiGatewayManagementApiClient } | undefined;
}

const LocalState = z.object({
  dynamodbEndpoint: z.string(),
  region: z.string(),
  apiKeysTable: z.string(),
  restApi: z.object({ apiId: z.string(), stageName: z.string() }).optional(),
  controlEndpoint: z.string().optional(),
  wsUrl: z.string().nullish(),
  connectionsTable: z.string().nullish(),
});

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

async function localTarget(file: URL | string): Promise<Target> {
  let state: z.infer<typeof LocalState>;
  try {
    state = LocalState.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    throw new Error('no local stack is running (start it with `npm start`), or pass --stack <name> for a deployed one');
  }
  const { region } = state;
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: state.dynamodbEndpoint, region, credentials: LOCAL_CREDENTIALS }));
  const restApi =
    state.restApi && state.controlEndpoint
      ? { ...state.restApi, client: new APIGatewayClient({ endpoint: state.controlEndpoint, region, credentials: LOCAL_CREDENTIALS }) }
      : undefined;
  const webSocket =
    state.wsUrl && state.connectionsTable
      ? {
          connectionsTable: state.connectionsTable,
          management: new ApiGatewayManagementApiClient({ endpoint: state.wsUrl.replace(/^ws/, 'http'), region, credentials: LOCAL_CREDENTIALS }),
        }
      : undefined;
  return { where: `local stack (${state.dynamodbEndpoint})`, tableName: state.apiKeysTable, documents, restApi, webSocket };
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
  return {
    where: `stack ${stackName}`,
    tableName,
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    restApi: apiUrl?.[1] && apiUrl[2] ? { apiId: apiUrl[1], stageName: apiUrl[2], client: new APIGatewayClient({}) } : undefined,
    webSocket:
      wsUrl && connectionsTable
        ? { connectionsTable, management: new ApiGatewayManagementApiClient({ endpoint: wsUrl.replace(/^wss:/, 'https:') }) }
        : undefined,
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

async function revoke(target: Target, selector: string): Promise<void> {
  const deleted = await revokeApiKeys(target.documents, target.tableName, selector);
  if (deleted.length === 0) throw new Error(`no API key with id or tenant "${selector}" on the ${target.where}`);
  for (const record of deleted) console.log(`Revoked ${record.keyId} of tenant "${record.tenantId}"`);
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
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { stack: { type: 'string' }, expires: { type: 'string' } } });
  const [command, argument] = positionals;
  const arity = command === 'list' ? 1 : 2;
  if (!['create', 'list', 'revoke', 'delete'].includes(command ?? '') || positionals.length !== arity) throw new Error(USAGE);
  if (values.expires !== undefined && command !== 'create') throw new Error('--expires is for create only');
  const tenantId = command === 'create' ? TenantId.safeParse(argument) : undefined;
  if (tenantId && !tenantId.success) throw new Error(`"${argument}" is not a tenant id: ${tenantId.error.issues[0]?.message ?? 'invalid'}`);
  const expiresAt = values.expires === undefined ? undefined : parseExpiry(values.expires);
  const target = values.stack ? await stackTarget(values.stack) : await localTarget(process.env.LOCAL_STACK_FILE ?? LOCAL_STATE_FILE);

  switch (command) {
    case 'list':
      for (const line of formatKeys(await listApiKeys(target.documents, target.tableName))) console.log(line);
      return;
    case 'revoke':
      return revoke(target, argument as string);
    case 'delete': {
      const owner = await deleteApiKey(target.documents, target.tableName, argument as string);
      if (owner === undefined) throw new Error(`no such API key on the ${target.where}`);
      console.log(`Deleted an API key of tenant "${owner}" on the ${target.where}`);
      return;
    }
    default: {
      const tenant = tenantId?.data as string;
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
