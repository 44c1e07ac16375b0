/**
 * Accuracy on an ill-conditioned design, the block engine against the previous one
 * (row-by-row Givens), a shifted Gram update with compensated sums (the alternative
 * not taken), and an exact-enough reference (double-double normal
 * equations, test/unit/helpers/double-double.ts), all fed the same rows in one run. The rows are
 * generated deterministically (test/unit/helpers/ill-conditioned-data.ts), so nothing is stored.
 * Prints the condition number of the centred design (from the engine's factor), each
 * engine's LINEAR coefficient and intercept errors relative to the reference, and
 * the time each spent accumulating.
 *
 *   npx tsx bench/ill-conditioned.ts [--rows 10000000] [--condition 1e8] [--noise 0.01] [--seed 7]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { jacobiSvd, packedIndex } from '#domain/linalg.js';
import { fitModel, fitModelWithReport, RegressionAccumulator } from '#domain/regression.js';
import { ExactLeastSquares } from '../test/unit/helpers/double-double.js';
import { illConditionedSource, RowByRowGivens, relativeErrors, ShiftedGram } from '../test/unit/helpers/ill-conditioned-data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    condition: { type: 'string', default: '1e8' },
    noise: { type: 'string', default: '0.01' },
    seed: { type: 'string', default: '7' },
  },
});
const rows = Number(values.rows);
const features = 10;
const spec = { features, condition: Number(values.condition), noise: Number(values.noise), seed: Number(values.seed) };
const CHUNK = 1 << 16;

const cpuSeconds = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

console.log(
  `node ${process.version}: ${rows.toLocaleString('en')} rows x ${features} features, condition ${spec.condition.toExponential(0)}, ` +
    `noise ${spec.noise}, seed ${spec.seed}; load average ${loadavg()[0]!.toFixed(1)}`,
);
// First the scikit-learn fixtures on conditioning (cond(X) 1e3 to 1e5, two nearly equal
// columns): LINEAR with an intercept, each method against scikit-learn's answer.
interface FixtureFit {
  kind: string;
  fitIntercept: boolean;
  coef: number[];
  intercept: number;
}
const fixtures = JSON.parse(readFileSync(new URL('../test/fixtures/sklearn/conditioning.json', import.meta.url), 'utf8')) as {
  designs: { name: string; X: number[][]; y: number[]; fits: FixtureFit[] }[];
};
for (const design of fixtures.designs) {
  const reference = design.fits.find((fit) => fit.kind === 'LINEAR' && fit.fitIntercept);
  if (!reference) continue;
  const d = design.X[0]!.length;
  const blocks = new RegressionAccumulator(d, true);
  const gram = new ShiftedGram(d);
  design.X.forEach((row, index) => {
    blocks.add(row, design.y[index]!);
    gram.add(row, design.y[index]!);
  });
  const expected = { intercept: reference.intercept, coefficients: reference.coef };
  const fromBlocks = relativeErrors(fitModel(blocks, { kind: 'LINEAR', alpha: 0, fitIntercept: true }), expected).worst;
  const fromGram = relativeErrors(gram.solve(), expected).worst;
  console.log(
    `fixture "${design.name}": max coefficient error vs scikit-learn: blocks ${fromBlocks.toExponential(1)}, shifted Gram ${fromGram.toExponential(1)}`,
  );
}

const source = illConditionedSource(spec);
const blocks = new RegressionAccumulator(features, true);
const givens = new RowByRowGivens(features);
const gram = new ShiftedGram(features);
const exact = new ExactLeastSquares(features, true);
const x = new Float64Array(CHUNK * features);
const y = new Float64Array(CHUNK);
const spent = { blocks: 0, givens: 0, gram: 0, exact: 0 };
for (let done = 0; done < rows; done += CHUNK) {
  const count = Math.min(CHUNK, rows - done);
  source.next(x, y, count);
  let start = process.cpuUsage();
  blocks.addRows(x.subarray(0, count * features), y.subarray(0, count));
  spent.blocks += cpuSeconds(start);
  start = process.cpuUsage();
  for (let i = 0; i < count; i++) givens.add(x.subarray(i * features, (i + 1) * features), y[i]!);
  spent.givens += cpuSeconds(start);
  start = process.cpuUsage();
  for (let i = 0; i < count; i++) gram.add(x.subarray(i * features, (i + 1) * features), y[i]!);
  spent.gram += cpuSeconds(start);
  start = process.cpuUsage();
  for (let i = 0; i < count; i++) exact.add(x.subarray(i * features, (i + 1) * features), y[i]!);
  spent.exact += cpuSeconds(start);
}

const reference = exact.solve();
const { model, solver } = fitModelWithReport(blocks, { kind: 'LINEAR', alpha: 0, fitIntercept: true });
const previous = givens.solve();

// cond(Xc) from the factor: its singular values are the centred design's.
const state = blocks.state();
const m = features + 1;
const columns = new Float64Array(features * features);
for (let i = 0; i < features; i++) for (let j = i; j < features; j++) columns[j * features + i] = state.triangle[packedIndex(m, i, j)]!;
const { sigma } = jacobiSvd(columns, features);
console.log(`cond(centred X) = ${(Math.max(...sigma) / Math.min(...sigma)).toExponential(2)}; solver ${JSON.stringify(solver)}`);
console.log(`reference (double-double): intercept ${reference.intercept}, w = [${reference.coefficients.map((w) => w.toPrecision(10)).join(', ')}]`);

const now = relativeErrors(model, reference);
const before = relativeErrors(previous, reference);
const line = (name: string, errors: typeof now, seconds: number) =>
  `${name}: max coefficient error ${errors.worst.toExponential(2)} (per coefficient ${errors.coefficients.map((e) => e.toExponential(0)).join(' ')}), ` +
  `intercept error ${errors.intercept.toExponential(2)}; accumulate cpu ${seconds.toFixed(2)} s`;
console.log(line('blocks (Householder, this engine)', now, spent.blocks));
console.log(line('row-by-row Givens (previous engine)', before, spent.givens));
console.log(line('shifted Gram, Kahan sums (not taken)', relativeErrors(gram.solve(), reference), spent.gram));
console.log(`double-double reference accumulate cpu ${spent.exact.toFixed(2)} s`);
console.log(
  `error ratio blocks / previous: coefficients ${(now.worst / before.worst).toFixed(2)}, intercept ${(now.intercept / before.intercept).toFixed(2)}; ` +
    `speed-up ${(spent.givens / spent.blocks).toFixed(2)}x; load average ${loadavg()[0]!.toFixed(1)}`,
);
