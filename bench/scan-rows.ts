/**
 * What learning a schema costs the dataset scan per row, in one process: the same
 * file read into a range's partial as the scan reads it today (src/domain/range-scan.ts:
 * column profiles and statistics by missing-value pattern), and as it read before
 * schemas existed (the CSV reader into one accumulator of every column). Rounds
 * alternate so that both see the same machine; the figure is each one's median.
 *
 *   npx tsx bench/scan-rows.ts [--rows 1000000] [--rounds 7] [--before DIR]
 *
 * `--before DIR`: a checkout of the commit before schemas (`git worktree add DIR
 * 49869de`), whose own RangeScan is then "before"; without it, "before" is its sink
 * alone (the reader into one accumulator), which leaves out the range's line counting.
 *
 * Then the same for a file with missing values and a category column (R-style NA,
 * labels), today's reader only: what such a file costs beside an all-numeric one.
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { type CsvHeaderInfo, NumericCsvReader, type NumericCsvSink } from '#domain/csv.js';
import { RangeScan } from '#domain/range-scan.js';
import { RegressionAccumulator } from '#domain/regression.js';
import { ensureDataset } from './dataset.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '7' }, before: { type: 'string' } },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const CHUNK = 64 * 1024;

/** The scan's sink before schemas: every column into one accumulator, the last as its target. */
class BeforeSchemas implements NumericCsvSink {
  accumulator: RegressionAccumulator | undefined;
  private target = 0;
  header(columns: readonly string[], _info: CsvHeaderInfo): void {
    this.target = columns.length - 1;
    this.accumulator = new RegressionAccumulator(this.target, true);
  }
  row(values: Float64Array): void {
    this.accumulator!.addRecord(values, this.target);
  }
  rowBlock(columns: Float64Array, stride: number, count: number): void {
    this.accumulator!.addColumns(columns, stride, count, this.target);
  }
}

type Scan = { push(chunk: Uint8Array, position: number): boolean; finish(): { rows: number } };
type ScanClass = new (range: { index: number; start: number; end: number }, options: { maxColumns: number }) => Scan;
const BeforeScan: ScanClass | undefined = values.before
  ? ((await import(`${process.cwd()}/${values.before}/src/domain/range-scan.ts`)) as { RangeScan: ScanClass }).RangeScan
  : undefined;

function before(bytes: Uint8Array): number {
  const started = performance.now();
  if (BeforeScan) {
    const scan = new BeforeScan({ index: 0, start: 0, end: bytes.length }, { maxColumns: 1000 });
    for (let at = 0; at < bytes.length; at += CHUNK) scan.push(bytes.subarray(at, at + CHUNK), at);
    if (scan.finish().rows !== rows) throw new Error('the scan before schemas read another number of rows');
    return performance.now() - started;
  }
  const sink = new BeforeSchemas();
  const reader = new NumericCsvReader(sink, { maxColumns: 1000 });
  for (let at = 0; at < bytes.length; at += CHUNK) reader.push(bytes.subarray(at, at + CHUNK));
  reader.end();
  sink.accumulator!.state();
  return performance.now() - started;
}

function today(bytes: Uint8Array): number {
  const started = performance.now();
  const scan = new RangeScan({ index: 0, start: 0, end: bytes.length }, { maxColumns: 1000 });
  for (let at = 0; at < bytes.length; at += CHUNK) scan.push(bytes.subarray(at, at + CHUNK), at);
  const partial = scan.finish();
  if (partial.error || partial.rows !== rows) throw new Error(`the scan read ${partial.rows} rows: ${JSON.stringify(partial.error)}`);
  return performance.now() - started;
}

const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
const perRow = (ms: number) => `${((ms * 1e6) / rows).toFixed(0)} ns/row`;

const { path } = await ensureDataset({ rows, features: 10, seed: 42 });
const numeric = new Uint8Array(await readFile(path));
const times = { before: [] as number[], today: [] as number[] };
for (let round = 0; round < rounds; round++) {
  times.before.push(before(numeric));
  times.today.push(today(numeric));
}
const [b, t] = [median(times.before), median(times.today)];
console.log(`${rows} rows x 11 columns, ${(numeric.length / 1e6).toFixed(0)} MB, ${rounds} alternating rounds, load ${loadavg()[0]!.toFixed(2)}`);
console.log(`before schemas (${BeforeScan ? `RangeScan of ${values.before}` : 'its sink alone: reader + one accumulator'}): ${b.toFixed(0)} ms (${perRow(b)})`);
console.log(`today (profiles + statistics by pattern):  ${t.toFixed(0)} ms (${perRow(t)})`);
console.log(`ratio today / before: ${(t / b).toFixed(3)} (the issue's bound: 1.2)`);

// Every 10th row misses a value, every row has a label: R's NA and a factor.
const text = new TextDecoder().decode(numeric);
const lines = text.split('\n');
const labelled = [
  `${lines[0]},label`,
  ...lines.slice(1, -1).map((line, i) => `${i % 10 === 0 ? line.replace(/^[^,]*/, 'NA') : line},"${['setosa', 'versicolor', 'virginica'][i % 3]}"`),
].join('\n');
const mixed = new TextEncoder().encode(`${labelled}\n`);
const mixedTimes: number[] = [];
for (let round = 0; round < rounds; round++) mixedTimes.push(today(mixed));
const m = median(mixedTimes);
console.log(
  `with NA in 1 row of 10 and a category column (${(mixed.length / 1e6).toFixed(0)} MB): ${m.toFixed(0)} ms (${perRow(m)}), ${(m / t).toFixed(2)}x the all-numeric file`,
);
