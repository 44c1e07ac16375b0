import { describe, expect, it } from 'vitest';
import {
  CELL_MISSING,
  CELL_NUMBER,
  CELL_TEXT,
  type CsvFormat,
  type CsvSummary,
  DEFAULT_CSV_FORMAT,
  InvalidCsv,
  MISSING_TOKENS,
  NumericCsvReader,
  type NumericCsvSink,
  type RowCells,
} from '#domain/csv.js';
import { CsvKernel } from '#domain/csv-kernel.js';
import { TrainingSink } from '#domain/datasets.js';
import { TrainingFailed } from '#domain/errors.js';
import { random } from '../../helpers/random.js';

/** A row's cells as the sink got them (copied): undefined when every cell is a number. */
interface Cells {
  kinds: number[];
  texts: (string | undefined)[];
}

interface Read {
  columns: readonly string[];
  generated: readonly number[];
  rows: number[][];
  lines: number[];
  cells: (Cells | undefined)[];
  summary: CsvSummary;
}

/** Reads `text` fed in chunks of `chunkSize` bytes (every size must give the same answer). */
function read(text: string | Uint8Array, chunkSize = 1 << 16, maxColumns = 1000, kernel = true, format: Partial<CsvFormat> = {}): Read {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const out: Omit<Read, 'summary'> = { columns: [], generated: [], rows: [], lines: [], cells: [] };
  const reader = new NumericCsvReader(
    {
      header: (columns, { generated }) => {
        out.columns = columns;
        out.generated = generated;
      },
      row: (values, line, cells) => {
        out.rows.push([...values]);
        out.lines.push(line);
        out.cells.push(cells && { kinds: [...cells.kinds], texts: [...cells.texts] });
      },
    },
    { maxColumns, maxLineBytes: 4096, kernel, ...format },
  );
  for (let start = 0; start < bytes.length; start += chunkSize) reader.push(bytes.subarray(start, start + chunkSize));
  return { ...out, summary: reader.end() };
}

function failure(text: string | Uint8Array, chunkSize?: number, maxColumns?: number, kernel?: boolean, format?: Partial<CsvFormat>): InvalidCsv {
  try {
    read(text, chunkSize, maxColumns, kernel, format);
  } catch (error) {
    if (error instanceof InvalidCsv) return error;
    throw error;
  }
  throw new Error('expected the file to be refused');
}

const bytesOf = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((part) => (typeof part === 'string' ? [...new TextEncoder().encode(part)] : part)));

const CHUNK_SIZES = [1, 2, 3, 7, 64, 1 << 16];

describe('NumericCsvReader: accepted files', () => {
  it.each(CHUNK_SIZES)('reads header and rows the same whatever the chunk size (%i bytes)', (chunkSize) => {
    const result = read('a,b,y\n1,2,3\n-4.5,6e2,.25\n', chunkSize);
    expect(result.columns).toEqual(['a', 'b', 'y']);
    expect(result.rows).toEqual([
      [1, 2, 3],
      [-4.5, 600, 0.25],
    ]);
    expect(result.lines).toEqual([2, 3]);
    expect(result.summary).toEqual({ columns: ['a', 'b', 'y'], rows: 2, bytes: 25 });
  });

  it.each(CHUNK_SIZES)('accepts CRLF line ends (%i-byte chunks)', (chunkSize) => {
    const result = read('a,y\r\n1,2\r\n3,4\r\n', chunkSize);
    expect(result.columns).toEqual(['a', 'y']);
    expect(result.rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it.each(CHUNK_SIZES)('reads a last line without newline (%i-byte chunks)', (chunkSize) => {
    expect(read('a,y\n1,2\n3,4', chunkSize).rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(read('a,y\r\n1,2\r\n3,4', chunkSize).rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('skips empty lines anywhere and counts them in line numbers', () => {
    const result = read('\n\na,y\n\n1,2\r\n\r\n\n3,4\n\n');
    expect(result.columns).toEqual(['a', 'y']);
    expect(result.rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(result.lines).toEqual([5, 8]);
  });

  it.each(CHUNK_SIZES)('reads a quoted header with commas, escaped quotes and a newline (%i-byte chunks)', (chunkSize) => {
    const result = read('"price, EUR","size ""m2"""," multi\nline ",y\n1,2,3,4\n', chunkSize);
    expect(result.columns).toEqual(['price, EUR', 'size "m2"', 'multi\nline', 'y']);
    expect(result.rows).toEqual([[1, 2, 3, 4]]);
    expect(result.lines).toEqual([3]);
  });

  it('skips a UTF-8 byte order mark, even split across chunks', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('größe,y\n1,2\n')]);
    for (const chunkSize of [1, 2, 64]) expect(read(bytes, chunkSize).columns).toEqual(['größe', 'y']);
  });

  it('accepts quoted and space-padded numbers', () => {
    expect(read('a,b,y\n "1.5" , " 2 ",\t3\t\n').rows).toEqual([[1.5, 2, 3]]);
  });

  it('parses numbers exactly as Number() does up to 15 significant digits', () => {
    const texts = ['0', '-0', '+7', '0.1', '0.3', '123456789012345', '1.5e-7', '9.87654321e+21', '-2.5E3', '0.000001', '5.', '.5', '1e22', '1e-22', '00012.50'];
    const result = read(`v,y\n${texts.map((text) => `${text},0`).join('\n')}\n`);
    expect(result.rows.map((row) => row[0])).toEqual(texts.map(Number));
  });

  it('parses 16 and 17 digit values (shortest round-trip exports) within a relative 2 x 2^-52 of Number(), longer ones exactly', () => {
    // Seeded random values of each length and decimal point position, as Python's repr and numpy write them.
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const values = (length: number) =>
      Array.from({ length: 10_000 }, (_, i) => {
        let digits = String(1 + Math.floor(random() * 9));
        while (digits.length < length) digits += Math.floor(random() * 10);
        const point = Math.floor(random() * length);
        return `${i % 3 === 0 ? '-' : ''}${point === 0 ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`}`;
      });
    const parse = (texts: string[]) => read(`v,y\n${texts.map((text) => `${text},0`).join('\n')}\n`).rows.map((row) => row[0]!);
    const short = ['-1.2848381576290195', '0.08627907646214239', '6.40114211111689', '0.12345678901234567e3', ...values(16), ...values(17)];
    const errors = parse(short).map((value, index) => Math.abs(value - Number(short[index])) / Math.abs(Number(short[index])));
    expect(Math.max(...errors)).toBeGreaterThan(0);
    expect(Math.max(...errors)).toBeLessThanOrEqual(2 * Number.EPSILON);
    const long = [...values(18), ...values(19)];
    expect(parse(long)).toEqual(long.map(Number));
  });

  it('falls back to Number() for 18 digits and more and for large exponents', () => {
    const texts = ['1.000000000000000000000001', '1e300', '-2.5e-300', '123456789012345678901234567890', '1234567890123456789', '-0.123456789012345678'];
    const result = read(`v,y\n${texts.map((text) => `${text},1`).join('\n')}\n`);
    expect(result.rows.map((row) => row[0])).toEqual(texts.map(Number));
  });

  it('keeps reading across a line longer than a chunk', () => {
    const values = Array.from({ length: 200 }, (_, index) => index / 8);
    const header = values.map((_, index) => `c${index}`).join(',');
    const result = read(`${header}\n${values.join(',')}\n`, 100);
    expect(result.rows[0]).toEqual(values);
  });
});

describe('NumericCsvReader: refused files', () => {
  it('refuses a row with too few values, naming the first missing column', () => {
    expect(failure('a,b,y\n1,2,3\n1,2\n')).toMatchObject({ code: 'WRONG_COLUMN_COUNT', line: 3, column: 3 });
  });

  it('refuses a row with too many values, naming the first extra column', () => {
    const error = failure('a,b,y\n1,2,3,4\n');
    expect(error).toMatchObject({ code: 'WRONG_COLUMN_COUNT', line: 2, column: 4 });
    expect(error.message).toBe('line 2, column 4: the line has 4 values, the header 3 columns');
  });

  it('refuses a header with more columns than allowed', () => {
    const header = Array.from({ length: 6 }, (_, index) => `c${index}`).join(',');
    expect(failure(`${header}\n1,2,3,4,5,6\n`, undefined, 5)).toMatchObject({ code: 'TOO_MANY_COLUMNS', line: 1, column: 6 });
    expect(read(`${header}\n1,2,3,4,5,6\n`, undefined, 6).columns).toHaveLength(6);
  });

  it.each([
    ['a duplicate name', 'a,b,a\n1,2,3\n', 3],
    ['a duplicate name after an empty one', ',a,a\n1,2,3\n', 3],
    ['a name longer than 128 characters', `a,${'b'.repeat(129)}\n1,2\n`, 2],
    ['an unclosed quote', 'a,"b\n1,2\n', 2],
    ['text after a closing quote', 'a,"b"c,y\n1,2,3\n', 2],
    ['a single column', 'y\n1\n', undefined],
  ])('refuses a header with %s', (_, text, column) => {
    expect(failure(text)).toMatchObject({ code: 'INVALID_HEADER', line: 1, column });
  });

  it('refuses an empty file and a file of empty lines', () => {
    expect(failure('')).toMatchObject({ code: 'EMPTY_FILE', line: 1 });
    expect(failure('\n\r\n\n')).toMatchObject({ code: 'EMPTY_FILE' });
  });

  it('refuses a header without rows', () => {
    expect(failure('a,y\n')).toMatchObject({ code: 'NO_ROWS', line: 2 });
    expect(failure('a,y')).toMatchObject({ code: 'NO_ROWS' });
    expect(failure('a,y\n\n\n')).toMatchObject({ code: 'NO_ROWS', line: 4 });
  });

  it('refuses a line longer than the limit instead of buffering it', () => {
    const long = `a,y\n${'1'.repeat(5000)},2\n`;
    expect(failure(long, 100)).toMatchObject({ code: 'LINE_TOO_LONG', line: 2 });
    expect(failure('a'.repeat(5000), 100)).toMatchObject({ code: 'LINE_TOO_LONG', line: 1 });
  });

  it('refuses a header that is not UTF-8', () => {
    expect(failure(new Uint8Array([0x61, 0xff, 0x2c, 0x79, 0x0a, 0x31, 0x2c, 0x32, 0x0a]))).toMatchObject({ code: 'INVALID_HEADER', line: 1 });
  });

  it.each(CHUNK_SIZES)('refuses a quoted value that does not close on its line, naming line and column (%i-byte chunks)', (chunkSize) => {
    const error = failure('a,b,y\n1,2,3\n4,"setosa,6\n7,8,9\n', chunkSize);
    expect(error).toMatchObject({ code: 'BAD_QUOTING', line: 3, column: 2 });
    expect(error.message).toBe('line 3, column 2 ("b"): the quoted value does not close on its line');
  });

  it('refuses text after a closing quote', () => {
    const error = failure('a,b,y\n1,"se"tosa,3\n');
    expect(error).toMatchObject({ code: 'BAD_QUOTING', line: 2, column: 2 });
    expect(error.message).toContain('there is text after the closing quote');
    expect(failure('a,b,y\n1,"2" 3,3\n')).toMatchObject({ code: 'BAD_QUOTING', line: 2, column: 2 });
  });

  it.each(CHUNK_SIZES)('refuses a NUL byte anywhere as a binary file (%i-byte chunks)', (chunkSize) => {
    // In a number, in text, quoted, alone on a line, in the header.
    expect(failure(bytesOf('a,b,y\n1,2,3\n4,5', [0], ',6\n'), chunkSize)).toMatchObject({ code: 'BINARY_FILE', line: 3, column: 2 });
    expect(failure(bytesOf('a,b,y\n1,x', [0], 'y,3\n'), chunkSize)).toMatchObject({ code: 'BINARY_FILE', line: 2, column: 2 });
    expect(failure(bytesOf('a,b,y\n1,2,"x', [0], '"\n'), chunkSize)).toMatchObject({ code: 'BINARY_FILE', line: 2, column: 3 });
    expect(failure(bytesOf('a,b,y\n1,2,3\n\n', [0], '\n'), chunkSize)).toMatchObject({ code: 'BINARY_FILE', line: 4, column: 1 });
    expect(failure(bytesOf('a,b', [0], ',y\n1,2,3\n'), chunkSize)).toMatchObject({ code: 'BINARY_FILE', line: 1 });
    const error = failure(bytesOf('a,b,y\n1,2,', [0], '\n'), chunkSize);
    expect(error.message).toBe('line 2, column 3: the file holds a NUL byte; it is binary, not a CSV text file');
  });

  it('refuses a binary file without newlines as binary, not as a long line', () => {
    // A zip (an .xlsx) starts "PK\x03\x04" and holds NUL bytes within its first few.
    const zip = bytesOf('PK', [3, 4, 20, 0, 6, 0], 'x'.repeat(5000));
    expect(failure(zip, 100)).toMatchObject({ code: 'BINARY_FILE', line: 1 });
    expect(failure(bytesOf('a,y\n1,2\n', 'x'.repeat(3000), [0], 'x'.repeat(3000)), 100)).toMatchObject({ code: 'BINARY_FILE', line: 3 });
  });

  it('refuses a text value that is not UTF-8, naming line and column', () => {
    const error = failure(bytesOf('a,b,y\n1,2,3\n1,caf', [0xe9], ',3\n'));
    expect(error).toMatchObject({ code: 'INVALID_ENCODING', line: 3, column: 2 });
    expect(error.message).toBe('line 3, column 2 ("b"): the value is not valid UTF-8');
    expect(failure(bytesOf('a,b,y\n1,2,"', [0xc3, 0x28], '"\n'))).toMatchObject({ code: 'INVALID_ENCODING', line: 2, column: 3 });
  });
});

describe('NumericCsvReader: cells that are not numbers', () => {
  /** The one data row of `a,b,y` files, its values and cells. */
  function only(text: string, kernel = true, format: Partial<CsvFormat> = {}) {
    const result = read(text, undefined, undefined, kernel, format);
    expect(result.rows).toHaveLength(1);
    return { values: result.rows[0]!, cells: result.cells[0] };
  }

  it('lists exactly pandas 2 default missing-value tokens', () => {
    expect(MISSING_TOKENS).toEqual([
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
    expect([CELL_NUMBER, CELL_MISSING, CELL_TEXT]).toEqual([0, 1, 2]);
  });

  describe.each(MISSING_TOKENS.map((token) => [token]))('the missing-value token %j', (token) => {
    it.each([
      ['unquoted', token],
      ['quoted', `"${token}"`],
      ['padded and quoted', ` " ${token} "\t`],
    ])('is missing %s', (_, cell) => {
      for (const kernel of [true, false]) {
        expect(only(`a,b,y\n1.5,${cell},3\n`, kernel)).toEqual({
          values: [1.5, Number.NaN, 3],
          cells: { kinds: [CELL_NUMBER, CELL_MISSING, CELL_NUMBER], texts: [undefined, undefined, undefined] },
        });
      }
    });
  });

  it.each([
    // Close to a token, but none: case and spelling count.
    ['na'],
    ['Na'],
    ['NAN'],
    ['none'],
    ['NONE'],
    ['N / A'],
    // Infinities and overflows are text: no model is trained on an infinite value.
    ['inf'],
    ['-inf'],
    ['Inf'],
    ['Infinity'],
    ['-Infinity'],
    ['1e400'],
    ['-1e999'],
    ['1'.repeat(400)],
    // Not numbers by the grammar.
    ['2.3.4'],
    ['3e'],
    ['-'],
    ['.'],
    ['3 4'],
    ['0x1A'],
    ['1,5'.replace(',', '_')],
    ['setosa'],
    ['größe'],
    ['5\'11"'],
  ])('reads %j as text', (cell) => {
    for (const kernel of [true, false]) {
      expect(only(`a,b,y\n1,${cell},3\n`, kernel)).toEqual({
        values: [1, Number.NaN, 3],
        cells: { kinds: [CELL_NUMBER, CELL_TEXT, CELL_NUMBER], texts: [undefined, cell, undefined] },
      });
    }
  });

  it('reads quoted text with the delimiter and doubled quotes inside, and trims text as it trims numbers', () => {
    const { values, cells } = only('a,b,y\n"say ""hi"", then go" , " padded\t" ,  bare text  \n');
    expect(values).toEqual([Number.NaN, Number.NaN, Number.NaN]);
    expect(cells).toEqual({ kinds: [CELL_TEXT, CELL_TEXT, CELL_TEXT], texts: ['say "hi", then go', 'padded', 'bare text'] });
    expect(only('a,b,y\n"""",",",""""""\n').cells?.texts).toEqual(['"', ',', '""']);
  });

  it.each(CHUNK_SIZES)('hands each row its own cells, and none to a row of numbers (%i-byte chunks)', (chunkSize) => {
    const result = read('a,b,y\n1,NA,3\n4,5,6\nx,,"z"\n7,8,9\n', chunkSize);
    expect(result.rows).toEqual([
      [1, Number.NaN, 3],
      [4, 5, 6],
      [Number.NaN, Number.NaN, Number.NaN],
      [7, 8, 9],
    ]);
    expect(result.lines).toEqual([2, 3, 4, 5]);
    expect(result.cells).toEqual([
      { kinds: [CELL_NUMBER, CELL_MISSING, CELL_NUMBER], texts: [undefined, undefined, undefined] },
      undefined,
      { kinds: [CELL_TEXT, CELL_MISSING, CELL_TEXT], texts: ['x', undefined, 'z'] },
      undefined,
    ]);
  });

  it('reuses the cells between rows, reset for each', () => {
    const seen: { cells: RowCells; kinds: number[]; texts: (string | undefined)[] }[] = [];
    const reader = new NumericCsvReader(
      { header: () => undefined, row: (_, __, cells) => cells && seen.push({ cells, kinds: [...cells.kinds], texts: [...cells.texts] }) },
      { maxColumns: 10 },
    );
    reader.push(new TextEncoder().encode('a,b\nx,1\n2,3\n2,NA\n'));
    reader.end();
    expect(seen).toHaveLength(2);
    expect(seen[1]!.cells).toBe(seen[0]!.cells);
    expect(seen.map(({ kinds, texts }) => ({ kinds, texts }))).toEqual([
      { kinds: [CELL_TEXT, CELL_NUMBER], texts: ['x', undefined] },
      { kinds: [CELL_NUMBER, CELL_MISSING], texts: [undefined, undefined] },
    ]);
  });

  it.each(CHUNK_SIZES)('reads CRLF lines with missing and text cells, the last one empty (%i-byte chunks)', (chunkSize) => {
    const result = read('a,b,y\r\nNA,"x",1\r\n1,2,\r\n1,2,"q"\r\n', chunkSize);
    expect(result.rows).toEqual([
      [Number.NaN, Number.NaN, 1],
      [1, 2, Number.NaN],
      [1, 2, Number.NaN],
    ]);
    expect(result.cells).toEqual([
      { kinds: [CELL_MISSING, CELL_TEXT, CELL_NUMBER], texts: [undefined, 'x', undefined] },
      { kinds: [CELL_NUMBER, CELL_NUMBER, CELL_MISSING], texts: [undefined, undefined, undefined] },
      { kinds: [CELL_NUMBER, CELL_NUMBER, CELL_TEXT], texts: [undefined, undefined, 'q'] },
    ]);
  });

  it('reads a carriage return inside a value as part of its text', () => {
    expect(only('a,y\n1,2\r3\n').cells).toEqual({ kinds: [CELL_NUMBER, CELL_TEXT], texts: [undefined, '2\r3'] });
  });

  it('keeps the wrong-column-count error exactly as it was, text cells and quoted delimiters counted right', () => {
    const error = failure('a,b,y\nx,"1,2"\n');
    expect(error).toMatchObject({ code: 'WRONG_COLUMN_COUNT', line: 2, column: 3 });
    expect(error.message).toBe('line 2, column 3: the line has 2 values, the header 3 columns');
    expect(failure('a,b,y\nNA,,,\n')).toMatchObject({ code: 'WRONG_COLUMN_COUNT', line: 2, column: 4 });
  });

  it('makes training refuse a row that is not all numbers (TrainingSink)', () => {
    const train = (text: string) => {
      let sink: TrainingSink | undefined;
      const reader = new NumericCsvReader(
        {
          header: (columns) => (sink = new TrainingSink(columns, 'y', true)),
          row: (values, line, cells) => sink!.row(values, line, cells),
          rowBlock: (columns, stride, count) => sink!.rowBlock(columns, stride, count),
        },
        { maxColumns: 10 },
      );
      reader.push(new TextEncoder().encode(text));
      reader.end();
      return sink!;
    };
    expect(train('a,y\n1,2\n3,4\n').accumulator.count).toBe(2);
    expect(() => train('a,y\n1,2\n3,NA\n')).toThrow(
      new TrainingFailed('INVALID_DATA', 'line 3, column 2 ("y"): the value is missing; training needs a number in every column'),
    );
    expect(() => train('a,y\n1,2\nsetosa,4\n')).toThrow(
      new TrainingFailed('INVALID_DATA', 'line 3, column 1 ("a"): "setosa" is not a number; training needs a number in every column'),
    );
    try {
      train('a,y\ninf,4\n');
    } catch (error) {
      expect(error).toBeInstanceOf(TrainingFailed);
      expect(error).toMatchObject({ code: 'INVALID_DATA' });
    }
  });
});

describe('NumericCsvReader: the header', () => {
  it.each([
    ['a first column without a name (pandas to_csv, R write.csv)', '"",a,y\n1,2,3\n', ['Unnamed: 0', 'a', 'y'], [0]],
    ['an unquoted empty first name', ',a,y\n1,2,3\n', ['Unnamed: 0', 'a', 'y'], [0]],
    ['a name of spaces', 'a,   ,y\n1,2,3\n', ['a', 'Unnamed: 1', 'y'], [1]],
    ['two empty names', ',,y\n1,2,3\n', ['Unnamed: 0', 'Unnamed: 1', 'y'], [0, 1]],
    ['a clash with an existing "Unnamed: 0"', ',Unnamed: 0,y\n1,2,3\n', ['Unnamed: 0.1', 'Unnamed: 0', 'y'], [0]],
    ['a clash with an earlier column', 'Unnamed: 1,,y\n1,2,3\n', ['Unnamed: 1', 'Unnamed: 1.1', 'y'], [1]],
    ['clashes after the empty name', ',a,Unnamed: 0,Unnamed: 0.1\n1,2,3,4\n', ['Unnamed: 0.2', 'a', 'Unnamed: 0', 'Unnamed: 0.1'], [0]],
    ['an empty last name', 'a,y,\n1,2,3\n', ['a', 'y', 'Unnamed: 2'], [2]],
  ])('names %s as pandas does', (_, text, columns, generated) => {
    const result = read(text);
    expect(result.columns).toEqual(columns);
    expect(result.generated).toEqual(generated);
    expect(result.summary.columns).toEqual(columns);
  });

  it('hands the header no generated names when the file names every column', () => {
    expect(read('a,y\n1,2\n').generated).toEqual([]);
  });

  it.each([
    ['a;b;y\n1;2;3\n', ',', "';'"],
    ['a\tb\ty\n1\t2\t3\n', ',', "'\\t' (tab)"],
    ['a|b|y\n1|2|3\n', ',', "'|'"],
    ['a,b,y\n1,2,3\n', ';', "','"],
  ] as const)('refuses a one-column header, hinting at the delimiter it holds (%j)', (text, delimiter, hinted) => {
    const error = failure(text, undefined, undefined, undefined, { delimiter });
    expect(error).toMatchObject({ code: 'INVALID_HEADER', line: 1 });
    expect(error.message).toBe(
      `the header has 1 column(s); at least 2 are needed (a target and a feature) (the header contains ${hinted}: is the file delimited by ${hinted}? set "delimiter")`,
    );
  });

  it('refuses a one-column header without hint when no other delimiter appears', () => {
    expect(failure('y\n1\n').message).toBe('the header has 1 column(s); at least 2 are needed (a target and a feature)');
  });
});

describe('NumericCsvReader: delimiters and decimal separators', () => {
  it('has a default format', () => {
    expect(DEFAULT_CSV_FORMAT).toEqual({ delimiter: ',', decimal: '.' });
  });

  it.each([',', ';', '\t', '|'] as const)('reads values separated by %j, with text that holds the delimiter quoted', (delimiter) => {
    const text =
      ['', 'a', 'b', 'y'].join(delimiter) +
      '\n' +
      ['1', '-2.5', `"x${delimiter}y"`, 'NA'].join(delimiter) +
      '\r\n' +
      ['2', ' 3 ', '4e1', '5'].join(delimiter) +
      '\n';
    for (const kernel of [true, false]) {
      for (const chunkSize of [1, 7, 1 << 16]) {
        const result = read(text, chunkSize, 1000, kernel, { delimiter });
        expect(result.columns).toEqual(['Unnamed: 0', 'a', 'b', 'y']);
        expect(result.rows).toEqual([
          [1, -2.5, Number.NaN, Number.NaN],
          [2, 3, 40, 5],
        ]);
        expect(result.cells).toEqual([
          { kinds: [CELL_NUMBER, CELL_NUMBER, CELL_TEXT, CELL_MISSING], texts: [undefined, undefined, `x${delimiter}y`, undefined] },
          undefined,
        ]);
      }
    }
  });

  it('does not take a tab for padding when it is the delimiter', () => {
    const result = read('\ta\ty\n1\t\t3\n', undefined, 1000, true, { delimiter: '\t' });
    expect(result.columns).toEqual(['Unnamed: 0', 'a', 'y']);
    expect(result.rows).toEqual([[1, Number.NaN, 3]]);
    expect(result.cells?.[0]?.kinds).toEqual([CELL_NUMBER, CELL_MISSING, CELL_NUMBER]);
  });

  it.each(['\t', ';', '|'] as const)('reads numbers with a decimal comma (delimiter %j)', (delimiter) => {
    const texts = ['1,5', '-2,25', '+0,125', ',5', '5,', '1,5e3', '-2,5E-3', '1,000000000000000000000001', '123456789012345678,5', '1,25e300'];
    const result = read(`v${delimiter}y\n${texts.map((text) => `${text}${delimiter}"${text}"`).join('\n')}\n`, 3, 1000, true, { delimiter, decimal: ',' });
    const expected = texts.map((text) => Number(text.replace(',', '.')));
    expect(result.rows.map((row) => row[0])).toEqual(expected);
    expect(result.rows.map((row) => row[1])).toEqual(expected);
    expect(result.cells.every((cells) => cells === undefined)).toBe(true);
  });

  it('reads a decimal point as text when the decimal separator is a comma, and a decimal comma as text by default', () => {
    const comma = read('a;y\n1.5;2,5\n', undefined, 1000, true, { delimiter: ';', decimal: ',' });
    expect(comma.rows).toEqual([[Number.NaN, 2.5]]);
    expect(comma.cells).toEqual([{ kinds: [CELL_TEXT, CELL_NUMBER], texts: ['1.5', undefined] }]);
    const point = read('a;y\n1.5;2,5\n', undefined, 1000, true, { delimiter: ';' });
    expect(point.rows).toEqual([[1.5, Number.NaN]]);
    expect(point.cells).toEqual([{ kinds: [CELL_NUMBER, CELL_TEXT], texts: [undefined, '2,5'] }]);
  });

  it("reads R's write.csv2 output (';' and decimal commas, row names in an unnamed first column)", () => {
    const text = '"";"Sepal.Length";"Sepal.Width";"Species"\n"1";5,1;3,5;"setosa"\n"2";4,9;3;"setosa"\n"3";NA;3,2;"versicolor"\n';
    const result = read(text, 5, 1000, true, { delimiter: ';', decimal: ',' });
    expect(result.columns).toEqual(['Unnamed: 0', 'Sepal.Length', 'Sepal.Width', 'Species']);
    expect(result.generated).toEqual([0]);
    expect(result.rows).toEqual([
      [1, 5.1, 3.5, Number.NaN],
      [2, 4.9, 3, Number.NaN],
      [3, Number.NaN, 3.2, Number.NaN],
    ]);
    expect(result.cells).toEqual([
      { kinds: [CELL_NUMBER, CELL_NUMBER, CELL_NUMBER, CELL_TEXT], texts: [undefined, undefined, undefined, 'setosa'] },
      { kinds: [CELL_NUMBER, CELL_NUMBER, CELL_NUMBER, CELL_TEXT], texts: [undefined, undefined, undefined, 'setosa'] },
      { kinds: [CELL_NUMBER, CELL_MISSING, CELL_NUMBER, CELL_TEXT], texts: [undefined, undefined, undefined, 'versicolor'] },
    ]);
  });

  it('throws on a decimal comma with the comma delimiter (a programming error, not an invalid file)', () => {
    const sink = { header: () => undefined, row: () => undefined };
    expect(() => new NumericCsvReader(sink, { maxColumns: 10, decimal: ',' })).toThrow('the decimal separator "," cannot also be the delimiter');
    expect(() => new NumericCsvReader(sink, { maxColumns: 10, decimal: ',', delimiter: ',' })).not.toThrow(InvalidCsv);
    expect(() => new NumericCsvReader(sink, { maxColumns: 10, delimiter: ' ' as ',' })).toThrow('unsupported CSV delimiter');
  });

  it('uses the kernel only with the default format', () => {
    const blocks = (format: Partial<CsvFormat>) => {
      let count = 0;
      const sink: NumericCsvSink = { header: () => undefined, row: () => undefined, rowBlock: () => void count++ };
      const reader = new NumericCsvReader(sink, { maxColumns: 10, ...format });
      reader.push(new TextEncoder().encode('a|y\n1|2\n'.replaceAll('|', format.delimiter ?? ',')));
      reader.end();
      return count;
    };
    expect(blocks({})).toBe(1);
    expect(blocks({ delimiter: ';' })).toBe(0);
    expect(blocks({ delimiter: ';', decimal: ',' })).toBe(0);
    expect(blocks({ delimiter: '\t' })).toBe(0);
  });
});

describe('NumericCsvReader: the WebAssembly kernel and the TypeScript loop', () => {
  /** A value in one of the forms a file may hold: most plain numbers (the kernel's), the rest the loop's (missing and text cells among them). */
  function value(next: () => number): string {
    const digits = (count: number) => Array.from({ length: count }, () => Math.floor(next() * 10)).join('');
    const sign = ['', '-', '+'][Math.floor(next() * 3)];
    const whole = digits(Math.floor(next() * 3));
    const decimals = next() < 0.8 ? digits(Math.floor(next() * 19)) : undefined;
    // At least one digit: "5.", ".5" and "5" are numbers, "." is not.
    const plain = `${sign}${whole === '' && !decimals ? '0' : whole}${decimals === undefined ? '' : `.${decimals}`}`;
    switch (Math.floor(next() * 40)) {
      case 0:
        return String(next() * 10 ** Math.floor(next() * 40 - 20)); // exponents, shortest round trip
      case 1:
        return ` ${plain} `;
      case 2:
        return `"${plain}"`;
      case 3:
        return `${sign}${digits(1 + Math.floor(next() * 24))}.${digits(Math.floor(next() * 30))}`; // long: 18+ digits, 23+ decimals
      case 4:
        return `${sign}0.${'0'.repeat(Math.floor(next() * 30))}${digits(3)}`;
      case 5:
        return ['', 'NA', ' "nan" ', 'NULL'][Math.floor(next() * 4)]!; // missing
      case 6:
        return ['setosa', '"a, b"', 'inf', '1e400', `${plain}x`][Math.floor(next() * 5)]!; // text
      default:
        return plain;
    }
  }

  function file(seed: number, rows: number, width: number): string {
    const next = random(seed);
    const lines = ['a,b,c,d,y'.split(',').slice(0, width).join(',')];
    for (let row = 0; row < rows; row++) {
      if (next() < 0.03) lines.push(next() < 0.5 ? '' : '\r');
      const end = next() < 0.1 ? '\r' : '';
      lines.push(Array.from({ length: width }, () => value(next)).join(',') + end);
    }
    return `${lines.join('\n')}${next() < 0.5 ? '\n' : ''}`;
  }

  /** Each value as its bits, so that -0 and 0 differ and nothing is compared to a tolerance. */
  const bits = (rows: number[][]) => rows.map((row) => [...new BigUint64Array(Float64Array.from(row).buffer)]);

  it('reads every value to the same bits, on the same lines, whatever the form and the chunks', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const text = file(seed, 500, 2 + (seed % 4));
      const chunkSize = CHUNK_SIZES[seed % CHUNK_SIZES.length]!;
      const withKernel = read(text, chunkSize, 1000, true);
      const withoutKernel = read(text, chunkSize, 1000, false);
      expect(withKernel.summary).toEqual(withoutKernel.summary);
      expect(withKernel.lines).toEqual(withoutKernel.lines);
      expect(bits(withKernel.rows)).toEqual(bits(withoutKernel.rows));
      expect(withKernel.cells).toEqual(withoutKernel.cells);
    }
  });

  it('hands a sink with rowBlock the same rows on the same lines as one without', () => {
    for (let seed = 41; seed <= 60; seed++) {
      const text = file(seed, 500, 2 + (seed % 4));
      const chunkSize = CHUNK_SIZES[seed % CHUNK_SIZES.length]!;
      const rows: number[][] = [];
      const lines: number[] = [];
      let blocks = 0;
      const reader = new NumericCsvReader(
        {
          header: () => undefined,
          row: (values, line) => {
            rows.push([...values]);
            lines.push(line);
          },
          rowBlock: (columns, stride, count, line) => {
            blocks++;
            for (let r = 0; r < count; r++) {
              rows.push(Array.from({ length: 2 + (seed % 4) }, (_, j) => columns[j * stride + r]!));
              lines.push(line + r);
            }
          },
        },
        { maxColumns: 1000, maxLineBytes: 4096 },
      );
      const bytes = new TextEncoder().encode(text);
      for (let start = 0; start < bytes.length; start += chunkSize) reader.push(bytes.subarray(start, start + chunkSize));
      const summary = reader.end();
      const expected = read(text, chunkSize, 1000, false);
      expect(blocks).toBeGreaterThan(0);
      expect(summary).toEqual(expected.summary);
      expect(lines).toEqual(expected.lines);
      expect(bits(rows)).toEqual(bits(expected.rows));
    }
  });

  it('refuses a bad line with the same error, wherever it is', () => {
    const bad = ['1,2', '1,2,3,4', '1,2,"3', '1,"2"x,3', '1,2,\u0000', 'x,,y,z', 'x,"a""b,3'];
    for (const [index, line] of bad.entries()) {
      const text = `a,b,y\n${'1.5,-2.25,3\n'.repeat(50 + index * 7)}${line}\n4,5,6\n`;
      for (const chunkSize of [5, 64, 1 << 16]) {
        const expected = failure(text, chunkSize, 1000, false);
        const actual = failure(text, chunkSize, 1000, true);
        expect({ code: actual.code, message: actual.message, line: actual.line, column: actual.column }).toEqual({
          code: expected.code,
          message: expected.message,
          line: expected.line,
          column: expected.column,
        });
        expect(expected.line).toBe(52 + index * 7);
      }
    }
  });

  it('reads lines of numbers mixed with lines of missing values and text to the same values and cells, whichever path', () => {
    // Lines the kernel leaves (a cell that is not a number) between lines it takes, in runs of every length.
    const cells = ['', 'NA', 'nan', '"NA"', ' x ', '"a,b"', 'inf', '1e400', '"say ""hi"""', '3e', 'größe'];
    const next = random(99);
    const lines = ['a,b,c,y'];
    for (let row = 0; row < 3000; row++) {
      const mixed = next() < (row % 500 < 250 ? 0.05 : 0.6);
      lines.push(
        Array.from({ length: 4 }, () =>
          mixed && next() < 0.5 ? cells[Math.floor(next() * cells.length)] : (next() * 200 - 100).toFixed(Math.floor(next() * 12)),
        ).join(','),
      );
    }
    const text = `${lines.join('\n')}\n`;
    for (const chunkSize of [7, 333, 1 << 16]) {
      const withKernel = read(text, chunkSize, 1000, true);
      const withoutKernel = read(text, chunkSize, 1000, false);
      expect(withKernel.summary).toEqual(withoutKernel.summary);
      expect(withKernel.lines).toEqual(withoutKernel.lines);
      expect(bits(withKernel.rows)).toEqual(bits(withoutKernel.rows));
      expect(withKernel.cells).toEqual(withoutKernel.cells);
      expect(withKernel.cells.filter(Boolean).length).toBeGreaterThan(100);
      expect(withKernel.rows.length).toBe(3000);
    }
    // The same rows through a sink with rowBlock: the kernel's rows as blocks, the others one by one.
    const rows: number[][] = [];
    let blocks = 0;
    const reader = new NumericCsvReader(
      {
        header: () => undefined,
        row: (values) => rows.push([...values]),
        rowBlock: (columns, stride, count) => {
          blocks++;
          for (let r = 0; r < count; r++) rows.push([0, 1, 2, 3].map((j) => columns[j * stride + r]!));
        },
      },
      { maxColumns: 10 },
    );
    reader.push(new TextEncoder().encode(text));
    reader.end();
    expect(blocks).toBeGreaterThan(10);
    expect(bits(rows)).toEqual(bits(read(text, undefined, 1000, false).rows));
  });

  it('takes an all-numeric file through the kernel: every row comes in blocks, none alone', () => {
    const text = `a,b,y\n${Array.from({ length: 5000 }, (_, row) => `${row / 7},${-row},${row * 1.5}`).join('\n')}\n`;
    let blocked = 0;
    let alone = 0;
    const reader = new NumericCsvReader(
      { header: () => undefined, row: () => void alone++, rowBlock: (_, __, count) => void (blocked += count) },
      { maxColumns: 10 },
    );
    const bytes = new TextEncoder().encode(text);
    for (let start = 0; start < bytes.length; start += 1 << 16) reader.push(bytes.subarray(start, start + (1 << 16)));
    expect(reader.end().rows).toBe(5000);
    expect(blocked).toBe(5000);
    expect(alone).toBe(0);
  });

  it('takes the plain lines itself and stops at the start of the first it leaves', () => {
    const kernel = new CsvKernel(3);
    const bytes = new TextEncoder().encode('1.5,-2,+3.25\r\n0.1,.5,7.\n4, 5,6\n8,9,10\n');
    kernel.load(bytes, 0, bytes.length);
    // The rows come out column after column: value j of row r at j·maxRows + r.
    const rowsOut = (count: number) => Array.from({ length: count }, (_, r) => [0, 1, 2].map((j) => kernel.values[j * kernel.maxRows + r]));
    const first = kernel.read(0, 3);
    expect(first).toEqual({ rows: 2, stopped: 24 });
    expect(rowsOut(2)).toEqual([
      [1.5, -2, 3.25],
      [0.1, 0.5, 7],
    ]);
    expect(kernel.read(first.stopped, 3)).toEqual({ rows: 0, stopped: 24 });
    expect(kernel.read(31, 3)).toEqual({ rows: 1, stopped: bytes.length });
    expect(rowsOut(1)).toEqual([[8, 9, 10]]);
  });

  it('answers at most maxRows rows a call, and grows its memory for a long input', () => {
    const kernel = new CsvKernel(2);
    const rows = kernel.maxRows * 3 + 5;
    const bytes = new TextEncoder().encode('12.5,-0.25\n'.repeat(rows));
    kernel.load(bytes, 0, bytes.length);
    let offset = 0;
    let read = 0;
    for (;;) {
      const answer = kernel.read(offset, 2);
      expect(answer.rows).toBeLessThanOrEqual(kernel.maxRows);
      read += answer.rows;
      offset = answer.stopped;
      if (answer.rows < kernel.maxRows) break;
    }
    expect(read).toBe(rows);
    expect(offset).toBe(bytes.length);
  });
});
