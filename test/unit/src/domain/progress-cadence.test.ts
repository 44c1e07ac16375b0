import { describe, expect, it } from 'vitest';
import { ProgressThrottle } from '#domain/progress.js';

/**
 * What a WebSocket subscriber sees of a running job depends on how often training
 * writes progress: every write is a stream record and a message. The contract is
 * "a long job updates a few times a second at most, a short one at least once
 * between start and end".
 */
function reportsOf(rows: number, msPerRow: number): Array<{ at: number; fraction: number }> {
  let now = 0;
  const throttle = new ProgressThrottle(250, () => now);
  const reports: Array<{ at: number; fraction: number }> = [];
  for (let row = 1; row <= rows; row += 1) {
    now += msPerRow;
    const fraction = row / rows;
    if (throttle.shouldReport(fraction)) reports.push({ at: now, fraction });
  }
  return reports;
}

describe('progress cadence seen by subscribers', () => {
  it.each([
    [1_000_000, 0.01], // 10 s
    [200_000, 0.05], // 10 s, slower rows
    [10_000, 1], // 10 s, very slow rows
  ])('a long job (%i rows at %f ms each) updates at most 4 times a second, and keeps updating', (rows, msPerRow) => {
    const reports = reportsOf(rows, msPerRow);
    const seconds = (rows * msPerRow) / 1000;
    expect(reports.length).toBeLessThanOrEqual(Math.ceil(seconds * 4));
    expect(reports.length).toBeGreaterThanOrEqual(Math.floor(seconds * 4) - 1);
    for (const [index, report] of reports.entries()) {
      if (index > 0) expect(report.at - (reports[index - 1]?.at ?? 0)).toBeGreaterThanOrEqual(250);
    }
  });

  it.each([2, 3, 10, 1_000, 10_000])('a short job of %i rows reports at least once between start and end', (rows) => {
    const reports = reportsOf(rows, 0);
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.every((report) => report.fraction > 0 && report.fraction < 1)).toBe(true);
  });

  it('never reports a value that does not move forward', () => {
    const fractions = reportsOf(100_000, 0.05).map((report) => report.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(new Set(fractions).size).toBe(fractions.length);
  });
});
