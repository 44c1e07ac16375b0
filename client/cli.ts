import { existsSync, openAsBlob, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiError, type Dataset, type Job, type Model, type Prediction, RegressionJobsClient, TERMINAL_STATUSES, type UploadProgress } from './index.js';

/**
 * `rj`: the regression-jobs API from a terminal, on the typed client. Exit codes:
 * 0 ok, 1 the job (or dataset) failed, 2 usage, 3 API error (including an API that
 * cannot be reached and a refused key), 130 stopped waiting with Ctrl-C. A user's
 * error is always one line on stderr, never a stack trace.
 */

export const EXIT = { ok: 0, failed: 1, usage: 2, api: 3, interrupted: 130 } as const;

const USAGE = `rj: train regression models and predict, on the regression-jobs API

usage:
  rj jobs create --kind LINEAR|RIDGE|LASSO [--alpha A] (--csv FILE --target COLUMN | --dataset ID --target COLUMN | --data FILE.json)
                 [--name NAME] [--no-intercept] [--idempotency-key KEY] [--wait]
  rj jobs list [--status STATUS] [--limit N]
  rj jobs get JOB_ID
  rj jobs cancel JOB_ID
  rj jobs watch JOB_ID
  rj models list [--limit N]
  rj models get MODEL_ID
  rj predict MODEL_ID (--x 1,2.5 | --csv INPUTS.csv)
  rj datasets upload FILE [--name NAME] [--resume DATASET_ID]
  rj datasets get DATASET_ID

options:
  --api-url URL    the REST API (RJ_API_URL; default: the running offline stack, npm start)
  --ws-url URL     the WebSocket API (RJ_WS_URL; without one, --wait and watch poll)
  --api-key KEY    an API key (RJ_API_KEY; default: the offline stack's dev key)
  --json           machine-readable output on stdout
  -h, --help       this text

exit codes: 0 ok, 1 job or dataset failed, 2 usage, 3 API error, 130 interrupted (the job keeps running)`;

class UsageError extends Error {}

/** Where a run writes: injectable so tests can capture it. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Progress goes to stderr; a TTY gets one bar redrawn in place, anything else one line per change. */
  isTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal;
}

const OPTIONS = {
  'api-url': { type: 'string' },
  'ws-url': { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  kind: { type: 'string' },
  alpha: { type: 'string' },
  csv: { type: 'string' },
  target: { type: 'string' },
  dataset: { type: 'string' },
  data: { type: 'string' },
  name: { type: 'string' },
  'no-intercept': { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  wait: { type: 'boolean' },
  status: { type: 'string' },
  limit: { type: 'string' },
  x: { type: 'string' },
  resume: { type: 'string' },
} as const;

type Flags = ReturnType<typeof parse>['values'];

function parse(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

interface LocalStackState {
  pid: number;
  restUrl: string;
  wsUrl: string | null;
  devApiKey?: string;
}

/** The offline stack's state file (.local-stack.json, written by npm start), when its process is alive. */
function runningLocalStack(cwd: string): LocalStackState | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, '.local-stack.json');
    if (existsSync(file)) {
      try {
        const state = JSON.parse(readFileSync(file, 'utf8')) as LocalStackState;
        process.kill(state.pid, 0); // throws when the process is gone
        return state;
      } catch {
        return undefined;
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function clientFrom(flags: Flags, io: Io): RegressionJobsClient {
  const local = flags['api-url'] || io.env.RJ_API_URL ? undefined : runningLocalStack(io.cwd);
  const baseUrl = flags['api-url'] ?? io.env.RJ_API_URL ?? local?.restUrl;
  if (!baseUrl) throw new UsageError('no API: set RJ_API_URL (or --api-url), or start the offline stack with npm start');
  const apiKey = flags['api-key'] ?? io.env.RJ_API_KEY ?? local?.devApiKey;
  if (!apiKey) throw new UsageError('no API key: set RJ_API_KEY (or --api-key); npm run api-key -- create <tenant> makes one');
  const webSocketUrl = flags['ws-url'] ?? io.env.RJ_WS_URL ?? local?.wsUrl ?? undefined;
  return new RegressionJobsClient({ baseUrl, apiKey, webSocketUrl });
}

const positional = (positionals: string[], index: number, what: string): string => {
  const value = positionals[index];
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
};

function number(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${flag} must be a number, not ${JSON.stringify(text)}`);
  return value;
}

function limitOf(flags: Flags): number {
  if (flags.limit === undefined) return 20;
  const limit = number(flags.limit, 'limit');
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a whole number >= 1');
  return limit;
}

function readable(file: string): string {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`no such file: ${file}`);
  return file;
}

/** Rows of numbers from a CSV of inputs; a first row that is not numeric is a header and skipped. */
function csvInputs(file: string): number[][] {
  const lines = readFileSync(readable(file), 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
  const rows = lines.map((line) => line.split(',').map((cell) => Number(cell.trim())));
  const isNumeric = (row: number[]) => row.every((value) => Number.isFinite(value));
  if (rows[0] && !isNumeric(rows[0])) rows.shift();
  const bad = rows.findIndex((row) => !isNumeric(row));
  if (bad >= 0) throw new UsageError(`${file}: row ${bad + 1} is not all numbers`);
  if (rows.length === 0) throw new UsageError(`${file}: no inputs`);
  return rows;
}

/* Output. */

const fmt = (value: number) => (Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, ''));

function jobLine(job: Job): string {
  const error = job.error ? `  ${job.error.code}: ${job.error.message}` : '';
  return `${job.jobId}  ${job.status.padEnd(9)}  ${job.kind.padEnd(6)}  ${String(Math.round(job.progress * 100)).padStart(3)}%  ${job.createdAt}${job.name ? `  ${job.name}` : ''}${error}`;
}

function modelText(model: Model): string {
  const lines = [`model ${model.modelId}  ${model.status}  ${model.kind}${model.alpha === null ? '' : ` alpha=${fmt(model.alpha)}`}`];
  if (model.status === 'TRAINED') {
    const width = Math.max(9, ...model.features.map((name) => name.length));
    lines.push(`  ${'intercept'.padEnd(width)}  ${model.intercept === null ? '(none)' : fmt(model.intercept)}`);
    model.features.forEach((name, index) => {
      lines.push(`  ${name.padEnd(width)}  ${fmt(model.coefficients[index] as number)}`);
    });
    if (model.metrics) lines.push(`  n=${model.metrics.n}  r2=${fmt(model.metrics.r2)}  rmse=${fmt(model.metrics.rmse)}`);
  }
  return lines.join('\n');
}

function datasetText(dataset: Dataset): string {
  const error = dataset.error
    ? `  ${dataset.error.code}: ${dataset.error.message}${dataset.error.line ? ` (line ${dataset.error.line}${dataset.error.column ? `, column ${dataset.error.column}` : ''})` : ''}`
    : '';
  const shape = dataset.rows === null ? '' : `  ${dataset.rows} rows  columns: ${dataset.columns.join(', ')}`;
  return `${dataset.datasetId}  ${dataset.status}${shape}${error}`;
}

/** A progress display on stderr: a bar redrawn in place on a TTY, one line per change otherwise. */
function progressReporter(io: Io) {
  let last = '';
  return {
    update(job: Job) {
      const percent = Math.round(job.progress * 100);
      if (io.isTTY) {
        const filled = Math.round(job.progress * 30);
        io.err(`\r${job.status.padEnd(9)} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${String(percent).padStart(3)}%`);
      } else {
        const line = `${job.status} ${percent}%`;
        if (line !== last) io.err(`${line}\n`);
        last = line;
      }
    },
    done() {
      if (io.isTTY) io.err('\n');
    },
  };
}

const size = (bytes: number) => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
};

/** Upload progress on stderr: a bar over bytes sent redrawn in place on a TTY, a line every 10% otherwise. */
function uploadReporter(io: Io) {
  let lastStep = -1;
  let drawn = false;
  return {
    update({ bytesSent, totalBytes }: UploadProgress) {
      const fraction = totalBytes === 0 ? 1 : bytesSent / totalBytes;
      const percent = Math.floor(fraction * 100);
      if (io.isTTY) {
        const filled = Math.round(fraction * 30);
        io.err(`\ruploading [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${String(percent).padStart(3)}%  ${size(bytesSent)} / ${size(totalBytes)}`);
        drawn = true;
      } else if (Math.floor(percent / 10) !== lastStep) {
        lastStep = Math.floor(percent / 10);
        io.err(`uploaded ${percent}% (${size(bytesSent)} of ${size(totalBytes)})\n`);
      }
    },
    done() {
      if (drawn) io.err('\n');
      drawn = false;
    },
  };
}

/**
 * Uploads a file with a progress display (unless --json). A multipart upload that
 * stops (a part failed for good, Ctrl-C) says how to resume it: the server lists the
 * parts S3 holds, so `--resume DATASET_ID` sends only the others; nothing is kept on
 * disk.
 */
async function uploadFile(client: RegressionJobsClient, file: string, flags: Flags, io: Io): Promise<Dataset> {
  const reporter = flags.json ? undefined : uploadReporter(io);
  let started: UploadProgress | undefined;
  try {
    const dataset = await client.uploadDataset(await openAsBlob(file), {
      name: flags.name ?? path.basename(file),
      ...(io.signal ? { signal: io.signal } : {}),
      ...(flags.resume ? { resumeDatasetId: flags.resume } : {}),
      onUploadProgress: (progress) => {
        started = progress;
        reporter?.update(progress);
      },
    });
    reporter?.done();
    return dataset;
  } catch (error) {
    reporter?.done();
    if (started?.uploadMethod === 'MULTIPART' && started.bytesSent < started.totalBytes) {
      io.err(`rj: the upload of dataset ${started.datasetId} stopped; resume it with: npx rj datasets upload ${file} --resume ${started.datasetId}\n`);
    }
    throw error;
  }
}

/** Waits for the job with a progress display; answers the exit code. Ctrl-C stops waiting and says how to resume. */
async function waitAndReport(client: RegressionJobsClient, job: Job, flags: Flags, io: Io): Promise<number> {
  const progress = flags.json ? undefined : progressReporter(io);
  let final: Job;
  try {
    final = await client.waitForJob(job.jobId, {
      ...(progress ? { onProgress: (state) => progress.update(state) } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } catch (error) {
    progress?.done();
    if (io.signal?.aborted) {
      io.err(`stopped waiting; job ${job.jobId} keeps running. Resume with: npx rj jobs watch ${job.jobId}\n`);
      return EXIT.interrupted;
    }
    throw error;
  }
  progress?.done();
  const model = final.status === 'COMPLETED' ? await client.getModel(final.modelId) : undefined;
  if (flags.json) {
    io.out(`${JSON.stringify({ job: final, ...(model ? { model } : {}) }, null, 2)}\n`);
  } else {
    io.out(`${jobLine(final)}\n`);
    if (model) io.out(`${modelText(model)}\n`);
  }
  return final.status === 'COMPLETED' ? EXIT.ok : EXIT.failed;
}

async function jobsCommand(client: () => RegressionJobsClient, sub: string | undefined, positionals: string[], flags: Flags, io: Io): Promise<number> {
  const print = (value: unknown, text: string) => io.out(flags.json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
  switch (sub) {
    case 'create': {
      const body = await jobRequest(client, flags, io);
      const api = client();
      const job = await api.createJob(body, flags['idempotency-key'] ? { idempotencyKey: flags['idempotency-key'] } : {});
      if (flags.wait) {
        if (!flags.json) io.err(`job ${job.jobId} created\n`);
        return waitAndReport(api, job, flags, io);
      }
      print(job, jobLine(job));
      return EXIT.ok;
    }
    case 'list': {
      const limit = limitOf(flags);
      const status = flags.status as Job['status'] | undefined;
      const jobs: Job[] = [];
      for await (const job of client().jobs({ ...(status ? { status } : {}), pageSize: Math.min(limit, 100) })) {
        jobs.push(job);
        if (jobs.length >= limit) break;
      }
      print(jobs, jobs.map(jobLine).join('\n') || '(no jobs)');
      return EXIT.ok;
    }
    case 'get': {
      const job = await client().getJob(positional(positionals, 0, 'JOB_ID'));
      print(job, jobLine(job));
      return EXIT.ok;
    }
    case 'cancel': {
      const job = await client().cancelJob(positional(positionals, 0, 'JOB_ID'));
      print(job, jobLine(job));
      return EXIT.ok;
    }
    case 'watch': {
      const api = client();
      const job = await api.getJob(positional(positionals, 0, 'JOB_ID'));
      return waitAndReport(api, job, flags, io);
    }
    default:
      throw new UsageError(sub ? `unknown command: jobs ${sub}` : 'missing command: jobs create|list|get|cancel|watch');
  }
}

async function jobRequest(client: () => RegressionJobsClient, flags: Flags, io: Io) {
  const kind = flags.kind?.toUpperCase();
  if (!kind) throw new UsageError('--kind is required (LINEAR, RIDGE or LASSO)');
  const sources = [flags.csv, flags.dataset, flags.data].filter((source) => source !== undefined).length;
  if (sources !== 1) throw new UsageError('give exactly one of --csv FILE, --dataset ID or --data FILE.json');
  const common = {
    kind: kind as 'LINEAR' | 'RIDGE' | 'LASSO',
    ...(flags.alpha === undefined ? {} : { alpha: number(flags.alpha, 'alpha') }),
    ...(flags['no-intercept'] ? { fitIntercept: false } : {}),
    ...(flags.name ? { name: flags.name } : {}),
  };
  if (flags.data !== undefined) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(readable(flags.data), 'utf8'));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`${flags.data}: not JSON`);
    }
    return { ...common, data: data as { x: number[]; y: number }[] };
  }
  if (!flags.target) throw new UsageError('--target COLUMN is required with --csv or --dataset');
  if (flags.dataset !== undefined) return { ...common, datasetId: flags.dataset, target: flags.target };
  const file = readable(flags.csv as string);
  if (!flags.json) io.err(`uploading ${file}…\n`);
  const dataset = await uploadFile(client(), file, flags, io);
  if (dataset.status !== 'READY') throw new DatasetRejected(dataset);
  if (!flags.json) io.err(`dataset ${dataset.datasetId}: ${dataset.rows} rows, columns ${dataset.columns.join(', ')}\n`);
  return { ...common, datasetId: dataset.datasetId, target: flags.target };
}

/** An upload the service checked and found INVALID: the dataset failed (exit 1). */
class DatasetRejected extends Error {
  constructor(readonly dataset: Dataset) {
    super(`dataset ${datasetText(dataset)}`);
  }
}

async function modelsCommand(client: () => RegressionJobsClient, sub: string | undefined, positionals: string[], flags: Flags, io: Io): Promise<number> {
  switch (sub) {
    case 'list': {
      const limit = limitOf(flags);
      const models: Model[] = [];
      for await (const model of client().models({ pageSize: Math.min(limit, 100) })) {
        models.push(model);
        if (models.length >= limit) break;
      }
      const line = (m: Model) => `${m.modelId}  ${m.status.padEnd(8)}  ${m.kind.padEnd(6)}  job ${m.jobId}  ${m.features.join(', ')}`;
      io.out(flags.json ? `${JSON.stringify(models, null, 2)}\n` : `${models.map(line).join('\n') || '(no models)'}\n`);
      return EXIT.ok;
    }
    case 'get': {
      const model = await client().getModel(positional(positionals, 0, 'MODEL_ID'));
      io.out(flags.json ? `${JSON.stringify(model, null, 2)}\n` : `${modelText(model)}\n`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(sub ? `unknown command: models ${sub}` : 'missing command: models list|get');
  }
}

async function predictCommand(client: () => RegressionJobsClient, positionals: string[], flags: Flags, io: Io): Promise<number> {
  const modelId = positional(positionals, 0, 'MODEL_ID');
  if ((flags.x === undefined) === (flags.csv === undefined)) throw new UsageError('give exactly one of --x 1,2.5 or --csv INPUTS.csv');
  const body = flags.x !== undefined ? { x: flags.x.split(',').map((value) => number(value, 'x')) } : { inputs: csvInputs(flags.csv as string) };
  const prediction: Prediction = await client().predict(modelId, body);
  io.out(flags.json ? `${JSON.stringify(prediction, null, 2)}\n` : `${prediction.predictions.map(fmt).join('\n')}\n`);
  return EXIT.ok;
}

async function datasetsCommand(client: () => RegressionJobsClient, sub: string | undefined, positionals: string[], flags: Flags, io: Io): Promise<number> {
  switch (sub) {
    case 'upload': {
      const file = readable(positional(positionals, 0, 'FILE'));
      const dataset = await uploadFile(client(), file, flags, io);
      io.out(flags.json ? `${JSON.stringify(dataset, null, 2)}\n` : `${datasetText(dataset)}\n`);
      return dataset.status === 'READY' ? EXIT.ok : EXIT.failed;
    }
    case 'get': {
      const dataset = await client().getDataset(positional(positionals, 0, 'DATASET_ID'));
      io.out(flags.json ? `${JSON.stringify(dataset, null, 2)}\n` : `${datasetText(dataset)}\n`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(sub ? `unknown command: datasets ${sub}` : 'missing command: datasets upload|get');
  }
}

/** Runs one command line; answers the exit code. Never throws for a user's error. */
export async function run(args: string[], io: Io): Promise<number> {
  let flags: Flags | undefined;
  try {
    const parsed = parse(args);
    flags = parsed.values;
    const [group, sub, ...rest] = parsed.positionals;
    if (flags.help || group === undefined || group === 'help') {
      io.out(`${USAGE}\n`);
      return group === undefined && !flags.help ? EXIT.usage : EXIT.ok;
    }
    const values = flags;
    const client = () => clientFrom(values, io);
    switch (group) {
      case 'jobs':
        return await jobsCommand(client, sub, rest, flags, io);
      case 'models':
        return await modelsCommand(client, sub, rest, flags, io);
      case 'predict':
        return await predictCommand(
          client,
          [sub, ...rest].filter((value): value is string => value !== undefined),
          flags,
          io,
        );
      case 'datasets':
        return await datasetsCommand(client, sub, rest, flags, io);
      default:
        throw new UsageError(`unknown command: ${group}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`rj: ${error.message} (rj --help)\n`);
      return EXIT.usage;
    }
    if (error instanceof DatasetRejected) {
      io.err(`rj: ${error.message}\n`);
      return EXIT.failed;
    }
    if (error instanceof ApiError) {
      const details = error.details?.length ? `: ${error.details.map((issue) => `${issue.path} ${issue.message}`).join('; ')}` : '';
      io.err(`rj: ${error.status === 0 ? '' : `${error.status} `}${error.code}: ${error.message}${details}\n`);
      return EXIT.api;
    }
    if (io.signal?.aborted) {
      io.err('rj: interrupted\n');
      return EXIT.interrupted;
    }
    // A bug, not a user's error: still one line, with what it was.
    io.err(`rj: unexpected error: ${(error as Error).message}\n`);
    return EXIT.api;
  }
}

export { TERMINAL_STATUSES };

/** The process around `run`: real streams, and Ctrl-C that stops waiting (a second one exits at once). */
export async function main(): Promise<void> {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort(new Error('interrupted'));
    process.once('SIGINT', () => process.exit(EXIT.interrupted));
  });
  const code = await run(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  });
  process.exitCode = code;
  // Nothing should be left running; if a socket lingers, do not keep the terminal waiting for it.
  setTimeout(() => process.exit(code), 2_000).unref();
}
