/**
 * The dataset scan (docs/design.md, "The dataset scan"), measured on the offline stack:
 *
 *   npx tsx bench/scan.ts [--rows 10000000] [--ranges 8] [--concurrency 1,2,4] [--jobs 100]
 *
 * 1. Today's single pass, in this process: the file streamed from disk through the
 *    CSV reader alone (what validation did before the scan), then through the reader
 *    and an accumulator of every column (what one scan child does per range).
 * 2. For each concurrency: an offline stack synthesized with that `scanConcurrency`
 *    and ranges of size/`--ranges` bytes, the file uploaded, then the time from the
 *    end of the upload to READY (plan, children, merge, status write).
 * 3. On the last stack's READY dataset: `--jobs` jobs (RIDGE, LASSO and LINEAR over
 *    every target, alphas spread over 1e-3..1e2) at most 20 at a time (the active-job
 *    limit), then one job with `alphas` of 100 values; and LINEAR, RIDGE (1) and LASSO
 *    (0.1) on y compared with scikit-learn fitted on the same file.
 * The load average is printed beside the figures: the machine is shared.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, openAsBlob } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NumericCsvReader } from '#domain/csv.js';
import { RangeScan } from '#domain/range-scan.js';
import { startLocalStack } from '../local/stack.js';
import { ensureDataset } from './dataset.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    ranges: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '1,2,4' },
    jobs: { type: 'string', default: '100' },
  },
});
const load = () =>
  `load ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function timeSinglePass(path: string, accumulate: boolean): Promise<number> {
  const started = performance.now();
  if (accumulate) {
    const scan = new RangeScan({ index: 0, start: 0, end: Number.MAX_SAFE_INTEGER }, { maxColumns: 1000 });
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 })) scan.push(chunk as Buffer, 0);
    const partial = scan.finish();
    if (partial.error) throw new Error(JSON.stringify(partial.error));
  } else {
    const reader = new NumericCsvReader({ header: () => undefined, row: () => undefined }, { maxColumns: 1000 });
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 })) reader.push(chunk as Buffer);
    reader.end();
  }
  return performance.now() - started;
}

/**
 * Calls the stack's API with its dev key. On a loaded machine a function's first start can pass the offline
 * Lambda's INIT limit (a 5xx): the call is repeated, with an Idempotency-Key so a repeated POST /jobs is one job.
 */
function caller(stack: { restUrl: string; apiKey: string }) {
  return async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const idempotencyKey = crypto.randomUUID();
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(`${stack.restUrl}${route}`, {
        method,
        headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (response.ok) return JSON.parse(text) as T;
      // 409 IDEMPOTENCY_IN_PROGRESS: the first try is still being served; 429: wait as the server says.
      const again = response.status >= 500 || response.status === 429 || text.includes('IDEMPOTENCY_IN_PROGRESS');
      if (!again || attempt === 8) throw new Error(`${method} ${route}: ${response.status} ${text}`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  };
}

async function main(): Promise<void> {
  const rows = Number(values.rows);
  const { path, bytes } = await ensureDataset({ rows, features: 10, seed: 7, decimals: 4 });
  const mb = bytes / 1e6;
  console.log(`file: ${rows.toLocaleString('en')} rows x 11 columns, ${mb.toFixed(0)} MB (${path}); ${load()}`);

  const validateMs = await timeSinglePass(path, false);
  console.log(`single pass, reader only (validation before the scan): ${seconds(validateMs)}, ${(mb / (validateMs / 1000)).toFixed(0)} MB/s; ${load()}`);
  const reduceMs = await timeSinglePass(path, true);
  console.log(
    `single pass, reader + statistics of all columns (one child's work): ${seconds(reduceMs)}, ${(mb / (reduceMs / 1000)).toFixed(0)} MB/s; ${load()}`,
  );

  const concurrencies = values.concurrency.split(',').map(Number);
  const rangeBytes = Math.ceil(bytes / Number(values.ranges));
  let last: { stack: Awaited<ReturnType<typeof startLocalStack>>; datasetId: string } | undefined;
  for (const [i, concurrency] of concurrencies.entries()) {
    process.env.CDK_CONTEXT_JSON = JSON.stringify({ scanConcurrency: concurrency, scanRangeBytes: rangeBytes });
    const stack = await startLocalStack({ port: 0, wsPort: 0, quiet: true });
    const call = caller(stack);
    try {
      const dataset = await call<{ datasetId: string; uploadUrl: string; fields: Record<string, string> }>('POST', '/datasets', { name: 'scan bench' });
      const form = new FormData();
      for (const [name, value] of Object.entries(dataset.fields)) form.append(name, value);
      form.append('file', await openAsBlob(path, { type: 'text/csv' }), 'data.csv');
      const upload = await fetch(dataset.uploadUrl, { method: 'POST', body: form });
      if (!upload.ok) throw new Error(`upload: ${upload.status} ${await upload.text()}`);
      const started = performance.now();
      let view: { status: string; rows: number | null; error: unknown };
      for (;;) {
        view = await call('GET', `/datasets/${dataset.datasetId}`);
        if (view.status === 'READY' || view.status === 'INVALID') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const scanMs = performance.now() - started;
      if (view.status !== 'READY' || view.rows !== rows) throw new Error(`scan: ${view.status} ${view.rows} rows ${JSON.stringify(view.error)}`);
      console.log(
        `scan, ${values.ranges} ranges, MaxConcurrency ${concurrency}: READY in ${seconds(scanMs)}, ${(mb / (scanMs / 1000)).toFixed(0)} MB/s ` +
          `(${(validateMs / scanMs).toFixed(2)}x the reader-only single pass, ${(reduceMs / scanMs).toFixed(2)}x reader + statistics); ${load()}`,
      );
      if (i === concurrencies.length - 1) last = { stack, datasetId: dataset.datasetId };
      else await stack.stop();
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }
  if (!last) return;
  const { stack, datasetId } = last;
  try {
    const call = caller(stack);
    const finished = async (jobId: string) => {
      for (;;) {
        const job = await call<{ status: string; error: unknown; modelIds: string[] }>('GET', `/jobs/${jobId}`);
        if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const targets = ['y', ...Array.from({ length: 10 }, (_, j) => `x${j}`)];
    const kinds = ['RIDGE', 'LASSO', 'LINEAR'] as const;
    const bodies = Array.from({ length: Number(values.jobs) }, (_, i) => {
      const kind = kinds[i % 3]!;
      const alpha = 10 ** (-3 + (5 * i) / Number(values.jobs));
      return { kind, datasetId, target: targets[i % targets.length], ...(kind === 'LINEAR' ? {} : { alpha: kind === 'LASSO' ? alpha / 100 : alpha }) };
    });
    let started = performance.now();
    let failed = 0;
    for (let first = 0; first < bodies.length; first += 20) {
      const wave = await Promise.all(bodies.slice(first, first + 20).map((body) => call<{ jobId: string }>('POST', '/jobs', body)));
      for (const job of await Promise.all(wave.map((each) => finished(each.jobId)))) if (job.status !== 'COMPLETED') failed++;
    }
    const jobsMs = performance.now() - started;
    console.log(`${bodies.length} jobs (3 kinds, 11 targets, alphas 1e-5..1e2), 20 at a time: ${seconds(jobsMs)}, ${failed} not COMPLETED; ${load()}`);

    started = performance.now();
    const alphas = Array.from({ length: 100 }, (_, i) => 10 ** (-3 + (5 * i) / 99));
    const path100 = await call<{ jobId: string }>('POST', '/jobs', { kind: 'RIDGE', alphas, datasetId, target: 'y' });
    const pathJob = await finished(path100.jobId);
    console.log(`1 job with alphas of 100 values: ${pathJob.status}, ${pathJob.modelIds.length} models in ${seconds(performance.now() - started)}; ${load()}`);

    const ALPHA = { LINEAR: undefined, RIDGE: 1.0, LASSO: 0.1 } as const;
    const ours: Record<string, { coefficients: number[]; intercept: number }> = {};
    for (const kind of Object.keys(ALPHA) as (keyof typeof ALPHA)[]) {
      const job = await call<{ jobId: string; modelId: string }>('POST', '/jobs', {
        kind,
        datasetId,
        target: 'y',
        ...(ALPHA[kind] === undefined ? {} : { alpha: ALPHA[kind] }),
      });
      await finished(job.jobId);
      ours[kind] = await call('GET', `/models/${job.modelId}`);
    }
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const script = fileURLToPath(new URL('./sklearn_compare.py', import.meta.url));
    const reference = JSON.parse(
      execFileSync('/usr/bin/python3', [script, path, '--target', 'y', '--ridge-alpha', '1', '--lasso-alpha', '0.1'], {
        encoding: 'utf8',
        env,
        maxBuffer: 1 << 24,
      }),
    ) as { fits: Record<string, { coefficients: number[]; intercept: number }> };
    for (const kind of Object.keys(ALPHA)) {
      const a = ours[kind]!;
      const b = reference.fits[kind]!;
      const pairs: [number, number][] = [[a.intercept, b.intercept], ...a.coefficients.map((value, j): [number, number] => [value, b.coefficients[j]!])];
      const difference = Math.max(...pairs.map(([x, y]) => Math.abs(x - y) / Math.max(Math.abs(y), 1e-12)));
      console.log(
        `${kind.padEnd(6)} from statistics vs scikit-learn: max relative difference ${difference.toExponential(2)} (docs/design.md: ${kind === 'LASSO' ? '1e-4' : '1e-6'})`,
      );
    }
  } finally {
    await stack.stop();
  }
}

await main();
