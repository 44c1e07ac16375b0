import { describe, expect, it } from 'vitest';
import { CELL_NUMBER, type CsvFormat, InvalidCsv, NumericCsvReader } from '#domain/csv.js';
import type { DatasetError } from '#domain/datasets.js';
import { packedIndex } from '#domain/linalg.js';
import { type ByteRange, headerEnd, lastByteNeeded, mergePartials, planRanges, RangeScan, type ScanOutcome } from '#domain/range-scan.js';
import { type FittedModel, fitModel, RegressionAccumulator } from '#domain/regression.js';
import { type ColumnSchema, SchemaProfiler, schemaOf } from '#domain/schema.js';
import { type ColumnStatistics, fitStatistics, statisticsOfState, statisticsOver } from '#domain/statistics.js';

/** Statistics of rows (all columns), as one range of the scan computes them. */
function statisticsOf(rows: readonly (readonly number[])[]): ColumnStatistics {
  const k = rows[0]!.length;
  const accumulator = new RegressionAccumulator(k - 1, true);
  for (const row of rows) accumulator.add(row.slice(0, k - 1), row[k - 1]!);
  return statisticsOfState(accumulator.state());
}

const NO_NUMERIC_COLUMN: DatasetError = {
  code: 'NO_NUMERIC_COLUMN',
  message: 'no column holds numbers: a regression needs a number column to predict (is the delimiter or decimal separator right?)',
};

describe('byte ranges', () => {
  it('finds the end of a header, quoted newlines, BOM and blank lines included', () => {
    const bytes = new TextEncoder().encode('\uFEFF\r\n\n"a\nb",c\r\n1,2\n');
    expect(headerEnd(bytes)).toBe(bytes.indexOf(10, 12) + 1);
    expect(headerEnd(new TextEncoder().encode('a,b'))).toBeUndefined();
  });

  it('plans one range for a small file, and ranges that cover every byte once', () => {
    expect(planRanges({ sizeBytes: 100, dataStart: 10, rangeBytes: 1000, maxRanges: 10 })).toEqual([{ index: 0, start: 0, end: 100 }]);
    const ranges = planRanges({ sizeBytes: 1000, dataStart: 50, rangeBytes: 100, maxRanges: 4 });
    expect(ranges.map(({ start, end }) => [start, end])).toEqual([
      [0, 288],
      [288, 526],
      [526, 764],
      [764, 1000],
    ]);
    expect(planRanges({ sizeBytes: 0, dataStart: undefined, rangeBytes: 10, maxRanges: 4 })).toEqual([{ index: 0, start: 0, end: 0 }]);
  });
});

/** A data row as one pass reads it: its values (NaN where not a number) and whether each cell is a number. */
interface ReadRow {
  values: number[];
  numbers: boolean[];
}

/** What one pass over the file says: the reader's error, or its rows, header and the schema of their profiles. */
type Reference = { status: 'INVALID'; error: DatasetError } | { status: 'READY'; rows: ReadRow[]; columns: string[]; schema: ColumnSchema[] };

/** One pass over the whole text with the CSV reader: what validation found before the scan. */
function singlePass(text: string, format?: CsvFormat): Reference {
  const rows: ReadRow[] = [];
  let columns: string[] = [];
  let generated: number[] = [];
  let profiler: SchemaProfiler | undefined;
  const reader = new NumericCsvReader(
    {
      header: (names, info) => {
        columns = [...names];
        generated = [...info.generated];
        profiler = new SchemaProfiler(names.length);
      },
      row: (values, _line, cells) => {
        profiler!.addRow(cells);
        rows.push({ values: [...values], numbers: Array.from(values, (_, c) => cells === undefined || cells.kinds[c] === CELL_NUMBER) });
      },
    },
    { maxColumns: 100, ...format },
  );
  try {
    // In the 64 KiB chunks a stream delivers: the reader's line-length limit applies to a line it must carry.
    const bytes = new TextEncoder().encode(text);
    for (let position = 0; position < bytes.length; position += 1 << 16) reader.push(bytes.subarray(position, position + (1 << 16)));
    reader.end();
  } catch (error) {
    if (!(error instanceof InvalidCsv)) throw error;
    const { code, message, line, column } = error;
    return { status: 'INVALID', error: { code, message, ...(line === undefined ? {} : { line }), ...(column === undefined ? {} : { column }) } };
  }
  return { status: 'READY', rows, columns, schema: schemaOf(columns, generated, profiler!.profiles()) };
}

/** Reads `ranges` of the file, each from its start in chunks of `chunkBytes` as a child does, and merges them. */
function scanRanges(bytes: Uint8Array, ranges: readonly ByteRange[], chunkBytes: number, format?: CsvFormat): ScanOutcome {
  const dataStart = headerEnd(bytes.subarray(0, 1 << 20));
  const partials = ranges.map((range) => {
    const reader = new RangeScan(range, { maxColumns: 100, header: range.index > 0 ? bytes.subarray(0, dataStart) : undefined, format });
    // As a child reads it: from its start to at most one line past its end.
    const stop = lastByteNeeded(range, bytes.length) + 1;
    for (let position = range.start; position < stop; position += chunkBytes) {
      if (reader.push(bytes.subarray(position, Math.min(stop, position + chunkBytes)), position)) break;
    }
    return reader.finish();
  });
  return mergePartials(partials);
}

/** The scan: ranges of `rangeBytes`, each read from its start in chunks of `chunkBytes`, then merged. */
function scan(text: string, rangeBytes: number, chunkBytes: number, format?: CsvFormat): ScanOutcome {
  const bytes = new TextEncoder().encode(text);
  const dataStart = headerEnd(bytes.subarray(0, 1 << 20));
  const ranges = planRanges({ sizeBytes: bytes.length, dataStart, rangeBytes, maxRanges: 10_000 });
  return scanRanges(bytes, ranges, chunkBytes, format);
}

/**
 * `actual` is the statistics of `rows` (one array of values per row, in the statistics' column order): the same
 * count, means and centred cross-products RᵀR = XcᵀXc computed here from the values themselves. (A factor is unique
 * up to the signs of its rows; its Gram matrix is not.)
 */
function expectStatisticsOf(actual: ColumnStatistics, rows: readonly (readonly number[])[], width: number): void {
  expect(actual.n).toBe(rows.length);
  expect(actual.means).toHaveLength(width);
  const means = Array.from({ length: width }, (_, j) => (rows.length === 0 ? 0 : rows.reduce((sum, row) => sum + row[j]!, 0) / rows.length));
  means.forEach((mean, j) => expect(Math.abs(actual.means[j]! - mean)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(mean))));
  const cross = (i: number, j: number) => rows.reduce((sum, row) => sum + (row[i]! - means[i]!) * (row[j]! - means[j]!), 0);
  const gram = (i: number, j: number) => {
    let sum = 0;
    for (let r = 0; r <= Math.min(i, j); r++) sum += actual.triangle[packedIndex(width, r, i)]! * actual.triangle[packedIndex(width, r, j)]!;
    return sum;
  };
  for (let i = 0; i < width; i++) {
    for (let j = i; j < width; j++) {
      const scale = Math.sqrt(cross(i, i) * cross(j, j));
      expect(Math.abs(gram(i, j) - cross(i, j))).toBeLessThanOrEqual(1e-12 * (1 + scale));
    }
  }
}

/** The merged scan says what one pass says: the same error, or the same rows, schema and statistics by pattern. */
function expectSameOutcome(actual: ScanOutcome, expected: Reference): void {
  expect(actual.status).toBe(expected.status);
  if (expected.status === 'INVALID') {
    expect(actual).toEqual(expected);
    return;
  }
  if (actual.status !== 'READY') return;
  expect(actual.rows).toBe(expected.rows.length);
  expect(actual.columns).toEqual(expected.columns);
  expect(actual.schema).toEqual(expected.schema);
  const stats = actual.statistics!;
  expect(stats.rowsLeftOut).toBe(0);
  // Patterns: ∅ first when it has rows, then the others in the order their first row comes in the file.
  const key = (row: ReadRow) => row.numbers.flatMap((number, c) => (number ? [] : [c])).join(',');
  const order = [...new Set(expected.rows.map(key))].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : 0));
  expect(stats.patterns.map((pattern) => pattern.absent.join(','))).toEqual(order);
  for (const { absent, statistics } of stats.patterns) {
    const present = expected.columns.map((_, c) => c).filter((c) => !absent.includes(c));
    const rows = expected.rows.filter((row) => key(row) === absent.join(',')).map((row) => present.map((c) => row.values[c]!));
    expectStatisticsOf(statistics, rows, present.length);
  }
  // Listwise deletion over every number column: the rows that have all of them.
  const numeric = expected.schema.flatMap((column, c) => (column.type === 'number' ? [c] : []));
  const over = statisticsOver(stats, numeric);
  const complete = expected.rows.filter((row) => numeric.every((c) => row.numbers[c])).map((row) => numeric.map((c) => row.values[c]!));
  expect(over.rowsUsed).toBe(complete.length);
  expect(over.complete).toBe(true);
  expectStatisticsOf(over.statistics, complete, numeric.length);
}

describe('the scan reads every line once and reports what one pass reports', () => {
  const lines = Array.from({ length: 40 }, (_, i) => `${i},${(i * 37) % 11}.5,${-i * 0.25}`);
  const files: [string, string][] = [
    ['LF', `a,b,y\n${lines.join('\n')}\n`],
    ['CRLF, no final newline', `a,b,y\r\n${lines.join('\r\n')}`],
    ['quoted header over two lines, BOM, blank lines', `\uFEFF\n"a\nx",b,"y"\r\n\n${lines.slice(0, 20).join('\n')}\n\n\n${lines.slice(20).join('\r\n')}\n`],
    // A text value makes its column text (numbers mixed with text) and its row a pattern of its own.
    ['a text value late', `a,b,y\n${lines.slice(0, 30).join('\n')}\n1,x,2\n${lines.slice(30).join('\n')}\n`],
    ['a bad quote late', `a,b,y\n${lines.slice(0, 30).join('\n')}\n1,"2"x,3\n${lines.slice(30).join('\n')}\n`],
    ['columns change mid-way', `a,b,y\n${lines.slice(0, 17).join('\n')}\n1,2\n${lines.slice(17).join('\n')}\n1,2,3,4\n`],
    ['a missing value, then a text value', `a,b,y\n${lines.slice(0, 5).join('\n')}\n1,,2\n${lines.slice(5).join('\n')}\n9,9,zz\n`],
    ['two bad lines: the earliest wins', `a,b,y\n${lines.slice(0, 5).join('\n')}\n1,"x"y,2\n${lines.slice(5).join('\n')}\n9,9\n`],
    [
      'missing values in every column, NA and empty, quoted or not',
      `a,b,y\n${lines.slice(0, 9).join('\n')}\nNA,1,2\n3,"",4\n5,6,NA\n,,\n"NA",7,8\n${lines.slice(9).join('\n')}\n`,
    ],
    ['only a header', 'a,b,y\n'],
    ['only a header, no newline', 'a,b,y'],
    ['a header and blank lines', 'a,b,y\n\n\r\n'],
    ['empty', ''],
    ['an invalid header', 'a,a,y\n1,2,3\n'],
    ['a last line without newline that misses its last value', `a,b,y\n${lines.join('\n')}\n1,2,`],
    ['a bad last line without newline', `a,b,y\n${lines.join('\n')}\n1,2`],
  ];

  it('the cases say what they were written to say', () => {
    const outcome = (name: string) => singlePass(files.find(([file]) => file === name)![1]);
    expect(outcome('a bad quote late')).toMatchObject({ status: 'INVALID', error: { code: 'BAD_QUOTING', line: 32, column: 2 } });
    expect(outcome('columns change mid-way')).toMatchObject({ status: 'INVALID', error: { code: 'WRONG_COLUMN_COUNT', line: 19 } });
    expect(outcome('two bad lines: the earliest wins')).toMatchObject({ status: 'INVALID', error: { code: 'BAD_QUOTING', line: 7, column: 2 } });
    expect(outcome('a bad last line without newline')).toMatchObject({ status: 'INVALID', error: { code: 'WRONG_COLUMN_COUNT', line: 42 } });
    expect(outcome('only a header')).toMatchObject({ status: 'INVALID', error: { code: 'NO_ROWS' } });
    expect(outcome('empty')).toMatchObject({ status: 'INVALID', error: { code: 'EMPTY_FILE' } });
    expect(outcome('an invalid header')).toMatchObject({ status: 'INVALID', error: { code: 'INVALID_HEADER' } });
    expect(outcome('a text value late')).toMatchObject({
      status: 'READY',
      schema: [
        { name: 'a', type: 'number', missing: 0 },
        { name: 'b', type: 'text', missing: 0, reason: 'mixed', numbers: 40, texts: 1 },
        { name: 'y', type: 'number', missing: 0 },
      ],
    });
    expect(outcome('missing values in every column, NA and empty, quoted or not')).toMatchObject({
      status: 'READY',
      schema: [
        { name: 'a', type: 'number', missing: 3 },
        { name: 'b', type: 'number', missing: 2 },
        { name: 'y', type: 'number', missing: 2 },
      ],
    });
  });

  it('a line too long for the reader, across range boundaries: the same LINE_TOO_LONG line', () => {
    const long = `a,b,y\n${lines.slice(0, 10).join('\n')}\n${'1'.repeat(1_200_000)},2,3\n${lines.slice(10).join('\n')}\n`;
    const expected = singlePass(long);
    expect(expected).toMatchObject({ status: 'INVALID', error: { code: 'LINE_TOO_LONG', line: 12 } });
    for (const rangeBytes of [100_000, 500_000, 5_000_000]) expectSameOutcome(scan(long, rangeBytes, 1 << 16), expected);
  });

  it.each(files)('%s', (_name, text) => {
    const expected = singlePass(text);
    for (const rangeBytes of [1, 2, 3, 7, 16, 50, 1000]) {
      for (const chunkBytes of [1, 5, 64, 1 << 16]) {
        expectSameOutcome(scan(text, rangeBytes, chunkBytes), expected);
      }
    }
  });
});

describe("a range's statistics are the rows' own, to the bit", () => {
  // The reader hands a range's sink most rows a block at a time (rowBlock) and the lines its kernel leaves (quoted
  // fields here) one at a time: either way each row must reach the accumulator as [features…, last column].
  it.each([2, 7, 40])('on 3,000 random rows of %i columns, some of them quoted', (k) => {
    let seed = k;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const rows = Array.from({ length: 3000 }, () => Array.from({ length: k }, () => Number(((random() - 0.3) * 10 ** Math.floor(random() * 6)).toFixed(4))));
    const header = Array.from({ length: k }, (_, j) => `c${j}`).join(',');
    const text = `${header}\n${rows.map((row, i) => row.map((value) => (i % 97 === 5 ? `"${value}"` : `${value}`)).join(',')).join('\n')}\n`;
    const bytes = new TextEncoder().encode(text);
    const range = new RangeScan({ index: 0, start: 0, end: bytes.length }, { maxColumns: 100 });
    for (let position = 0; position < bytes.length; position += 1 << 16) range.push(bytes.subarray(position, position + (1 << 16)), position);
    const partial = range.finish();
    expect(partial.error).toBeNull();
    expect(partial.rows).toBe(3000);
    expect(partial.generated).toEqual([]);
    expect(partial.profiles).toEqual(Array.from({ length: k }, () => ({ numbers: 3000, missing: 0, texts: 0, values: [], overflow: false })));
    // Numbers only: one pattern, ∅, whose statistics are those of every column.
    expect(partial.statistics).toEqual({ patterns: [{ absent: [], statistics: statisticsOf(rows) }], rowsLeftOut: 0 });
  });
});

describe('a file with row names, missing values, a category and a text column', () => {
  /** 150 rows as R's write.csv writes them: row names, NA, quoted strings (a comma inside some). */
  const count = 150;
  const data = Array.from({ length: count }, (_, i) => {
    const x1 = Number((((i * 7919) % 101) / 8 - 3).toFixed(3));
    const x2 = i % 7 === 3 ? null : Number((((i * 104_729) % 97) / 16).toFixed(4));
    const group = ['b', 'a', 'c'][(i * 5) % 3]!;
    const y = i % 11 === 6 ? null : Number((1.5 + 0.75 * x1 - 0.5 * (x2 ?? 0) + (group === 'c' ? 2 : 0) + ((i * 31) % 13) / 10).toFixed(6));
    return { name: `row ${i + 1}`, x1, x2, group, note: `note ${i}, free text`, y };
  });
  const header = '"","x1","x2","group","note","y"';
  const writeCsv = (delimiter: string, point: string) => {
    const number = (value: number | null) => (value === null ? 'NA' : String(value).replace('.', point));
    const lines = data.map((row) => [`"${row.name}"`, number(row.x1), number(row.x2), `"${row.group}"`, `"${row.note}"`, number(row.y)].join(delimiter));
    return `${header.replaceAll(',', delimiter)}\n${lines.join('\n')}\n`;
  };
  const formats: [string, string, CsvFormat | undefined][] = [
    ["write.csv (',' and '.')", writeCsv(',', '.'), undefined],
    ["write.csv2 (';' and ',')", writeCsv(';', ','), { delimiter: ';', decimal: ',' }],
  ];

  const x2Missing = data.filter((row) => row.x2 === null).length;
  const yMissing = data.filter((row) => row.y === null).length;
  const levelCount = (level: string) => data.filter((row) => row.group === level).length;
  const schema: ColumnSchema[] = [
    { name: 'Unnamed: 0', type: 'text', missing: 0, generated: true, reason: 'identifier' },
    { name: 'x1', type: 'number', missing: 0 },
    { name: 'x2', type: 'number', missing: x2Missing },
    {
      name: 'group',
      type: 'category',
      missing: 0,
      levels: ['a', 'b', 'c'].map((value) => ({ value, count: levelCount(value) })),
    },
    { name: 'note', type: 'text', missing: 0, reason: 'too-many-values', distinctOver: 100 },
    { name: 'y', type: 'number', missing: yMissing },
  ];

  /** y ~ x1 + x2 on the rows that have all three, fitted from the rows themselves. */
  const complete = data.filter((row) => row.x2 !== null && row.y !== null);
  const direct = (() => {
    const accumulator = new RegressionAccumulator(2, true);
    for (const row of complete) accumulator.add([row.x1, row.x2!], row.y!);
    return fitModel(accumulator, { kind: 'LINEAR', alpha: 0, fitIntercept: true });
  })();

  function fitOf(outcome: ScanOutcome, columns: number[]): { model: FittedModel; rowsUsed: number } {
    if (outcome.status !== 'READY') throw new Error(`expected READY, got ${JSON.stringify(outcome)}`);
    const over = statisticsOver(outcome.statistics!, columns);
    const d = columns.length - 1;
    const selection = { features: Array.from({ length: d }, (_, i) => i), target: d };
    return { model: fitStatistics(over.statistics, selection, { kind: 'LINEAR', alpha: 0, fitIntercept: true }).model, rowsUsed: over.rowsUsed };
  }

  function expectSameFit(actual: FittedModel, expected: FittedModel, tolerance: number): void {
    const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(b)));
    expect(actual.coefficients).toHaveLength(expected.coefficients.length);
    actual.coefficients.forEach((value, j) => close(value, expected.coefficients[j]!));
    close(actual.intercept, expected.intercept);
    expect(actual.metrics.n).toBe(expected.metrics.n);
  }

  it('the data has what the test needs: rows dropped for x2, for y, for both', () => {
    expect([x2Missing, yMissing, count - complete.length]).toEqual([21, 14, 33]);
    expect(data.some((row) => row.x2 === null && row.y === null)).toBe(true);
  });

  it.each(formats)('%s: one range has the schema and the listwise fit of the rows', (_name, text, format) => {
    const bytes = new TextEncoder().encode(text);
    const outcome = scanRanges(bytes, [{ index: 0, start: 0, end: bytes.length }], 1 << 16, format);
    expect(outcome).toMatchObject({ status: 'READY', rows: count, columns: ['Unnamed: 0', 'x1', 'x2', 'group', 'note', 'y'] });
    if (outcome.status !== 'READY') return;
    expect(outcome.schema).toEqual(schema);
    // Patterns: ∅ never (the identifier and the note are text in every row), {0,3,4} first, then those missing x2 and/or y.
    expect(outcome.statistics!.patterns.map((pattern) => pattern.absent)).toEqual([
      [0, 3, 4],
      [0, 2, 3, 4],
      [0, 3, 4, 5],
      [0, 2, 3, 4, 5],
    ]);
    const { model, rowsUsed } = fitOf(outcome, [1, 2, 5]);
    expect(rowsUsed).toBe(complete.length);
    expectSameFit(model, direct, 1e-12);
    expectSameOutcome(outcome, singlePass(text, format));
  });

  // Over a hundred scans of the file: seconds on a busy 2-core machine, past the default 5 s, hence its own timeout.
  it.each(formats)(
    '%s: ranges cut anywhere merge to the same schema and the same fits',
    (_name, text, format) => {
      const bytes = new TextEncoder().encode(text);
      const whole = scanRanges(bytes, [{ index: 0, start: 0, end: bytes.length }], 1 << 16, format);
      const reference = fitOf(whole, [1, 2, 5]);
      const onX1 = fitOf(whole, [1, 5]);
      const outcomes: ScanOutcome[] = [];
      // Two ranges, cut at every 53rd byte (inside row names, numbers, quoted text with its comma, at newlines).
      for (let cut = 1; cut < bytes.length; cut += 53) {
        const ranges = [
          { index: 0, start: 0, end: cut },
          { index: 1, start: cut, end: bytes.length },
        ];
        outcomes.push(scanRanges(bytes, ranges, 64, format));
      }
      // Three ranges at many pairs of cuts, and the planner's ranges, down to a line per range.
      for (let first = 5; first < bytes.length; first += 617) {
        for (let second = first + 1; second < bytes.length; second += 1031) {
          const ranges = [
            { index: 0, start: 0, end: first },
            { index: 1, start: first, end: second },
            { index: 2, start: second, end: bytes.length },
          ];
          outcomes.push(scanRanges(bytes, ranges, 1 << 16, format));
        }
      }
      for (const rangeBytes of [1, 7, 50, 400, 2000]) outcomes.push(scan(text, rangeBytes, 5, format));
      expect(outcomes.length).toBeGreaterThan(100);
      for (const outcome of outcomes) {
        expect(outcome).toMatchObject({ status: 'READY', rows: count });
        if (outcome.status !== 'READY') continue;
        expect(outcome.schema).toEqual(schema);
        const fit = fitOf(outcome, [1, 2, 5]);
        expect(fit.rowsUsed).toBe(reference.rowsUsed);
        expectSameFit(fit.model, reference.model, 1e-12);
        const fitX1 = fitOf(outcome, [1, 5]);
        expect(fitX1.rowsUsed).toBe(count - yMissing);
        expectSameFit(fitX1.model, onX1.model, 1e-12);
      }
    },
    30_000,
  );
});

describe('a file without a number column is INVALID NO_NUMERIC_COLUMN', () => {
  const files: [string, string][] = [
    ['every column text', '"","name","city"\n"1","ann","paris"\n"2","bob","oslo"\n"3","cy","rome"\n'],
    ["pandas' index holds numbers, but it is an identifier", ',name,city\n0,ann,paris\n1,bob,oslo\n2,cy,rome\n'],
    ['a number column whose every cell is missing', 'a,b\nNA,x\n,y\n"NA",z\n'],
    ['text in the numbers: a decimal-comma file read with its delimiter but a decimal point', '"a";"b"\n1,5;2,5\n3,25;4,75\n'],
  ];

  it.each(files)('%s', (_name, text) => {
    const format: CsvFormat | undefined = text.includes(';') ? { delimiter: ';', decimal: '.' } : undefined;
    expect(singlePass(text, format).status).toBe('READY');
    for (const rangeBytes of [1, 3, 10, 1000]) {
      for (const chunkBytes of [1, 7, 1 << 16]) {
        expect(scan(text, rangeBytes, chunkBytes, format)).toEqual({ status: 'INVALID', error: NO_NUMERIC_COLUMN });
      }
    }
  });

  it('one number in one cell is enough', () => {
    const text = '"","name","y"\n"1","ann",NA\n"2","bob",2.5\n"3","cy",\n';
    for (const rangeBytes of [1, 3, 1000]) {
      expect(scan(text, rangeBytes, 4)).toMatchObject({
        status: 'READY',
        rows: 3,
        schema: [
          { name: 'Unnamed: 0', type: 'text', generated: true },
          { name: 'name', type: 'category' },
          { name: 'y', type: 'number', missing: 2 },
        ],
      });
    }
  });
});
