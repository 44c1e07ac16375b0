import { describe, expect, it } from 'vitest';
import { isStorableNumber, STORED_NUMBER } from '#domain/stored-numbers.js';

describe('isStorableNumber: the numbers a table holds', () => {
  // 9.999999999999998e125 is the largest double below 1e126 (9.999999999999999e125 is 1e126 as a double).
  it.each([0, -0, 1, -1, 0.5, 1e-130, -1e-130, 9.999999999999998e125, -9.999999999999998e125, 2 ** 53 + 2])('stores %s', (value) => {
    expect(isStorableNumber(value)).toBe(true);
  });

  it.each([1e126, -1e126, 1e308, 1.7976931348623157e308, 9.99e-131, 1e-200, 5e-324, Infinity, -Infinity, Number.NaN])('refuses %s', (value) => {
    expect(isStorableNumber(value)).toBe(false);
  });

  it('names the range DynamoDB documents for a number: 1e-130 up to, not including, 1e126', () => {
    expect(STORED_NUMBER).toEqual({ minMagnitude: 1e-130, maxMagnitudeExclusive: 1e126 });
  });
});
