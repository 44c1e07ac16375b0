import { describe, expect, it } from 'vitest';
import { CELL_MISSING, CELL_NUMBER, CELL_TEXT, type RowCells } from '#domain/csv.js';
import { type ColumnProfile, compareCodePoints, MAX_CATEGORY_LEVELS, mergeColumnProfiles, mergeProfiles, SchemaProfiler, schemaOf } from '#domain/schema.js';
import { random } from '../../helpers/random.js';

/** A cell as a test writes it: a number, null for missing, or a string for text. */
type Cell = number | null | string;

/** The reader's view of a row: undefined cells when every value is a number. */
function cellsOf(row: readonly Cell[]): RowCells | undefined {
  if (row.every((cell) => typeof cell === 'number')) return undefined;
  return {
    kinds: Uint8Array.from(row, (cell) => (typeof cell === 'number' ? CELL_NUMBER : cell === null ? CELL_MISSING : CELL_TEXT)),
    texts: row.map((cell) => (typeof cell === 'string' ? cell : undefined)),
  };
}

function profile(rows: readonly (readonly Cell[])[], columns = rows[0]?.length ?? 0): ColumnProfile[] {
  const profiler = new SchemaProfiler(columns);
  for (const row of rows) profiler.addRow(cellsOf(row));
  return profiler.profiles();
}

/** The schema of a table whose first row holds the names. */
function schemaOfTable(names: string[], rows: readonly (readonly Cell[])[], generated: number[] = []) {
  return schemaOf(names, generated, profile(rows, names.length));
}

describe('SchemaProfiler', () => {
  it('counts numbers, missing and text cells, and each distinct text', () => {
    const profiles = profile([
      [1, 'b', null],
      [2, 'a', 'x'],
      [3, 'b', null],
      [4, 'a', null],
      [5, 'b', 2],
    ]);
    expect(profiles).toEqual([
      { numbers: 5, missing: 0, texts: 0, values: [], overflow: false },
      {
        numbers: 0,
        missing: 0,
        texts: 5,
        values: [
          { value: 'a', count: 2 },
          { value: 'b', count: 3 },
        ],
        overflow: false,
      },
      { numbers: 1, missing: 3, texts: 1, values: [{ value: 'x', count: 1 }], overflow: false },
    ]);
  });

  it('counts rows of numbers in bulk, with or without cells', () => {
    const profiler = new SchemaProfiler(2);
    profiler.addNumericRows(1000);
    profiler.addRow();
    profiler.addRow({ kinds: Uint8Array.of(CELL_NUMBER, CELL_NUMBER), texts: [undefined, undefined] });
    profiler.addRow(cellsOf([null, 'q']));
    expect(profiler.profiles()).toEqual([
      { numbers: 1002, missing: 1, texts: 0, values: [], overflow: false },
      { numbers: 1002, missing: 0, texts: 1, values: [{ value: 'q', count: 1 }], overflow: false },
    ]);
  });

  it(`tracks up to ${MAX_CATEGORY_LEVELS} distinct texts, then stops and says so (texts still counted)`, () => {
    const levels = (count: number) => Array.from({ length: count }, (_, i) => [`v${i}`, 'same'] as Cell[]);
    const [atBound, same] = profile([...levels(MAX_CATEGORY_LEVELS), ...levels(MAX_CATEGORY_LEVELS)]);
    expect(atBound).toMatchObject({ texts: 2 * MAX_CATEGORY_LEVELS, overflow: false });
    expect(atBound!.values).toHaveLength(MAX_CATEGORY_LEVELS);
    expect(atBound!.values.every(({ count }) => count === 2)).toBe(true);
    expect(same).toEqual({ numbers: 0, missing: 0, texts: 2 * MAX_CATEGORY_LEVELS, values: [{ value: 'same', count: 200 }], overflow: false });
    const [over] = profile([...levels(MAX_CATEGORY_LEVELS + 1), ['v0', 'same'], [7, 'same']]);
    expect(over).toEqual({ numbers: 1, missing: 0, texts: MAX_CATEGORY_LEVELS + 2, values: [], overflow: true });
  });

  it('is JSON all the way through', () => {
    const profiles = profile([
      ['__proto__', 1],
      ['constructor', null],
      ['', 2],
    ]);
    expect(JSON.parse(JSON.stringify(profiles))).toEqual(profiles);
    expect(profiles[0]!.values.map(({ value }) => value)).toEqual(['', '__proto__', 'constructor']);
  });

  it('refuses a row of the wrong width', () => {
    expect(() => new SchemaProfiler(3).addRow(cellsOf([1, null]))).toThrow(RangeError);
  });
});

describe('mergeProfiles', () => {
  it('sums counts and unites values', () => {
    const [a] = profile([['x'], ['y'], [1], [null]]);
    const [b] = profile([['y'], ['z'], ['y']]);
    expect(mergeProfiles(a!, b!)).toEqual({
      numbers: 1,
      missing: 1,
      texts: 5,
      values: [
        { value: 'x', count: 1 },
        { value: 'y', count: 3 },
        { value: 'z', count: 1 },
      ],
      overflow: false,
    });
    expect(mergeProfiles(b!, a!)).toEqual(mergeProfiles(a!, b!));
  });

  it(`overflows when the union has more than ${MAX_CATEGORY_LEVELS} values, or either side overflowed`, () => {
    const half = (from: number) => profile(Array.from({ length: 60 }, (_, i) => [`v${from + i}`]))[0]!;
    expect(mergeProfiles(half(0), half(0)).overflow).toBe(false);
    const hundred = mergeProfiles(half(0), half(40)); // v0…v99: still a category
    expect(hundred).toMatchObject({ texts: 120, overflow: false });
    expect(hundred.values).toHaveLength(100);
    expect(hundred.values.filter(({ count }) => count === 2)).toHaveLength(20);
    expect(mergeProfiles(half(0), half(41))).toEqual({ numbers: 0, missing: 0, texts: 120, values: [], overflow: true });
    const overflowed: ColumnProfile = { numbers: 0, missing: 2, texts: 500, values: [], overflow: true };
    expect(mergeProfiles(half(0), overflowed)).toEqual({ numbers: 0, missing: 2, texts: 560, values: [], overflow: true });
  });

  it('equals profiling the concatenation, for random splits of random tables', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const uniform = random(seed);
      const distinct = [5, 60, 99, 100, 101, 150][seed % 6]!;
      const rows: Cell[][] = Array.from({ length: 400 }, () => [
        uniform() < 0.1 ? null : uniform() < 0.5 ? `t${Math.floor(uniform() * distinct)}` : uniform(),
        uniform() < 0.2 ? null : `c${Math.floor(uniform() * 7)}`,
        uniform() < 0.05 ? 'NA' : uniform() * 100,
        `id${Math.floor(uniform() * distinct)}`,
      ]);
      const whole = profile(rows);
      const cuts = [0, ...Array.from({ length: 1 + (seed % 4) }, () => Math.floor(uniform() * rows.length)).sort((a, b) => a - b), rows.length];
      const parts = cuts.slice(1).map((end, i) => profile(rows.slice(cuts[i], end), 4));
      expect(parts.reduce(mergeColumnProfiles)).toEqual(whole);
      // In any order: the merge is commutative and associative.
      expect([...parts].reverse().reduce(mergeColumnProfiles)).toEqual(whole);
    }
  });
});

describe('schemaOf', () => {
  it('a column without text is a number, even all missing', () => {
    expect(
      schemaOfTable(
        ['x', 'empty'],
        [
          [1, null],
          [null, null],
        ],
      ),
    ).toEqual([
      { name: 'x', type: 'number', missing: 1 },
      { name: 'empty', type: 'number', missing: 2 },
    ]);
    expect(schemaOf(['a'], [], profile([], 1))).toEqual([{ name: 'a', type: 'number', missing: 0 }]);
  });

  it('text without numbers is a category, its levels sorted by code point with their counts', () => {
    expect(
      schemaOfTable(
        ['species', 'flag'],
        [
          ['b', 'TRUE'],
          ['a', 'FALSE'],
          ['B', 'TRUE'],
          [null, 'TRUE'],
          ['b', null],
        ],
      ),
    ).toEqual([
      {
        name: 'species',
        type: 'category',
        missing: 1,
        levels: [
          { value: 'B', count: 1 },
          { value: 'a', count: 1 },
          { value: 'b', count: 2 },
        ],
      },
      {
        name: 'flag',
        type: 'category',
        missing: 1,
        levels: [
          { value: 'FALSE', count: 1 },
          { value: 'TRUE', count: 3 },
        ],
      },
    ]);
  });

  it('sorts by code point, not by locale nor by UTF-16 unit', () => {
    const values = ['é', 'e', 'Z', '\uFF5E', '😀', 'a b', 'ab', 'a'];
    const [column] = schemaOfTable(
      ['v'],
      values.map((value) => [value]),
    );
    const sorted = ['Z', 'a', 'a b', 'ab', 'e', 'é', '\uFF5E', '😀'];
    expect(column!.levels!.map(({ value }) => value)).toEqual(sorted);
    // '<' alone puts the emoji (a surrogate pair, 0xD83D…) before U+FF5E; its code point U+1F600 is after.
    expect('😀' < '\uFF5E').toBe(true);
    expect(compareCodePoints('😀', '\uFF5E')).toBeGreaterThan(0);
    const byCodePoints = (a: string, b: string) => {
      const [x, y] = [Array.from(a, (c) => c.codePointAt(0)!), Array.from(b, (c) => c.codePointAt(0)!)];
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    const uniform = random(7);
    const alphabet = ['a', 'B', 'é', '\uE000', '\uFFFD', '😀', '𝔸', '\u0000', ' '];
    const words = Array.from({ length: 300 }, () =>
      Array.from({ length: Math.floor(uniform() * 4) }, () => alphabet[Math.floor(uniform() * alphabet.length)]).join(''),
    );
    expect([...words].sort(compareCodePoints)).toEqual([...words].sort(byCodePoints));
  });

  it(`a category of exactly ${MAX_CATEGORY_LEVELS} levels; one more is text`, () => {
    const rows = (count: number) => Array.from({ length: count }, (_, i) => [`level ${String(i).padStart(3, '0')}`]);
    const [category] = schemaOfTable(['v'], rows(MAX_CATEGORY_LEVELS));
    expect(category!.type).toBe('category');
    expect(category!.levels).toHaveLength(MAX_CATEGORY_LEVELS);
    expect(category!.levels![0]).toEqual({ value: 'level 000', count: 1 });
    expect(schemaOfTable(['v'], [...rows(MAX_CATEGORY_LEVELS + 1), [null]])).toEqual([
      { name: 'v', type: 'text', missing: 1, reason: 'too-many-values', distinctOver: MAX_CATEGORY_LEVELS },
    ]);
  });

  it('numbers and text in one column make text (the numbers keep no spelling to make levels of)', () => {
    expect(schemaOfTable(['dose'], [[1], ['high'], [null], [2.5]])).toEqual([
      { name: 'dose', type: 'text', missing: 1, reason: 'mixed', numbers: 2, texts: 1 },
    ]);
  });

  it('a generated name makes an identifier: text, whatever the column holds', () => {
    const rows: Cell[][] = [
      [1, 'r1', 'a', 0.5],
      [2, 'r2', 'b', 1.5],
    ];
    expect(schemaOfTable(['', 'name', 'group', 'y'], rows, [0])).toEqual([
      { name: '', type: 'text', missing: 0, generated: true, reason: 'identifier' },
      {
        name: 'name',
        type: 'category',
        missing: 0,
        levels: [
          { value: 'r1', count: 1 },
          { value: 'r2', count: 1 },
        ],
      },
      {
        name: 'group',
        type: 'category',
        missing: 0,
        levels: [
          { value: 'a', count: 1 },
          { value: 'b', count: 1 },
        ],
      },
      { name: 'y', type: 'number', missing: 0 },
    ]);
    expect(schemaOfTable(['a', 'b'], [['x', 'y']], [1])[1]).toMatchObject({ type: 'text', generated: true });
  });

  it('is JSON-friendly', () => {
    const schema = schemaOfTable(
      ['a', 'b', 'c'],
      [
        [1, 'x', 'q'],
        [null, 'y', 2],
      ],
      [2],
    );
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('refuses names and profiles of different lengths', () => {
    expect(() => schemaOf(['a', 'b'], [], profile([[1]]))).toThrow();
  });
});
