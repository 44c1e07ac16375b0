/**
 * The "done when" of the large-datasets issue: a 10^7-row CSV trains end to end on
 * the offline stack, and the coefficients agree with scikit-learn's on the same file.
 *
 *   npm start                                          # in another terminal; prints the dev API key
 *   API_KEY=rj_… npx tsx bench/e2e-large.ts [--rows 10000000] [--api http://127.0.0.1:4000]
 *
 * Steps, each timed: generate the file (bench/data/, values rounded to 4 decimals so
 * 10^7 rows stay under the 1 GB upload limit), POST /datasets, upload it with the
 * presigned POST (streamed from disk), wait for READY, train LINEAR, RIDGE and LASSO
 * jobs on it, read the models, fit scikit-learn on the same file, compare.
 */
import { execFileSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDataset } from './dataset.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    api: { type: 'string', default: process.env.API_URL ?? 'http://127.0.0.1:4000' },
    'timeout-minutes': { type: 'string', default: '30' },
  },
});
const apiKey = process.env.API_KEY;
if (!apiKey) throw new Error('set API_KEY to a key of the running stack (npm start prints one)');
const api = values.api.replace(/\/$/, '');
const deadline = Date.now() + Number(values['timeout-minutes']) * 60_000;
const ALPHA = { LINEAR: undefined, RIDGE: 1.0, LASSO: 0.1 } as const;
type Kind = keyof typeof ALPHA;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Polls until `done` answers a value; fails at the run's deadline. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const rows = Number(values.rows);
  let started = performance.now();
  const { path, bytes } = await ensureDataset({ rows, features: 10, seed: 7, decimals: 4 });
  console.log(`file: ${rows.toLocaleString('en')} rows, ${(bytes / 1e6).toFixed(0)} MB (${path}) ready in ${seconds(started)}`);

  started = performance.now();
  const dataset = await call<{ datasetId: string; uploadUrl: string; fields: Record<string, string> }>('POST', '/datasets', { name: `e2e-large ${rows}` });
  const form = new FormData();
  for (const [name, value] of Object.entries(dataset.fields)) form.append(name, value);
  // Streamed from disk: the file is never held in memory.
  form.append('file', await openAsBlob(path, { type: 'text/csv' }), 'data.csv');
  const upload = await fetch(dataset.uploadUrl, { method: 'POST', body: form });
  if (!upload.ok) throw new Error(`upload: ${upload.status} ${await upload.text()}`);
  console.log(`upload (presigned POST): ${seconds(started)}, ${(bytes / 1e6 / ((performance.now() - started) / 1000)).toFixed(0)} MB/s`);

  started = performance.now();
  const validated = await until('validation', async () => {
    const view = await call<{ status: string; rows: number | null; error: unknown }>('GET', `/datasets/${dataset.datasetId}`);
    return view.status === 'READY' || view.status === 'INVALID' ? view : undefined;
  });
  if (validated.status !== 'READY') throw new Error(`dataset is ${validated.status}: ${JSON.stringify(validated.error)}`);
  console.log(`validation: READY with ${validated.rows} rows after ${seconds(started)}`);

  const models: Partial<Record<Kind, { coefficients: number[]; intercept: number }>> = {};
  for (const kind of Object.keys(ALPHA) as Kind[]) {
    started = performance.now();
    const job = await call<{ jobId: string; modelId: string }>('POST', '/jobs', {
      kind,
      datasetId: dataset.datasetId,
      target: 'y',
      ...(ALPHA[kind] === undefined ? {} : { alpha: ALPHA[kind] }),
    });
    const finished = await until(`${kind} job`, async () => {
      const view = await call<{ status: string; error: unknown }>('GET', `/jobs/${job.jobId}`);
      return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(view.status) ? view : undefined;
    });
    if (finished.status !== 'COMPLETED') throw new Error(`${kind} job ${finished.status}: ${JSON.stringify(finished.error)}`);
    models[kind] = await call<{ coefficients: number[]; intercept: number }>('GET', `/models/${job.modelId}`);
    console.log(
      `${kind.padEnd(6)} job: COMPLETED in ${seconds(started)} (${(rows / ((performance.now() - started) / 1000) / 1e6).toFixed(2)} M rows/s end to end)`,
    );
  }

  started = performance.now();
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const script = fileURLToPath(new URL('./sklearn_compare.py', import.meta.url));
  const reference = JSON.parse(
    execFileSync('/usr/bin/python3', [script, path, '--target', 'y', '--ridge-alpha', String(ALPHA.RIDGE), '--lasso-alpha', String(ALPHA.LASSO)], {
      encoding: 'utf8',
      env,
      maxBuffer: 1 << 24,
    }),
  ) as { readSeconds: number; fits: Record<Kind, { seconds: number; coefficients: number[]; intercept: number }> };
  console.log(`scikit-learn: read_csv ${reference.readSeconds.toFixed(1)} s, total ${seconds(started)}`);

  let worst = 0;
  for (const kind of Object.keys(ALPHA) as Kind[]) {
    const ours = models[kind]!;
    const theirs = reference.fits[kind];
    const pairs: [number, number][] = [
      [ours.intercept, theirs.intercept],
      ...ours.coefficients.map((value, j): [number, number] => [value, theirs.coefficients[j]!]),
    ];
    const difference = Math.max(...pairs.map(([a, b]) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12)));
    const tolerance = kind === 'LASSO' ? 1e-4 : 1e-6;
    worst = Math.max(worst, difference / tolerance);
    console.log(`${kind.padEnd(6)} max relative difference vs scikit-learn: ${difference.toExponential(2)} (docs/design.md: ${tolerance})`);
  }
  if (worst > 1) throw new Error('coefficients disagree with scikit-learn beyond the tolerance of docs/design.md (Numerics)');
  console.log('OK: trained end to end on the local stack, coefficients agree with scikit-learn');
}

await main();
