/**
 * What each column of a dataset holds, found by the same parallel scan as its
 * statistics (statistics.ts): per byte range, a profile of every column (how many
 * numbers, missing and text cells, and its distinct text values while they are few);
 * profiles of ranges merge exactly; the merged profiles and the header give the
 * schema, the type of every column: a number, a category (R's factor, pandas'
 * category) with its levels, or text kept out of models.
 */
import { CELL_MISSING, CELL_NUMBER, CELL_TEXT, type RowCells } from './csv.js';

/** Most levels a category has: a column with more distinct text values is text. */
export const MAX_CATEGORY_LEVELS = 100;

/** A distinct text value and the cells that hold it. */
export interface TextCount {
  value: string;
  count: number;
}

/** One column of one byte range (stored as JSON with the range's partial). */
export interface ColumnProfile {
  /** Cells that hold a number. */
  numbers: number;
  /** Empty cells (and whatever else the reader counts as missing). */
  missing: number;
  /** Cells that hold text, whether or not `values` still lists them. */
  texts: number;
  /**
   * Every distinct text value with its count, sorted by code point, while there are
   * at most MAX_CATEGORY_LEVELS of them; empty once `overflow`.
   */
  values: TextCount[];
  /** More than MAX_CATEGORY_LEVELS distinct text values were seen: they are no longer listed. */
  overflow: boolean;
}

/**
 * Profiles the columns of the rows of one range. Rows of numbers only, the bulk of
 * most files, are only counted (`addRow()` without cells, `addNumericRows` for a
 * block of them); a row with cells costs a pass over its kinds and one Map lookup
 * per text cell.
 */
export class SchemaProfiler {
  /** Rows counted, with or without cells: a column's numbers are those minus its missing and text cells. */
  private rows = 0;
  private readonly missing: Float64Array;
  private readonly texts: Float64Array;
  /** Per column: each distinct text value's count, until the column overflows (then undefined). */
  private readonly values: (Map<string, number> | undefined)[];

  constructor(readonly columns: number) {
    if (!Number.isInteger(columns) || columns < 0) throw new RangeError(`a profiler needs a whole number of columns, got ${columns}`);
    this.missing = new Float64Array(columns);
    this.texts = new Float64Array(columns);
    this.values = Array.from({ length: columns }, () => new Map<string, number>());
  }

  /** Counts one row: `cells` undefined means every value is a number. */
  addRow(cells?: RowCells): void {
    this.rows += 1;
    if (cells === undefined) return;
    const { kinds, texts } = cells;
    if (kinds.length !== this.columns) throw new RangeError(`a row of ${kinds.length} cells for ${this.columns} columns`);
    for (let c = 0; c < kinds.length; c++) {
      const kind = kinds[c]!;
      if (kind === CELL_NUMBER) continue;
      if (kind === CELL_MISSING) {
        this.missing[c] = this.missing[c]! + 1;
      } else if (kind === CELL_TEXT) {
        this.texts[c] = this.texts[c]! + 1;
        const values = this.values[c];
        if (values !== undefined) this.countText(values, c, texts[c] ?? '');
      } else {
        throw new RangeError(`unknown cell kind ${kind} in column ${c}`);
      }
    }
  }

  /** Counts `count` rows of numbers only (a block of the CSV kernel's). */
  addNumericRows(count: number): void {
    this.rows += count;
  }

  private countText(values: Map<string, number>, column: number, text: string): void {
    const count = values.get(text);
    if (count !== undefined) {
      values.set(text, count + 1);
    } else if (values.size < MAX_CATEGORY_LEVELS) {
      values.set(text, 1);
    } else {
      // One distinct value too many for a category: stop tracking this column's values.
      this.values[column] = undefined;
    }
  }

  /** The profile of every column so far (copies). */
  profiles(): ColumnProfile[] {
    return Array.from({ length: this.columns }, (_, c) => {
      const missing = this.missing[c]!;
      const texts = this.texts[c]!;
      const values = this.values[c];
      return {
        numbers: this.rows - missing - texts,
        missing,
        texts,
        values: values === undefined ? [] : sortedCounts(Array.from(values, ([value, count]) => ({ value, count }))),
        overflow: values === undefined,
      };
    });
  }
}

/** The profile of the union of the rows of two profiles (of the same column): exact, and the same whatever the order. */
export function mergeProfiles(a: ColumnProfile, b: ColumnProfile): ColumnProfile {
  const numbers = a.numbers + b.numbers;
  const missing = a.missing + b.missing;
  const texts = a.texts + b.texts;
  if (a.overflow || b.overflow) return { numbers, missing, texts, values: [], overflow: true };
  const counts = new Map<string, number>();
  for (const { value, count } of a.values) counts.set(value, count);
  for (const { value, count } of b.values) counts.set(value, (counts.get(value) ?? 0) + count);
  if (counts.size > MAX_CATEGORY_LEVELS) return { numbers, missing, texts, values: [], overflow: true };
  return { numbers, missing, texts, values: sortedCounts(Array.from(counts, ([value, count]) => ({ value, count }))), overflow: false };
}

/** Merges the profiles of every column of two ranges. */
export function mergeColumnProfiles(a: readonly ColumnProfile[], b: readonly ColumnProfile[]): ColumnProfile[] {
  if (a.length !== b.length) throw new Error(`cannot merge profiles of ${a.length} and ${b.length} columns`);
  return a.map((profile, c) => mergeProfiles(profile, b[c]!));
}

export type ColumnType = 'number' | 'category' | 'text';

/**
 * Why a column is text:
 * - `identifier`: its header name was generated (R's row names, pandas' index);
 * - `mixed`: it holds both numbers and text;
 * - `too-many-values`: more than MAX_CATEGORY_LEVELS distinct text values.
 */
export type TextReason = 'identifier' | 'mixed' | 'too-many-values';

/** One column of a dataset's schema (JSON-friendly). */
export interface ColumnSchema {
  name: string;
  type: ColumnType;
  /** Empty cells. */
  missing: number;
  /** The header gave no name: the column is an identifier, kept out of models unless named. */
  generated?: true;
  /** category: every value with its count, sorted by code point. */
  levels?: TextCount[];
  /** text: why it is neither a number nor a category. */
  reason?: TextReason;
  /** text, `mixed`: its cells that hold numbers, and those that hold text. */
  numbers?: number;
  texts?: number;
  /** text, `too-many-values`: it has more distinct values than this (MAX_CATEGORY_LEVELS). */
  distinctOver?: number;
}

/**
 * The schema of a dataset from its header (`names`, and the indices of the names the
 * reader generated) and the merged profiles of its columns:
 * - a generated name: text (an identifier), whatever the column holds;
 * - no text cells: a number (a column of missing cells only too);
 * - text cells and no numbers, at most MAX_CATEGORY_LEVELS distinct: a category whose
 *   levels are every distinct value, sorted by code point (so TRUE/FALSE is a category
 *   FALSE, TRUE, as R treats a logical column);
 * - text cells and more distinct values: text;
 * - numbers and text in one column: text. R would make it a factor whose levels are
 *   the numbers as spelled in the file, but their spelling is not kept (only their
 *   values are, and "1.0" and "1" are one value), so those levels cannot be formed
 *   exactly; nor is a column whose text may be a typo silently a category.
 */
export function schemaOf(names: readonly string[], generated: readonly number[], profiles: readonly ColumnProfile[]): ColumnSchema[] {
  if (names.length !== profiles.length) throw new Error(`${names.length} column names for ${profiles.length} profiles`);
  const identifiers = new Set(generated);
  return names.map((name, c): ColumnSchema => {
    const profile = profiles[c]!;
    const { missing } = profile;
    if (identifiers.has(c)) return { name, type: 'text', missing, generated: true, reason: 'identifier' };
    if (profile.texts === 0) return { name, type: 'number', missing };
    if (profile.numbers > 0) return { name, type: 'text', missing, reason: 'mixed', numbers: profile.numbers, texts: profile.texts };
    if (profile.overflow || profile.values.length > MAX_CATEGORY_LEVELS)
      return { name, type: 'text', missing, reason: 'too-many-values', distinctOver: MAX_CATEGORY_LEVELS };
    return { name, type: 'category', missing, levels: sortedCounts(profile.values.map(({ value, count }) => ({ value, count }))) };
  });
}

/**
 * Orders strings by code point, as R's C-locale sort and Python's `sorted` do. `<` on
 * strings compares UTF-16 code units, which differs only where a surrogate (half of a
 * code point above U+FFFF) meets a unit from U+E000 to U+FFFF: the code point is the larger.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function sortedCounts(counts: TextCount[]): TextCount[] {
  return counts.sort((a, b) => compareCodePoints(a.value, b.value));
}
