import { CsvKernel } from './csv-kernel.js';
import { DomainError } from './errors.js';

/**
 * A streaming reader for CSV whose cells are mostly numbers: a header row of column
 * names, then rows of cells. It is fed raw bytes in chunks of any size (an S3
 * GetObject body, a file stream) and hands each row to a callback as it completes, so
 * memory stays O(columns + longest line) whatever the file size.
 *
 * Hand-written rather than a general CSV library because most cells here are numbers,
 * which allows a byte-level parser that never builds a string per numeric field.
 * Measured (bench/parsers.ts, bench/RESULTS.md) on 10^6 rows x 11 columns of
 * shortest-round-trip doubles, 215 MB in 64 KiB chunks, 2 vCPU AMD EPYC, Node 20:
 * this reader 314 MB/s (1.46 M rows/s), udsv 133 MB/s, papaparse 32 MB/s,
 * csv-parse 29 MB/s; reading the file alone runs at ~880 MB/s. Since then the lines
 * of plain numbers go through a WebAssembly kernel (csv-kernel.ts), which reads them
 * to the same bits as the TypeScript loop here: 594 MB/s on Node 24 (the file alone
 * 1119 MB/s). Every other line, and every error, is this loop's. The kernel assumes
 * ',' between values and '.' before decimals: with any other `delimiter` or `decimal`
 * every line goes through the loop.
 *
 * Format accepted (RFC 4180 on one line per record, plus what spreadsheets, R and
 * pandas write):
 * - values separated by `delimiter` (',' by default; ';', tab or '|'); lines end with
 *   LF or CRLF; a UTF-8 byte order mark is skipped; a NUL byte anywhere refuses the
 *   file as binary (BINARY_FILE);
 * - the first non-empty line is the header: names may be quoted ("a,b" and "" for a
 *   quote, even across lines), are trimmed, unique and at most 128 characters. An
 *   empty name (R's write.csv and pandas' to_csv write the row names or the index
 *   under one) gets the name pandas gives it, `Unnamed: <i>` (i the 0-based column),
 *   with `.1`, `.2`… appended while another column has that name;
 * - each data row has exactly as many cells as the header. A cell, once the spaces and
 *   tabs around it and its enclosing quotes are taken off (spaces and tabs just inside
 *   the quotes too; a tab is never padding when it is the delimiter), is
 *   - a number: a decimal number (optional sign, digits, fraction after `decimal`,
 *     exponent) that is finite;
 *   - missing: one of pandas' default missing-value tokens (MISSING_TOKENS), the
 *     empty cell among them;
 *   - text: anything else, valid UTF-8. A text cell may be quoted, with the delimiter
 *     inside and "" for a quote; a quote inside an unquoted cell is just a character.
 *     A quoted cell must close on its line and be followed by nothing but spaces
 *     (BAD_QUOTING otherwise). Infinities (`inf`, `Infinity`, `1e400`) are text:
 *     pandas reads them as ±inf, but no model is trained on an infinite value, so
 *     they are not numbers here;
 * - empty lines are skipped anywhere; the last line may lack its newline.
 *
 * Numbers with at most 15 significant digits and a decimal exponent within ±22 are
 * converted exactly as `Number()` would (correctly rounded: both operands are exact
 * doubles and one IEEE operation rounds once). 16 and 17 digits, as in
 * shortest-round-trip exports, are within a relative 2 x 2^-52 of `Number()` (at most
 * 3 units in the last place), like pandas' default converter; anything longer or with
 * a larger exponent goes through `Number()` itself.
 */

export type CsvErrorCode =
  | 'EMPTY_FILE'
  | 'INVALID_HEADER'
  | 'TOO_MANY_COLUMNS'
  | 'WRONG_COLUMN_COUNT'
  | 'BAD_QUOTING'
  | 'INVALID_ENCODING'
  | 'BINARY_FILE'
  | 'LINE_TOO_LONG'
  | 'NO_ROWS';

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

/** How values are separated and how a number writes its decimals. */
export type CsvFormat = {
  /** Between values: ',' (the default), ';' (Excel and R's write.csv2 in locales with a decimal comma), tab, or '|'. */
  delimiter: ',' | ';' | '\t' | '|';
  /** Before a number's decimals: '.' (the default) or ','; ',' needs another delimiter. */
  decimal: '.' | ',';
};

export const DEFAULT_CSV_FORMAT: Readonly<CsvFormat> = Object.freeze({ delimiter: ',', decimal: '.' });

export interface NumericCsvOptions {
  /** Most columns a header may name (docs/rules.md: 1,000). */
  maxColumns: number;
  /** Fewest columns: a target and at least one feature. */
  minColumns?: number;
  /** Longest line accepted, so a file without newlines cannot make the reader buffer it whole. */
  maxLineBytes?: number;
  /**
   * Whether plain lines go through the WebAssembly kernel (csv-kernel.ts); default true.
   * Off, every line goes through the TypeScript loop: the tests compare the two. The
   * kernel is used only with the default format (',' and '.').
   */
  kernel?: boolean;
  /** Default ','. */
  delimiter?: CsvFormat['delimiter'];
  /** Default '.'; ',' with the delimiter ',' is a programming error (the constructor throws). */
  decimal?: CsvFormat['decimal'];
}

/** What a cell of a row holds (RowCells.kinds). */
export const CELL_NUMBER = 0;
export const CELL_MISSING = 1;
export const CELL_TEXT = 2;
export type CellKind = typeof CELL_NUMBER | typeof CELL_MISSING | typeof CELL_TEXT;

/**
 * The cells of a row that is not all numbers: `kinds[c]` is CELL_NUMBER,
 * CELL_MISSING or CELL_TEXT, and `texts[c]` the text of a CELL_TEXT cell (undefined
 * for the others). Both arrays are reused for the next such row: copy what must
 * outlive the call.
 */
export interface RowCells {
  readonly kinds: Uint8Array;
  readonly texts: (string | undefined)[];
}

/** About the header, beside its names. */
export interface CsvHeaderInfo {
  /** Indices (0-based) of the columns whose name was generated because the file left it empty. */
  generated: readonly number[];
}

/** pandas' default missing-value tokens (read_csv `na_values`, pandas 2): a cell that is one of them, after trimming and unquoting, is missing. */
export const MISSING_TOKENS: readonly string[] = Object.freeze([
  '',
  '#N/A',
  '#N/A N/A',
  '#NA',
  '-1.#IND',
  '-1.#QNAN',
  '-NaN',
  '-nan',
  '1.#IND',
  '1.#QNAN',
  '<NA>',
  'N/A',
  'NA',
  'NULL',
  'NaN',
  'None',
  'n/a',
  'nan',
  'null',
]);

export interface NumericCsvSink {
  /**
   * Called once, before any row, with the header's column names and which of them were
   * generated for an empty name. May throw to stop reading.
   */
  header(columns: readonly string[], info: CsvHeaderInfo): void;
  /**
   * Called for every data row with its values in header order. When every cell is a
   * number, `cells` is undefined; otherwise `values[c]` is NaN for each cell that is
   * not a number and `cells` says what each cell is (a NaN in `values` is never a
   * value: check `cells`). The arrays are reused for the next row: copy what must
   * outlive the call.
   */
  row(values: Float64Array, line: number, cells?: RowCells): void;
  /**
   * Optional: rows that follow one another, as the kernel hands them, at once and
   * column by column: value j of row r (r < count) is `columns[j·stride + r]`, and row
   * r is on line `line + r`. The array is reused too. A sink without it gets `row` for
   * each of them; with it, the kernel's rows come here and every other row to `row`.
   * The kernel's rows are all numbers.
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

const NUL = 0;
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const PLUS = 43;
const MINUS = 45;
const ZERO = 48;
const LOWER_E = 101;
const UPPER_E = 69;

const DELIMITERS: readonly CsvFormat['delimiter'][] = [',', ';', '\t', '|'];
const MISSING = new Set(MISSING_TOKENS);
/** The longest missing-value token, in bytes ('#N/A N/A'). */
const LONGEST_MISSING = Math.max(...MISSING_TOKENS.map((token) => token.length));
/** ASCII text up to this length is decoded byte by byte; longer or non-ASCII text by the UTF-8 decoder. */
const SHORT_TEXT = 64;

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
const NEWLINE = new Uint8Array([LF]);

export class NumericCsvReader {
  private readonly maxColumns: number;
  private readonly minColumns: number;
  private readonly maxLineBytes: number;
  private readonly useKernel: boolean;
  private readonly delimiter: CsvFormat['delimiter'];
  /** The delimiter's byte. */
  private readonly separator: number;
  /** The decimal separator's byte. */
  private readonly point: number;
  /** The byte that pads a value beside the space: tab, or the space again when tab is the delimiter. */
  private readonly pad: number;
  private kernel: CsvKernel | undefined;
  private columns: string[] | undefined;
  private values = new Float64Array(0);
  /** The current row's cells, once one of them is not a number (`mixed`). */
  private cells: RowCells = { kinds: new Uint8Array(0), texts: [] };
  private mixed = false;
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
    const delimiter = options.delimiter ?? DEFAULT_CSV_FORMAT.delimiter;
    const decimal = options.decimal ?? DEFAULT_CSV_FORMAT.decimal;
    if (!DELIMITERS.includes(delimiter)) throw new Error(`unsupported CSV delimiter ${JSON.stringify(delimiter)}`);
    if (decimal !== '.' && decimal !== ',') throw new Error(`unsupported decimal separator ${JSON.stringify(decimal)}`);
    if (decimal === delimiter) throw new Error(`the decimal separator ${JSON.stringify(decimal)} cannot also be the delimiter`);
    this.delimiter = delimiter;
    this.separator = delimiter.charCodeAt(0);
    this.point = decimal.charCodeAt(0);
    this.pad = delimiter === '\t' ? SPACE : TAB;
    this.useKernel = (options.kernel ?? true) && delimiter === ',' && decimal === '.';
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

  /** `length` is the carry's: a line that long without its end is refused (as binary when it holds a NUL). */
  private checkLineLength(length: number): void {
    if (length > this.maxLineBytes) {
      if (this.carry.includes(NUL)) throw binaryFile(this.line);
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
      } else if (c === NUL) throw binaryFile(line + newlinesInside);
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
    const { columns, generated } = parseHeader(record.endsWith('\r') ? record.slice(0, -1) : record, line, {
      delimiter: this.delimiter,
      maxColumns: this.maxColumns,
      minColumns: this.minColumns,
    });
    this.columns = columns;
    this.values = new Float64Array(columns.length);
    this.cells = { kinds: new Uint8Array(columns.length), texts: new Array<string | undefined>(columns.length).fill(undefined) };
    if (this.useKernel) this.kernel = new CsvKernel(columns.length);
    this.sink.header(columns, { generated });
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
   * `until` (at most the end of a line); answers where it stopped. Each value is first
   * read as a number; a value that is not one (or not only one) is read again by
   * `readCell`, which says what it is.
   */
  private readLines(buf: Uint8Array, from: number, until: number): number {
    const values = this.values;
    const width = values.length;
    const sink = this.sink;
    const separator = this.separator;
    const pad = this.pad;
    const point = this.point - ZERO;
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
        if (column === width) this.failCount(buf, i);
        const valueStart = p;
        // One number: [spaces] ["] [spaces] [sign] digits [. digits] [e [sign] digits] [spaces] ["] [spaces]
        // (`<= SPACE` first: a digit is not padding after one comparison with a constant.)
        while ((c = buf[p]!) <= SPACE && (c === SPACE || c === pad)) p++;
        const quoted = c === QUOTE;
        if (quoted) {
          while ((c = buf[++p]!) === SPACE || c === pad);
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
            if (c !== point || fraction >= 0) break;
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
          while ((c = buf[p]!) === SPACE || c === pad) p++;
          if (c === QUOTE) p++;
          else valid = false;
        }
        while ((c = buf[p]!) <= SPACE && (c === SPACE || c === pad)) p++;

        let value = 0;
        if (valid) {
          if (mantissa === 0) value = 0;
          else if (mantissa < 1e17 && exponent >= -22 && exponent <= 22) {
            value = exponent < 0 ? mantissa / POW10[-exponent]! : mantissa * POW10[exponent]!;
          } else {
            value = Number(numberText(buf, numberStart + SIGN_WIDTH[buf[numberStart]!]!, numberEnd, this.point));
            valid = value !== Infinity; // an overflow, as 1e400: text
          }
        }
        // A number is followed by the delimiter or the end of the line; anything else is some other cell.
        if (valid) {
          if (c === separator) {
            values[column++] = sign * value;
            p++;
            continue;
          }
          if (c === LF || (c === CR && buf[p + 1] === LF)) {
            values[column++] = sign * value;
            p += c === CR ? 1 : 0;
            break;
          }
        }
        c = buf[(p = this.readCell(buf, valueStart, column++))]!;
        if (c === separator) {
          p++;
          continue;
        }
        if (c === CR) p++; // of a CRLF: readCell stops at a CR only before a LF
        break;
      }
      if (column !== width) this.failCount(buf, i);
      this.rows++;
      if (this.mixed) {
        this.mixed = false;
        sink.row(values, this.line, this.cells);
      } else sink.row(values, this.line);
      this.line++;
      i = p + 1;
    }
    return i;
  }

  /**
   * Reads the cell at `column` that starts at buf[p] and is not a number: sets its
   * value to NaN and its kind (and text) in `cells`, and answers where it ends (at
   * the delimiter, the LF, or the CR of a CRLF after it).
   */
  private readCell(buf: Uint8Array, p: number, column: number): number {
    const { separator, pad } = this;
    let c: number;
    while ((c = buf[p]!) === SPACE || c === pad) p++;
    let start: number;
    let end: number;
    let escaped = false;
    let bytes = 0; // every byte OR'd: at most 0x7f when the cell is ASCII
    if (c === QUOTE) {
      start = ++p;
      for (;;) {
        c = buf[p]!;
        if (c === QUOTE) {
          if (buf[p + 1] !== QUOTE) break;
          escaped = true;
          p += 2;
          continue;
        }
        if (c === LF) this.failCell('BAD_QUOTING', column, 'the quoted value does not close on its line');
        if (c === NUL) throw binaryFile(this.line, column + 1);
        bytes |= c;
        p++;
      }
      end = p++;
      while ((c = buf[p]!) === SPACE || c === pad) p++;
      if (!(c === separator || c === LF || (c === CR && buf[p + 1] === LF))) {
        if (c === NUL) throw binaryFile(this.line, column + 1);
        this.failCell('BAD_QUOTING', column, 'there is text after the closing quote (a quote inside a quoted value is written "")');
      }
    } else {
      start = p;
      while (!((c = buf[p]!) === separator || c === LF || (c === CR && buf[p + 1] === LF))) {
        if (c === NUL) throw binaryFile(this.line, column + 1);
        bytes |= c;
        p++;
      }
      end = p;
    }
    const stop = p;
    // Padding inside the quotes, and after an unquoted value, is not part of it either.
    while (start < end && ((c = buf[start]!) === SPACE || c === pad)) start++;
    while (end > start && ((c = buf[end - 1]!) === SPACE || c === pad)) end--;

    let text: string;
    if (bytes < 0x80 && end - start <= SHORT_TEXT) {
      text = '';
      for (let k = start; k < end; k++) text += String.fromCharCode(buf[k]!);
    } else {
      try {
        text = utf8.decode(buf.subarray(start, end));
      } catch {
        this.failCell('INVALID_ENCODING', column, 'the value is not valid UTF-8');
      }
    }
    if (escaped) text = text.replaceAll('""', '"');

    const { kinds, texts } = this.cells;
    if (!this.mixed) {
      // The first cell of the row that is not a number: the ones before were.
      kinds.fill(CELL_NUMBER);
      texts.fill(undefined);
      this.mixed = true;
    }
    this.values[column] = Number.NaN;
    if (text.length <= LONGEST_MISSING && MISSING.has(text)) kinds[column] = CELL_MISSING;
    else {
      kinds[column] = CELL_TEXT;
      texts[column] = text;
    }
    return stop;
  }

  /** Throws `code` for the value at `column` (0-based) of the current line. */
  private failCell(code: CsvErrorCode, column: number, reason: string): never {
    const name = this.columns?.[column];
    const line = this.line;
    throw new InvalidCsv(code, `line ${line}, column ${column + 1}${name === undefined ? '' : ` (${JSON.stringify(name)})`}: ${reason}`, line, column + 1);
  }

  /** Throws WRONG_COLUMN_COUNT for the line that starts at buf[start]. */
  private failCount(buf: Uint8Array, start: number): never {
    let end = buf.indexOf(LF, start);
    if (end < 0) end = buf.length;
    if (end > start && buf[end - 1] === CR) end--;
    const columns = this.columns ?? [];
    const line = this.line;
    const count = countValues(buf, start, end, this.separator);
    const first = Math.min(count, columns.length) + 1;
    throw new InvalidCsv(
      'WRONG_COLUMN_COUNT',
      `line ${line}, column ${first}: the line has ${count} values, the header ${columns.length} columns`,
      line,
      first,
    );
  }
}

function binaryFile(line: number, column?: number): InvalidCsv {
  const where = column === undefined ? `line ${line}` : `line ${line}, column ${column}`;
  return new InvalidCsv('BINARY_FILE', `${where}: the file holds a NUL byte; it is binary, not a CSV text file`, line, column);
}

/** How a delimiter is named in messages. */
function shown(delimiter: string): string {
  return delimiter === '\t' ? "'\\t' (tab)" : `'${delimiter}'`;
}

/** Splits the header record into trimmed, checked column names, naming the empty ones. */
function parseHeader(
  record: string,
  line: number,
  options: { delimiter: CsvFormat['delimiter']; maxColumns: number; minColumns: number },
): { columns: string[]; generated: number[] } {
  const { delimiter, maxColumns, minColumns } = options;
  const isPad = (char: string | undefined) => char === ' ' || (char === '\t' && delimiter !== '\t');
  const names: string[] = [];
  let i = 0;
  for (;;) {
    let name = '';
    while (isPad(record[i])) i++;
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
      while (isPad(record[i])) i++;
      if (i < record.length && record[i] !== delimiter) {
        throw new InvalidCsv('INVALID_HEADER', `column ${names.length + 1} of the header has text after its closing quote`, line, names.length + 1);
      }
    } else {
      const next = record.indexOf(delimiter, i);
      const stop = next < 0 ? record.length : next;
      name = record.slice(i, stop);
      if (name.includes('"')) throw new InvalidCsv('INVALID_HEADER', `column ${names.length + 1} of the header has a stray quote`, line, names.length + 1);
      i = stop;
    }
    names.push(name.trim());
    if (names.length > maxColumns) {
      throw new InvalidCsv('TOO_MANY_COLUMNS', `the header has more than ${maxColumns} columns`, line, maxColumns + 1);
    }
    if (i >= record.length) break;
    i++; // the delimiter
  }
  const seen = new Map<string, number>();
  for (const [index, name] of names.entries()) {
    const column = index + 1;
    if (name === '') continue;
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
    let hint = '';
    if (names.length === 1) {
      // The file may use another delimiter: name the one the header holds most of.
      let most = 0;
      for (const other of DELIMITERS) {
        const count = other === delimiter ? 0 : record.split(other).length - 1;
        if (count > most) {
          most = count;
          hint = ` (the header contains ${shown(other)}: is the file delimited by ${shown(other)}? set "delimiter")`;
        }
      }
    }
    throw new InvalidCsv('INVALID_HEADER', `the header has ${names.length} column(s); at least ${minColumns} are needed (a target and a feature)${hint}`, line);
  }
  // Empty names get pandas' `Unnamed: <i>`, made unique against every other name.
  const generated: number[] = [];
  for (const [index, name] of names.entries()) {
    if (name !== '') continue;
    const base = `Unnamed: ${index}`;
    let candidate = base;
    for (let k = 1; seen.has(candidate); k++) candidate = `${base}.${k}`;
    seen.set(candidate, index + 1);
    names[index] = candidate;
    generated.push(index);
  }
  return { columns: names, generated };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

/** Number text is ASCII: a byte-to-char copy is its exact decoding (with '.' for the decimal separator `point`). */
function numberText(buf: Uint8Array, start: number, end: number, point: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += buf[i] === point ? '.' : String.fromCharCode(buf[i]!);
  return text;
}

/** Values on a line, counting delimiters outside quotes (only for error messages). */
function countValues(buf: Uint8Array, start: number, end: number, separator: number): number {
  let count = 1;
  let quoted = false;
  for (let i = start; i < end; i++) {
    if (buf[i] === QUOTE) quoted = !quoted;
    else if (buf[i] === separator && !quoted) count++;
  }
  return count;
}
