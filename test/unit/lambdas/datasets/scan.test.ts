import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CsvFormat } from '#domain/csv.js';
import { expectRelativelyClose, readyScan, rFixture } from '../../helpers/r-fixtures.js';
import { random } from '../../helpers/random.js';
import { body, bytesBody, context, DATASET_ID, datasetRecord, KEY, rangeOf, stubDatasetEnv } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let planScan: typeof import('../../../../lambdas/datasets/plan-scan.js')['handler'];
let scanRange: typeof import('../../../../lambdas/datasets/scan-range.js')['handler'];
let mergeScan: typeof import('../../../../lambdas/datasets/merge-scan.js')['handler'];
let scanFailed: typeof import('../../../../lambdas/datasets/scan-failed.js')['handler'];

/** y = 1 + 2·a exactly: 40 bytes, a header of 5, ranges of 20 bytes. */
const CSV = 'a,y\r\n0,1\n1,3\n2,5\n3,7\n4,9\n5,11\n6,13\n7,15\n';
const object = { tenantId: 'acme', datasetId: DATASET_ID, key: KEY, etag: 'etag-1', sizeBytes: Buffer.byteLength(CSV) };
const partialKey = (index: number) => `scans/acme/${DATASET_ID}/etag-1/partials/${index}.json`;
const STATISTICS_KEY = `scans/acme/${DATASET_ID}/etag-1/statistics.json`;

/** R's write.csv of iris (row names under an empty header, a factor) and write.csv2 of it (';' and a decimal comma). */
const IRIS = rFixture('iris.r.csv');
const IRIS_CSV2 = rFixture('iris.r2.csv');
const CSV2_FORMAT: CsvFormat = { delimiter: ';', decimal: ',' };
const IRIS_COLUMNS = ['Unnamed: 0', 'Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width', 'Species'];
const IRIS_SCHEMA = [
  { name: 'Unnamed: 0', type: 'text', missing: 0, generated: true, reason: 'identifier' },
  { name: 'Sepal.Length', type: 'number', missing: 0 },
  { name: 'Sepal.Width', type: 'number', missing: 0 },
  { name: 'Petal.Length', type: 'number', missing: 0 },
  { name: 'Petal.Width', type: 'number', missing: 0 },
  {
    name: 'Species',
    type: 'category',
    missing: 0,
    levels: [
      { value: 'setosa', count: 50 },
      { value: 'versicolor', count: 50 },
      { value: 'virginica', count: 50 },
    ],
  },
];

/** The uploaded object the mocked bucket serves under KEY, and the size of the chunks of its bodies. */
let uploaded: Uint8Array = Buffer.from(CSV);
let chunkSize = 7;
/** Every body served for the uploaded object, to see whether a step let go of it. */
const served: { destroyed: boolean }[] = [];
/** What the steps wrote to the bucket (partials, statistics), by key. */
const written = new Map<string, string>();

beforeAll(async () => {
  stubDatasetEnv();
  vi.stubEnv('SCAN_RANGE_BYTES', '20');
  vi.stubEnv('SCAN_MAX_RANGES', '100');
  ({ handler: planScan } = await import('../../../../lambdas/datasets/plan-scan.js'));
  ({ handler: scanRange } = await import('../../../../lambdas/datasets/scan-range.js'));
  ({ handler: mergeScan } = await import('../../../../lambdas/datasets/merge-scan.js'));
  ({ handler: scanFailed } = await import('../../../../lambdas/datasets/scan-failed.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => {
  ddb.reset();
  s3.reset();
  uploaded = Buffer.from(CSV);
  chunkSize = 7;
  written.clear();
  served.length = 0;
  ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
  // A ranged GET of the version scanned: the bytes asked for (to the end when the range is open); the scan's own objects as written.
  s3.on(GetObjectCommand).callsFake((input: { Key: string; Range?: string; IfMatch?: string }) => {
    if (input.Key === KEY) {
      expect(input.IfMatch).toBe('"etag-1"');
      const response = bytesBody(rangeOf(uploaded, input.Range), chunkSize);
      served.push(response as unknown as { destroyed: boolean });
      return { Body: response };
    }
    const json = written.get(input.Key);
    if (json === undefined) throw new Error(`no object ${input.Key}`);
    return { Body: body(json, 64 * 1024) };
  });
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    written.set(input.Key, input.Body);
    return {};
  });
});

/** Runs the whole scan of `bytes` against the mocked bucket, as the state machine would (lib/dataset-scan.ts); answers the plan and the merge's outcome. */
async function runScan(bytes: Uint8Array = Buffer.from(CSV), format?: CsvFormat) {
  uploaded = bytes;
  const input = { ...object, sizeBytes: bytes.length, ...(format ? { format } : {}) };
  const plan = await planScan(input, context);
  for (const range of plan.ranges) await scanRange({ ...input, compression: plan.compression, dataStart: plan.dataStart, range }, context);
  return { plan, outcome: await mergeScan({ ...input, compression: plan.compression, rangeCount: plan.ranges.length }, context) };
}

const partialAt = (index: number) => JSON.parse(written.get(partialKey(index))!);
const storedStatistics = () => JSON.parse(written.get(STATISTICS_KEY)!);
/** The values of the (single) dataset update: markReady's or markInvalid's. */
function datasetUpdate() {
  const updates = ddb.commandCalls(UpdateCommand);
  expect(updates).toHaveLength(1);
  return updates[0]!.args[0].input;
}

describe('the scan steps', () => {
  it('plans ranges after the header, reads each range pinned to the ETag, merges into READY with the statistics', async () => {
    const { plan, outcome } = await runScan();

    expect(plan).toEqual({
      dataStart: 5,
      ranges: [
        { index: 0, start: 0, end: 25 },
        { index: 1, start: 25, end: 40 },
      ],
      compression: null,
    });
    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'READY' });
    // Range 0 finishes the line it is in at byte 25 ("5,11"); range 1 starts after it.
    expect([0, 1].map((index) => [partialAt(index).rows, partialAt(index).lines])).toEqual([
      [6, 7],
      [2, 2],
    ]);
    const stored = storedStatistics();
    const schema = [
      { name: 'a', type: 'number', missing: 0 },
      { name: 'y', type: 'number', missing: 0 },
    ];
    expect(stored).toMatchObject({ datasetId: DATASET_ID, etag: 'etag-1', columns: ['a', 'y'], rows: 8, schema, statistics: { rowsLeftOut: 0 } });
    // No missing value: one pattern, every column present.
    expect(stored.statistics.patterns).toHaveLength(1);
    expect(stored.statistics.patterns[0]).toMatchObject({ absent: [], statistics: { n: 8 } });
    expect(stored.statistics.patterns[0].statistics.means[0]).toBeCloseTo(3.5, 14);
    expect(stored.statistics.patterns[0].statistics.means[1]).toBeCloseTo(8, 14);
    const ready = datasetUpdate();
    expect(ready.ConditionExpression).toBe('attribute_exists(datasetId) AND (#status = :validating AND etag = :etag)');
    expect(ready.UpdateExpression).not.toContain('compression');
    expect(ready.ExpressionAttributeValues).toMatchObject({
      ':ready': 'READY',
      ':rows': 8,
      ':columns': ['a', 'y'],
      ':schema': schema,
      ':statisticsKey': STATISTICS_KEY,
    });
    expect(ready.ExpressionAttributeValues).not.toHaveProperty(':gzip');
  });

  it('marks the dataset INVALID with the earliest bad line of all ranges, numbered in the whole file', async () => {
    // Ranges [0, 25), [25, 45), [45, 69): lines 8 and 13 have a value too many, the first in range 1, the other in range 2.
    const bad = 'a,y\r\n0,1\n1,3\n2,5\n3,7\n4,9\n5,11\n6,13,0\n7\n8,17\n9,19\n10,21\n11,23,1\n';
    const { plan, outcome } = await runScan(Buffer.from(bad));
    expect(plan.ranges).toHaveLength(3);
    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    // Each range numbers its lines from its own first line; the merge numbers them in the file.
    expect(partialAt(1).error).toMatchObject({ code: 'WRONG_COLUMN_COUNT', line: 1 });
    expect(datasetUpdate().ExpressionAttributeValues).toMatchObject({
      ':invalid': 'INVALID',
      ':error': { code: 'WRONG_COLUMN_COUNT', message: 'line 8, column 3: the line has 3 values, the header 2 columns', line: 8, column: 3 },
    });
    expect(written.has(STATISTICS_KEY)).toBe(false);
  });

  it('the Catch marks a dataset still being validated INVALID with VALIDATION_FAILED', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord({ status: 'INVALID' }) });
    expect(await scanFailed({ ...object, failure: { Error: 'States.Timeout', Cause: 'slow' } }, context)).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.ConditionExpression).toBe('attribute_exists(datasetId) AND (#status IN (:pending, :validating))');
    expect(update.ExpressionAttributeValues).toMatchObject({ ':error': { code: 'VALIDATION_FAILED' } });
  });
});

describe('the scan of real exports: schema, format', () => {
  it("stores R's write.csv of iris with its schema (row names an identifier, Species a category) and marks it READY with it", async () => {
    chunkSize = 1024;
    const { plan, outcome } = await runScan(IRIS);

    // 4,750 bytes of data after a header of 71, at most 100 ranges: steps of 48 bytes, 99 ranges.
    expect(plan.ranges).toHaveLength(99);
    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'READY' });
    const stored = storedStatistics();
    expect(stored).toMatchObject({ columns: IRIS_COLUMNS, rows: 150, schema: IRIS_SCHEMA });
    // The same statistics as one pass over the file (the domain's scan in one range), whatever the ranges.
    const whole = readyScan(IRIS);
    expect(stored.statistics.rowsLeftOut).toBe(0);
    expect(stored.statistics.patterns.map((pattern: { absent: number[] }) => pattern.absent)).toEqual([[5]]);
    expectRelativelyClose(stored.statistics.patterns[0].statistics.means, whole.statistics!.patterns[0]!.statistics.means, 1e-14);
    expect(stored.statistics.patterns[0].statistics.n).toBe(150);

    const ready = datasetUpdate();
    expect(ready.UpdateExpression).toContain('#schema = :schema');
    expect(ready.ExpressionAttributeNames).toMatchObject({ '#schema': 'schema' });
    expect(ready.ExpressionAttributeValues).toMatchObject({
      ':ready': 'READY',
      ':rows': 150,
      ':columns': IRIS_COLUMNS,
      ':schema': IRIS_SCHEMA,
      ':statisticsKey': STATISTICS_KEY,
    });
  });

  it("reads R's write.csv2 (';' and a decimal comma) with the dataset's format: the same schema and numbers as write.csv", async () => {
    chunkSize = 1024;
    const { outcome } = await runScan(IRIS_CSV2, CSV2_FORMAT);

    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'READY' });
    const stored = storedStatistics();
    expect(stored).toMatchObject({ columns: IRIS_COLUMNS, rows: 150, schema: IRIS_SCHEMA });
    const plain = readyScan(IRIS).statistics!.patterns[0]!.statistics;
    const [pattern] = stored.statistics.patterns;
    expect(pattern.absent).toEqual([5]);
    // "5,1" read as 5.1: the same doubles as the write.csv file's.
    expectRelativelyClose(pattern.statistics.means, plain.means, 1e-14);
    expectRelativelyClose(pattern.statistics.triangle, plain.triangle, 1e-12);
    expect(datasetUpdate().ExpressionAttributeValues).toMatchObject({ ':ready': 'READY', ':rows': 150, ':schema': IRIS_SCHEMA });
  });

  it("marks write.csv2's file INVALID NO_NUMERIC_COLUMN when it was declared with a decimal point: every value with a comma is text", async () => {
    chunkSize = 1024;
    const { outcome } = await runScan(IRIS_CSV2, { delimiter: ';', decimal: '.' });

    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    expect(datasetUpdate().ExpressionAttributeValues).toMatchObject({
      ':invalid': 'INVALID',
      ':error': {
        code: 'NO_NUMERIC_COLUMN',
        message: 'no column holds numbers: a regression needs a number column to predict (is the delimiter or decimal separator right?)',
      },
    });
    expect(written.has(STATISTICS_KEY)).toBe(false);
  });

  it('marks a file of text columns only INVALID NO_NUMERIC_COLUMN', async () => {
    const { outcome } = await runScan(Buffer.from('city,size\nParis,large\nLyon,medium\n'));
    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    expect(datasetUpdate().ExpressionAttributeValues).toMatchObject({ ':error': { code: 'NO_NUMERIC_COLUMN' } });
  });

  it("reads write.csv2's file as write.csv when the format is left out (comma and point): its header is refused", async () => {
    chunkSize = 1024;
    const { outcome } = await runScan(IRIS_CSV2);
    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    expect(datasetUpdate().ExpressionAttributeValues).toMatchObject({
      ':error': { code: 'INVALID_HEADER', message: 'column 1 of the header has text after its closing quote', line: 1, column: 1 },
    });
  });
});

describe('a schema too large for the dataset item', () => {
  /** One category of 100 distinct levels of `length` characters each (the most a category holds), and a number column. */
  function manyLongLevels(length: number, character = 'x'): Buffer {
    const rows = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}${character.repeat(length - 3)},${i}`);
    return Buffer.from(`level,y\n${rows.join('\n')}\n`);
  }

  it('marks the dataset INVALID SCHEMA_TOO_LARGE above 300,000 bytes of JSON, and stores no statistics', async () => {
    chunkSize = 64 * 1024;
    // 100 levels of 3,000 characters: over 300,000 bytes.
    const { outcome } = await runScan(manyLongLevels(3_000));

    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    expect(datasetUpdate().ExpressionAttributeValues).toMatchObject({
      ':invalid': 'INVALID',
      ':error': { code: 'SCHEMA_TOO_LARGE', message: "the columns' categories and their levels take more than 300000 bytes to describe" },
    });
    expect(written.has(STATISTICS_KEY)).toBe(false);
  });

  it('counts the bytes of the JSON, not its characters: 100 levels of 1,000 CJK characters (3 bytes each in UTF-8) are too large', async () => {
    chunkSize = 64 * 1024;
    // About 100,000 characters, over 300,000 bytes.
    const { outcome } = await runScan(manyLongLevels(1_000, '日'));

    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    expect(datasetUpdate().ExpressionAttributeValues).toMatchObject({ ':error': { code: 'SCHEMA_TOO_LARGE' } });
  });

  it('keeps a schema just under the limit: READY with every level', async () => {
    chunkSize = 64 * 1024;
    // 100 levels of 2,900 characters: about 292,000 bytes.
    const { outcome } = await runScan(manyLongLevels(2_900));

    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'READY' });
    const schema = datasetUpdate().ExpressionAttributeValues![':schema'];
    expect(Buffer.byteLength(JSON.stringify(schema))).toBeGreaterThan(290_000);
    expect(Buffer.byteLength(JSON.stringify(schema))).toBeLessThanOrEqual(300_000);
    expect(schema[0]).toMatchObject({ name: 'level', type: 'category', missing: 0 });
    expect(schema[0].levels).toHaveLength(100);
    expect(schema[1]).toEqual({ name: 'y', type: 'number', missing: 0 });
  });
});

describe('a gzip object', () => {
  const GZIP = gzipSync(IRIS);

  it('is planned as one range of the whole object, compression gzip', async () => {
    uploaded = GZIP;
    const plan = await planScan({ ...object, sizeBytes: GZIP.length }, context);

    expect(plan).toEqual({ dataStart: 0, ranges: [{ index: 0, start: 0, end: GZIP.length }], compression: 'gzip' });
    // Only its head was read, pinned to the version validated.
    expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'datasets-bucket-test', Key: KEY, IfMatch: '"etag-1"', Range: `bytes=0-${GZIP.length - 1}` },
    ]);
  });

  it('is scanned through gunzip to the same partial as the plain file read in one range', async () => {
    chunkSize = 100;
    uploaded = IRIS;
    const plain = { ...object, sizeBytes: IRIS.length };
    await scanRange({ ...plain, compression: null, dataStart: 0, range: { index: 0, start: 0, end: IRIS.length } }, context);
    const expected = partialAt(0);
    written.clear();

    uploaded = GZIP;
    const compressed = { ...object, sizeBytes: GZIP.length };
    expect(await scanRange({ ...compressed, compression: 'gzip', dataStart: 0, range: { index: 0, start: 0, end: GZIP.length } }, context)).toEqual({
      index: 0,
      rows: 150,
    });

    expect(partialAt(0)).toEqual(expected);
    expect(expected).toMatchObject({ rows: 150, lines: 151, error: null, columns: IRIS_COLUMNS, generated: [0] });
    // The whole object, from its first byte: a gzip stream cannot be entered in the middle.
    expect(s3.commandCalls(GetObjectCommand).at(-1)!.args[0].input).toMatchObject({ Key: KEY, IfMatch: '"etag-1"', Range: 'bytes=0-' });
  });

  it('is READY with the schema of the plain file, and marked compressed (gzip) so that training reads it through gunzip', async () => {
    chunkSize = 256;
    const { outcome } = await runScan(GZIP);

    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'READY' });
    expect(storedStatistics()).toMatchObject({ columns: IRIS_COLUMNS, rows: 150, schema: IRIS_SCHEMA });
    const ready = datasetUpdate();
    expect(ready.UpdateExpression).toContain('compression = :gzip');
    expect(ready.ExpressionAttributeValues).toMatchObject({ ':ready': 'READY', ':rows': 150, ':schema': IRIS_SCHEMA, ':gzip': 'gzip' });
  });

  it('is read with the dataset format: a gzip of write.csv2 declared as such', async () => {
    chunkSize = 256;
    const { outcome } = await runScan(gzipSync(IRIS_CSV2), CSV2_FORMAT);
    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'READY' });
    expect(storedStatistics()).toMatchObject({ columns: IRIS_COLUMNS, rows: 150, schema: IRIS_SCHEMA });
  });

  const truncated = GZIP.subarray(0, GZIP.length - 100);
  const badTrailer = Buffer.from(GZIP);
  // The CRC-32 of the data (the trailer's first 4 bytes): every byte decompresses, the check fails at the end.
  badTrailer[badTrailer.length - 6]! ^= 0xff;
  const unknownMethod = Buffer.from([0x1f, 0x8b, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03]);

  it.each([
    ['a truncated stream', truncated, 'the gzip stream cannot be read: unexpected end of file'],
    ['a stream whose check fails', badTrailer, 'the gzip stream cannot be read: incorrect data check'],
    ['gzip magic bytes before something else', unknownMethod, 'the gzip stream cannot be read: unknown compression method'],
  ])('records %s as a partial with error BAD_COMPRESSION, and the merge marks the dataset INVALID with it', async (_, bytes, message) => {
    chunkSize = 256;
    const { plan, outcome } = await runScan(bytes);

    expect(plan.compression).toBe('gzip');
    expect(partialAt(0)).toMatchObject({ index: 0, error: { code: 'BAD_COMPRESSION', message }, profiles: null, statistics: null });
    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    expect(datasetUpdate().ExpressionAttributeValues).toMatchObject({ ':invalid': 'INVALID', ':error': { code: 'BAD_COMPRESSION', message } });
    expect(written.has(STATISTICS_KEY)).toBe(false);
  });
});

describe('a range that stops early', () => {
  /** A bad second line, then `rows` rows of random numbers (which compress poorly): the bad line decides, the rest is never needed. */
  function badThenMany(rows: number): Buffer {
    const uniform = random(7);
    const lines = Array.from({ length: rows }, () => `${uniform()},${uniform()}`);
    return Buffer.from(`a,y\n1,2,3\n${lines.join('\n')}\n`);
  }

  it('lets go of the download once its bad line is read (plain object)', async () => {
    chunkSize = 4096;
    uploaded = badThenMany(20_000);
    const input = { ...object, sizeBytes: uploaded.length };
    await scanRange({ ...input, compression: null, dataStart: 4, range: { index: 0, start: 0, end: uploaded.length } }, context);
    expect(partialAt(0).error).toMatchObject({ code: 'WRONG_COLUMN_COUNT', line: 2 });
    expect(served.map((response) => response.destroyed)).toEqual([true]);
  });

  it('lets go of the download once its bad line is read (gzip object)', async () => {
    chunkSize = 4096;
    uploaded = gzipSync(badThenMany(20_000));
    const input = { ...object, sizeBytes: uploaded.length };
    await scanRange({ ...input, compression: 'gzip', dataStart: 0, range: { index: 0, start: 0, end: uploaded.length } }, context);
    expect(partialAt(0).error).toMatchObject({ code: 'WRONG_COLUMN_COUNT', line: 2 });
    expect(served.map((response) => response.destroyed)).toEqual([true]);
  });
});

describe('a download that fails half-way', () => {
  /** A body that gives the first `bytes` of `object`, then fails as a reset connection does. */
  function failingBody(object: Uint8Array, bytes: number) {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    return Readable.from(
      (async function* () {
        yield Buffer.from(object.subarray(0, bytes));
        throw reset;
      })(),
    );
  }

  it.each([
    ['plain', IRIS, null],
    ['gzip', gzipSync(Buffer.concat(Array.from({ length: 50 }, () => IRIS))), 'gzip' as const],
  ])(
    'fails the range (%s object) with the error, so that the Map retries it, rather than waiting for more bytes',
    { timeout: 5_000 },
    async (_, bytes, compression) => {
      s3.on(GetObjectCommand, { Key: KEY }).callsFake(() => ({ Body: failingBody(bytes, 1_000) }));
      const input = { ...object, sizeBytes: bytes.length, compression, dataStart: compression ? 0 : 71, range: { index: 0, start: 0, end: bytes.length } };

      const outcome = await Promise.race([
        scanRange(input, context).then(
          () => 'resolved',
          (error: Error) => error.message,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 2 s'), 2_000)),
      ]);

      expect(outcome).toContain('ECONNRESET');
      expect(written.size).toBe(0);
    },
  );
});
