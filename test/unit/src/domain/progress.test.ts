import { describe, expect, it } from 'vitest';
import { ProgressThrottle, roundProgress } from '#domain/progress.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

/** Feeds `fractions` to a throttle, advancing the clock `stepMs` before each, and answers those it reported. */
function reported(throttle: ProgressThrottle, clock: ReturnType<typeof fakeClock>, fractions: number[], stepMs: number): number[] {
  return fractions.filter((fraction) => {
    clock.advance(stepMs);
    return throttle.shouldReport(fraction);
  });
}

const steps = (count: number) => Array.from({ length: count }, (_, index) => (index + 1) / count);

describe('ProgressThrottle', () => {
  it('reports a short job once, at half-way, when no interval has passed', () => {
    const clock = fakeClock();
    const throttle = new ProgressThrottle(250, clock.now);
    expect(reported(throttle, clock, steps(10), 1)).toEqual([0.5]);
  });

  it('reports at most once per interval on a long job', () => {
    const clock = fakeClock();
    const throttle = new ProgressThrottle(250, clock.now);
    // 1,000 rows, 1 ms apart: a report is due every 250 ms, i.e. at rows 250, 500 and 750 (row 1,000 is the end).
    expect(reported(throttle, clock, steps(1000), 1)).toEqual([0.25, 0.5, 0.75]);
  });

  it('reports at the first fraction after each interval, with uneven timing', () => {
    const clock = fakeClock();
    const throttle = new ProgressThrottle(100, clock.now);
    clock.advance(99);
    expect(throttle.shouldReport(0.1)).toBe(false);
    clock.advance(1);
    expect(throttle.shouldReport(0.2)).toBe(true);
    clock.advance(50);
    expect(throttle.shouldReport(0.3)).toBe(false);
    clock.advance(50);
    expect(throttle.shouldReport(0.4)).toBe(true);
  });

  it('never reports the end (1) or beyond: the final write sets it', () => {
    const clock = fakeClock();
    const throttle = new ProgressThrottle(250, clock.now);
    clock.advance(10_000);
    expect(throttle.shouldReport(1)).toBe(false);
    expect(throttle.shouldReport(1.5)).toBe(false);
  });

  it('never reports a value that does not move forward by at least 1%', () => {
    const clock = fakeClock();
    const throttle = new ProgressThrottle(250, clock.now);
    clock.advance(300);
    expect(throttle.shouldReport(0.6)).toBe(true);
    for (const fraction of [0.6, 0.3, 0.605]) {
      clock.advance(300);
      expect(throttle.shouldReport(fraction)).toBe(false);
    }
    clock.advance(300);
    expect(throttle.shouldReport(0.61)).toBe(true);
  });

  it('does not report the half-way point again once something was reported', () => {
    const clock = fakeClock();
    const throttle = new ProgressThrottle(250, clock.now);
    clock.advance(250);
    expect(throttle.shouldReport(0.4)).toBe(true);
    clock.advance(1);
    expect(throttle.shouldReport(0.5)).toBe(false);
    expect(throttle.shouldReport(0.9)).toBe(false);
  });

  it('reports only increasing values on any input sequence', () => {
    const clock = fakeClock();
    const throttle = new ProgressThrottle(10, clock.now);
    const fractions = [0.05, 0.2, 0.1, 0.5, 0.45, 0.7, 0.69, 0.99, 1];
    const out = reported(throttle, clock, fractions, 20);
    expect(out).toEqual([0.05, 0.2, 0.5, 0.7, 0.99]);
  });

  it('uses the real clock and a 250 ms interval by default', () => {
    const throttle = new ProgressThrottle();
    expect(throttle.shouldReport(0.1)).toBe(false);
    expect(throttle.shouldReport(0.5)).toBe(true);
  });
});

describe('roundProgress', () => {
  it.each([
    [0.12345, 0.123],
    [0.9996, 1],
    [-0.2, 0],
    [1.7, 1],
    [0.5, 0.5],
  ])('rounds %d to %d', (input, expected) => {
    expect(roundProgress(input)).toBe(expected);
  });
});
