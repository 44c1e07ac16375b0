/**
 * What a number written to a table may be. DynamoDB stores a number of magnitude
 * 1e-130 to just under 1e126, or zero (docs/rules.md, "Limits": numbers); a double outside
 * that (1e308, 1e-200) is refused with a ValidationException, which a request
 * would turn into a 500 and a training run into a job failed for no reason it
 * could name. So every number a client sends that is stored is bounded well
 * inside the range by its schema (src/domain/schemas.ts), and every number
 * training derives is checked here before it is written.
 */
export const STORED_NUMBER = {
  /** The smallest magnitude stored, zero aside. */
  minMagnitude: 1e-130,
  /** Every magnitude stored is below this (the largest is 9.99…9e125, 38 nines). */
  maxMagnitudeExclusive: 1e126,
} as const;

/** Whether DynamoDB can store `value` as a number: finite, zero or of a magnitude in range. */
export function isStorableNumber(value: number): boolean {
  if (value === 0) return true;
  const magnitude = Math.abs(value);
  return magnitude >= STORED_NUMBER.minMagnitude && magnitude < STORED_NUMBER.maxMagnitudeExclusive;
}
