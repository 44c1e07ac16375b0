/**
 * Speed of the regression engine alone, beside scikit-learn fitting the same matrix
 * in the same run: rows already in memory (seeded, so every run fits the same
 * data), 1,000,000 x 10 by default.
 *
 * Each round times, one after the other:
 *   - node add():     the rows fed one at a time, as the CSV reader feeds them, then each fit;
 *   - node addRows(): the whole matrix handed over at once, then each fit;
 *   - scikit-learn:   LinearRegression / Ridge / Lasso .fit on the same matrix, in a Python
 *                     process started once (bench/sklearn_fit_loop.py) that holds it in memory.
 * Wall and CPU time are both printed (the machine may be shared: CPU time is what the
 * process itself spent; scikit-learn's BLAS may use several threads). The summary gives
 * medians over the rounds and the ratios scikit-learn time / node time (above 1: node is
 * faster), with the load average over the run.
 *
 *   npx tsx bench/fit.ts [rows=1000000] [features=10] [--rounds 5] [--no-sklearn]
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fitModel, type ModelKind, RegressionAccumulator } from '#domain/regression.js';
import { random as uniform } from '../test/unit/helpers/random.js';

const { values: options, positionals } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, 'no-sklearn': { type: 'boolean', default: false } },
  allowPositionals: true,
});
const rows = Number(positionals[0] ?? 1_000_000);
const features = Number(positionals[1] ?? 10);
const rounds = Number(options.rounds);
const KINDS: readonly ModelKind[] = ['LINEAR', 'RIDGE', 'LASSO'];
const ALPHA: Record<ModelKind, number> = { LINEAR: 0, RIDGE: 1, LASSO: 0.01 };

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const load = () => loadavg()[0]!.toFixed(1);

// y = 1.5 + Σ wⱼxⱼ + noise, with x uniform on [-5, 5] shifted by j (so the intercept matters).
const next = uniform(42);
const X = new Float64Array(rows * features);
const y = new Float64Array(rows);
const truth = Array.from({ length: features }, (_, j) => j - features / 2 + 0.5);
for (let i = 0; i < rows; i++) {
  let value = 1.5;
  for (let j = 0; j < features; j++) {
    const x = next() * 10 - 5 + j;
    X[i * features + j] = x;
    value += truth[j]! * x;
  }
  y[i] = value + (next() - 0.5) * 0.1;
}

interface Timing {
  wall: number;
  cpu: number;
}

function timed<T>(run: () => T): { value: T; time: Timing } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = run();
  const used = process.cpuUsage(cpu);
  return { value, time: { wall: (performance.now() - wall) / 1000, cpu: (used.user + used.system) / 1e6 } };
}

interface NodeRun {
  accumulate: Timing;
  fits: Record<ModelKind, { time: Timing; coefficients: number[]; intercept: number; r2: number }>;
}

function nodeRun(feed: (accumulator: RegressionAccumulator) => void): NodeRun {
  const { value: accumulator, time: accumulate } = timed(() => {
    const accumulator = new RegressionAccumulator(features, true);
    feed(accumulator);
    return accumulator;
  });
  const fits = {} as NodeRun['fits'];
  for (const kind of KINDS) {
    const { value: model, time } = timed(() => fitModel(accumulator, { kind, alpha: ALPHA[kind], fitIntercept: true }));
    fits[kind] = { time, coefficients: model.coefficients, intercept: model.intercept, r2: model.metrics.r2 };
  }
  return { accumulate, fits };
}

const row = new Float64Array(features);
const oneAtATime = (accumulator: RegressionAccumulator) => {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < features; j++) row[j] = X[i * features + j]!;
    accumulator.add(row, y[i]!);
  }
};
const allAtOnce = (accumulator: RegressionAccumulator) => accumulator.addRows(X, y);

/** The Python side: a process holding the matrix, answering one fit per line. */
class Sklearn {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  constructor(private readonly directory: string) {
    writeFileSync(join(directory, 'x.f64'), X);
    writeFileSync(join(directory, 'y.f64'), y);
    // Tuning variables set for another CPU would mislead OpenBLAS here: unset for this process only.
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const script = fileURLToPath(new URL('./sklearn_fit_loop.py', import.meta.url));
    this.child = spawn(
      '/usr/bin/python3',
      [
        script,
        join(directory, 'x.f64'),
        join(directory, 'y.f64'),
        String(rows),
        String(features),
        '--ridge-alpha',
        String(ALPHA.RIDGE),
        '--lasso-alpha',
        String(ALPHA.LASSO),
      ],
      { env },
    );
    this.child.stderr.pipe(process.stderr);
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async line(): Promise<Record<string, unknown>> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error('scikit-learn exited');
    return JSON.parse(value) as Record<string, unknown>;
  }

  async fit(kind: ModelKind): Promise<{ time: Timing; coefficients: number[]; intercept: number }> {
    this.child.stdin.write(`${kind}\n`);
    const reply = (await this.line()) as { wall: number; cpu: number; coefficients: number[]; intercept: number };
    return { time: { wall: reply.wall, cpu: reply.cpu }, coefficients: reply.coefficients, intercept: reply.intercept };
  }

  close(): void {
    this.child.stdin.end();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;
const both = (time: Timing) => `${ms(time.wall)} (cpu ${ms(time.cpu)})`;
/** Largest difference over coefficients and intercept, relative to the reference value (at least 1e-12). */
const agreement = (a: { coefficients: number[]; intercept: number }, b: { coefficients: number[]; intercept: number }) =>
  Math.max(
    Math.abs(a.intercept - b.intercept) / Math.max(Math.abs(b.intercept), 1e-12),
    ...a.coefficients.map((value, j) => Math.abs(value - b.coefficients[j]!) / Math.max(Math.abs(b.coefficients[j]!), 1e-12)),
  );

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${rows.toLocaleString('en')} rows x ${features} features (data ${mib(X.byteLength + y.byteLength)}), ${rounds} rounds, load average ${load()}`,
  );
  const sklearn = options['no-sklearn'] ? undefined : new Sklearn(mkdtempSync(join(tmpdir(), 'fit-bench-')));
  if (sklearn) {
    const ready = await sklearn.line();
    console.log(`scikit-learn ${String(ready.sklearn)}, numpy ${String(ready.numpy)} (/usr/bin/python3)`);
  }
  const loads: number[] = [];
  const runs: { add: NodeRun; addRows: NodeRun; sklearn?: Record<ModelKind, Awaited<ReturnType<Sklearn['fit']>>> }[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      loads.push(loadavg()[0]!);
      const add = nodeRun(oneAtATime);
      const addRows = nodeRun(allAtOnce);
      let reference: Record<ModelKind, Awaited<ReturnType<Sklearn['fit']>>> | undefined;
      if (sklearn) {
        reference = {} as Record<ModelKind, Awaited<ReturnType<Sklearn['fit']>>>;
        for (const kind of KINDS) reference[kind] = await sklearn.fit(kind);
      }
      runs.push({ add, addRows, ...(reference ? { sklearn: reference } : {}) });
      console.log(
        `round ${round} (load ${load()}): accumulate add() ${both(add.accumulate)}, addRows() ${both(addRows.accumulate)}` +
          (reference ? `; sklearn Ridge.fit ${both(reference.RIDGE.time)}` : ''),
      );
    }
  } finally {
    sklearn?.close();
  }
  loads.push(loadavg()[0]!);

  console.log(`\nmedians over ${rounds} rounds (load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}):`);
  const last = runs.at(-1)!;
  for (const kind of KINDS) {
    const worst = Math.max(...last.addRows.fits[kind].coefficients.map((w, j) => Math.abs(w - truth[j]!)));
    const line = [`${kind.padEnd(6)} (alpha ${ALPHA[kind]})`];
    for (const path of ['add', 'addRows'] as const) {
      const wall = median(runs.map((run) => run[path].accumulate.wall + run[path].fits[kind].time.wall));
      const cpu = median(runs.map((run) => run[path].accumulate.cpu + run[path].fits[kind].time.cpu));
      line.push(`node ${path}() + fit ${ms(wall)} (cpu ${ms(cpu)}, ${(rows / wall / 1e6).toFixed(2)} M rows/s)`);
      if (last.sklearn) {
        const skWall = median(runs.map((run) => run.sklearn![kind].time.wall));
        const skCpu = median(runs.map((run) => run.sklearn![kind].time.cpu));
        line.push(`    ratio sklearn/node: wall ${(skWall / wall).toFixed(2)}x, cpu ${(skCpu / cpu).toFixed(2)}x`);
      }
    }
    if (last.sklearn) {
      line.push(
        `    sklearn ${kind === 'LINEAR' ? 'LinearRegression' : kind === 'RIDGE' ? 'Ridge' : 'Lasso'}.fit ${ms(median(runs.map((run) => run.sklearn![kind].time.wall)))} ` +
          `(cpu ${ms(median(runs.map((run) => run.sklearn![kind].time.cpu)))}), max rel. diff of coefficients ${agreement(last.addRows.fits[kind], last.sklearn[kind]).toExponential(1)}`,
      );
    }
    line.push(
      `    fit alone ${ms(median(runs.map((run) => run.addRows.fits[kind].time.wall)))}, r2 ${last.addRows.fits[kind].r2.toFixed(6)}, max |w - truth| ${worst.toExponential(1)}`,
    );
    console.log(line.join('\n'));
  }
  const memory = process.memoryUsage();
  // The engine's state is O(d²) plus one block of rows (a few kB here): what is resident is the generated data and Node itself.
  console.log(`rss ${mib(memory.rss)}, heap used ${mib(memory.heapUsed)}, array buffers ${mib(memory.arrayBuffers)} (the generated data)`);
}

await main();
