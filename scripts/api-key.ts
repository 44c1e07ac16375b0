/**
 * Creates an API key for a tenant and prints it alone on the last line, or deletes one.
 *
 *   npm run api-key -- create <tenant>                  against the running local stack (npm start)
 *   npm run api-key -- create <tenant> --stack <name>   against a deployed stack, with your AWS credentials
 *   npm run api-key -- delete <key> [--stack <name>]    revokes a key (the end-to-end tests delete theirs)
 *
 * Only the key's hash is stored; the key itself is shown once, here.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { deleteApiKey, storeApiKey } from '../lambdas/commons/api-keys.js';
import { TenantId } from '../src/domain/schemas.js';

const LOCAL_STATE_FILE = new URL('../.local-stack.json', import.meta.url);

interface Target {
  tableName: string;
  client: DynamoDBClient;
  where: string;
}

async function localTarget(): Promise<Target> {
  let state: { dynamodbEndpoint: string; region: string; apiKeysTable: string };
  try {
    state = JSON.parse(await readFile(LOCAL_STATE_FILE, 'utf8'));
  } catch {
    throw new Error('no local stack is running (start it with `npm start`), or pass --stack <name> for a deployed one');
  }
  const client = new DynamoDBClient({
    endpoint: state.dynamodbEndpoint,
    region: state.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { tableName: state.apiKeysTable, client, where: `local stack (${state.dynamodbEndpoint})` };
}

async function stackTarget(stackName: string): Promise<Target> {
  const { Stacks } = await new CloudFormationClient({}).send(new DescribeStacksCommand({ StackName: stackName }));
  const tableName = Stacks?.[0]?.Outputs?.find((output) => output.OutputKey === 'ApiKeysTableName')?.OutputValue;
  if (!tableName) throw new Error(`stack ${stackName} has no ApiKeysTableName output`);
  return { tableName, client: new DynamoDBClient({}), where: `stack ${stackName}` };
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { stack: { type: 'string' } } });
  const [command, argument] = positionals;
  if ((command !== 'create' && command !== 'delete') || argument === undefined || positionals.length > 2) {
    throw new Error('usage: npm run api-key -- create <tenant> [--stack <name>] | delete <key> [--stack <name>]');
  }
  const tenantId = command === 'create' ? TenantId.parse(argument) : undefined;
  const target = values.stack ? await stackTarget(values.stack) : await localTarget();
  const documents = DynamoDBDocumentClient.from(target.client);
  if (tenantId === undefined) {
    const owner = await deleteApiKey(documents, target.tableName, argument);
    if (owner === undefined) throw new Error(`no such API key on the ${target.where}`);
    console.log(`Deleted an API key of tenant "${owner}" on the ${target.where}`);
    return;
  }
  const key = await storeApiKey(documents, target.tableName, tenantId);
  console.log(`API key for tenant "${tenantId}" on the ${target.where}:`);
  console.log(key);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
