/**
 * Proves that the end-to-end suite catches what would break a deployment: in a
 * scratch copy of the repository, each mutation below is applied alone and the
 * e2e suite (on the offline stack; the files the mutation names, else all) must fail, with the cause named in its output
 * or in the stack's log; the unmutated copy must pass. Prints the time of each run.
 *
 *   npm run test:mutations            all of them
 *   npm run test:mutations -- env     only the named ones (baseline env grant import)
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../local/stack.js';

interface Mutation {
  name: string;
  what: string;
  file: string;
  /** Changes the file's text; must change it (a mutation that no longer applies fails the check). */
  apply(source: string): string;
  /** What the run must print, naming the cause; undefined for the baseline, which must pass. */
  cause: RegExp | undefined;
  /** The e2e files to run. @default every product e2e file */
  scope?: string[];
}

/** Trains, reads and predicts from its first test on: every mutation below fails there, so CI need not start the rest. */
const JOBS_E2E = ['test/e2e/jobs.test.ts'];

const removeLine = (pattern: RegExp) => (source: string) =>
  source
    .split('\n')
    .filter((line) => !pattern.test(line))
    .join('\n');

const MUTATIONS: Mutation[] = [
  { name: 'baseline', what: 'no change', file: 'package.json', apply: (source) => source, cause: undefined },
  {
    name: 'env',
    what: "the train function's DATASETS_BUCKET_NAME removed from the template",
    file: 'lib/datasets.ts',
    apply: removeLine(/trainFunction\.addEnvironment\('DATASETS_BUCKET_NAME'/),
    cause: /Invalid or missing environment variables: DATASETS_BUCKET_NAME/,
    scope: JOBS_E2E,
  },
  {
    name: 'grant',
    what: "create-job's states:StartExecution grant removed",
    file: 'lib/regression-stack.ts',
    apply: removeLine(/workflow\.grantStartExecution\(createJob\)/),
    cause: /AccessDenied: CreateJobFunction\w* \(role \w+\) may not states:StartExecution/,
    scope: JOBS_E2E,
  },
  {
    name: 'import',
    what: 'get-job throws at import in its bundled form only',
    file: 'lambdas/api/get-job.ts',
    apply: (source) => `if (!import.meta.url.endsWith('.ts')) throw new Error('get-job cannot start from its bundle');\n${source}`,
    cause: /\[GetJobFunction\w*\] INIT failed: Error: get-job cannot start from its bundle/,
    scope: JOBS_E2E,
  },
];

async function scratchCopy(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'mutation-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    await mkdir(path.dirname(path.join(directory, file)), { recursive: true });
    await copyFile(path.join(PROJECT_ROOT, file), path.join(directory, file));
  }
  await symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(directory, 'node_modules'), 'dir');
  return directory;
}

async function runE2e(
  directory: string,
  logFile: string,
  mutated: boolean,
  files: string[] | undefined,
): Promise<{ code: number | null; output: string; seconds: number }> {
  const started = Date.now();
  // The product's e2e files (not the tests of the npm start process itself); a mutated run stops at its first failure.
  const scope = files ?? (await readdir(path.join(directory, 'test/e2e'))).filter((file) => file.endsWith('.test.ts')).map((file) => `test/e2e/${file}`);
  const fast = mutated ? ['--bail', '1'] : [];
  const child = spawn(process.execPath, [path.join(directory, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'e2e', ...fast, ...scope], {
    cwd: directory,
    env: { ...process.env, TEST_TARGET: 'local', LOCAL_STACK_LOG: logFile, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output, seconds: (Date.now() - started) / 1000 };
}

async function check(mutation: Mutation): Promise<{ ok: boolean; line: string }> {
  const directory = await scratchCopy();
  try {
    const file = path.join(directory, mutation.file);
    const source = await readFile(file, 'utf8');
    const mutated = mutation.apply(source);
    if (mutation.cause !== undefined && mutated === source) return { ok: false, line: `${mutation.name}: the mutation no longer applies to ${mutation.file}` };
    await writeFile(file, mutated);
    const logFile = path.join(directory, 'stack.log');
    const run = await runE2e(directory, logFile, mutation.cause !== undefined, mutation.scope);
    const log = await readFile(logFile, 'utf8').catch(() => '');
    const summary = /(\d+ passed, \d+ failed(?:, \d+ skipped)?)/.exec(run.output)?.[1] ?? 'no summary';
    if (mutation.cause === undefined) {
      const ok = run.code === 0;
      return {
        ok,
        line: `${mutation.name}: ${ok ? 'passes' : `FAILS (exit ${run.code})`} in ${run.seconds.toFixed(1)} s (${summary})${ok ? '' : `\n${run.output.slice(-3000)}`}`,
      };
    }
    const named = mutation.cause.exec(`${run.output}\n${log}`)?.[0];
    const ok = run.code !== 0 && named !== undefined;
    const verdict =
      run.code === 0
        ? 'NOT CAUGHT: the suite passed'
        : named
          ? `caught in ${run.seconds.toFixed(1)} s (${summary}), cause named: "${named}"`
          : 'failed, but the cause is not named';
    return { ok, line: `${mutation.name} (${mutation.what}): ${verdict}${ok ? '' : `\n${run.output.slice(-3000)}`}` };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2);
const selected = wanted.length === 0 ? MUTATIONS : MUTATIONS.filter((mutation) => wanted.includes(mutation.name));
if (selected.length === 0) {
  console.error(`no mutation named ${wanted.join(', ')}; known: ${MUTATIONS.map((mutation) => mutation.name).join(', ')}`);
  process.exit(2);
}
let failures = 0;
for (const mutation of selected) {
  const { ok, line } = await check(mutation);
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`);
}
// Worded unlike a test runner's summary, so the suite's own summary line stays the run's last.
console.log(
  failures === 0 ? `mutation check: all ${selected.length} runs as expected` : `mutation check: ${failures} of ${selected.length} runs NOT as expected`,
);
process.exit(failures === 0 ? 0 : 1);
