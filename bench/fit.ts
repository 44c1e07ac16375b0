/**
 * Speed of the regression engine alone: rows already in memory (seeded, so every
 * run fits the same data), fed one at a time the way the CSV reader feeds them
 * (one reused Float64Array), then fitted. Each kind is a separate training run:
 * accumulate, then fit, timed apart. Prints ms, rows/s, memory, and the largest
 * coefficient error against the true weights as a sanity check.
 *
 *   npx tsx bench/fit.ts [rows=1000000] [features=10]
 */
import { fitModel, type ModelKind, RegressionAccumulator } from '../src/domain/regression.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const features = Number(process.argv[3] ?? 10);
const ALPHA: Record<ModelKind, number> = { LINEAR: 0, RIDGE: 1, LASSO: 0.01 };

/** mulberry32: a tiny seeded PRNG, uniform on [0, 1). */
function uniform(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

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

console.log(`node ${process.version}, ${rows.toLocaleString('en')} rows x ${features} features (data ${mib(X.byteLength + y.byteLength)})`);
const row = new Float64Array(features);
for (const kind of ['LINEAR', 'RIDGE', 'LASSO'] as const) {
  const started = performance.now();
  const accumulator = new RegressionAccumulator(features, true);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < features; j++) row[j] = X[i * features + j]!;
    accumulator.add(row, y[i]!);
  }
  const accumulated = performance.now();
  const model = fitModel(accumulator, { kind, alpha: ALPHA[kind], fitIntercept: true });
  const fitted = performance.now();

  const accumulateMs = accumulated - started;
  const worst = Math.max(...model.coefficients.map((w, j) => Math.abs(w - truth[j]!)));
  console.log(
    `${kind.padEnd(6)} (alpha ${ALPHA[kind]}): accumulate ${accumulateMs.toFixed(0)} ms ` +
      `(${Math.round(rows / (accumulateMs / 1000)).toLocaleString('en')} rows/s), fit ${(fitted - accumulated).toFixed(2)} ms, ` +
      `r2 ${model.metrics.r2.toFixed(6)}, max |w - truth| ${worst.toExponential(1)}`,
  );
}
const memory = process.memoryUsage();
// The engine's state is O(d²) (a few hundred bytes here): what is resident is the generated data and Node itself.
console.log(`rss ${mib(memory.rss)}, heap used ${mib(memory.heapUsed)}, array buffers ${mib(memory.arrayBuffers)} (the generated data)`);
