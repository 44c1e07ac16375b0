import { type CsvFormat, type CsvHeaderInfo, InvalidCsv, NumericCsvReader, type NumericCsvSink, type RowCells } from './csv.js';
import type { DatasetError } from './datasets.js';
import { TrainingFailed } from './errors.js';
import { type ColumnProfile, type ColumnSchema, mergeColumnProfiles, SchemaProfiler, schemaOf } from './schema.js';
import { mergePatternStatistics, PatternAccumulator, type PatternStatistics } from './statistics.js';

/**
 * The dataset scan's byte ranges (docs/design.md, "The dataset scan"): how a file is
 * cut into ranges, how one range is read into its partial statistics, and how the
 * partials of every range merge into the file's outcome. The statistics themselves,
 * and their algebra, are statistics.ts.
 */

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
  /** The header's names (every range reads the header), generated ones included. */
  columns: string[];
  /** Indices of the columns whose header name was empty (their names were generated). */
  generated: number[];
  /** Data rows read. */
  rows: number;
  /** Lines the range holds (newlines, plus an unterminated last line): later ranges' line numbers start after them. */
  lines: number;
  /** The range's first bad line, its `line` counted from the range's first line (1). */
  error: DatasetError | null;
  /** Each column's profile (src/domain/schema.ts); null when there is an error. */
  profiles: ColumnProfile[] | null;
  /** Statistics by missing-value pattern; null when there is an error, or when the values overflow double precision. */
  statistics: PatternStatistics | null;
  overflow: boolean;
}

/** Feeds every row into the column profiles and the statistics by missing-value pattern. */
class ColumnSink implements NumericCsvSink {
  profiler: SchemaProfiler | undefined;
  patterns: PatternAccumulator | undefined;
  columns: readonly string[] = [];
  generated: readonly number[] = [];
  rows = 0;

  header(columns: readonly string[], info: CsvHeaderInfo): void {
    this.columns = columns;
    this.generated = info.generated;
    this.profiler = new SchemaProfiler(columns.length);
    this.patterns = new PatternAccumulator(columns.length);
  }

  row(values: Float64Array, _line: number, cells?: RowCells): void {
    this.rows++;
    this.profiler!.addRow(cells);
    this.patterns!.addRow(values, cells);
  }

  rowBlock(columns: Float64Array, stride: number, count: number): void {
    this.rows += count;
    this.profiler!.addNumericRows(count);
    this.patterns!.addColumns(columns, stride, count);
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
    options: { maxColumns: number; header?: Uint8Array; format?: CsvFormat | undefined },
  ) {
    this.reader = new NumericCsvReader(this.sink, { maxColumns: options.maxColumns, maxLineBytes: MAX_LINE_BYTES, ...options.format });
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
    const { columns, generated, rows, profiler, patterns } = this.sink;
    const read = { index, columns: [...columns], generated: [...generated], rows, lines };
    if (this.error) return { ...read, error: this.localError(this.error), profiles: null, statistics: null, overflow: false };
    const profiles = profiler?.profiles() ?? null;
    if (!patterns) return { ...read, error: null, profiles, statistics: null, overflow: false };
    try {
      return { ...read, error: null, profiles, statistics: patterns.result(), overflow: false };
    } catch (error) {
      if (error instanceof TrainingFailed && error.code === 'NUMERIC_OVERFLOW') return { ...read, error: null, profiles, statistics: null, overflow: true };
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
  | { status: 'READY'; rows: number; columns: string[]; schema: ColumnSchema[]; statistics: PatternStatistics | null }
  | { status: 'INVALID'; error: DatasetError };

/**
 * Merges the partials of every range of a file: the earliest bad line of all
 * ranges (line numbers made global by adding the lines of the ranges before), or
 * the schema and the statistics of all rows. Null statistics mean the values
 * overflow double precision; the dataset is still READY, as a single pass would
 * have it, and a job on it fails NUMERIC_OVERFLOW. A file without a single number
 * column is INVALID: there is nothing a regression could predict.
 */
export function mergePartials(partials: readonly RangePartial[]): ScanOutcome {
  const ordered = [...partials].sort((a, b) => a.index - b.index);
  ordered.forEach((partial, i) => {
    if (partial.index !== i) throw new Error(`range ${i} is missing from the scan's partials`);
  });
  let linesBefore = 0;
  let rows = 0;
  let statistics: PatternStatistics | null = null;
  let profiles: ColumnProfile[] | null = null;
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
    if (partial.statistics) statistics = statistics ? mergePatternStatistics(statistics, partial.statistics) : partial.statistics;
    if (partial.profiles) profiles = profiles ? mergeColumnProfiles(profiles, partial.profiles) : partial.profiles;
  }
  if (rows === 0 || !profiles)
    return { status: 'INVALID', error: { code: 'NO_ROWS', message: 'the file has a header but no data rows', line: linesBefore + 1 } };
  const { columns, generated } = ordered[0]!;
  const schema = schemaOf(columns, generated, profiles);
  if (!schema.some((column) => column.type === 'number' && column.missing < rows)) {
    return {
      status: 'INVALID',
      error: {
        code: 'NO_NUMERIC_COLUMN',
        message: 'no column holds numbers: a regression needs a number column to predict (is the delimiter or decimal separator right?)',
      },
    };
  }
  if (overflow || (statistics && !statistics.patterns.every((pattern) => pattern.statistics.triangle.every(Number.isFinite)))) statistics = null;
  return { status: 'READY', rows, columns, schema, statistics };
}

/** The statistics object as stored (src/domain/object-keys.ts names where: statisticsKey). */
export interface StoredStatistics {
  datasetId: string;
  etag: string;
  columns: string[];
  rows: number;
  schema: ColumnSchema[];
  /** Null when the values overflow double precision: jobs fail NUMERIC_OVERFLOW. */
  statistics: PatternStatistics | null;
}
