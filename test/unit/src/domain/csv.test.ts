import { describe, expect, it } from 'vitest';
import { type CsvSummary, InvalidCsv, NumericCsvReader } from '#domain/csv.js';
import { CsvKernel } from '#domain/csv-kernel.js';
import { random } from '../../helpers/random.js';

interface Read {
  columns: readonly string[];
  rows: number[][];
  lines: number[];
  summary: CsvSummary;
}

/** Reads `text` fed in chunks of `chunkSize` bytes (every size must give the same answer). */
function read(text: string | Uint8Array, chunkSize = 1 << 16, maxColumns = 1000, kernel = true): Read {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const out: Omit<Read, 'summary'> = { columns: [], rows: [], lines: [] };
  const reader = new NumericCsvReader(
    {
      header: (columns) => (out.columns = columns),
      row: (values, line) => {
        out.rows.push([...values]);
        out.lines.push(line);
      },
    },
    { maxColumns, maxLineBytes: 4096, kernel },
  );
  for (let start = 0; start < bytes.length; start += chunkSize) reader.push(bytes.subarray(start, start + chunkSize));
  return { ...out, summary: reader.end() };
}

function failure(text: string | Uint8Array, chunkSize?: number, maxColumns?: number, kernel?: boolean): InvalidCsv {
  try {
    read(text, chunkSize, maxColumns, kernel);
  } catch (error) {
    if (error instanceof InvalidCsv) return error;
    throw error;
  }
  throw new Error('expected the file to be refused');
}

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
  it.each(CHUNK_SIZES)('names the line and column of a value that is not a number (%i-byte chunks)', (chunkSize) => {
    const error = failure('a,b,y\n1,2,3\n4,abc,6\n7,8,9\n', chunkSize);
    expect(error).toMatchObject({ code: 'NOT_A_NUMBER', line: 3, column: 2 });
    expect(error.message).toBe('line 3, column 2 ("b"): "abc" is not a finite number');
  });

  it.each([
    ['an empty value', 'a,b,y\n1,,3\n', 2, 'the value is empty'],
    ['NaN', 'a,b,y\n1,2,NaN\n', 3, '"NaN" is not a finite number'],
    ['Infinity', 'a,b,y\nInfinity,2,3\n', 1, '"Infinity" is not a finite number'],
    ['an overflow', 'a,b,y\n1,1e400,3\n', 2, '"1e400" is not a finite number'],
    ['two decimal points', 'a,b,y\n1,2.3.4,3\n', 2, '"2.3.4" is not a finite number'],
    ['an exponent without digits', 'a,b,y\n1,2,3e\n', 3, '"3e" is not a finite number'],
    ['a lone sign', 'a,b,y\n-,2,3\n', 1, '"-" is not a finite number'],
    ['an unclosed quote', 'a,b,y\n1,"2,3\n', 2, '"\\"2,3" is not a finite number'],
    ['a stray carriage return', 'a,b,y\n1,2\r3,4\n', 2, '"2\\r3" is not a finite number'],
  ])('refuses %s', (_, text, column, reason) => {
    const error = failure(text);
    expect(error).toMatchObject({ code: 'NOT_A_NUMBER', line: 2, column });
    expect(error.message).toContain(reason);
  });

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
    ['an empty name', 'a,,y\n1,2,3\n', 2],
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
});

describe('NumericCsvReader: the WebAssembly kernel and the TypeScript loop', () => {
  /** A value in one of the forms a file may hold: most plain (the kernel's), the rest the loop's. */
  function value(next: () => number): string {
    const digits = (count: number) => Array.from({ length: count }, () => Math.floor(next() * 10)).join('');
    const sign = ['', '-', '+'][Math.floor(next() * 3)];
    const whole = digits(Math.floor(next() * 3));
    const decimals = next() < 0.8 ? digits(Math.floor(next() * 19)) : undefined;
    // At least one digit: "5.", ".5" and "5" are numbers, "." is not.
    const plain = `${sign}${whole === '' && !decimals ? '0' : whole}${decimals === undefined ? '' : `.${decimals}`}`;
    switch (Math.floor(next() * 30)) {
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
    const bad = ['1,,3', '1,2', '1,2,3,4', '1,2,x', '1,2,3e', '1,2,.', '1,-,3', '1,2,3 4', '1,2,"3'];
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
