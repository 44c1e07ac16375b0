import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { generateApiKey, storeApiKey } from '../../lambdas/commons/api-keys.js';
import { localDynamoDbClient } from '../../local/dynamodb/server.js';
import { PROJECT_ROOT } from '../../local/stack.js';

/**
 * Where the end-to-end suite runs (TEST_TARGET):
 *
 * - `local` (default): the offline stack, started as `npm start` starts it (a
 *   child process running local/main.ts) on free ports, in memory.
 * - `localstack`: deploys the app with `cdklocal deploy` and reads its outputs.
 *   LocalStack's free plan has no WebSocket API, so WebSocket checks are skipped.
 * - `aws`: a deployed stack, from the outputs file in OUTPUTS_FILE
 *   (`npx cdk deploy --outputs-file outputs.json`).
 *
 * The suite gets the REST URL, the WebSocket URL when there is one, and API keys
 * of two tenants. Everything else it does over HTTP and WebSocket only.
 */

export type TargetName = 'local' | 'localstack' | 'aws';

export interface E2ETarget {
  name: TargetName;
  restUrl: string;
  wsUrl: string | undefined;
  /** Tenant A's key; tenant B's key is for isolation checks. */
  keyA: string;
  keyB: string;
  /** The offline stack's DynamoDB Local process, which fault tests pause; absent on deployed targets. */
  dynamodbPid?: number;
}

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
    env: { ...process.env, PORT: '0', WS_PORT: '0', LOCAL_STACK_FILE: stateFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-20_000));
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

async function startLocalTarget(): Promise<RunningTarget> {
  const keyA = generateApiKey();
  const child = await startLocalChild({ DEV_API_KEY: keyA });
  try {
    // A second tenant's key, stored the way `npm run api-key` stores one.
    const client = localDynamoDbClient(child.state.dynamodbEndpoint, child.state.region);
    const keyB = await storeApiKey(DynamoDBDocumentClient.from(client), child.state.apiKeysTable, 'e2e-tenant-b');
    client.destroy();
    return {
      target: { name: 'local', restUrl: child.state.restUrl, wsUrl: child.state.wsUrl ?? undefined, keyA, keyB, dynamodbPid: child.state.dynamodbPid },
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

/** A key for a fresh tenant, from `npm run api-key` (it prints the key alone on its last line). */
async function createKey(stackName: string, tenant: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const output = await run('npm', ['run', '--silent', 'api-key', '--', 'create', tenant, '--stack', stackName], env);
  const key = output.trim().split('\n').at(-1)?.trim();
  if (!key) throw new Error(`npm run api-key printed no key for ${tenant}`);
  return key;
}

const runId = () => Date.now().toString(36);

async function awsTarget(): Promise<RunningTarget> {
  const file = process.env.OUTPUTS_FILE;
  if (!file) throw new Error('TEST_TARGET=aws reads the stack outputs from OUTPUTS_FILE (npx cdk deploy --outputs-file outputs.json)');
  const { stackName, values } = stackOutputs(Outputs(await readFile(path.resolve(PROJECT_ROOT, file), 'utf8')));
  const id = runId();
  const [keyA, keyB] = await Promise.all([createKey(stackName, `e2e-a-${id}`), createKey(stackName, `e2e-b-${id}`)]);
  return { target: { name: 'aws', restUrl: values.ApiUrl as string, wsUrl: values.WebSocketUrl, keyA, keyB }, stop: async () => undefined };
}

/**
 * LocalStack: deploy with cdklocal, then talk to the API through LocalStack's
 * execute-api host. Its account has dummy credentials; the api-key script reaches
 * it through AWS_ENDPOINT_URL.
 */
async function startLocalStackTarget(): Promise<RunningTarget> {
  const endpoint = process.env.LOCALSTACK_ENDPOINT ?? 'http://localhost:4566';
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  };
  const directory = await mkdtemp(path.join(tmpdir(), 'cdklocal-'));
  const outputsFile = path.join(directory, 'outputs.json');
  try {
    await run('npx', ['cdklocal', 'bootstrap'], env);
    await run('npx', ['cdklocal', 'deploy', '--all', '--require-approval', 'never', '--outputs-file', outputsFile], env);
    const { stackName, values } = stackOutputs(Outputs(await readFile(outputsFile, 'utf8')));
    const id = runId();
    const [keyA, keyB] = await Promise.all([createKey(stackName, `e2e-a-${id}`, env), createKey(stackName, `e2e-b-${id}`, env)]);
    return {
      target: { name: 'localstack', restUrl: localStackUrl(values.ApiUrl as string, endpoint), wsUrl: undefined, keyA, keyB },
      stop: async () => undefined,
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** `https://<id>.execute-api.<region>.amazonaws.com/v1/` as LocalStack serves it. */
function localStackUrl(apiUrl: string, endpoint: string): string {
  const url = new URL(apiUrl);
  const apiId = url.hostname.split('.')[0];
  if (url.hostname.endsWith('localstack.cloud')) return apiUrl;
  return `http://${apiId}.execute-api.localhost.localstack.cloud:${new URL(endpoint).port || '4566'}${url.pathname}`;
}
