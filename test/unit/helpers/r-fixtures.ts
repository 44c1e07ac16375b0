import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { CsvFormat } from '#domain/csv.js';
import { headerEnd, mergePartials, planRanges, type RangePartial, RangeScan, type ScanOutcome } from '#domain/range-scan.js';

/**
 * The R reference fixtures (test/fixtures/r/README.md): real `write.csv` /
 * `write.csv2` exports and R's `lm` fits of them, read as they are.
 */

const DIRECTORY = new URL('../../fixtures/r/', import.meta.url);

/** The bytes of a fixture file, e.g. `iris.r.csv`. */
export function rFixture(file: string): Buffer {
  return readFileSync(new URL(file, DIRECTORY));
}

export interface RFit {
  formula: string;
  target: string;
  features: string[];
  fitIntercept: boolean;
  levels: Record<string, string[]>;
  n: number;
  rowsDropped: number;
  /** R's names and order: `(Intercept)` first when fitted, then one per design column. */
  coefficients: Record<string, number>;
  /** summary(lm): per coefficient, by R's name. */
  coefficientStats: Record<string, { 'std.error': number; 't.value': number; 'p.value': number; 'conf.low': number; 'conf.high': number }>;
  sigma: number;
  'r.squared': number;
  'adj.r.squared': number;
  'df.residual': number;
  /** R's prediction of its first 3 rows; a row with a missing value is predicted null (R's NA). */
  predictions: { rowName: string; values: Record<string, number | string | null>; predicted: number | null }[];
}

export interface RReference {
  dataset: string;
  nrow: number;
  columns: string[];
  models: RFit[];
}

/** Every `<dataset>.lm.json` of the fixtures, by dataset name. */
export function rReferences(): RReference[] {
  return readdirSync(DIRECTORY)
    .filter((file) => file.endsWith('.lm.json'))
    .sort()
    .map((file) => JSON.parse(rFixture(file).toString('utf8')) as RReference);
}

/** The names of the fixtures' CSV files. */
export function rCsvFiles(): string[] {
  return readdirSync(DIRECTORY).filter((name) => name.endsWith('.csv'));
}

/** Whether the fixtures hold `file`. */
export function hasRFixture(file: string): boolean {
  return existsSync(new URL(file, DIRECTORY));
}

/** `<dataset>.lm.json`. */
export function rReference(dataset: string): RReference {
  return JSON.parse(rFixture(`${dataset}.lm.json`).toString('utf8')) as RReference;
}

/** The fit of `formula` in `<dataset>.lm.json`. */
export function rFit(dataset: string, formula: string): RFit {
  const fit = rReference(dataset).models.find((model) => model.formula === formula);
  if (!fit) throw new Error(`${dataset}.lm.json has no fit of ${formula}`);
  return fit;
}

/** A fit's coefficients as the product stores them: the intercept apart, the others in R's order with their names. */
export function rCoefficients(fit: RFit): { intercept: number; names: string[]; values: number[] } {
  const entries = Object.entries(fit.coefficients).filter(([name]) => name !== '(Intercept)');
  return { intercept: fit.coefficients['(Intercept)'] ?? 0, names: entries.map(([name]) => name), values: entries.map(([, value]) => value) };
}

/** Asserts |actual − expected| ≤ tolerance·|expected| for each value (relative; absolute below 1). */
export function expectRelativelyClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-9): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => {
    const wanted = expected[i]!;
    expect(Math.abs(value - wanted), `value ${i}: ${value} vs ${wanted}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(wanted)));
  });
}

/**
 * The file's scan as the dataset scan makes it, with the domain's own code: its
 * ranges planned after the header (about `rangeBytes` each), each read by a
 * RangeScan from its start, the partials merged.
 */
export function scanBytes(
  bytes: Uint8Array,
  options: { rangeBytes?: number; format?: CsvFormat; maxColumns?: number } = {},
): {
  partials: RangePartial[];
  outcome: ScanOutcome;
} {
  const { rangeBytes = bytes.length, format, maxColumns = 1_000 } = options;
  const dataStart = headerEnd(bytes);
  const ranges = planRanges({ sizeBytes: bytes.length, dataStart, rangeBytes, maxRanges: 1_000 });
  const header = dataStart === undefined ? undefined : bytes.subarray(0, dataStart);
  const partials = ranges.map((range) => {
    const scan = new RangeScan(range, { maxColumns, format, ...(range.index > 0 && header ? { header } : {}) });
    scan.push(bytes.subarray(range.start), range.start);
    return scan.finish();
  });
  return { partials, outcome: mergePartials(partials) };
}

/** The READY outcome of `scanBytes` (throws when the file is INVALID). */
export function readyScan(bytes: Uint8Array, options: Parameters<typeof scanBytes>[1] = {}) {
  const { outcome } = scanBytes(bytes, options);
  if (outcome.status !== 'READY') throw new Error(`the file is INVALID: ${outcome.error.code} ${outcome.error.message}`);
  return outcome;
}
