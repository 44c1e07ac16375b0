import { CsvKernel } from './csv-kernel.js';
import { DomainError } from './errors.js';

/**
 * A streaming reader for numeric CSV: a header row of column names, then rows of
 * numbers. It is fed raw bytes in chunks of any size (an S3 GetObject body, a file
 * stream) and hands each row to a callback as it completes, so memory stays
 * O(columns + longest line) whatever the file size.
 *
 * Hand-written rather than a general CSV library because data rows here can only
 * hold numbers, which allows a byte-level parser that never builds a string per
 * field. Measured (bench/parsers.ts, bench/RESULTS.md) on 10^6 rows x 11 columns of
 * shortest-round-trip doubles, 215 MB in 64 KiB chunks, 2 vCPU AMD EPYC, Node 20:
 * this reader 314 MB/s (1.46 M rows/s), udsv 133 MB/s, papaparse 32 MB/s,
 * csv-parse 29 MB/s; reading the file alone runs at ~880 MB/s. Since then the lines
 * of plain numbers go through a WebAssembly kernel (csv-kernel.ts), which reads them
 * to the same bits as the TypeScript loop here: 594 MB/s on Node 24 (the file alone
 * 1119 MB/s). Every other line, and every error, is this loop's.
 *
 * Format accepted (RFC 4180 with the numeric restriction, plus what spreadsheets and
 * pandas write):
 * - comma-separated; lines end with LF or CRLF; a UTF-8 byte order mark is skipped;
 * - the first non-empty line is the header: names may be quoted ("a,b" and "" for a
 *   quote), are trimmed, must be non-empty, unique and at most 128 characters;
 * - each data row has exactly as many values as the header, each a decimal number
 *   (optional sign, digits, fraction, exponent), optionally quoted and padded with
 *   spaces; empty values, NaN and infinities are refused;
 * - empty lines are skipped anywhere; the last line may lack its newline.
 *
 * Values with at most 15 significant digits and a decimal exponent within ±22 are
 * converted exactly as `Number()` would (correctly rounded: both operands are exact
 * doubles and one IEEE operation rounds once). 16 and 17 digits, as in
 * shortest-round-trip exports, are within a relative 2 x 2^-52 of `Number()` (at most
 * 3 units in the last place), like pandas' default converter; anything longer or with
 * a larger exponent goes through `Number()` itself.
 */

export type CsvErrorCode = 'EMPTY_FILE' | 'INVALID_HEADER' | 'TOO_MANY_COLUMNS' | 'WRONG_COLUMN_COUNT' | 'NOT_A_NUMBER' | 'LINE_TOO_LONG' | 'NO_ROWS';

/** A file the reader refuses, with the first offending place (1-based line and column). */
export class InvalidCsv extends DomainError {
  constructor(
    code: CsvErrorCode,
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(code, message, 'invalid');
  }
}

export interface NumericCsvOptions {
  /** Most columns a header may name (docs/rules.md: 1,000). */
  maxColumns: number;
  /** Fewest columns: a target and at least one feature. */
  minColumns?: number;
  /** Longest line accepted, so a file without newlines cannot make the reader buffer it whole. */
  maxLineBytes?: number;
  /**
   * Whether plain lines go through the WebAssembly kernel (csv-kernel.ts); default true.
   * Off, every line goes through the TypeScript loop: the tests compare the two.
   */
  kernel?: boolean;
}

export interface NumericCsvSink {
  /** Called once, before any row, with the header's column names. May throw to stop reading. */
  header(columns: readonly string[]): void;
  /**
   * Called for every data row with its values in header order. The array is reused
   * for the next row: copy what must outlive the call.
   */
  row(values: Float64Array, line: number): void;
  /**
   * Optional: rows that follow one another, as the kernel hands them, at once and
   * column by column: value j of row r (r < count) is `columns[j·stride + r]`, and row
   * r is on line `line + r`. The array is reused too. A sink without it gets `row` for
   * each of them; with it, the kernel's rows come here and every other row to `row`.
   */
  rowBlock?(columns: Float64Array, stride: number, count: number, line: number): void;
}

export interface CsvSummary {
  columns: string[];
  rows: number;
  bytes: number;
}

export const MAX_COLUMN_NAME_LENGTH = 128;
const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const COMMA = 44;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const LOWER_E = 101;
const UPPER_E = 69;

/**
 * A value's sign as lookups by its first byte, so that a column of mixed signs costs no
 * branch (a random sign is a branch the CPU mispredicts half the time): the factor it
 * applies (-1 for '-', else 1) and the width it takes (1 for '-' or '+', else 0).
 */
const SIGN_FACTOR = Float64Array.from({ length: 256 }, (_, byte) => (byte === MINUS ? -1 : 1));
const SIGN_WIDTH = Uint8Array.from({ length: 256 }, (_, byte) => (byte === MINUS || byte === PLUS ? 1 : 0));

/** Exact powers of ten: every 10^k with k <= 22 is a double without rounding. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');
const NEWLINE = new Uint8Array([LF]);

export class NumericCsvReader {
  private readonly maxColumns: number;
  private readonly minColumns: number;
  private readonly maxLineBytes: number;
  private readonly useKernel: boolean;
  private kernel: CsvKernel | undefined;
  private columns: string[] | undefined;
  private values = new Float64Array(0);
  /** The bytes of an incomplete line (or of the header) carried to the next chunk. */
  private carry: Uint8Array = new Uint8Array(0);
  /** 1-based number of the line that starts at the beginning of `carry`. */
  private line = 1;
  private rows = 0;
  private bytes = 0;
  private ended = false;

  constructor(
    private readonly sink: NumericCsvSink,
    options: NumericCsvOptions,
  ) {
    this.maxColumns = options.maxColumns;
    this.minColumns = options.minColumns ?? 2;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.useKernel = options.kernel ?? true;
  }

  /** Feeds the next bytes of the file. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('push() after end()');
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    if (this.columns === undefined) {
      this.carry = concat(this.carry, chunk);
      this.readHeader(false);
      return;
    }
    let start = 0;
    if (this.carry.length > 0) {
      // Complete the carried line with the head of this chunk; parse the rest in place.
      const newline = chunk.indexOf(LF);
      if (newline < 0) {
        this.carry = concat(this.carry, chunk);
        this.checkLineLength(this.carry.length);
        return;
      }
      const joined = concat(this.carry, chunk.subarray(0, newline + 1));
      this.carry = new Uint8Array(0);
      this.readRows(joined, 0);
      start = newline + 1;
    }
    this.keep(chunk, this.readRows(chunk, start));
  }

  /** Ends the file: reads a last line without newline and answers what was read. */
  end(): CsvSummary {
    if (!this.ended) {
      this.ended = true;
      if (this.columns === undefined) this.readHeader(true);
      if (this.carry.length > 0) {
        // The newline the last line lacks, so every line parsed ends with one.
        const tail = concat(this.carry, NEWLINE);
        this.carry = new Uint8Array(0);
        this.readRows(tail, 0);
      }
      if (this.rows === 0) throw new InvalidCsv('NO_ROWS', 'the file has a header but no data rows', this.line);
    }
    return { columns: [...(this.columns ?? [])], rows: this.rows, bytes: this.bytes };
  }

  /** Carries the unparsed end of `buf` (from `from`) to the next chunk. */
  private keep(buf: Uint8Array, from: number): void {
    if (from < buf.length) {
      this.carry = buf.slice(from);
      this.checkLineLength(this.carry.length);
    }
  }

  private checkLineLength(length: number): void {
    if (length > this.maxLineBytes) {
      throw new InvalidCsv('LINE_TOO_LONG', `line ${this.line} is longer than ${this.maxLineBytes} bytes`, this.line);
    }
  }

  /**
   * Finds the header record in `carry` (after a byte order mark and empty lines);
   * leaves `carry` whole and waits for more bytes while the record is incomplete.
   */
  private readHeader(final: boolean): void {
    const bytes = this.carry;
    // A UTF-8 byte order mark, as spreadsheet exports write, is not part of the first name.
    let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    let line = this.line;
    // Empty lines before the header are skipped, as pandas does.
    while (start < bytes.length && (bytes[start] === LF || bytes[start] === CR)) {
      if (bytes[start] === LF) line++;
      start++;
    }
    let quoted = false;
    let newlinesInside = 0;
    let end = -1;
    for (let i = start; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === QUOTE) quoted = !quoted;
      else if (c === LF) {
        if (!quoted) {
          end = i;
          break;
        }
        newlinesInside++;
      }
    }
    if (end < 0 && !final) {
      this.checkLineLength(bytes.length);
      return;
    }
    const recordEnd = end < 0 ? bytes.length : end;
    if (recordEnd === start) throw new InvalidCsv('EMPTY_FILE', 'the file is empty: expected a header row of column names', 1);
    this.checkLineLength(recordEnd - start);
    let record: string;
    try {
      record = utf8.decode(bytes.subarray(start, recordEnd));
    } catch {
      throw new InvalidCsv('INVALID_HEADER', 'the header row is not valid UTF-8', line);
    }
    const columns = parseHeader(record.endsWith('\r') ? record.slice(0, -1) : record, line, this.maxColumns, this.minColumns);
    this.columns = columns;
    this.values = new Float64Array(columns.length);
    if (this.useKernel) this.kernel = new CsvKernel(columns.length);
    this.sink.header(columns);
    this.line = line + newlinesInside + 1;
    this.carry = new Uint8Array(0);
    if (end >= 0) {
      const rest = bytes.subarray(end + 1);
      this.keep(rest, this.readRows(rest, 0));
    }
  }

  /**
   * Parses every complete line of `buf` from `from` and answers where the
   * incomplete rest begins. Parsing stops after the last newline, so each line read
   * ends with a LF: it is the sentinel that stops every scan (here and in the kernel)
   * without a bounds check, which is most of the loops' speed.
   */
  private readRows(buf: Uint8Array, from: number): number {
    const stop = buf.lastIndexOf(LF) + 1;
    if (stop <= from) return from;
    const kernel = this.kernel;
    if (kernel === undefined) return this.readLines(buf, from, stop);
    // The kernel reads the plain lines; a line it leaves goes through the loop below,
    // which reads it or throws the error that names what is wrong with it.
    kernel.load(buf, from, stop);
    const { values, sink } = this;
    const width = values.length;
    const stride = kernel.maxRows;
    let i = from;
    while (i < stop) {
      const { rows, stopped } = kernel.read(i - from, width);
      const out = kernel.values;
      if (sink.rowBlock !== undefined && rows > 0) {
        this.rows += rows;
        sink.rowBlock(out, stride, rows, this.line);
        this.line += rows;
      } else {
        for (let row = 0; row < rows; row++) {
          for (let column = 0, at = row; column < width; column++, at += stride) values[column] = out[at]!;
          this.rows++;
          sink.row(values, this.line);
          this.line++;
        }
      }
      i = from + stopped;
      if (rows < kernel.maxRows && i < stop) i = this.readLines(buf, i, i + 1);
    }
    return stop;
  }

  /**
   * Parses the lines of `buf` from `from` until the first that starts at or after
   * `until` (at most the end of a line); answers where it stopped.
   */
  private readLines(buf: Uint8Array, from: number, until: number): number {
    const values = this.values;
    const width = values.length;
    const sink = this.sink;
    let i = from;
    while (i < until) {
      let c = buf[i]!;
      // Empty lines are skipped.
      if (c === LF || (c === CR && buf[i + 1] === LF)) {
        i += c === LF ? 1 : 2;
        this.line++;
        continue;
      }
      let p = i;
      let column = 0;
      for (;;) {
        if (column === width) this.fail('WRONG_COLUMN_COUNT', buf, i, column);
        // One value: [spaces] ["] [sign] digits [. digits] [e [sign] digits] ["] [spaces]
        while ((c = buf[p]!) === SPACE || c === TAB) p++;
        const quoted = c === QUOTE;
        if (quoted) {
          while ((c = buf[++p]!) === SPACE || c === TAB);
        }
        const numberStart = p;
        const sign = SIGN_FACTOR[c]!;
        p += SIGN_WIDTH[c]!;
        // Leading zeros add nothing, so the mantissa's size alone tells whether it is exact (< 2^53).
        // Digits are taken two at a time: one multiply-add per pair halves the chain of
        // dependent floating-point operations that bounds this loop (and rounds half as
        // often past 2^53); a digit alone before a non-digit takes one. The loop goes on
        // past the first decimal point, where `fraction` marks the decimals' start, so
        // whole part and decimals are one run, as the kernel reads them.
        let mantissa = 0;
        let fraction = -1;
        const digitsStart = p;
        for (;;) {
          c = buf[p]! - ZERO;
          if (!(c >= 0 && c <= 9)) {
            if (c !== DOT - ZERO || fraction >= 0) break;
            fraction = ++p;
            continue;
          }
          const next = buf[p + 1]! - ZERO;
          if (next >= 0 && next <= 9) {
            mantissa = mantissa * 100 + (c * 10 + next);
            p += 2;
          } else {
            mantissa = mantissa * 10 + c;
            p++;
          }
        }
        let exponent = fraction < 0 ? 0 : fraction - p;
        const digits = p - digitsStart - (fraction < 0 ? 0 : 1);
        let valid = digits > 0;
        c = buf[p]!;
        if (valid && (c === LOWER_E || c === UPPER_E)) {
          c = buf[++p]!;
          const exponentNegative = c === MINUS;
          if (exponentNegative || c === PLUS) p++;
          let explicit = 0;
          const first = p;
          while ((c = buf[p]! - ZERO) >= 0 && c <= 9) {
            if (explicit < 100_000) explicit = explicit * 10 + c;
            p++;
          }
          valid = p > first;
          exponent += exponentNegative ? -explicit : explicit;
        }
        const numberEnd = p;
        if (quoted) {
          while ((c = buf[p]!) === SPACE || c === TAB) p++;
          if (c === QUOTE) p++;
          else valid = false;
        }
        while ((c = buf[p]!) === SPACE || c === TAB) p++;
        if (!valid) this.fail('NOT_A_NUMBER', buf, i, column);

        let value: number;
        if (mantissa === 0) value = 0;
        else if (mantissa < 1e17 && exponent >= -22 && exponent <= 22) {
          value = exponent < 0 ? mantissa / POW10[-exponent]! : mantissa * POW10[exponent]!;
        } else {
          value = Number(latin1(buf, numberStart + SIGN_WIDTH[buf[numberStart]!]!, numberEnd));
          if (!Number.isFinite(value)) this.fail('NOT_A_NUMBER', buf, i, column);
        }
        values[column++] = sign * value;

        if (c === COMMA) {
          p++;
          continue;
        }
        if (c === CR && buf[p + 1] === LF) p++;
        else if (c !== LF) this.fail('NOT_A_NUMBER', buf, i, column - 1);
        break;
      }
      if (column !== width) this.fail('WRONG_COLUMN_COUNT', buf, i, column);
      this.rows++;
      sink.row(values, this.line);
      this.line++;
      i = p + 1;
    }
    return i;
  }

  /** Throws the error for the value at `column` (0-based) of the line that starts at buf[start]. */
  private fail(code: 'NOT_A_NUMBER' | 'WRONG_COLUMN_COUNT', buf: Uint8Array, start: number, column: number): never {
    let end = buf.indexOf(LF, start);
    if (end < 0) end = buf.length;
    if (end > start && buf[end - 1] === CR) end--;
    const columns = this.columns ?? [];
    const line = this.line;
    if (code === 'WRONG_COLUMN_COUNT') {
      const count = countValues(buf, start, end);
      const first = Math.min(count, columns.length) + 1;
      throw new InvalidCsv(code, `line ${line}, column ${first}: the line has ${count} values, the header ${columns.length} columns`, line, first);
    }
    const text = fieldText(buf, start, end, column);
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    const name = columns[column];
    const where = `line ${line}, column ${column + 1}${name === undefined ? '' : ` (${JSON.stringify(name)})`}`;
    const reason = text.trim() === '' ? 'the value is empty' : `${JSON.stringify(shown)} is not a finite number`;
    throw new InvalidCsv(code, `${where}: ${reason}`, line, column + 1);
  }
}

/** Splits the header record into trimmed, checked column names. */
function parseHeader(record: string, line: number, maxColumns: number, minColumns: number): string[] {
  const names: string[] = [];
  let i = 0;
  for (;;) {
    let name = '';
    while (record[i] === ' ' || record[i] === '\t') i++;
    if (record[i] === '"') {
      i++;
      for (;;) {
        if (i >= record.length)
          throw new InvalidCsv('INVALID_HEADER', `column ${names.length + 1} of the header has an unclosed quote`, line, names.length + 1);
        const quote = record.indexOf('"', i);
        if (quote < 0) {
          i = record.length;
          continue;
        }
        name += record.slice(i, quote);
        if (record[quote + 1] === '"') {
          name += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      while (record[i] === ' ' || record[i] === '\t') i++;
      if (i < record.length && record[i] !== ',') {
        throw new InvalidCsv('INVALID_HEADER', `column ${names.length + 1} of the header has text after its closing quote`, line, names.length + 1);
      }
    } else {
      const comma = record.indexOf(',', i);
      const stop = comma < 0 ? record.length : comma;
      name = record.slice(i, stop);
      if (name.includes('"')) throw new InvalidCsv('INVALID_HEADER', `column ${names.length + 1} of the header has a stray quote`, line, names.length + 1);
      i = stop;
    }
    names.push(name.trim());
    if (names.length > maxColumns) {
      throw new InvalidCsv('TOO_MANY_COLUMNS', `the header has more than ${maxColumns} columns`, line, maxColumns + 1);
    }
    if (i >= record.length) break;
    i++; // the comma
  }
  const seen = new Map<string, number>();
  for (const [index, name] of names.entries()) {
    const column = index + 1;
    if (name === '') throw new InvalidCsv('INVALID_HEADER', `column ${column} of the header has no name`, line, column);
    if (name.length > MAX_COLUMN_NAME_LENGTH) {
      throw new InvalidCsv('INVALID_HEADER', `column ${column} of the header is longer than ${MAX_COLUMN_NAME_LENGTH} characters`, line, column);
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new InvalidCsv('INVALID_HEADER', `column ${column} of the header repeats the name ${JSON.stringify(name)} of column ${earlier}`, line, column);
    }
    seen.set(name, column);
  }
  if (names.length < minColumns) {
    throw new InvalidCsv('INVALID_HEADER', `the header has ${names.length} column(s); at least ${minColumns} are needed (a target and a feature)`, line);
  }
  return names;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

/** Number text is ASCII: a byte-to-char copy is its exact decoding. */
function latin1(buf: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]!);
  return text;
}

/** Values on a line, counting commas outside quotes (only for error messages). */
function countValues(buf: Uint8Array, start: number, end: number): number {
  let count = 1;
  let quoted = false;
  for (let i = start; i < end; i++) {
    if (buf[i] === QUOTE) quoted = !quoted;
    else if (buf[i] === COMMA && !quoted) count++;
  }
  return count;
}

/** The raw text of the `column`-th value of a line (only for error messages). */
function fieldText(buf: Uint8Array, start: number, end: number, column: number): string {
  let index = 0;
  let fieldStart = start;
  let quoted = false;
  for (let i = start; i <= end; i++) {
    if (i < end && buf[i] === QUOTE) quoted = !quoted;
    if (i === end || (buf[i] === COMMA && !quoted)) {
      if (index === column) return lenient.decode(buf.subarray(fieldStart, i));
      index++;
      fieldStart = i + 1;
    }
  }
  return '';
}
