import { describe, expect, it } from 'vitest';
import { recordFilter } from '../../../../local/lambda/event-filter.js';

const record = (eventName: string, status: string, progress: number) => ({
  eventName,
  dynamodb: { NewImage: { status: { S: status }, progress: { N: String(progress) } }, Keys: { jobId: { S: '01J' } } },
});

const filter = (...patterns: unknown[]) => recordFilter({ Filters: patterns.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) });

describe('local stream poller: event filtering', () => {
  it('lets everything through without criteria', () => {
    expect(recordFilter(undefined)(record('REMOVE', 'X', 0))).toBe(true);
  });

  it('matches literal values, nested, with any filter of the list matching', () => {
    const accepts = filter({ eventName: ['INSERT', 'MODIFY'] }, { dynamodb: { NewImage: { status: { S: ['FAILED'] } } } });
    expect(accepts(record('MODIFY', 'RUNNING', 0))).toBe(true);
    expect(accepts(record('REMOVE', 'FAILED', 0))).toBe(true);
    expect(accepts(record('REMOVE', 'RUNNING', 0))).toBe(false);
  });

  it('supports prefix, suffix, exists and anything-but', () => {
    expect(filter({ dynamodb: { NewImage: { status: { S: [{ prefix: 'RUN' }] } } } })(record('MODIFY', 'RUNNING', 0))).toBe(true);
    expect(filter({ dynamodb: { NewImage: { status: { S: [{ suffix: 'ED' }] } } } })(record('MODIFY', 'RUNNING', 0))).toBe(false);
    expect(filter({ dynamodb: { OldImage: [{ exists: false }] } })(record('INSERT', 'QUEUED', 0))).toBe(true);
    expect(filter({ dynamodb: { NewImage: [{ exists: true }] } })(record('INSERT', 'QUEUED', 0))).toBe(true);
    expect(filter({ eventName: [{ 'anything-but': ['REMOVE'] }] })(record('REMOVE', 'QUEUED', 0))).toBe(false);
    expect(filter({ eventName: [{ 'anything-but': 'REMOVE' }] })(record('INSERT', 'QUEUED', 0))).toBe(true);
  });

  it('compares numbers with numeric', () => {
    const halfway = { progress: [{ numeric: ['>=', 0.5, '<', 1] }] };
    expect(filter(halfway)({ progress: 0.5 })).toBe(true);
    expect(filter(halfway)({ progress: 1 })).toBe(false);
  });
});
