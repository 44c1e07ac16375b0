/**
 * What statistics by missing-value pattern (src/domain/statistics.ts, PatternAccumulator)
 * cost a file without missing values, beside the plain accumulator the scan used
 * before: the same rows, 10^6 × 11 columns by default, handed over as the CSV reader's
 * kernel hands them (`addColumns`, blocks of its size, column by column). The two are
 * timed one after the other, `--rounds` times; the summary gives each one's median and
 * the ratio pattern / plain (at most 1.05 is the budget: ∅ goes straight to the same
 * accumulator call).
 *
 *   npx tsx bench/pattern-statistics.ts [--rows 1000000] [--columns 11] [--rounds 7]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { RegressionAccumulator } from '#domain/regression.js';
import { PatternAccumulator, statisticsOfState } from '#domain/statistics.js';
import { random } from '../test/unit/helpers/random.js';

const { values: options } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, columns: { type: 'string', default: '11' }, rounds: { type: 'string', default: '7' } },
});
const rows = Number(options.rows);
const columns = Number(options.columns);
const rounds = Number(options.rounds);

// The kernel's blocks: as many rows as fit 256 KiB of output (src/domain/csv-kernel.ts), column by column.
const stride = Math.max(1, Math.floor((256 * 1024) / (8 * columns)));
const uniform = random(1);
const blocks: { values: Float64Array; count: number }[] = [];
for (let start = 0; start < rows; start += stride) {
  const count = Math.min(stride, rows - start);
  const values = new Float64Array(columns * stride);
  for (let c = 0; c < columns; c++) for (let r = 0; r < count; r++) values[c * stride + r] = uniform() * 200 - 100;
  blocks.push({ values, count });
}

function timePlain(): { ms: number; check: number } {
  const started = performance.now();
  const accumulator = new RegressionAccumulator(columns - 1, true);
  for (const { values, count } of blocks) accumulator.addColumns(values, stride, count, columns - 1);
  const statistics = statisticsOfState(accumulator.state());
  return { ms: performance.now() - started, check: statistics.triangle[0]! };
}

function timePatterns(): { ms: number; check: number } {
  const started = performance.now();
  const accumulator = new PatternAccumulator(columns);
  for (const { values, count } of blocks) accumulator.addColumns(values, stride, count);
  const { patterns } = accumulator.result();
  return { ms: performance.now() - started, check: patterns[0]!.statistics.triangle[0]! };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// One untimed round of each, so both run compiled code.
timePlain();
timePatterns();
const plain: number[] = [];
const patterns: number[] = [];
for (let round = 0; round < rounds; round++) {
  // Alternate which goes first, so a drift in the machine's speed weighs on both alike.
  let a: { ms: number; check: number };
  let b: { ms: number; check: number };
  if (round % 2 === 0) {
    a = timePlain();
    b = timePatterns();
  } else {
    b = timePatterns();
    a = timePlain();
  }
  if (a.check !== b.check) throw new Error('the two accumulators disagree');
  plain.push(a.ms);
  patterns.push(b.ms);
  console.log(`round ${round + 1}: plain ${a.ms.toFixed(1)} ms, patterns ${b.ms.toFixed(1)} ms`);
}
const plainMedian = median(plain);
const patternsMedian = median(patterns);
console.log(`${rows} rows × ${columns} columns in blocks of ${stride} rows, ${rounds} rounds, load ${loadavg()[0]!.toFixed(2)}`);
console.log(`RegressionAccumulator.addColumns: ${plainMedian.toFixed(1)} ms (median), ${(((rows / plainMedian) * 1e3) / 1e6).toFixed(2)} M rows/s`);
console.log(`PatternAccumulator.addColumns:   ${patternsMedian.toFixed(1)} ms (median), ${(((rows / patternsMedian) * 1e3) / 1e6).toFixed(2)} M rows/s`);
console.log(`ratio patterns / plain: ${(patternsMedian / plainMedian).toFixed(3)}`);
