import { existsSync, openAsBlob, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  ApiError,
  type ColumnSchema,
  type CreateJobRequest,
  type Dataset,
  type DecimalSeparator,
  type Delimiter,
  type Job,
  type Model,
  type Prediction,
  type PredictRow,
  RegressionJobsClient,
  TERMINAL_STATUSES,
  type UploadProgress,
} from './index.js';

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
                 [--features A,B] [--missing drop|error] [--delimiter D] [--decimal S]
                 [--name NAME] [--no-intercept] [--idempotency-key KEY] [--wait]
  rj jobs list [--status STATUS] [--limit N]
  rj jobs get JOB_ID
  rj jobs cancel JOB_ID
  rj jobs watch JOB_ID
  rj models list [--limit N]
  rj models get MODEL_ID
  rj predict MODEL_ID (--x 1,2.5 | --csv INPUTS.csv | --rows '[{"COLUMN":VALUE,…}]' | --rows ROWS.json)
  rj datasets upload FILE [--name NAME] [--delimiter D] [--decimal S] [--resume DATASET_ID]
  rj datasets get DATASET_ID

  --features A,B   the columns the model uses (number and category columns; default: all but the target)
  --missing M      drop (default): leave out rows with a missing value; error: refuse the job if there are any
  --delimiter D    the CSV's delimiter: , ; | or tab (also \\t); default ,
  --decimal S      the numbers' decimal separator: . or , (default .)
  --rows R         rows by column name, as JSON (an array of objects, or one) or a JSON file

options:
  --api-url URL    the REST API (RJ_API_URL; default: the running offline stack, npm start)
  --ws-url URL     the WebSocket API (RJ_WS_URL; without one, --wait and watch poll)
  --api-key KEY    an API key (RJ_API_KEY; default: the offline stack's dev key)
  --json           machine-readable output on stdout
  -h, --help       this text

exit codes: 0 ok, 1 job or dataset failed, 2 usage, 3 API error, 130 interrupted (the job keeps running)`;

/** A user's mistake on the command line: one line on stderr, exit 2. */
export class UsageError extends Error {}

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
  delimiter: { type: 'string' },
  decimal: { type: 'string' },
  features: { type: 'string' },
  missing: { type: 'string' },
  rows: { type: 'string' },
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

const DELIMITERS: Record<string, Delimiter> = { ',': ',', ';': ';', '|': '|', '\t': '\t', '\\t': '\t', tab: '\t', comma: ',', semicolon: ';', pipe: '|' };

/** `--delimiter`: `,` `;` `|`, or a tab as `tab`, `\t` (as typed) or the character itself. */
export function parseDelimiter(text: string): Delimiter {
  const key = Object.hasOwn(DELIMITERS, text) ? text : text.toLowerCase();
  const delimiter = Object.hasOwn(DELIMITERS, key) ? DELIMITERS[key] : undefined;
  if (delimiter === undefined) throw new UsageError(`--delimiter must be one of , ; | tab, not ${JSON.stringify(text)}`);
  return delimiter;
}

/** `--decimal`: `.` or `,`. */
export function parseDecimal(text: string): DecimalSeparator {
  if (text === '.' || text === ',') return text;
  throw new UsageError(`--decimal must be . or , not ${JSON.stringify(text)}`);
}

/** `--features a,b`: the names, trimmed (a name cannot contain a comma here; the JSON API takes any). */
export function parseFeatures(text: string): string[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new UsageError('--features needs at least one column name');
  return names;
}

/** `--missing drop|error`. */
export function parseMissing(text: string): 'drop' | 'error' {
  const missing = text.toLowerCase();
  if (missing === 'drop' || missing === 'error') return missing;
  throw new UsageError(`--missing must be drop or error, not ${JSON.stringify(text)}`);
}

/** The CSV format flags of an upload, as the client takes them (absent flags: the server's defaults). */
function formatOf(flags: Flags): { delimiter?: Delimiter; decimal?: DecimalSeparator } {
  return {
    ...(flags.delimiter === undefined ? {} : { delimiter: parseDelimiter(flags.delimiter) }),
    ...(flags.decimal === undefined ? {} : { decimal: parseDecimal(flags.decimal) }),
  };
}

/**
 * `--rows`: JSON (text starting with `[` or `{`), or the path of a JSON file; an array of objects by column name, or
 * one object. Values must be numbers or strings; which columns and levels the model wants is the server's to say.
 */
export function parseRows(text: string, read: (file: string) => string = (file) => readFileSync(readable(file), 'utf8')): PredictRow[] {
  const inline = /^\s*[[{]/.test(text);
  const where = inline ? '--rows' : text;
  let value: unknown;
  try {
    value = JSON.parse(inline ? text : read(text));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${where}: not JSON`);
  }
  const rows = Array.isArray(value) ? value : [value];
  if (rows.length === 0) throw new UsageError(`${where}: no rows`);
  rows.forEach((row, index) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new UsageError(`${where}: row ${index + 1} is not an object of column: value`);
    for (const [column, cell] of Object.entries(row)) {
      if (typeof cell !== 'number' && typeof cell !== 'string') {
        throw new UsageError(`${where}: row ${index + 1}, ${JSON.stringify(column)} must be a number or a string, not ${JSON.stringify(cell)}`);
      }
    }
  });
  return rows as PredictRow[];
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

/** A name or level as the terminal should show it: control characters (and an empty string) written as JSON would. */
const printable = (text: string) => (text === '' || /\p{Cc}/u.test(text) ? JSON.stringify(text) : text);

/** A job's fitted model: each coefficient by name (R's, e.g. Speciesversicolor), metrics, dropped rows and levels. */
export function modelText(model: Model): string {
  const lines = [`model ${model.modelId}  ${model.status}  ${model.kind}${model.alpha === null ? '' : ` alpha=${fmt(model.alpha)}`}`];
  if (model.status === 'TRAINED') {
    const width = Math.max(9, ...model.features.map((name) => printable(name).length));
    lines.push(`  ${'intercept'.padEnd(width)}  ${model.intercept === null ? '(none)' : fmt(model.intercept)}`);
    model.features.forEach((name, index) => {
      lines.push(`  ${printable(name).padEnd(width)}  ${fmt(model.coefficients[index] as number)}`);
    });
    if (model.metrics) lines.push(`  n=${model.metrics.n}  r2=${fmt(model.metrics.r2)}  rmse=${fmt(model.metrics.rmse)}`);
    if (model.rowsDropped !== null && model.rowsDropped !== undefined) lines.push(`  rows dropped: ${model.rowsDropped}`);
    // What a prediction by --rows names, when it is not the coefficients' names (a category is one column, several coefficients).
    const columns = model.columns ?? [];
    if (columns.length > 0 && columns.join('\u0000') !== model.features.join('\u0000')) lines.push(`  columns: ${columns.map(printable).join(', ')}`);
    for (const [column, levels] of Object.entries(model.levels ?? {})) {
      const [reference, ...others] = levels.map(printable);
      lines.push(`  levels of ${printable(column)}: ${[reference === undefined ? '' : `${reference} (reference)`, ...others].join(', ')}`);
    }
  }
  return lines.join('\n');
}

export function datasetText(dataset: Dataset): string {
  const error = dataset.error
    ? `  ${dataset.error.code}: ${dataset.error.message}${dataset.error.line ? ` (line ${dataset.error.line}${dataset.error.column ? `, column ${dataset.error.column}` : ''})` : ''}`
    : '';
  const shape = dataset.rows === null ? '' : `  ${dataset.rows} rows  columns: ${dataset.columns.join(', ')}`;
  return `${dataset.datasetId}  ${dataset.status}${shape}${error}`;
}

/** How many levels of a category `rj datasets get` shows before `… (N levels)`. */
const LEVELS_SHOWN = 5;

const delimiterName = (delimiter: Delimiter) => (delimiter === '\t' ? 'tab' : delimiter);

/** The dataset's format when it is not the default (`,` and `.`), else undefined. */
export function formatText(dataset: Pick<Dataset, 'format'>): string | undefined {
  const format = dataset.format;
  if (!format || (format.delimiter === ',' && format.decimal === '.')) return undefined;
  return `format: delimiter ${delimiterName(format.delimiter)}  decimal ${format.decimal}`;
}

/** A category's levels, the first few then `… (N levels)` when there are more. */
export function levelsText(column: Pick<ColumnSchema, 'levels' | 'levelCount'>): string {
  if (!column.levels) return '';
  const count = column.levelCount ?? column.levels.length;
  const shown = column.levels.slice(0, LEVELS_SHOWN).map((level) => printable(level.value));
  return count > shown.length ? `${shown.join(', ')}, … (${count} levels)` : shown.join(', ');
}

/** A READY dataset's schema as an aligned table: name, type, missing, levels. Empty before READY. */
export function schemaTable(schema: Dataset['schema']): string {
  if (!schema || schema.length === 0) return '';
  const rows = [
    ['name', 'type', 'missing', 'levels'],
    ...schema.map((column) => [printable(column.name), column.type, String(column.missing), levelsText(column)]),
  ];
  const widths = [0, 1, 2].map((index) => Math.max(...rows.map((row) => (row[index] as string).length)));
  return rows
    .map((row) => {
      const [name, type, missing, levels] = row as [string, string, string, string];
      return `  ${name.padEnd(widths[0] as number)}  ${type.padEnd(widths[1] as number)}  ${missing.padStart(widths[2] as number)}  ${levels}`.trimEnd();
    })
    .join('\n');
}

/** `rj datasets get` (and upload): the dataset's line, its format when not the default, and its schema. */
export function datasetDetails(dataset: Dataset): string {
  return [datasetText(dataset), formatText(dataset), schemaTable(dataset.schema)].filter((part) => part !== undefined && part !== '').join('\n');
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
      ...formatOf(flags),
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

async function jobRequest(client: () => RegressionJobsClient, flags: Flags, io: Io): Promise<CreateJobRequest> {
  const kind = flags.kind?.toUpperCase();
  if (!kind) throw new UsageError('--kind is required (LINEAR, RIDGE or LASSO)');
  const sources = [flags.csv, flags.dataset, flags.data].filter((source) => source !== undefined).length;
  if (sources !== 1) throw new UsageError('give exactly one of --csv FILE, --dataset ID or --data FILE.json');
  if (flags.csv === undefined && (flags.delimiter !== undefined || flags.decimal !== undefined)) {
    throw new UsageError('--delimiter and --decimal describe the file of --csv (a dataset keeps the format it was uploaded with)');
  }
  if (flags.data !== undefined && (flags.features !== undefined || flags.missing !== undefined)) {
    throw new UsageError('--features and --missing go with --csv or --dataset, not --data');
  }
  const columns = {
    ...(flags.features === undefined ? {} : { features: parseFeatures(flags.features) }),
    ...(flags.missing === undefined ? {} : { missing: parseMissing(flags.missing) }),
  };
  // Checked before an upload, so a bad flag costs nothing.
  formatOf(flags);
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
  if (flags.dataset !== undefined) return { ...common, datasetId: flags.dataset, target: flags.target, ...columns };
  const file = readable(flags.csv as string);
  if (!flags.json) io.err(`uploading ${file}…\n`);
  const dataset = await uploadFile(client(), file, flags, io);
  if (dataset.status !== 'READY') throw new DatasetRejected(dataset);
  if (!flags.json) io.err(`dataset ${dataset.datasetId}: ${dataset.rows} rows, columns ${dataset.columns.join(', ')}\n`);
  return { ...common, datasetId: dataset.datasetId, target: flags.target, ...columns };
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
  if ([flags.x, flags.csv, flags.rows].filter((input) => input !== undefined).length !== 1) {
    throw new UsageError('give exactly one of --x 1,2.5, --csv INPUTS.csv or --rows JSON');
  }
  const prediction: Prediction =
    flags.rows !== undefined
      ? await client().predictRows(modelId, parseRows(flags.rows))
      : await client().predict(
          modelId,
          flags.x !== undefined ? { x: flags.x.split(',').map((value) => number(value, 'x')) } : { inputs: csvInputs(flags.csv as string) },
        );
  io.out(flags.json ? `${JSON.stringify(prediction, null, 2)}\n` : `${prediction.predictions.map(fmt).join('\n')}\n`);
  return EXIT.ok;
}

async function datasetsCommand(client: () => RegressionJobsClient, sub: string | undefined, positionals: string[], flags: Flags, io: Io): Promise<number> {
  switch (sub) {
    case 'upload': {
      const file = readable(positional(positionals, 0, 'FILE'));
      formatOf(flags);
      const dataset = await uploadFile(client(), file, flags, io);
      io.out(flags.json ? `${JSON.stringify(dataset, null, 2)}\n` : `${datasetDetails(dataset)}\n`);
      return dataset.status === 'READY' ? EXIT.ok : EXIT.failed;
    }
    case 'get': {
      const dataset = await client().getDataset(positional(positionals, 0, 'DATASET_ID'));
      io.out(flags.json ? `${JSON.stringify(dataset, null, 2)}\n` : `${datasetDetails(dataset)}\n`);
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
