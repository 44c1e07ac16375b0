import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { findTenant, generateApiKey, looksLikeApiKey, storeApiKey } from '#commons/auth/api-keys.js';
import { limitsFrom } from '#domain/limits.js';
import { RestGateway } from './apigateway/rest.js';
import { usageLimitsOf } from './apigateway/usage-plans.js';
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
import { startConsoleServer } from './console.js';
import { startControlPlane } from './control-plane.js';
import { startDynamoDbFront } from './dynamodb/iam-front.js';
import { createTables, LOCAL_CREDENTIALS, localDynamoDbClient, startDynamoDb } from './dynamodb/server.js';
import { eventRulesOf, LocalEventBus } from './events/bus.js';
import { LocalScheduler, scheduleRulesOf } from './events/scheduler.js';
import { functionPrincipalsOf, LocalIam } from './iam/policy.js';
import { bundlePath, cachedBundles, watchBundles } from './lambda/bundles.js';
import { LocalLambdas } from './lambda/functions.js';
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
/** Where built bundles are kept between starts, by what they are made of. */
const BUNDLE_CACHE = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'regression-jobs', 'bundles');

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
  /** Rebuilds a function's bundle when its sources change; its next invocation runs the new one. */
  watch?: boolean;
  /** The offline S3's smallest part but the last of a multipart upload, lowered to try multipart uploads with small files. @default 5 MiB, as on S3 */
  s3MinPartBytes?: number | undefined;
  /** How often the template's scheduled rules (the sweeper) run offline. @default 30 s */
  schedulePeriodMs?: number;
  /** The console's port (local/console.ts); 0 picks a free one; no console when absent. */
  consolePort?: number | undefined;
  /** Called when a service the stack started dies (DynamoDB Local killed): the stack cannot serve any more. */
  onFatal?: (reason: string) => void;
}

export interface LocalStack {
  restUrl: string;
  wsUrl: string | undefined;
  /** The console's page (http://127.0.0.1:<port>/console/), when it was started. */
  consoleUrl: string | undefined;
  /** The key seeded for tenant `dev`. */
  apiKey: string;
  dynamodbEndpoint: string;
  /** DynamoDB Local's Java process: benchmarks and tests pause it (SIGSTOP / SIGCONT) to inject an outage. */
  dynamodbPid: number;
  region: string;
  /** Local table names by the template's logical ids. */
  tables: Record<string, string>;
  apiKeysTable: string;
  /** The local REST API's id and stage, as `FlushStageAuthorizersCache` names them. */
  restApi: { apiId: string; stageName: string };
  /** Where the local control plane answers (local/control-plane.ts): `AWS_ENDPOINT_URL_API_GATEWAY` for operators' scripts. */
  controlEndpoint: string;
  /** The connections table, when the stack has a WebSocket API (revoking a key closes its connections). */
  connectionsTable: string | undefined;
  /** The stack's own key pair, new every start: operators' scripts sign their calls to its endpoints with it. */
  stackCredentials: { accessKeyId: string; secretAccessKey: string };
  /** How long each phase of the start took, in ms. */
  timings: Record<string, number>;
  stop(): Promise<void>;
}

/**
 * Starts the stack. Every function runs from its deployment bundle in execution
 * environments of its own (local/lambda/), signing its calls with credentials of
 * its own that each service checks against the function's role (local/iam/).
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.quiet ? () => undefined : (line: string) => console.log(line);
  const { region, accountId } = LOCAL_ACCOUNT;
  const timings: Record<string, number> = {};
  const started = Date.now();
  const timed = async <T>(name: string, work: Promise<T>): Promise<T> => {
    const value = await work;
    timings[name] = Date.now() - started;
    return value;
  };

  // Stopped in reverse order: gateways first, DynamoDB last.
  const cleanups: (() => Promise<void> | void)[] = [];
  let stopped = false;
  const stop = async () => {
    stopped = true;
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`[local] while stopping: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const fatal = (reason: string) => {
    if (stopped) return;
    console.error(`[local] ${reason}: the stack cannot serve without it, stopping.`);
    (options.onFatal ?? (() => undefined))(reason);
  };

  try {
    // Synthesis, Java's start-up and bundling take a few seconds each: overlap them.
    const starting = timed('dynamodb', startDynamoDb({ dataDir: options.dataDir, region, onUnexpectedExit: fatal }));
    // Its failure (no Java) is reported where it is awaited, below; it is stopped even if synthesis fails first.
    starting.catch(() => undefined);
    cleanups.push(async () => (await starting.catch(() => undefined))?.stop());
    const template = await timed('synth', synthesizeTemplate());
    const resolver = new LocalResolver(template, LOCAL_ACCOUNT);
    const functions = functionsOf(resolver);

    // The functions' deployment bundles (from the cache when nothing they are made of changed), while the tables are created.
    const entries = functions.map(({ logicalId, entry }) => ({ logicalId, entry }));
    let bundleDirectory = '';
    let stopWatching: (() => Promise<void>) | undefined;
    let lambdas: LocalLambdas | undefined;
    const bundled = options.watch
      ? mkdtemp(path.join(tmpdir(), 'regression-jobs-bundles-')).then(async (directory) => {
          bundleDirectory = directory;
          cleanups.push(() => rm(directory, { recursive: true, force: true }));
          stopWatching = await watchBundles(entries, PROJECT_ROOT, directory, ({ changed, errors }) => {
            if (errors > 0) return log(`[lambda] rebuild failed (${errors} errors): the functions keep their last good bundle`);
            log(`[lambda] rebuilt ${changed.join(', ')}: the next invocation starts a new environment`);
            lambdas?.reload(changed);
          });
        })
      : cachedBundles(entries, PROJECT_ROOT, BUNDLE_CACHE).then(({ directory }) => {
          bundleDirectory = directory;
        });
    const dynamo = await starting;
    const dynamodb = localDynamoDbClient(dynamo.endpoint, region);
    cleanups.push(() => dynamodb.destroy());
    const tables = tablesOf(resolver);
    await Promise.all([timed('bundles', bundled), timed('tables', createTables(dynamodb, tables))]);
    if (stopWatching) cleanups.push(stopWatching);

    // The stack's own key pair (the gateways, `npm run api-key`): a secret of this start's, handed out only in the
    // 0600 state file, so knowing the source is not enough to call the S3, Step Functions or @connections endpoints.
    const stackCredentials = { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: randomBytes(32).toString('hex') };
    // Each function's identity, checked by every service it calls.
    const iam = new LocalIam(
      functionPrincipalsOf(
        resolver,
        functions.map((fn) => fn.logicalId),
        randomBytes(32).toString('hex'),
      ),
      accountId,
      console.error,
      stackCredentials,
    );
    const dynamoFront = await startDynamoDbFront({ upstream: dynamo.endpoint, iam, region, accountId });
    cleanups.push(() => dynamoFront.close());

    // Endpoints first (their URLs go into the functions' environment), functions next.
    const endpoints: Record<string, string> = { AWS_ENDPOINT_URL_DYNAMODB: dynamoFront.endpoint };
    let localizeEnvironment = (environment: Record<string, string>) => environment;
    lambdas = new LocalLambdas(functions, {
      bundleOf: (logicalId) => bundlePath(bundleDirectory, logicalId),
      environmentOf: (fn) => {
        const { accessKeyId, secretAccessKey } = iam.principalOfFunction(fn.logicalId);
        return { ...localizeEnvironment(fn.environment), AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, ...endpoints };
      },
      region,
      log: (line) => console.error(line),
    });
    const invoke = (id: string, event: unknown) => (lambdas as LocalLambdas).invoke(id, event);
    cleanups.push(() => lambdas?.close());

    const events = new LocalEventBus(eventRulesOf(resolver), invoke, LOCAL_ACCOUNT);
    cleanups.push(() => events.close());
    const stepFunctions = new LocalStepFunctions(stateMachinesOf(resolver), lambdas, log, iam, events);
    endpoints.AWS_ENDPOINT_URL_SFN = await stepFunctions.listen();
    cleanups.push(() => stepFunctions.close());

    const hasBuckets = Object.values(template.Resources).some((resource) => resource.Type === 'AWS::S3::Bucket');
    const s3 = hasBuckets
      ? await startLocalS3({
          resolver,
          invoke,
          credentials: stackCredentials,
          iam,
          dataDir: options.dataDir,
          region,
          log,
          minPartBytes: options.s3MinPartBytes,
        })
      : undefined;
    if (s3) {
      cleanups.push(() => s3.stop());
      endpoints.AWS_ENDPOINT_URL_S3 = s3.endpoint;
    }

    const webSocketApi = webSocketApiOf(resolver);
    const webSocket = webSocketApi
      ? await startWebSocketGateway({ api: webSocketApi, account: LOCAL_ACCOUNT, invoke, iam, port: options.wsPort, log })
      : undefined;
    if (webSocketApi && webSocket) {
      cleanups.push(() => webSocket.close());
      endpoints.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = webSocket.callbackUrl;
      localizeEnvironment = (environment) => withLocalCallbackUrl(environment, webSocketApi, LOCAL_ACCOUNT, webSocket.callbackUrl);
    }

    const api = restApiOf(resolver);
    if (!api) throw new Error('the template has no REST API');
    const authorizerIds = new Set(api.routes.flatMap((route) => (route.authorizerLogicalId === undefined ? [] : [route.authorizerLogicalId])));
    const gateway = new RestGateway({
      api,
      authorizers: new Map([...authorizerIds].map((id) => [id, authorizerOf(resolver, id)])),
      gatewayResponses: gatewayResponsesOf(template),
      limits: usageLimitsOf(template),
      functions: lambdas,
      account: LOCAL_ACCOUNT,
      log,
    });
    const restUrl = await gateway.listen(options.port);
    cleanups.push(() => gateway.close());
    // The console, told where this stack's APIs are and the upload limit the create-dataset function enforces.
    const createDataset = functions.find((fn) => fn.entry === 'lambdas/datasets/create-dataset.ts');
    const consoleServer =
      options.consolePort === undefined
        ? undefined
        : await startConsoleServer({
            port: options.consolePort,
            config: { apiUrl: restUrl, webSocketUrl: webSocket?.url ?? null, maxDatasetBytes: limitsFrom(createDataset?.environment ?? {}).maxDatasetBytes },
            uploadUrl: s3?.endpoint,
          });
    if (consoleServer) cleanups.push(() => consoleServer.close());
    // EventBridge's scheduled rules (the sweeper), on a short period of their own.
    const scheduler = new LocalScheduler({
      rules: scheduleRulesOf(template),
      invoke,
      account: LOCAL_ACCOUNT,
      periodMs: options.schedulePeriodMs ?? 30_000,
      log,
    });
    scheduler.start();
    cleanups.push(() => scheduler.stop());
    const controlPlane = await startControlPlane({
      restApi: { apiId: api.apiId, stageName: api.stageName, flushAuthorizerCache: () => gateway.flushAuthorizerCache() },
      runSchedule: (rule) => scheduler.runNow(rule),
      log,
    });
    cleanups.push(() => controlPlane.close());

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
    timings.ready = Date.now() - started;
    // One environment per function, started once the stack serves (a Lambda's first call is cold too): a broken INIT shows in the log now.
    void lambdas.warm().then(() => log(`[lambda] every function has a warm environment (${((Date.now() - started) / 1000).toFixed(1)} s after start)`));

    return {
      restUrl,
      wsUrl: webSocket?.url,
      consoleUrl: consoleServer?.url,
      apiKey,
      dynamodbEndpoint: dynamo.endpoint,
      dynamodbPid: dynamo.pid,
      region,
      tables: Object.fromEntries(tables.map((table) => [table.logicalId, table.tableName])),
      apiKeysTable,
      restApi: { apiId: api.apiId, stageName: api.stageName },
      controlEndpoint: controlPlane.endpoint,
      connectionsTable: outputOf(resolver, 'ConnectionsTableName'),
      stackCredentials,
      timings,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
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
