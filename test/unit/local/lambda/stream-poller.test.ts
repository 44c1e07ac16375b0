import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { inLanes } from '../../../../local/lambda/stream-poller.js';

/** A Jobs-table stream record of `tenantId`'s job, numbered by its stream position. */
const record = (tenantId: string, sequence: number): DynamoDBRecord => ({
  eventName: 'MODIFY',
  dynamodb: { Keys: { tenantId: { S: tenantId }, jobId: { S: `job-${sequence}` } }, SequenceNumber: String(sequence) },
});
const sequences = (lane: DynamoDBRecord[]) => lane.map((item) => Number(item.dynamodb?.SequenceNumber));

describe('the stream poller’s lanes (ParallelizationFactor)', () => {
  const tenants = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'];
  const records = Array.from({ length: 60 }, (_, index) => record(tenants[index % tenants.length] as string, index));

  it('keeps one batch in stream order when the factor is 1, and sends nothing for no records', () => {
    expect(inLanes(records, 1, 'tenantId').map(sequences)).toEqual([records.map((_, index) => index)]);
    expect(inLanes([], 10, 'tenantId')).toEqual([]);
  });

  it('puts every record of one partition key in one lane, in stream order, and spreads keys over several lanes', () => {
    const lanes = inLanes(records, 10, 'tenantId');

    expect(lanes.length).toBeGreaterThan(1);
    expect(lanes.length).toBeLessThanOrEqual(10);
    expect(lanes.flat()).toHaveLength(records.length);
    for (const tenant of tenants) {
      const holding = lanes.filter((lane) => lane.some((item) => item.dynamodb?.Keys?.tenantId?.S === tenant));
      expect(holding, tenant).toHaveLength(1);
      const mine = (holding[0] as DynamoDBRecord[]).filter((item) => item.dynamodb?.Keys?.tenantId?.S === tenant);
      expect(sequences(mine)).toEqual(
        records.filter((item) => item.dynamodb?.Keys?.tenantId?.S === tenant).map((item) => Number(item.dynamodb?.SequenceNumber)),
      );
    }
  });

  it('keeps every lane in stream order, whatever keys share it', () => {
    for (const lane of inLanes(records, 4, 'tenantId')) {
      const order = sequences(lane);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });
});
