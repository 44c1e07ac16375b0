import { InvalidCsv, NumericCsvReader, type NumericCsvSink } from './csv.js';
import type { DatasetError } from './datasets.js';
import { TrainingFailed, ValidationFailed } from './errors.js';
import { foldRow, packedIndex, packedLength } from './linalg.js';
import { type FitSpec, type FittedModel, fitStateWithReport, RegressionAccumulator, type SolverReport, type TrainingState } from './regression.js';

/**
 * A dataset's statistics, computed once by a parallel scan (docs/design.md, "The dataset
 * scan") and enough to fit any model on any of its columns without reading the
 * file again.
 *
 * For the k columns of a file, in header order, they are the row count n, the
 * column means μ and the upper-triangular factor R of the centred columns
 * (RᵀR = XcᵀXc), packed as in linalg.ts. Three exact operations work on them:
 * - a byte range of the file reduces to its own statistics through the one-pass
 *   accumulator of regression.ts (all columns as [x…, y]: its state is that factor);
 * - two ranges merge (TSQR): stacking R₁, R₂ and the row √(n₁n₂/n)(μ₂ - μ₁) and
 *   re-triangularising gives the factor of the union, since the centred scatter of
 *   a union is S₁ + S₂ + (n₁n₂/n) δδᵀ;
 * - a subset and order of columns S (features, then the target) reduces to the
 *   training state of that fit: the QR of R·S has the Gram matrix of Xc·S. Without
 *   an intercept the row √n·μS is folded in too (XᵀX = XcᵀXc + n μμᵀ).
 * Each is a sequence of Givens rotations, as one pass over the rows is, so fits
 * agree with the single pass to rounding (checked to 1e-12 by the unit tests).
 */

export interface ColumnStatistics {
  n: number;
  /** Mean of each column (zeros when n = 0). */
  means: number[];
  /** Packed k×k upper triangle R of the centred columns. */
  triangle: number[];
}

export function emptyStatistics(k: number): ColumnStatistics {
  return { n: 0, means: new Array<number>(k).fill(0), triangle: new Array<number>(packedLength(k)).fill(0) };
}

/** The statistics of an accumulator fed every column, the last as its target (a range of the scan). */
export function statisticsOfState(state: TrainingState): ColumnStatistics {
  return { n: state.n, means: [...state.xMeans, state.yMean], triangle: Array.from(state.triangle) };
}

/** Combines the statistics of two disjoint sets of rows into those of their union. */
export function mergeStatistics(a: ColumnStatistics, b: ColumnStatistics): ColumnStatistics {
  const k = a.means.length;
  if (b.means.length !== k) throw new Error(`cannot merge statistics of ${k} and ${b.means.length} columns`);
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const triangle = Float64Array.from(a.triangle);
  const row = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    row.fill(0);
    for (let j = i; j < k; j++) row[j] = b.triangle[packedIndex(k, i, j)]!;
    foldRow(triangle, k, row, i);
  }
  const weight = Math.sqrt((a.n * b.n) / n);
  const means = a.means.map((mean, j) => {
    const delta = b.means[j]! - mean;
    row[j] = weight * delta;
    return mean + delta * (b.n / n);
  });
  foldRow(triangle, k, row, 0);
  return { n, means, triangle: Array.from(triangle) };
}

/** Which columns a fit uses: indices into the dataset's columns. */
export interface ColumnSelection {
  features: readonly number[];
  target: number;
}

/** The training state (regression.ts) of one fit: the factor of [features, target], centred with an intercept. */
export function trainingStateOf(statistics: ColumnStatistics, selection: ColumnSelection, fitIntercept: boolean): TrainingState {
  const { n, means, triangle: r } = statistics;
  const k = means.length;
  const order = [...selection.features, selection.target];
  const m = order.length;
  const triangle = new Float64Array(packedLength(m));
  const row = new Float64Array(m);
  const last = Math.max(...order);
  for (let i = 0; i <= last; i++) {
    for (let c = 0; c < m; c++) {
      const column = order[c]!;
      row[c] = column >= i ? r[packedIndex(k, i, column)]! : 0;
    }
    foldRow(triangle, m, row, 0);
  }
  if (!fitIntercept) {
    const root = Math.sqrt(n);
    for (let c = 0; c < m; c++) row[c] = root * means[order[c]!]!;
    foldRow(triangle, m, row, 0);
  }
  let targetSquares = 0;
  for (let i = 0; i <= selection.target; i++) targetSquares += r[packedIndex(k, i, selection.target)]! ** 2;
  const centre = (column: number) => (fitIntercept ? means[column]! : 0);
  if (!triangle.every(Number.isFinite)) throw new TrainingFailed('NUMERIC_OVERFLOW', 'the data is too large or too small in magnitude for double precision');
  return {
    n,
    d: selection.features.length,
    triangle,
    xMeans: Float64Array.from(selection.features, centre),
    yMean: centre(selection.target),
    targetMean: means[selection.target]!,
    targetSquares,
  };
}

/** Fits one model from a dataset's statistics. */
export function fitStatistics(statistics: ColumnStatistics, selection: ColumnSelection, spec: FitSpec): { model: FittedModel; solver: SolverReport } {
  return fitStateWithReport(trainingStateOf(statistics, selection, spec.fitIntercept), spec);
}

/**
 * The features of a dataset job: `features` as given (checked), or every column but
 * the target in header order. Answers indices into `columns` as well as names.
 */
export function selectColumns(columns: readonly string[], target: string, features?: readonly string[]): ColumnSelection & { names: string[] } {
  const index = new Map(columns.map((name, i) => [name, i]));
  const targetIndex = index.get(target);
  if (targetIndex === undefined) {
    throw new ValidationFailed('target is not a column of the dataset', [
      { path: 'target', message: `must be one of the dataset's columns: ${columns.slice(0, 20).join(', ')}${columns.length > 20 ? ', …' : ''}` },
    ]);
  }
  if (features === undefined) {
    const names = columns.filter((name) => name !== target);
    return { names, features: names.map((name) => index.get(name)!), target: targetIndex };
  }
  const details: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  features.forEach((name, i) => {
    if (name === target) details.push({ path: `features.${i}`, message: 'is the target; a column cannot predict itself' });
    else if (!index.has(name)) details.push({ path: `features.${i}`, message: `${JSON.stringify(name)} is not a column of the dataset` });
    else if (seen.has(name)) details.push({ path: `features.${i}`, message: `${JSON.stringify(name)} is listed twice` });
    seen.add(name);
  });
  if (features.length === 0) details.push({ path: 'features', message: 'must name at least one column' });
  if (details.length > 0) throw new ValidationFailed('features must be distinct columns of the dataset other than the target', details);
  return { names: [...features], features: features.map((name) => index.get(name)!), target: targetIndex };
}

// ---------------------------------------------------------------------------
// Byte ranges of a file

const LF = 10;
const CR = 13;
const QUOTE = 34;

/**
 * Longest line read (the CSV reader's own default): a range never needs more than
 * this many bytes past its end to finish its last line, or to know that line is too long.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

/** The last byte (inclusive) a range's reader may need: its end, plus one line at most. */
export function lastByteNeeded(range: ByteRange, sizeBytes: number): number {
  return Math.min(sizeBytes - 1, range.end + MAX_LINE_BYTES + 1);
}

/** One child's share of the file: bytes [start, end). */
export interface ByteRange {
  index: number;
  start: number;
  end: number;
}

/**
 * The offset just past the header record (its newline included), or undefined
 * when `bytes` (the head of the file) does not hold a whole header. Same rules as
 * the CSV reader: a byte order mark and empty lines before it, newlines inside quotes.
 */
export function headerEnd(bytes: Uint8Array): number | undefined {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === LF || bytes[i] === CR)) i++;
  let quoted = false;
  for (; i < bytes.length; i++) {
    if (bytes[i] === QUOTE) quoted = !quoted;
    else if (bytes[i] === LF && !quoted) return i + 1;
  }
  return undefined;
}

/**
 * Splits a file of `sizeBytes` into ranges of about `rangeBytes` (more when that
 * would make over `maxRanges`). The first range starts at 0 and holds the whole
 * header (`dataStart` is where the data begins), so no other range ever starts
 * inside a quoted header; a file whose header could not be found is one range.
 */
export function planRanges(options: { sizeBytes: number; dataStart: number | undefined; rangeBytes: number; maxRanges: number }): ByteRange[] {
  const { sizeBytes, dataStart, rangeBytes, maxRanges } = options;
  if (dataStart === undefined || dataStart >= sizeBytes) return [{ index: 0, start: 0, end: sizeBytes }];
  const step = Math.max(1, rangeBytes, Math.ceil((sizeBytes - dataStart) / maxRanges));
  const ranges: ByteRange[] = [];
  let start = 0;
  for (let boundary = dataStart + step; ; boundary += step) {
    const end = Math.min(boundary, sizeBytes);
    ranges.push({ index: ranges.length, start, end });
    if (end === sizeBytes) return ranges;
    start = end;
  }
}

/** What one range of the file reduced to (stored as JSON by the scan; see docs/design.md, "The dataset scan"). */
export interface RangePartial {
  index: number;
  /** The header's names (every range reads the header). */
  columns: string[];
  /** Data rows read. */
  rows: number;
  /** Lines the range holds (newlines, plus an unterminated last line): later ranges' line numbers start after them. */
  lines: number;
  /** The range's first bad line, its `line` counted from the range's first line (1). */
  error: DatasetError | null;
  /** Null when there is an error, or when the values overflow double precision. */
  statistics: ColumnStatistics | null;
  overflow: boolean;
}

/** Feeds every column of every row into one accumulator, as [x₀…x_{k-2}, y]. */
class ColumnSink implements NumericCsvSink {
  accumulator: RegressionAccumulator | undefined;
  columns: readonly string[] = [];

  /** Data rows read: the reader hands every one, and only numbers, so each reaches the accumulator. */
  get rows(): number {
    return this.accumulator?.count ?? 0;
  }

  header(columns: readonly string[]): void {
    this.columns = columns;
    this.accumulator = new RegressionAccumulator(columns.length - 1, true);
  }

  row(values: Float64Array): void {
    this.accumulator!.addRecord(values, values.length - 1);
  }

  rowBlock(columns: Float64Array, stride: number, count: number): void {
    this.accumulator!.addColumns(columns, stride, count, this.columns.length - 1);
  }
}

/**
 * Reads one range of a file, fed in chunks from its `start` to the end of the file
 * (or until `push` answers true). Alignment: a range other than the first begins
 * after the first newline at or past its start, and every range finishes the line
 * it is in at its end (through the first newline at or past `end`), so each line
 * is read by exactly one range. A range other than the first is preceded by the
 * file's header bytes (`header`, up to `dataStart`), so it is read by the same CSV
 * reader as a whole file, with the same rules and messages.
 */
export class RangeScan {
  private readonly sink = new ColumnSink();
  private readonly reader: NumericCsvReader;
  private readonly headerLines: number;
  private state: 'skip' | 'read' | 'done';
  private newlines = 0;
  private fed = 0;
  private lastByte = -1;
  private error: InvalidCsv | undefined;

  constructor(
    readonly range: ByteRange,
    options: { maxColumns: number; header?: Uint8Array },
  ) {
    this.reader = new NumericCsvReader(this.sink, { maxColumns: options.maxColumns, maxLineBytes: MAX_LINE_BYTES });
    this.state = range.index === 0 ? 'read' : 'skip';
    this.headerLines = 0;
    if (range.index > 0) {
      if (!options.header) throw new Error('a range other than the first needs the header bytes');
      this.headerLines = countNewlines(options.header, 0, options.header.length);
      this.feed(options.header, false);
    }
  }

  /** Feeds the file's bytes from `position`; answers true once the range needs no more. */
  push(chunk: Uint8Array, position: number): boolean {
    if (this.state === 'skip') {
      const newline = chunk.indexOf(LF);
      if (newline < 0) return false;
      if (position + newline >= this.range.end) return this.stop();
      this.state = 'read';
      return this.push(chunk.subarray(newline + 1), position + newline + 1);
    }
    if (this.state === 'done') return true;
    const from = Math.max(0, this.range.end - position);
    const last = from < chunk.length ? chunk.indexOf(LF, from) : -1;
    if (last >= 0) {
      this.feed(chunk.subarray(0, last + 1), true);
      return this.stop();
    }
    this.feed(chunk, true);
    return this.error !== undefined;
  }

  /** Ends the range (the file ended, or the range is complete) and answers what it reduced to. */
  finish(): RangePartial {
    if (this.error === undefined) {
      try {
        this.reader.end();
      } catch (error) {
        // No rows in one range is fine: whether the file has any is the merge's question.
        if (!(error instanceof InvalidCsv)) throw error;
        if (error.code !== 'NO_ROWS') this.error = error;
      }
    }
    const lines = this.newlines + (this.fed > 0 && this.lastByte !== LF ? 1 : 0);
    const { index } = this.range;
    const columns = [...this.sink.columns];
    if (this.error) return { index, columns, rows: this.sink.rows, lines, error: this.localError(this.error), statistics: null, overflow: false };
    const accumulator = this.sink.accumulator;
    const k = this.sink.columns.length;
    if (!accumulator || this.sink.rows === 0)
      return { index, columns, rows: 0, lines, error: null, statistics: k > 0 ? emptyStatistics(k) : null, overflow: false };
    try {
      const statistics = statisticsOfState(accumulator.state());
      return { index, columns, rows: this.sink.rows, lines, error: null, statistics, overflow: false };
    } catch (error) {
      if (error instanceof TrainingFailed && error.code === 'NUMERIC_OVERFLOW')
        return { index, columns, rows: this.sink.rows, lines, error: null, statistics: null, overflow: true };
      throw error;
    }
  }

  private stop(): true {
    this.state = 'done';
    return true;
  }

  private feed(bytes: Uint8Array, counted: boolean): void {
    if (this.error || bytes.length === 0) return;
    if (counted) {
      this.newlines += countNewlines(bytes, 0, bytes.length);
      this.fed += bytes.length;
      this.lastByte = bytes[bytes.length - 1]!;
    }
    try {
      this.reader.push(bytes);
    } catch (error) {
      if (!(error instanceof InvalidCsv)) throw error;
      this.error = error;
      this.state = 'done';
    }
  }

  /** The reader numbers lines from the header it was given first: renumber from the range's first line. */
  private localError(error: InvalidCsv): DatasetError {
    const shift = this.headerLines;
    const line = error.line === undefined ? undefined : error.line - shift;
    return {
      code: error.code,
      message: error.line !== undefined && shift > 0 ? renumber(error.message, error.line, line!) : error.message,
      ...(line === undefined ? {} : { line }),
      ...(error.column === undefined ? {} : { column: error.column }),
    };
  }
}

function countNewlines(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = bytes.indexOf(LF, from); i >= 0 && i < to; i = bytes.indexOf(LF, i + 1)) count++;
  return count;
}

/** The reader's messages start "line N…": say the line's number in the other count. */
function renumber(message: string, from: number, to: number): string {
  const prefix = `line ${from}`;
  return message.startsWith(prefix) ? `line ${to}${message.slice(prefix.length)}` : message;
}

/** The whole file's outcome from its ranges' partials (in any order). */
export type ScanOutcome =
  | { status: 'READY'; rows: number; columns: string[]; statistics: ColumnStatistics | null }
  | { status: 'INVALID'; error: DatasetError };

/**
 * Merges the partials of every range of a file: the earliest bad line of all
 * ranges (line numbers made global by adding the lines of the ranges before), or
 * the statistics of all rows. Null statistics mean the values overflow double
 * precision; the dataset is still READY, as a single pass would have it, and a job
 * on it fails NUMERIC_OVERFLOW.
 */
export function mergePartials(partials: readonly RangePartial[]): ScanOutcome {
  const ordered = [...partials].sort((a, b) => a.index - b.index);
  ordered.forEach((partial, i) => {
    if (partial.index !== i) throw new Error(`range ${i} is missing from the scan's partials`);
  });
  let linesBefore = 0;
  let rows = 0;
  let statistics: ColumnStatistics | null = null;
  let overflow = false;
  for (const partial of ordered) {
    if (partial.error) {
      const { error } = partial;
      if (error.line === undefined || linesBefore === 0) return { status: 'INVALID', error };
      const line = error.line + linesBefore;
      return { status: 'INVALID', error: { ...error, line, message: renumber(error.message, error.line, line) } };
    }
    linesBefore += partial.lines;
    rows += partial.rows;
    overflow ||= partial.overflow;
    if (partial.statistics) statistics = statistics ? mergeStatistics(statistics, partial.statistics) : partial.statistics;
  }
  if (rows === 0) return { status: 'INVALID', error: { code: 'NO_ROWS', message: 'the file has a header but no data rows', line: linesBefore + 1 } };
  if (overflow || (statistics && !statistics.triangle.every(Number.isFinite))) statistics = null;
  return { status: 'READY', rows, columns: ordered[0]!.columns, statistics };
}

/** The statistics object as stored (src/domain/object-keys.ts names where: statisticsKey). */
export interface StoredStatistics {
  datasetId: string;
  etag: string;
  columns: string[];
  rows: number;
  /** Null when the values overflow double precision: jobs fail NUMERIC_OVERFLOW. */
  statistics: ColumnStatistics | null;
}
