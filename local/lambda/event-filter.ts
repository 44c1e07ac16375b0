import { z } from 'zod';

/**
 * Lambda event filtering (an event source mapping's FilterCriteria) for the local
 * stream poller: a record is delivered if any filter's pattern matches it. The
 * patterns use EventBridge's syntax; the poller supports the matchers used with
 * stream records: literal values, `prefix`, `suffix`, `exists`, `anything-but`
 * and `numeric`.
 */

const FilterCriteria = z.object({ Filters: z.array(z.object({ Pattern: z.string() })).default([]) });

type Pattern = { [key: string]: Pattern | unknown[] };

/** A predicate for the mapping's FilterCriteria; undefined criteria let everything through. */
export function recordFilter(criteria: unknown): (record: unknown) => boolean {
  if (criteria === undefined) return () => true;
  const patterns = FilterCriteria.parse(criteria).Filters.map((filter) => JSON.parse(filter.Pattern) as Pattern);
  return (record) => patterns.length === 0 || patterns.some((pattern) => matchesObject(pattern, record));
}

function matchesObject(pattern: Pattern, value: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(expected)) return expected.some((matcher) => matchesValue(matcher, actual));
    return matchesObject(expected, actual);
  });
}

function matchesValue(matcher: unknown, actual: unknown): boolean {
  if (matcher === null || typeof matcher !== 'object') {
    return Array.isArray(actual) ? actual.includes(matcher) : actual === matcher;
  }
  const [operator, operand] = Object.entries(matcher)[0] ?? [];
  switch (operator) {
    case 'exists':
      return (actual !== undefined) === operand;
    case 'prefix':
      return typeof actual === 'string' && actual.startsWith(String(operand));
    case 'suffix':
      return typeof actual === 'string' && actual.endsWith(String(operand));
    case 'anything-but':
      return actual !== undefined && ![operand].flat().some((excluded) => matchesValue(excluded, actual));
    case 'numeric':
      return typeof actual === 'number' && numericMatches(operand as unknown[], actual);
    default:
      throw new Error(`the local stream poller does not support the filter matcher ${JSON.stringify(matcher)}`);
  }
}

function numericMatches(conditions: unknown[], actual: number): boolean {
  for (let index = 0; index < conditions.length; index += 2) {
    const bound = Number(conditions[index + 1]);
    const holds = { '<': actual < bound, '<=': actual <= bound, '=': actual === bound, '>': actual > bound, '>=': actual >= bound }[String(conditions[index])];
    if (!holds) return false;
  }
  return true;
}
