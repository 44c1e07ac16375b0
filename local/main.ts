/**
 * `npm start`: the whole stack offline, on loopback.
 *
 *   PORT (4000)        REST API
 *   WS_PORT (4001)     WebSocket API
 *   CONSOLE_PORT (4002) the console, at http://127.0.0.1:<port>/console/
 *   DATA_DIR           keeps DynamoDB's data there (in memory when unset)
 *   DEV_API_KEY        the key seeded for tenant `dev` (random when unset)
 *   LOCAL_STACK_FILE   where to write the running stack's endpoints (.local-stack.json, mode 0600: it holds the dev key)
 *   SCHEDULE_SECONDS   how often scheduled rules (the stranded-jobs sweeper) run (30); `npm run sweep` runs it now
 *   LOCAL_S3_MIN_PART_BYTES  the offline S3's smallest multipart part but the last (5 MiB, as on S3); lower it, with
 *                      the context value datasetPartBytes, to try multipart uploads with small files
 *
 * `npm start -- --watch` rebuilds a function's bundle when its sources change.
 * The endpoints file lets `npm run api-key -- create <tenant>` reach this stack;
 * it is removed on exit. Ctrl-C or SIGTERM stops everything that was started.
 */
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { JavaMissing } from './dynamodb/server.js';
import { DEV_TENANT, type LocalStack, PROJECT_ROOT, startLocalStack } from './stack.js';

const Settings = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  WS_PORT: z.coerce.number().int().min(0).max(65_535).default(4001),
  CONSOLE_PORT: z.coerce.number().int().min(0).max(65_535).default(4002),
  DATA_DIR: z.string().min(1).optional(),
  DEV_API_KEY: z.string().min(1).optional(),
  LOCAL_STACK_FILE: z.string().min(1).default(path.join(PROJECT_ROOT, '.local-stack.json')),
  SCHEDULE_SECONDS: z.coerce.number().positive().default(30),
  LOCAL_S3_MIN_PART_BYTES: z.coerce.number().int().positive().optional(),
});

async function main(): Promise<void> {
  const startedAt = Date.now();
  const settings = Settings.parse(process.env);
  const stateFile = settings.LOCAL_STACK_FILE;
  let stack: LocalStack | undefined;
  // A service the stack started died (DynamoDB Local killed): exit non-zero rather than answer 500 forever with /health still 200.
  const die = () => {
    removeStateFile(stateFile);
    void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  };
  stack = await startLocalStack({
    port: settings.PORT,
    wsPort: settings.WS_PORT,
    consolePort: settings.CONSOLE_PORT,
    dataDir: settings.DATA_DIR,
    devApiKey: settings.DEV_API_KEY,
    schedulePeriodMs: settings.SCHEDULE_SECONDS * 1000,
    s3MinPartBytes: settings.LOCAL_S3_MIN_PART_BYTES,
    watch: process.argv.slice(2).includes('--watch'),
    onFatal: die,
  });

  const { restUrl, wsUrl, dynamodbEndpoint, dynamodbPid, region, tables, apiKeysTable, restApi, controlEndpoint, connectionsTable } = stack;
  // devApiKey lets `npx rj` on this machine use the running stack without configuration (the file is git-ignored).
  const state = {
    pid: process.pid,
    restUrl,
    wsUrl: wsUrl ?? null,
    consoleUrl: stack.consoleUrl ?? null,
    dynamodbEndpoint,
    dynamodbPid,
    region,
    tables,
    apiKeysTable,
    devApiKey: stack.apiKey,
    restApi,
    controlEndpoint,
    connectionsTable: connectionsTable ?? null,
    stackCredentials: stack.stackCredentials,
  };
  writeStateFile(stateFile, state);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1); // a second Ctrl-C: do not wait any longer
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    removeStateFile(stateFile);
    await stack?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  console.log(
    [
      '',
      `Local stack ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (${phases(stack.timings)})`,
      `  REST API     ${stack.restUrl}`,
      `  WebSocket    ${stack.wsUrl ?? '(the stack has no WebSocket API)'}`,
      `  Console      ${stack.consoleUrl ?? '(not started)'}  (paste the API key below to sign in)`,
      `  DynamoDB     ${stack.dynamodbEndpoint}${settings.DATA_DIR ? ` (data in ${settings.DATA_DIR})` : ' (in memory)'}`,
      `  API key for tenant "${DEV_TENANT}":`,
      `  ${stack.apiKey}`,
      '',
      `Try: curl -H "Authorization: Bearer ${stack.apiKey}" ${stack.restUrl}/jobs`,
      'More keys: npm run api-key -- create <tenant>. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

/** When each phase of the start was done, in seconds from its beginning: `synth 4.1 s, dynamodb 2.3 s, …`. */
function phases(timings: Record<string, number>): string {
  return Object.entries(timings)
    .filter(([name]) => name !== 'ready')
    .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`)
    .join(', ');
}

/**
 * Written whole, then renamed, so a reader never sees half a file; readable by
 * this user only (0600), since it holds the dev tenant's API key. The mode is set
 * on the new file before it replaces the old one, whatever the old one's was.
 */
function writeStateFile(file: string, state: unknown): void {
  const temporary = `${file}.tmp`;
  rmSync(temporary, { force: true }); // a leftover keeps its own mode: start from a new file
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600); // the umask can only remove bits; this makes the mode exact
  renameSync(temporary, file);
}

/** Only our own file: another stack started later may have written its own there. */
function removeStateFile(file: string): void {
  try {
    if (JSON.parse(readFileSync(file, 'utf8')).pid === process.pid) rmSync(file);
  } catch {
    // Already gone.
  }
}

main().catch((error: unknown) => {
  if (error instanceof JavaMissing) {
    console.error(error.message);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`${(error as Error).message}: is another \`npm start\` running? Set PORT / WS_PORT / CONSOLE_PORT to use other ports.`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
