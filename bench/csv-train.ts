/**
 * Training throughput from CSV files, beside pandas + scikit-learn on the same files.
 *
 *   npx tsx bench/csv-train.ts                 10^5 and 10^6 rows x 10 features
 *   npx tsx bench/csv-train.ts --large         also 10^7 rows (~2.2 GB of CSV; minutes)
 *   npx tsx bench/csv-train.ts --rows 200000   any sizes, comma-separated
 *
 * For each file it measures, each in its own child process so peak RSS (maxRSS) is
 * that run's alone:
 *   - csv:    the training path: file stream in 256 KiB chunks, the size pandas' C
 *             reader reads a file in -> NumericCsvReader -> RegressionAccumulator, then
 *             fitModel per kind; and the same in 64 KiB chunks, Node's default for a file
 *             stream, since each chunk costs a round trip to libuv's thread pool (about
 *             40 us here) that the parse never sees;
 *   - memory: the engine alone: the same rows already in Float64Arrays -> addRows -> fit;
 *   - memory on two threads: the same, the rows in two halves folded at once, one by a
 *             worker thread started beforehand, and their statistics merged
 *             (mergeStatistics) before each fit: how the dataset scan reduces a file's
 *             ranges apart and merges them (docs/design.md, "The dataset scan"), and the
 *             like-for-like comparison with scikit-learn, whose BLAS uses both cores;
 *   - sklearn: pandas.read_csv, then LinearRegression / Ridge / Lasso fit (bench/sklearn_compare.py);
 * from CSV each side runs once, as a user's script would; in memory each side runs
 * MEMORY_ROUNDS times on the same matrix and its median run is compared;
 * and prints rows/s, peak RSS, the time ratios (wall and CPU: on a shared machine CPU
 * time is the steadier measure) with the load average, and the coefficient agreement.
 * Files are generated once, seeded, under bench/data/ (gitignored).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { NumericCsvReader } from '#domain/csv.js';
import { TrainingSink } from '#domain/datasets.js';
import { type FitSpec, type FittedModel, fitModel, type ModelKind, RegressionAccumulator } from '#domain/regression.js';
import { type ColumnStatistics, fitStatistics, mergeStatistics, statisticsOfState } from '#domain/statistics.js';
import { ensureDataset } from './dataset.js';

const FEATURES = 10;
const SEED = 42;
const KINDS: readonly ModelKind[] = ['LINEAR', 'RIDGE', 'LASSO'];
const ALPHA: Record<ModelKind, number> = { LINEAR: 0, RIDGE: 1.0, LASSO: 0.1 };
const KiB = 1024;
/** The file stream's chunk sizes: the size pandas' C reader reads in (the like-for-like figure), and Node's default for files. */
const CHUNKS = [256 * KiB, 64 * KiB] as const;

interface Fit {
  seconds: number;
  /** CPU time of the process (all its threads) over the same span. */
  cpuSeconds: number;
  coefficients: number[];
  intercept: number;
}

interface NodeRun {
  rows: number;
  /** The one pass: read + parse + accumulate (csv), or accumulate alone (memory). */
  passSeconds: number;
  passCpuSeconds: number;
  fits: Record<ModelKind, Fit>;
  maxRssMB: number;
}

interface SklearnRun {
  rows: number;
  readSeconds: number;
  readCpuSeconds: number;
  /** Each model's first fit, and as `warm` its median over MEMORY_ROUNDS fits of the same matrix. */
  fits: Record<ModelKind, Fit & { warm: { seconds: number; cpuSeconds: number } }>;
  maxRssMB: number;
  versions: Record<string, string>;
}

function fitAll(fitOne: (spec: FitSpec) => FittedModel): Record<ModelKind, Fit> {
  const fits = {} as Record<ModelKind, Fit>;
  for (const kind of KINDS) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const model = fitOne({ kind, alpha: ALPHA[kind], fitIntercept: true });
    fits[kind] = { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpu), coefficients: model.coefficients, intercept: model.intercept };
  }
  return fits;
}

const cpuSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

const maxRssMB = () => process.resourceUsage().maxRSS / 1024;

/** Child: the training path from the CSV file. */
async function csvChild(path: string, chunk: number): Promise<NodeRun> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let sink: TrainingSink | undefined;
  const reader = new NumericCsvReader(
    {
      header: (columns) => (sink = new TrainingSink(columns, 'y', true)),
      row: (values) => sink!.row(values),
      rowBlock: (columns, stride, count) => sink!.rowBlock(columns, stride, count),
    },
    { maxColumns: 1000 },
  );
  for await (const bytes of createReadStream(path, { highWaterMark: chunk })) reader.push(bytes as Buffer);
  const { rows } = reader.end();
  const passSeconds = (performance.now() - started) / 1000;
  return { rows, passSeconds, passCpuSeconds: cpuSince(cpu), fits: fitAll((spec) => fitModel(sink!.accumulator, spec)), maxRssMB: maxRssMB() };
}

/** The file's rows in memory, x row after row and y (reading them is never timed). */
async function loadRows(path: string): Promise<{ x: Float64Array; y: Float64Array }> {
  let x = new Float64Array(1 << 20);
  let y = new Float64Array(1 << 17);
  let n = 0;
  const reader = new NumericCsvReader(
    {
      header: () => undefined,
      row: (values) => {
        if ((n + 1) * FEATURES > x.length) {
          const grownX = new Float64Array(x.length * 2);
          grownX.set(x);
          x = grownX;
          const grownY = new Float64Array(y.length * 2);
          grownY.set(y);
          y = grownY;
        }
        x.set(values.subarray(0, FEATURES), n * FEATURES);
        y[n++] = values[FEATURES]!;
      },
    },
    { maxColumns: 1000 },
  );
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNKS[0] })) reader.push(chunk as Buffer);
  reader.end();
  return { x: x.subarray(0, n * FEATURES), y: y.subarray(0, n) };
}

/** Runs of the engine in memory, on each side: the median is reported, so neither pays for a first, cold run alone. */
const MEMORY_ROUNDS = 5;

/** Times `run` MEMORY_ROUNDS times: the median run (by wall time), its CPU time (all threads) and result. */
async function medianRound<T>(run: () => T | Promise<T>): Promise<{ seconds: number; cpuSeconds: number; result: T }> {
  const rounds: { seconds: number; cpuSeconds: number; result: T }[] = [];
  for (let round = 0; round < MEMORY_ROUNDS; round++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = await run();
    rounds.push({ seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpu), result });
  }
  return rounds.sort((a, b) => a.seconds - b.seconds)[MEMORY_ROUNDS >> 1]!;
}

/** Child: the engine alone, on rows already in memory. */
async function memoryChild(path: string): Promise<NodeRun> {
  const { x, y } = await loadRows(path);
  const {
    seconds,
    cpuSeconds,
    result: accumulator,
  } = await medianRound(() => {
    const accumulator = new RegressionAccumulator(FEATURES, true);
    accumulator.addRows(x, y);
    return accumulator;
  });
  return {
    rows: y.length,
    passSeconds: seconds,
    passCpuSeconds: cpuSeconds,
    fits: fitAll((spec) => fitModel(accumulator, spec)),
    maxRssMB: maxRssMB(),
  };
}

/** The statistics of rows (x row after row), every column with y last, as one range of the dataset scan reduces them. */
function statisticsOf(x: Float64Array, y: Float64Array): ColumnStatistics {
  const accumulator = new RegressionAccumulator(FEATURES, true);
  accumulator.addRows(x, y);
  return statisticsOfState(accumulator.state());
}

/** A row range of the shared rows, for the worker to reduce. */
interface Half {
  from: number;
  to: number;
}

/** Worker thread of the two-thread child: reduces the ranges it is sent of the rows it shares with its parent. */
function foldWorker(): void {
  const { x, y } = workerData as { x: Float64Array; y: Float64Array };
  parentPort!.on('message', ({ from, to }: Half) => parentPort!.postMessage(statisticsOf(x.subarray(from * FEATURES, to * FEATURES), y.subarray(from, to))));
  parentPort!.postMessage('ready');
}

/** Child: the engine on two threads, the rows (in shared memory) in two halves reduced at once, then merged. */
async function twoThreadChild(path: string): Promise<NodeRun> {
  const rows = await loadRows(path);
  const shared = (values: Float64Array) => {
    const copy = new Float64Array(new SharedArrayBuffer(values.byteLength));
    copy.set(values);
    return copy;
  };
  const x = shared(rows.x);
  const y = shared(rows.y);
  // Started and loaded before the clock starts, as a warm function's worker would be; it has folded nothing yet.
  const worker = new Worker(self, { workerData: { x, y } });
  // events.once rejects if the worker fails while it is awaited.
  const reply = async () => (await once(worker, 'message'))[0] as unknown;
  await reply();
  const half = Math.floor(y.length / 2);
  const {
    seconds,
    cpuSeconds,
    result: statistics,
  } = await medianRound(async () => {
    const theirs = reply();
    worker.postMessage({ from: 0, to: half } satisfies Half);
    const mine = statisticsOf(x.subarray(half * FEATURES), y.subarray(half));
    return mergeStatistics((await theirs) as ColumnStatistics, mine);
  });
  await worker.terminate();
  const selection = { features: Array.from({ length: FEATURES }, (_, j) => j), target: FEATURES };
  return {
    rows: y.length,
    passSeconds: seconds,
    passCpuSeconds: cpuSeconds,
    fits: fitAll((spec) => fitStatistics(statistics, selection, spec).model),
    maxRssMB: maxRssMB(),
  };
}

const self = fileURLToPath(import.meta.url);

function runChild(mode: 'csv' | 'memory' | 'memory2' | 'baseline', path: string, chunk = CHUNKS[0]): NodeRun {
  const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', mode, path, String(chunk)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as NodeRun;
}

function runSklearn(path: string): SklearnRun {
  // Tuning variables set for another CPU would mislead OpenBLAS here: unset for this command only.
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const script = fileURLToPath(new URL('./sklearn_compare.py', import.meta.url));
  const args = [script, path, '--target', 'y', '--ridge-alpha', String(ALPHA.RIDGE), '--lasso-alpha', String(ALPHA.LASSO), '--repeat', String(MEMORY_ROUNDS)];
  const out = execFileSync('/usr/bin/python3', args, {
    encoding: 'utf8',
    env,
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out) as SklearnRun;
}

/** Largest difference over coefficients and intercept, relative to the reference value (at least 1e-12). */
function agreement(ours: Fit, reference: Fit): number {
  const pairs: [number, number][] = [
    [ours.intercept, reference.intercept],
    ...ours.coefficients.map((value, j): [number, number] => [value, reference.coefficients[j]!]),
  ];
  return Math.max(...pairs.map(([a, b]) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12)));
}

const rate = (rows: number, seconds: number) => `${(rows / seconds / 1e6).toFixed(2)} M rows/s`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, large: { type: 'boolean', default: false } } });
  const sizes = values.rows ? values.rows.split(',').map(Number) : [100_000, 1_000_000, ...(values.large ? [10_000_000] : [])];
  const cpu = cpus()[0]?.model ?? 'unknown';
  console.log(
    `# ${new Date().toISOString()}  node ${process.version}  ${cpus().length} x ${cpu}  memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} free)`,
  );
  const baseline = runChild('baseline', '');
  console.log(`node child with the modules loaded and no data: peak RSS ${baseline.maxRssMB.toFixed(0)} MB`);
  for (const rows of sizes) {
    const { path, bytes } = await ensureDataset({ rows, features: FEATURES, seed: SEED });
    console.log(
      `\n## ${rows.toLocaleString('en')} rows (load average ${loadavg()[0]!.toFixed(1)}) x ${FEATURES} features + y: ${(bytes / 1e6).toFixed(0)} MB  (${path})`,
    );
    const [csv, csvSmall] = CHUNKS.map((chunk) => runChild('csv', path, chunk)) as [NodeRun, NodeRun];
    const memory = runChild('memory', path);
    const memory2 = runChild('memory2', path);
    const sk = runSklearn(path);
    console.log(`(load average after the five runs: ${loadavg()[0]!.toFixed(1)})`);
    if ([csv, csvSmall, memory, memory2, sk].some((run) => run.rows !== rows))
      throw new Error(`row counts differ: ${[csv, csvSmall, memory, memory2, sk].map((run) => run.rows).join(' / ')}`);
    const csvTotal = csv.passSeconds + csv.fits.LINEAR.seconds;
    const skTotal = sk.readSeconds + sk.fits.LINEAR.seconds;
    console.log(`from CSV (${CHUNKS[0] / KiB} KiB chunks, as pandas reads; then ${CHUNKS[1] / KiB} KiB, Node's default)`);
    console.log(
      `           node: ${csv.passSeconds.toFixed(2)} s pass + ${(csv.fits.LINEAR.seconds * 1000).toFixed(1)} ms fit = ${rate(rows, csvTotal)}, peak RSS ${csv.maxRssMB.toFixed(0)} MB`,
    );
    console.log(
      `           sklearn: ${sk.readSeconds.toFixed(2)} s read_csv + ${(sk.fits.LINEAR.seconds * 1000).toFixed(1)} ms fit = ${rate(rows, skTotal)}, peak RSS ${sk.maxRssMB.toFixed(0)} MB`,
    );
    console.log(`           speed-up (sklearn time / node time): ${(skTotal / csvTotal).toFixed(2)}x`);
    for (const kind of KINDS) {
      const nodeTime = csv.passSeconds + csv.fits[kind].seconds;
      const skTime = sk.readSeconds + sk.fits[kind].seconds;
      const nodeCpu = csv.passCpuSeconds + csv.fits[kind].cpuSeconds;
      const skCpu = sk.readCpuSeconds + sk.fits[kind].cpuSeconds;
      const nodeTimeSmall = csvSmall.passSeconds + csvSmall.fits[kind].seconds;
      console.log(
        `  ${kind.padEnd(6)} csv->model  node ${nodeTime.toFixed(2)} s  sklearn ${skTime.toFixed(2)} s  ratio ${(skTime / nodeTime).toFixed(2)}x` +
          `  [${CHUNKS[1] / KiB} KiB: node ${nodeTimeSmall.toFixed(2)} s, ratio ${(skTime / nodeTimeSmall).toFixed(2)}x]` +
          `  (cpu: node ${nodeCpu.toFixed(2)} s, sklearn ${skCpu.toFixed(2)} s, ratio ${(skCpu / nodeCpu).toFixed(2)}x)` +
          `   max rel. diff vs sklearn ${agreement(csv.fits[kind], sk.fits[kind]).toExponential(1)}`,
      );
    }
    printMemory('in memory  node engine', memory, sk);
    printMemory('in memory, two threads (halves merged)', memory2, sk);
  }
}

function printMemory(title: string, run: NodeRun, sk: SklearnRun): void {
  console.log(`${title}: ${run.passSeconds.toFixed(3)} s accumulate (${rate(run.rows, run.passSeconds)}, cpu ${run.passCpuSeconds.toFixed(3)} s)`);
  for (const kind of KINDS) {
    const nodeTime = run.passSeconds + run.fits[kind].seconds;
    const { seconds, cpuSeconds } = sk.fits[kind].warm;
    console.log(
      `  ${kind.padEnd(6)} engine ${nodeTime.toFixed(3)} s (fit ${(run.fits[kind].seconds * 1000).toFixed(2)} ms)  sklearn fit ${seconds.toFixed(3)} s  ratio ${(seconds / nodeTime).toFixed(2)}x` +
        `  (cpu ratio ${(cpuSeconds / (run.passCpuSeconds + run.fits[kind].cpuSeconds)).toFixed(2)}x)` +
        `   max rel. diff vs sklearn ${agreement(run.fits[kind], sk.fits[kind]).toExponential(1)}`,
    );
  }
}

const { values: childArgs, positionals } = parseArgs({ options: { child: { type: 'string' } }, allowPositionals: true, strict: false });
if (!isMainThread) {
  foldWorker();
} else if (typeof childArgs.child === 'string') {
  const path = positionals[0] ?? '';
  const run: NodeRun =
    childArgs.child === 'csv'
      ? await csvChild(path, Number(positionals[1]))
      : childArgs.child === 'memory'
        ? await memoryChild(path)
        : childArgs.child === 'memory2'
          ? await twoThreadChild(path)
          : { rows: 0, passSeconds: 0, passCpuSeconds: 0, fits: {} as Record<ModelKind, Fit>, maxRssMB: maxRssMB() };
  console.log(JSON.stringify(run));
} else {
  await main();
}
