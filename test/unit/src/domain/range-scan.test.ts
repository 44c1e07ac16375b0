import { describe, expect, it } from 'vitest';
import { InvalidCsv, NumericCsvReader } from '#domain/csv.js';
import { headerEnd, lastByteNeeded, mergePartials, planRanges, RangeScan, type ScanOutcome } from '#domain/range-scan.js';
import { RegressionAccumulator } from '#domain/regression.js';
import { type ColumnStatistics, statisticsOfState } from '#domain/statistics.js';

/** Statistics of rows (all columns), as one range of the scan computes them. */
function statisticsOf(rows: readonly (readonly number[])[]): ColumnStatistics {
  const k = rows[0]!.length;
  const accumulator = new RegressionAccumulator(k - 1, true);
  for (const row of rows) accumulator.add(row.slice(0, k - 1), row[k - 1]!);
  return statisticsOfState(accumulator.state());
}

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

/** One pass over the whole text with the CSV reader: what validation found before the scan. */
function singlePass(text: string): ScanOutcome {
  const rows: number[][] = [];
  const reader = new NumericCsvReader({ header: () => undefined, row: (values) => rows.push([...values]) }, { maxColumns: 100 });
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
  return { status: 'READY', rows: rows.length, columns: [], statistics: statisticsOf(rows) };
}

/** The scan: ranges of `rangeBytes`, each read from its start in chunks of `chunkBytes`, then merged. */
function scan(text: string, rangeBytes: number, chunkBytes: number): ScanOutcome {
  const bytes = new TextEncoder().encode(text);
  const dataStart = headerEnd(bytes.subarray(0, 1 << 20));
  const ranges = planRanges({ sizeBytes: bytes.length, dataStart, rangeBytes, maxRanges: 10_000 });
  const partials = ranges.map((range) => {
    const reader = new RangeScan(range, { maxColumns: 100, header: range.index > 0 ? bytes.subarray(0, dataStart) : undefined });
    // As a child reads it: from its start to at most one line past its end.
    const stop = lastByteNeeded(range, bytes.length) + 1;
    for (let position = range.start; position < stop; position += chunkBytes) {
      if (reader.push(bytes.subarray(position, Math.min(stop, position + chunkBytes)), position)) break;
    }
    return reader.finish();
  });
  return mergePartials(partials);
}

function expectSameOutcome(actual: ScanOutcome, expected: ScanOutcome): void {
  expect(actual.status).toBe(expected.status);
  if (expected.status === 'INVALID') {
    expect(actual).toEqual(expected);
    return;
  }
  if (actual.status !== 'READY') return;
  expect(actual.rows).toBe(expected.rows);
  const a = actual.statistics!;
  const b = expected.statistics!;
  expect(a.n).toBe(b.n);
  a.means.forEach((mean, j) => expect(Math.abs(mean - b.means[j]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(b.means[j]!))));
  // Factors are unique up to the signs of their rows: compare their Gram matrices' diagonals (column norms).
  const k = a.means.length;
  const norm = (t: number[], j: number) =>
    Math.sqrt(Array.from({ length: j + 1 }, (_, i) => t[i * k - (i * (i - 1)) / 2 + (j - i)]! ** 2).reduce((x, y) => x + y));
  for (let j = 0; j < k; j++) expect(Math.abs(norm(a.triangle, j) - norm(b.triangle, j))).toBeLessThanOrEqual(1e-12 * (1 + norm(b.triangle, j)));
}

describe('the scan reads every line once and reports what one pass reports', () => {
  const lines = Array.from({ length: 40 }, (_, i) => `${i},${(i * 37) % 11}.5,${-i * 0.25}`);
  const files: [string, string][] = [
    ['LF', `a,b,y\n${lines.join('\n')}\n`],
    ['CRLF, no final newline', `a,b,y\r\n${lines.join('\r\n')}`],
    ['quoted header over two lines, BOM, blank lines', `\uFEFF\n"a\nx",b,"y"\r\n\n${lines.slice(0, 20).join('\n')}\n\n\n${lines.slice(20).join('\r\n')}\n`],
    ['a bad value late', `a,b,y\n${lines.slice(0, 30).join('\n')}\n1,x,2\n${lines.slice(30).join('\n')}\n`],
    ['columns change mid-way', `a,b,y\n${lines.slice(0, 17).join('\n')}\n1,2\n${lines.slice(17).join('\n')}\n1,2,3,4\n`],
    ['two bad lines: the earliest wins', `a,b,y\n${lines.slice(0, 5).join('\n')}\n1,,2\n${lines.slice(5).join('\n')}\n9,9,zz\n`],
    ['only a header', 'a,b,y\n'],
    ['only a header, no newline', 'a,b,y'],
    ['a header and blank lines', 'a,b,y\n\n\r\n'],
    ['empty', ''],
    ['an invalid header', 'a,a,y\n1,2,3\n'],
    ['a bad last line without newline', `a,b,y\n${lines.join('\n')}\n1,2,`],
  ];

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
    expect(partial.statistics).toEqual(statisticsOf(rows));
  });
});
