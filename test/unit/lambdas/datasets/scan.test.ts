import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { body, context, DATASET_ID, datasetRecord, KEY, stubDatasetEnv } from './fixtures.js';

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
  // A ranged GET of the version scanned: the bytes asked for (to the end when the range is open).
  s3.on(GetObjectCommand, { Key: KEY }).callsFake((input: { Range: string; IfMatch: string }) => {
    expect(input.IfMatch).toBe('"etag-1"');
    const [, from, to] = /^bytes=(\d+)-(\d*)$/.exec(input.Range)!;
    return {
      Body: body(
        Buffer.from(CSV)
          .subarray(Number(from), to === '' ? undefined : Number(to) + 1)
          .toString(),
      ),
    };
  });
});

/** Runs the whole scan against the mocked bucket, as the state machine would; answers the merge's outcome. */
async function runScan(csv = CSV) {
  const written = new Map<string, string>();
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    written.set(input.Key, input.Body);
    return {};
  });
  s3.on(GetObjectCommand, { Key: partialKey(0) }).callsFake(() => ({ Body: body(written.get(partialKey(0))!) }));
  s3.on(GetObjectCommand, { Key: partialKey(1) }).callsFake(() => ({ Body: body(written.get(partialKey(1))!) }));
  s3.on(GetObjectCommand, { Key: partialKey(2) }).callsFake(() => ({ Body: body(written.get(partialKey(2))!) }));
  const input = { ...object, sizeBytes: Buffer.byteLength(csv) };
  const plan = await planScan(input, context);
  for (const range of plan.ranges) await scanRange({ ...input, dataStart: plan.dataStart, range }, context);
  return { plan, written, outcome: await mergeScan({ ...input, rangeCount: plan.ranges.length }, context) };
}

describe('the scan steps', () => {
  it('plans ranges after the header, reads each range pinned to the ETag, merges into READY with the statistics', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
    const { plan, written, outcome } = await runScan();

    expect(plan).toEqual({
      dataStart: 5,
      ranges: [
        { index: 0, start: 0, end: 25 },
        { index: 1, start: 25, end: 40 },
      ],
    });
    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'READY' });
    // Range 0 finishes the line it is in at byte 25 ("5,11"); range 1 starts after it.
    const partials = [0, 1].map((index) => JSON.parse(written.get(partialKey(index))!));
    expect(partials.map((partial) => [partial.rows, partial.lines])).toEqual([
      [6, 7],
      [2, 2],
    ]);
    const statisticsKey = `scans/acme/${DATASET_ID}/etag-1/statistics.json`;
    const stored = JSON.parse(written.get(statisticsKey)!);
    expect(stored).toMatchObject({ datasetId: DATASET_ID, etag: 'etag-1', columns: ['a', 'y'], rows: 8, statistics: { n: 8 } });
    expect(stored.statistics.means[0]).toBeCloseTo(3.5, 14);
    expect(stored.statistics.means[1]).toBeCloseTo(8, 14);
    const ready = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(ready.ConditionExpression).toBe('attribute_exists(datasetId) AND (#status = :validating AND etag = :etag)');
    expect(ready.ExpressionAttributeValues).toMatchObject({ ':ready': 'READY', ':rows': 8, ':columns': ['a', 'y'], ':statisticsKey': statisticsKey });
  });

  it('marks the dataset INVALID with the earliest bad line of all ranges, numbered in the whole file', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord() });
    const bad = 'a,y\r\n0,1\n1,3\n2,5\n3,7\n4,9\n5,x\n6,13\n7\n';
    s3.on(GetObjectCommand, { Key: KEY }).callsFake((input: { Range: string }) => {
      const [, from, to] = /^bytes=(\d+)-(\d*)$/.exec(input.Range)!;
      return {
        Body: body(
          Buffer.from(bad)
            .subarray(Number(from), to === '' ? undefined : Number(to) + 1)
            .toString(),
        ),
      };
    });
    const { outcome } = await runScan(bad);
    expect(outcome).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':invalid': 'INVALID',
      ':error': { code: 'NOT_A_NUMBER', message: 'line 7, column 2 ("y"): "x" is not a finite number', line: 7, column: 2 },
    });
  });

  it('the Catch marks a dataset still being validated INVALID with VALIDATION_FAILED', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord({ status: 'INVALID' }) });
    expect(await scanFailed({ ...object, failure: { Error: 'States.Timeout', Cause: 'slow' } }, context)).toEqual({ datasetId: DATASET_ID, status: 'INVALID' });
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.ConditionExpression).toBe('attribute_exists(datasetId) AND (#status IN (:pending, :validating))');
    expect(update.ExpressionAttributeValues).toMatchObject({ ':error': { code: 'VALIDATION_FAILED' } });
  });
});
