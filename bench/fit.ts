/**
 * In-process fitting speed: 1,000,000 rows x 10 features, seeded, for each kind.
 * Prints accumulation and fit times, rows per second and memory.
 *
 *   npx tsx bench/fit.ts [rows] [features]
 */
import { RegressionAccumulator, fitModel, type ModelKind } from '../src/domain/regression.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const features = Number(process.argv[3] ?? 10);

/** mulberry32: a small seeded PRNG, so every run fits the same data. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const next = random(42);
const X = new Float64Array(rows * features);
const y = new Float64Array(rows);
const truth = Array.from({ length: features }, (_, j) => j - features / 2);
for (let i = 0; i < rows; i++) {
  let value = 1.5;
  for (let j = 0; j < features; j++) {
    const x = next() * 10 - 5;
    X[i * features + j] = x;
    value += truth[j]! * x;
  }
  y[i] = value + (next() - 0.5) * 0.1;
}

console.log(`node ${process.version}, ${rows.toLocaleString('en')} rows x ${features} features`);
for (const kind of ['LINEAR', 'RIDGE', 'LASSO'] as ModelKind[]) {
  const started = performance.now();
  const accumulator = new RegressionAccumulator(features, true);
  for (let i = 0; i < rows; i++) accumulator.add(X.subarray(i * features, (i + 1) * features), y[i]!);
  const accumulated = performance.now();
  const model = fitModel(accumulator, { kind, alpha: 0.1, fitIntercept: true });
  const fitted = performance.now();
  const seconds = (fitted - started) / 1000;
  console.log(
    `${kind.padEnd(6)} accumulate ${(accumulated - started).toFixed(0)} ms, fit ${(fitted - accumulated).toFixed(1)} ms, ` +
      `${Math.round(rows / seconds).toLocaleString('en')} rows/s, r2 ${model.metrics.r2.toFixed(6)}, w0 ${model.coefficients[0]!.toFixed(4)} (true ${truth[0]})`,
  );
}
const memory = process.memoryUsage();
console.log(`rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB (the data itself is ${((X.byteLength + y.byteLength) / 2 ** 20).toFixed(0)} MiB), heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB`);
