/**
 * The distribution functions of the coefficient table against R's own, on the grid
 * scripts/distribution-fixtures.R wrote to test/fixtures/r/distributions.json: t from 0
 * to 40 (p-values down to 1e-300 and below), F alike, quantiles for confidence levels
 * up to 0.999999, degrees of freedom from 1 to 1e6 (1e8 for t). R's answers above 1e-300
 * are held to 1e-12 relative; below that (subnormal, or 0) to 1e-300 absolute.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fUpperTail, studentTQuantile, studentTTwoSided } from '#domain/distributions.js';
import { rFixture } from '../../helpers/r-fixtures.js';

interface DistributionFixture {
  r: string;
  studentT: { t: number; df: number; p: number }[];
  fisherF: { f: number; d1: number; d2: number; p: number }[];
  studentTQuantile: { p: number; df: number; q: number }[];
}

const fixture = JSON.parse(rFixture('distributions.json').toString('utf8')) as DistributionFixture;

const RELATIVE = 1e-12;
const TINY = 1e-300;

/** The largest relative difference from R seen per function (p-values above 1e-300). */
const largest = new Map<string, { difference: number; what: string }>();

function expectR(name: string, actual: number, expected: number, what: string): void {
  if (expected <= TINY) {
    expect(actual, `${what}: ${actual} against R's ${expected}`).toBeGreaterThanOrEqual(0);
    expect(Math.abs(actual - expected), `${what}: ${actual} against R's ${expected}`).toBeLessThanOrEqual(TINY);
    return;
  }
  const difference = actual === expected ? 0 : Math.abs(actual - expected) / Math.abs(expected);
  if (difference >= (largest.get(name)?.difference ?? -1)) largest.set(name, { difference, what });
  expect(difference, `${what}: ${actual} against R's ${expected}`).toBeLessThanOrEqual(RELATIVE);
}

afterAll(() => {
  const lines = [...largest].map(([name, { difference, what }]) => `  ${name.padEnd(18)} ${difference.toExponential(2)}  (${what})`);
  console.log(`largest relative difference from R:\n${lines.join('\n')}`);
});

describe('studentTTwoSided: 2*pt(-abs(t), df)', () => {
  it(`equals R on ${fixture.studentT.length} points, p-values down to 1e-300`, () => {
    expect(fixture.studentT.length).toBeGreaterThan(1000);
    // The grid reaches the far tail for every df from 5 000 on (t = 37 and 1e6 df is about 2e-299).
    expect(fixture.studentT.filter(({ p }) => p > TINY && p < 1e-290).length).toBeGreaterThanOrEqual(5);
    for (const { t, df, p } of fixture.studentT) {
      expectR('studentTTwoSided', studentTTwoSided(t, df), p, `t = ${t}, df = ${df}`);
      expect(studentTTwoSided(-t, df)).toBe(studentTTwoSided(t, df));
    }
  });

  it('is 1 at t = 0, 0 at infinite t, NaN for a NaN or bad df', () => {
    expect(studentTTwoSided(0, 5)).toBe(1);
    expect(studentTTwoSided(Infinity, 5)).toBe(0);
    expect(studentTTwoSided(-Infinity, 5)).toBe(0);
    expect(studentTTwoSided(Number.NaN, 5)).toBeNaN();
    for (const df of [0, -1, Number.NaN, Infinity]) expect(studentTTwoSided(1, df)).toBeNaN();
  });
});

describe('fUpperTail: pf(f, d1, d2, lower.tail = FALSE)', () => {
  it(`equals R on ${fixture.fisherF.length} points, p-values down to 1e-300`, () => {
    expect(fixture.fisherF.length).toBeGreaterThan(4000);
    expect(fixture.fisherF.filter(({ p }) => p > TINY && p < 1e-290).length).toBeGreaterThanOrEqual(5);
    for (const { f, d1, d2, p } of fixture.fisherF) expectR('fUpperTail', fUpperTail(f, d1, d2), p, `f = ${f}, d1 = ${d1}, d2 = ${d2}`);
  });

  it('with d1 = 1 is the two-sided t tail of √f', () => {
    for (const df of [1, 3, 10, 1000, 1e6]) {
      for (const t of [0.5, 2, 10, 30]) expect(Math.abs(fUpperTail(t * t, 1, df) / studentTTwoSided(t, df) - 1)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('is 1 for f ≤ 0, 0 at infinite f, NaN for a NaN or bad degrees of freedom', () => {
    expect(fUpperTail(0, 3, 10)).toBe(1);
    expect(fUpperTail(-1, 3, 10)).toBe(1);
    expect(fUpperTail(Infinity, 4, 10)).toBe(0);
    expect(fUpperTail(Number.NaN, 3, 10)).toBeNaN();
    for (const df of [0, -2, Number.NaN, Infinity]) {
      expect(fUpperTail(1, df, 10)).toBeNaN();
      expect(fUpperTail(1, 3, df)).toBeNaN();
    }
  });
});

it('keeps its digits where the incomplete beta of the library alone does not (distributions.ts)', () => {
  const find = <T>(rows: T[], match: (row: T) => boolean): T => {
    const row = rows.find(match);
    if (row === undefined) throw new Error('the grid has no such point');
    return row;
  };
  // Its complement 1 − I_y(1/2, 1/2) for y = 1e-20 (the library answers 1).
  const nearZero = find(fixture.studentT, ({ t, df }) => t === 1e-10 && df === 1);
  expectR('studentTTwoSided', studentTTwoSided(nearZero.t, nearZero.df), nearZero.p, 't = 1e-10, df = 1');
  // Its binomial sum from a rounded 1 − x: 3e-11 off at 1e6 degrees of freedom, 0 below 1e-290.
  for (const [f0, d10, d20] of [
    [1.1, 50, 1e6],
    [15, 4, 1e6],
    [200, 50, 500],
    [30, 50, 1e6],
  ] as const) {
    const { f, d1, d2, p } = find(fixture.fisherF, (row) => row.f === f0 && row.d1 === d10 && row.d2 === d20);
    expect(p).toBeGreaterThan(TINY);
    expectR('fUpperTail', fUpperTail(f, d1, d2), p, `f = ${f}, d1 = ${d1}, d2 = ${d2}`);
  }
});

describe('studentTQuantile: qt(p, df)', () => {
  it(`equals R on ${fixture.studentTQuantile.length} points`, () => {
    expect(fixture.studentTQuantile.length).toBeGreaterThan(500);
    for (const { p, df, q } of fixture.studentTQuantile) {
      const actual = studentTQuantile(p, df);
      if (q === 0) expect(actual).toBe(0);
      else expectR('studentTQuantile', actual, q, `p = ${p}, df = ${df}`);
      // The lower tail is the same quantile with the sign turned.
      if (p > 0.5) expect(Math.abs(studentTQuantile(1 - p, df) + actual)).toBeLessThanOrEqual(1e-12 * Math.abs(actual));
    }
  });

  it('inverts studentTTwoSided', () => {
    for (const df of [1, 2, 7, 30, 1e4]) {
      for (const level of [0.5, 0.9, 0.95, 0.99, 0.9999]) {
        const q = studentTQuantile((1 + level) / 2, df);
        expect(Math.abs(studentTTwoSided(q, df) - (1 - level))).toBeLessThanOrEqual(1e-12 * (1 - level));
      }
    }
  });

  it('is NaN outside 0 ≤ p ≤ 1 or for a bad df', () => {
    for (const p of [-0.1, 1.1, Number.NaN]) expect(studentTQuantile(p, 5)).toBeNaN();
    for (const df of [0, -1, Number.NaN, Infinity]) expect(studentTQuantile(0.9, df)).toBeNaN();
  });
});
