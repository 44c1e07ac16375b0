import { fileURLToPath } from 'node:url';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { findTenant, generateApiKey, looksLikeApiKey, storeApiKey } from '../lambdas/commons/api-keys.js';
import { RestGateway } from './apigateway/rest.js';
import { startWebSocketGateway, webSocketApiOf, withLocalCallbackUrl } from './apigateway/websocket.js';
import {
  authorizerOf,
  functionsOf,
  gatewayResponsesOf,
  type LocalAccount,
  LocalResolver,
  outputOf,
  restApiOf,
  stateMachinesOf,
  streamMappingsOf,
  synthesizeTemplate,
  tablesOf,
} from './cloudformation/template.js';
import { createTables, LOCAL_CREDENTIALS, localDynamoDbClient, startDynamoDb } from './dynamodb/server.js';
import { LocalLambdas, mergeEnvironments } from './lambda/functions.js';
import { StreamPoller } from './lambda/stream-poller.js';
import { startLocalS3 } from './s3/server.js';
import { LocalStepFunctions } from './stepfunctions/server.js';

/**
 * The whole stack on one machine: DynamoDB Local with the template's tables, S3
 * (s3rver) with its buckets and notifications, a Step Functions endpoint running
 * the template's state machines, the REST and WebSocket gateways, the stream
 * poller, and every handler imported from its source. Everything listens on
 * loopback.
 */

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const LOCAL_ACCOUNT: LocalAccount = { region: 'us-east-1', accountId: '000000000000' };
export const DEV_TENANT = 'dev';

export interface LocalStackOptions {
  /** REST API port; 0 picks a free one. */
  port: number;
  /** WebSocket API port (when the stack has one); 0 picks a free one. */
  wsPort: number;
  /** Keeps DynamoDB's data there across restarts; in memory when absent. */
  dataDir?: string | undefined;
  /** The API key seeded for tenant `dev`; a new random one when absent. */
  devApiKey?: string | undefined;
  /** Silences the stack's own log lines (handlers still log as they do on Lambda). */
  quiet?: boolean;
}

export interface LocalStack {
  restUrl: string;
  wsUrl: string | undefined;
  /** The key seeded for tenant `dev`. */
  apiKey: string;
  dynamodbEndpoint: string;
  /** DynamoDB Local's Java process: benchmarks and tests pause it (SIGSTOP / SIGCONT) to inject an outage. */
  dynamodbPid: number;
  region: string;
  /** Local table names by the template's logical ids. */
  tables: Record<string, string>;
  apiKeysTable: string;
  stop(): Promise<void>;
}

let started = false;

/**
 * Starts the stack. Once per process: handlers are imported once, with the
 * endpoints of this stack in `process.env`, and module caches cannot be undone.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  if (started) throw new Error('startLocalStack runs once per process: the handlers are already imported with the first stack’s endpoints');
  started = true;
  const log = options.quiet ? () => undefined : (line: string) => console.log(line);
  const { region } = LOCAL_ACCOUNT;

  // Stopped in reverse order: gateways first, DynamoDB last.
  const cleanups: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`[local] while stopping: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  try {
    // Synthesis and Java's start-up take a few seconds each: overlap them.
    const [template, dynamo] = await Promise.all([synthesizeTemplate(), startDynamoDb({ dataDir: options.dataDir, region })]);
    cleanups.push(dynamo.stop);
    const resolver = new LocalResolver(template, LOCAL_ACCOUNT);
    const dynamodb = localDynamoDbClient(dynamo.endpoint, region);
    cleanups.push(() => dynamodb.destroy());
    const tables = tablesOf(resolver);
    await createTables(dynamodb, tables);

    // Endpoints first (their URLs go into the handlers' environment), handlers next.
    const functions = functionsOf(resolver);
    const lambdas = new LocalLambdas(functions, PROJECT_ROOT);
    const stepFunctions = new LocalStepFunctions(stateMachinesOf(resolver), lambdas, log);
    const stepFunctionsEndpoint = await stepFunctions.listen();
    cleanups.push(() => stepFunctions.close());

    const hasBuckets = Object.values(template.Resources).some((resource) => resource.Type === 'AWS::S3::Bucket');
    const s3 = hasBuckets
      ? await startLocalS3({
          resolver,
          invoke: (id, event) => lambdas.invoke(id, event),
          credentials: LOCAL_CREDENTIALS,
          dataDir: options.dataDir,
          region,
          log,
        })
      : undefined;
    if (s3) cleanups.push(() => s3.stop());

    const webSocketApi = webSocketApiOf(resolver);
    const webSocket = webSocketApi
      ? await startWebSocketGateway({ api: webSocketApi, account: LOCAL_ACCOUNT, invoke: (id, event) => lambdas.invoke(id, event), port: options.wsPort, log })
      : undefined;
    if (webSocket) cleanups.push(() => webSocket.close());

    let environment = mergeEnvironments(functions);
    if (webSocketApi && webSocket) environment = withLocalCallbackUrl(environment, webSocketApi, LOCAL_ACCOUNT, webSocket.callbackUrl);
    configureProcessEnvironment(environment, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SFN: stepFunctionsEndpoint,
      ...(s3 ? { AWS_ENDPOINT_URL_S3: s3.endpoint } : {}),
      ...(webSocket ? { AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: webSocket.callbackUrl } : {}),
    });
    await lambdas.load();

    const api = restApiOf(resolver);
    if (!api) throw new Error('the template has no REST API');
    const authorizerIds = new Set(api.routes.flatMap((route) => (route.authorizerLogicalId === undefined ? [] : [route.authorizerLogicalId])));
    const gateway = new RestGateway({
      api,
      authorizers: new Map([...authorizerIds].map((id) => [id, authorizerOf(resolver, id)])),
      gatewayResponses: gatewayResponsesOf(template),
      functions: lambdas,
      account: LOCAL_ACCOUNT,
      log,
    });
    const restUrl = await gateway.listen(options.port);
    cleanups.push(() => gateway.close());

    const mappings = streamMappingsOf(template);
    if (mappings.length > 0) {
      const streams = new DynamoDBStreamsClient({ endpoint: dynamo.endpoint, region, credentials: LOCAL_CREDENTIALS });
      const poller = new StreamPoller(streams, dynamodb, lambdas, region, log);
      await poller.start(mappings.map((mapping) => ({ mapping, tableName: resolver.physicalName(mapping.tableLogicalId) })));
      cleanups.push(async () => {
        await poller.stop();
        streams.destroy();
      });
    }

    const apiKeysTable = outputOf(resolver, 'ApiKeysTableName');
    if (apiKeysTable === undefined) throw new Error('the stack has no ApiKeysTableName output: the local stack seeds the dev key in that table');
    const apiKey = await seedDevApiKey(DynamoDBDocumentClient.from(dynamodb), apiKeysTable, options.devApiKey);

    return {
      restUrl,
      wsUrl: webSocket?.url,
      apiKey,
      dynamodbEndpoint: dynamo.endpoint,
      dynamodbPid: dynamo.pid,
      region,
      tables: Object.fromEntries(tables.map((table) => [table.logicalId, table.tableName])),
      apiKeysTable,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * What the Lambda runtime would give the handlers, pointed at this stack: the
 * template's variables, a region, dummy credentials, and the standard per-service
 * endpoint variables. A global AWS_ENDPOINT_URL or session token from the caller's
 * shell is removed, so nothing reaches another endpoint by accident.
 */
function configureProcessEnvironment(functionEnvironment: Record<string, string>, endpoints: Record<string, string>): void {
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  Object.assign(process.env, functionEnvironment, {
    AWS_REGION: LOCAL_ACCOUNT.region,
    AWS_DEFAULT_REGION: LOCAL_ACCOUNT.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    ...endpoints,
  });
}

/**
 * Seeds the dev key the way `npm run api-key` stores keys (only its hash). With a
 * kept data directory the same DEV_API_KEY is already there, which is fine as long
 * as it belongs to the dev tenant.
 */
async function seedDevApiKey(documents: DynamoDBDocumentClient, tableName: string, requested: string | undefined): Promise<string> {
  const key = requested ?? generateApiKey();
  if (!looksLikeApiKey(key))
    throw new Error('DEV_API_KEY is not an API key of this service (rj_ followed by 43 base64url characters); leave it unset to get a random one');
  try {
    await storeApiKey(documents, tableName, DEV_TENANT, key);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const owner = await findTenant(documents, tableName, key);
    if (owner !== DEV_TENANT) throw new Error(`DEV_API_KEY already belongs to tenant ${owner} in ${tableName}`);
  }
  return key;
}
