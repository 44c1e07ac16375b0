/**
 * Training throughput from CSV files, beside pandas + scikit-learn on the same files.
 *
 *   npx tsx bench/csv-train.ts                 10^5 and 10^6 rows x 10 features
 *   npx tsx bench/csv-train.ts --large         also 10^7 rows (~2.2 GB of CSV; minutes)
 *   npx tsx bench/csv-train.ts --rows 200000   any sizes, comma-separated
 *
 * For each file it measures, each in its own child process so peak RSS (maxRSS) is
 * that run's alone:
 *   - csv:    the training path: file stream (64 KiB chunks, Node's default for a file
 *             stream) -> NumericCsvReader -> RegressionAccumulator, then fitModel per
 *             kind; and the same in 256 KiB chunks, the size pandas' C reader reads a
 *             file in, since each chunk of a file stream costs a round trip to libuv's
 *             thread pool (about 40 us here) that the parse never sees;
 *   - memory: the engine alone: the same rows already in Float64Arrays -> addRows -> fit;
 *   - sklearn: pandas.read_csv, then LinearRegression / Ridge / Lasso fit (bench/sklearn_compare.py);
 * and prints rows/s, peak RSS, the time ratios (wall and CPU: on a shared machine CPU
 * time is the steadier measure) with the load average, and the coefficient agreement.
 * Files are generated once, seeded, under bench/data/ (gitignored).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NumericCsvReader } from '../src/domain/csv.js';
import { TrainingSink } from '../src/domain/datasets.js';
import { fitModel, type ModelKind, RegressionAccumulator } from '../src/domain/regression.js';
import { ensureDataset } from './dataset.js';

const FEATURES = 10;
const SEED = 42;
const KINDS: readonly ModelKind[] = ['LINEAR', 'RIDGE', 'LASSO'];
const ALPHA: Record<ModelKind, number> = { LINEAR: 0, RIDGE: 1.0, LASSO: 0.1 };
const KiB = 1024;
/** The file stream's chunk sizes: Node's default for files, and the size pandas' C reader reads in. */
const CHUNKS = [64 * KiB, 256 * KiB] as const;

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
  fits: Record<ModelKind, Fit>;
  maxRssMB: number;
  versions: Record<string, string>;
}

function fitAll(accumulator: RegressionAccumulator): Record<ModelKind, Fit> {
  const fits = {} as Record<ModelKind, Fit>;
  for (const kind of KINDS) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const model = fitModel(accumulator, { kind, alpha: ALPHA[kind], fitIntercept: true });
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
  return { rows, passSeconds, passCpuSeconds: cpuSince(cpu), fits: fitAll(sink!.accumulator), maxRssMB: maxRssMB() };
}

/** Child: the engine alone, on rows already in memory (loading them is not timed). */
async function memoryChild(path: string): Promise<NodeRun> {
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
  const started = performance.now();
  const cpu = process.cpuUsage();
  const accumulator = new RegressionAccumulator(FEATURES, true);
  accumulator.addRows(x.subarray(0, n * FEATURES), y.subarray(0, n));
  const passSeconds = (performance.now() - started) / 1000;
  return { rows: n, passSeconds, passCpuSeconds: cpuSince(cpu), fits: fitAll(accumulator), maxRssMB: maxRssMB() };
}

const self = fileURLToPath(import.meta.url);

function runChild(mode: 'csv' | 'memory' | 'baseline', path: string, chunk = CHUNKS[0]): NodeRun {
  const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', mode, path, String(chunk)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as NodeRun;
}

function runSklearn(path: string): SklearnRun {
  // Tuning variables set for another CPU would mislead OpenBLAS here: unset for this command only.
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const script = fileURLToPath(new URL('./sklearn_compare.py', import.meta.url));
  const out = execFileSync('/usr/bin/python3', [script, path, '--target', 'y', '--ridge-alpha', String(ALPHA.RIDGE), '--lasso-alpha', String(ALPHA.LASSO)], {
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
    const [csv, csvLarge] = CHUNKS.map((chunk) => runChild('csv', path, chunk)) as [NodeRun, NodeRun];
    const memory = runChild('memory', path);
    const sk = runSklearn(path);
    console.log(`(load average after the four runs: ${loadavg()[0]!.toFixed(1)})`);
    if ([csv, csvLarge, memory, sk].some((run) => run.rows !== rows))
      throw new Error(`row counts differ: ${[csv, csvLarge, memory, sk].map((run) => run.rows).join(' / ')}`);
    const csvTotal = csv.passSeconds + csv.fits.LINEAR.seconds;
    const skTotal = sk.readSeconds + sk.fits.LINEAR.seconds;
    console.log(`from CSV (${CHUNKS[0] / KiB} KiB chunks; then ${CHUNKS[1] / KiB} KiB, as pandas reads)`);
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
      const nodeTimeLarge = csvLarge.passSeconds + csvLarge.fits[kind].seconds;
      console.log(
        `  ${kind.padEnd(6)} csv->model  node ${nodeTime.toFixed(2)} s  sklearn ${skTime.toFixed(2)} s  ratio ${(skTime / nodeTime).toFixed(2)}x` +
          `  [${CHUNKS[1] / KiB} KiB: node ${nodeTimeLarge.toFixed(2)} s, ratio ${(skTime / nodeTimeLarge).toFixed(2)}x]` +
          `  (cpu: node ${nodeCpu.toFixed(2)} s, sklearn ${skCpu.toFixed(2)} s, ratio ${(skCpu / nodeCpu).toFixed(2)}x)` +
          `   max rel. diff vs sklearn ${agreement(csv.fits[kind], sk.fits[kind]).toExponential(1)}`,
      );
    }
    console.log(
      `in memory  node engine: ${memory.passSeconds.toFixed(3)} s accumulate (${rate(rows, memory.passSeconds)}, cpu ${memory.passCpuSeconds.toFixed(3)} s)`,
    );
    for (const kind of KINDS) {
      const nodeTime = memory.passSeconds + memory.fits[kind].seconds;
      console.log(
        `  ${kind.padEnd(6)} engine ${nodeTime.toFixed(3)} s (fit ${(memory.fits[kind].seconds * 1000).toFixed(2)} ms)  sklearn fit ${sk.fits[kind].seconds.toFixed(3)} s  ratio ${(sk.fits[kind].seconds / nodeTime).toFixed(2)}x` +
          `  (cpu ratio ${(sk.fits[kind].cpuSeconds / (memory.passCpuSeconds + memory.fits[kind].cpuSeconds)).toFixed(2)}x)`,
      );
    }
  }
}

const { values: childArgs, positionals } = parseArgs({ options: { child: { type: 'string' } }, allowPositionals: true, strict: false });
if (typeof childArgs.child === 'string') {
  const path = positionals[0] ?? '';
  const run: NodeRun =
    childArgs.child === 'csv'
      ? await csvChild(path, Number(positionals[1]))
      : childArgs.child === 'memory'
        ? await memoryChild(path)
        : { rows: 0, passSeconds: 0, passCpuSeconds: 0, fits: {} as Record<ModelKind, Fit>, maxRssMB: maxRssMB() };
  console.log(JSON.stringify(run));
} else {
  await main();
}
