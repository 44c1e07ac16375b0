import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Skips } from './checks.js';
import {
  cdklocalEnvironment,
  DEFAULT_LOCALSTACK_ENDPOINT,
  executeApiUrl,
  howToStartLocalStack,
  localStackFeatures,
  localStackSkips,
  probeLocalStack,
} from './localstack.js';

/**
 * Where the end-to-end suite runs (TEST_TARGET):
 *
 * - `local` (default): the offline stack, started as `npm start` starts it (a
 *   child process running local/main.ts) on free ports, in memory.
 * - `localstack`: a running LocalStack (LOCALSTACK_ENDPOINT, default
 *   http://localhost:4566): reads its edition, deploys the app with `cdklocal`
 *   (without the REST authorizer where LocalStack has none), and calls the API
 *   through LocalStack's `/_aws/execute-api/` path (test/e2e/localstack.ts).
 * - `aws`: a deployed stack, from the outputs file in OUTPUTS_FILE
 *   (`npx cdk deploy --outputs-file outputs.json`) and the caller's credentials.
 *
 * The suite gets the REST URL, the WebSocket URL when there is one, API keys of
 * two tenants (created for the run and deleted after it on deployed stacks), and
 * the checks the target cannot pass with the reason (test/e2e/checks.ts).
 * Everything else it does over HTTP and WebSocket only.
 */

export type TargetName = 'local' | 'localstack' | 'aws';

/**
 * The repository's root. This module imports nothing of the offline stack at load
 * time (the local target imports it when it starts), so a run against an
 * unreachable LocalStack ends within seconds.
 */
const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface E2ETarget {
  name: TargetName;
  /** The target as the run's first lines name it: `localstack (community 4.14.0)`. */
  label: string;
  restUrl: string;
  wsUrl: string | undefined;
  /** The console's page (test/e2e/console.test.ts), where the target serves one. */
  consoleUrl?: string | undefined;
  /** Tenant A's key; tenant B's key is for isolation checks. */
  keyA: string;
  keyB: string;
  /** The checks this target cannot pass, with the reason each is skipped. */
  skips: Skips;
  /** The offline stack's DynamoDB Local process, which fault tests pause; absent on deployed targets. */
  dynamodbPid?: number;
}

/** A target that cannot be reached: the run stops with this one line, no stack trace. */
export class TargetUnavailable extends Error {}

export interface RunningTarget {
  target: E2ETarget;
  stop(): Promise<void>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2eTarget: E2ETarget;
  }
}

export function targetName(): TargetName {
  const name = process.env.TEST_TARGET ?? 'local';
  if (name !== 'local' && name !== 'localstack' && name !== 'aws') throw new Error(`TEST_TARGET must be local, localstack or aws, not ${name}`);
  return name;
}

export async function startTarget(): Promise<RunningTarget> {
  switch (targetName()) {
    case 'local':
      return startLocalTarget();
    case 'localstack':
      return startLocalStackTarget();
    case 'aws':
      return awsTarget();
  }
}

// ---------------------------------------------------------------------------
// The offline stack

/** What local/main.ts writes once the stack serves (its LOCAL_STACK_FILE). */
export interface LocalStackState {
  pid: number;
  restUrl: string;
  wsUrl: string | null;
  consoleUrl?: string | null;
  dynamodbEndpoint: string;
  dynamodbPid: number;
  region: string;
  tables: Record<string, string>;
  apiKeysTable: string;
}

export interface LocalChild {
  process: ChildProcess;
  /** Its endpoints file (LOCAL_STACK_FILE), in a temporary directory stop() removes. */
  stateFile: string;
  state: LocalStackState;
  /** Everything the child printed, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 20 s; answers the exit code. */
  stop(): Promise<number | null>;
}

const START_DEADLINE_MS = 120_000;

/**
 * Starts `local/main.ts` in a child process, exactly as `npm start` does, on free
 * ports and with its endpoints file in a temporary directory (so a developer's
 * running `npm start` is left alone), and waits until it serves.
 */
export async function startLocalChild(env: Record<string, string> = {}): Promise<LocalChild> {
  const directory = await mkdtemp(path.join(tmpdir(), 'local-stack-'));
  const stateFile = path.join(directory, 'stack.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', WS_PORT: '0', CONSOLE_PORT: '0', LOCAL_STACK_FILE: stateFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // LOCAL_STACK_LOG=<file> keeps the stack's whole log (its functions' included) of the run.
  const log = process.env.LOCAL_STACK_LOG ? createWriteStream(process.env.LOCAL_STACK_LOG, { flags: 'a' }) : undefined;
  const keep = (chunk: Buffer) => {
    log?.write(chunk);
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(forced);
    }
    await rm(directory, { recursive: true, force: true });
    log?.end();
    return child.exitCode;
  };

  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    const state = await readFile(stateFile, 'utf8').then(
      (text) => JSON.parse(text) as LocalStackState,
      () => undefined,
    );
    if (state) return { process: child, stateFile, state, output: () => output, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the local stack did not start (exit code ${child.exitCode}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The offline stack of the run tries multipart uploads with small files: uploads declared above 1 MiB go in parts of
 * 256 KiB, and its S3 accepts parts that small (on AWS and by default: above 5 GiB, parts of at least 5 MiB). Context
 * the caller set (a bench's raised rate limits, in CDK_CONTEXT_JSON) is kept, and wins.
 */
export function localUploadSettings(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const given = env.CDK_CONTEXT_JSON ? (JSON.parse(env.CDK_CONTEXT_JSON) as Record<string, unknown>) : {};
  return {
    CDK_CONTEXT_JSON: JSON.stringify({ datasetMultipartThresholdBytes: 1_048_576, datasetPartBytes: 262_144, ...given }),
    LOCAL_S3_MIN_PART_BYTES: '262144',
  };
}

export const LOCAL_SKIPS: Skips = {
  bisect: "the offline stack's stream poller retries and honours partial batch failures but does not bisect a failing batch",
};

async function startLocalTarget(): Promise<RunningTarget> {
  const [{ DynamoDBDocumentClient }, { generateApiKey, storeApiKey }, { localDynamoDbClient }] = await Promise.all([
    import('@aws-sdk/lib-dynamodb'),
    import('#commons/auth/api-keys.js'),
    import('../../local/dynamodb/server.js'),
  ]);
  const keyA = generateApiKey();
  const child = await startLocalChild({ DEV_API_KEY: keyA, ...localUploadSettings() });
  try {
    // A second tenant's key, stored the way `npm run api-key` stores one.
    const client = localDynamoDbClient(child.state.dynamodbEndpoint, child.state.region);
    const keyB = await storeApiKey(DynamoDBDocumentClient.from(client), child.state.apiKeysTable, 'e2e-tenant-b');
    client.destroy();
    return {
      target: {
        name: 'local',
        label: 'local',
        restUrl: child.state.restUrl,
        wsUrl: child.state.wsUrl ?? undefined,
        consoleUrl: child.state.consoleUrl ?? undefined,
        keyA,
        keyB,
        skips: LOCAL_SKIPS,
        dynamodbPid: child.state.dynamodbPid,
      },
      stop: async () => {
        await child.stop();
      },
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Deployed stacks

const Outputs = (text: string) => JSON.parse(text) as Record<string, Record<string, string>>;

/** The stack's outputs: the one stack of the file, or STACK_NAME's. */
function stackOutputs(outputs: Record<string, Record<string, string>>): { stackName: string; values: Record<string, string> } {
  const stackName = process.env.STACK_NAME ?? Object.keys(outputs)[0];
  const values = stackName === undefined ? undefined : outputs[stackName];
  if (!stackName || !values?.ApiUrl) throw new Error(`no stack with an ApiUrl output in the outputs file (STACK_NAME=${process.env.STACK_NAME ?? 'unset'})`);
  return { stackName, values };
}

async function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}`);
  return stdout;
}

/**
 * API keys the run creates on a deployed stack with `npm run api-key` (which
 * prints the key alone on its last line), and deletes when it ends.
 */
class RunKeys {
  private readonly created: string[] = [];

  constructor(
    private readonly stackName: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async create(tenant: string): Promise<string> {
    const output = await run('npm', ['run', '--silent', 'api-key', '--', 'create', tenant, '--stack', this.stackName], this.env);
    const key = output.trim().split('\n').at(-1)?.trim();
    if (!key) throw new Error(`npm run api-key printed no key for ${tenant}`);
    this.created.push(key);
    return key;
  }

  /** Deletes every key created, each attempted even if another fails. */
  async deleteAll(): Promise<void> {
    const keys = this.created.splice(0);
    const results = await Promise.allSettled(
      keys.map((key) => run('npm', ['run', '--silent', 'api-key', '--', 'delete', key, '--stack', this.stackName], this.env)),
    );
    const failed = results.filter((result) => result.status === 'rejected').length;
    if (failed > 0) console.error(`[e2e] ${failed} of ${keys.length} API keys of this run could not be deleted from ${this.stackName}`);
  }

  /** Keys for two fresh tenants of this run. */
  async pair(): Promise<{ keyA: string; keyB: string }> {
    const id = Date.now().toString(36);
    try {
      const [keyA, keyB] = await Promise.all([this.create(`e2e-a-${id}`), this.create(`e2e-b-${id}`)]);
      return { keyA, keyB };
    } catch (error) {
      await this.deleteAll();
      throw error;
    }
  }
}

export const AWS_SKIPS: Skips = {
  bisect: 'no end-to-end check makes a notification batch fail; the mapping setting is checked by the stack tests',
};

async function awsTarget(): Promise<RunningTarget> {
  const file = process.env.OUTPUTS_FILE;
  if (!file) throw new TargetUnavailable('TEST_TARGET=aws reads the stack outputs from OUTPUTS_FILE (npx cdk deploy --outputs-file outputs.json)');
  const text = await readFile(path.resolve(PROJECT_ROOT, file), 'utf8').catch(() => {
    throw new TargetUnavailable(`TEST_TARGET=aws: cannot read OUTPUTS_FILE ${file} (npx cdk deploy --outputs-file ${file} writes it)`);
  });
  const { stackName, values } = stackOutputs(Outputs(text));
  const keys = new RunKeys(stackName);
  const { keyA, keyB } = await keys.pair().catch((error: unknown) => {
    throw new TargetUnavailable(
      `TEST_TARGET=aws: could not create API keys on stack ${stackName} (${error instanceof Error ? error.message : String(error)}): are AWS credentials for its account and region set?`,
    );
  });
  return {
    target: { name: 'aws', label: `aws (${stackName})`, restUrl: values.ApiUrl as string, wsUrl: values.WebSocketUrl, keyA, keyB, skips: AWS_SKIPS },
    stop: () => keys.deleteAll(),
  };
}

/**
 * LocalStack: what it supports first (a few seconds at most when nothing
 * answers), then a cdklocal deploy shaped for it, then the API through its
 * `/_aws/execute-api/` path. Its keys are created and deleted like AWS's.
 */
async function startLocalStackTarget(): Promise<RunningTarget> {
  const endpoint = process.env.LOCALSTACK_ENDPOINT ?? DEFAULT_LOCALSTACK_ENDPOINT;
  const answers = await probeLocalStack(endpoint);
  if (!answers) throw new TargetUnavailable(howToStartLocalStack(endpoint));
  const features = localStackFeatures(answers.health, answers.info);
  if (features.missingServices.length > 0) {
    throw new TargetUnavailable(`TEST_TARGET=localstack: LocalStack at ${endpoint} lacks ${features.missingServices.join(', ')}, which the stack deploys to`);
  }
  const env = cdklocalEnvironment(process.env, endpoint);
  console.log(
    `[e2e] LocalStack ${features.edition} ${features.version} at ${endpoint}: deploying with cdklocal, REST authorizer ${features.restAuthorizer}` +
      ' (arm64 functions on an x86 host need the container started with LAMBDA_IGNORE_ARCHITECTURE=1)',
  );
  const directory = await mkdtemp(path.join(tmpdir(), 'cdklocal-'));
  const outputsFile = path.join(directory, 'outputs.json');
  try {
    const context = ['-c', `restAuthorizer=${features.restAuthorizer}`];
    await run('npx', ['cdklocal', 'bootstrap', ...context], env);
    await run('npx', ['cdklocal', 'deploy', '--all', '--require-approval', 'never', ...context, '--outputs-file', outputsFile], env);
    const { stackName, values } = stackOutputs(Outputs(await readFile(outputsFile, 'utf8')));
    const keys = new RunKeys(stackName, env);
    const { keyA, keyB } = await keys.pair();
    return {
      target: {
        name: 'localstack',
        label: `localstack (${features.edition} ${features.version})`,
        restUrl: executeApiUrl(values.ApiUrl as string, endpoint),
        wsUrl: features.webSocket ? values.WebSocketUrl : undefined,
        keyA,
        keyB,
        skips: localStackSkips(features),
      },
      stop: () => keys.deleteAll(),
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
