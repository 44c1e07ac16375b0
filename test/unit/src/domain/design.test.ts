import { describe, expect, it } from 'vitest';
import { type Design, type DesignColumn, designOf, encodeNamedRows, encodeRow, isNumeric, levelsOf, modelColumns } from '#domain/design.js';
import { ValidationFailed } from '#domain/errors.js';
import type { ColumnSchema } from '#domain/schema.js';

const limits = { maxDesignColumns: 1000 };

/** A schema as schemaOf writes it for an R export of iris with a couple of extra columns. */
const schema: ColumnSchema[] = [
  { name: 'Unnamed: 0', type: 'text', missing: 0, generated: true, reason: 'identifier' },
  { name: 'Sepal.Length', type: 'number', missing: 0 },
  { name: 'Sepal.Width', type: 'number', missing: 3 },
  {
    name: 'Species',
    type: 'category',
    missing: 2,
    levels: [
      { value: 'setosa', count: 50 },
      { value: 'versicolor', count: 49 },
      { value: 'virginica', count: 49 },
    ],
  },
  { name: 'comment', type: 'text', missing: 0, reason: 'too-many-values', distinctOver: 100 },
  { name: 'Petal.Length', type: 'number', missing: 0 },
  { name: 'code', type: 'text', missing: 1, reason: 'mixed', numbers: 140, texts: 9 },
  { name: 'flag', type: 'category', missing: 0, levels: [{ value: 'yes', count: 150 }] },
  {
    name: 'wool',
    type: 'category',
    missing: 0,
    levels: [
      { value: 'A', count: 75 },
      { value: 'B', count: 75 },
    ],
  },
];

/** The ValidationFailed `run` throws: its message and details. */
function refusal(run: () => unknown): { message: string; details: unknown } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailed);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', category: 'invalid' });
    const { message, details } = error as ValidationFailed;
    return { message, details };
  }
  throw new Error('expected a ValidationFailed');
}

describe('designOf', () => {
  it('numbers are one coefficient each, categories one per level but the first, in the order asked for (R’s names)', () => {
    const design = designOf(schema, { target: 'Sepal.Length', features: ['Species', 'Sepal.Width', 'wool', 'Petal.Length'] }, limits);
    expect(design).toEqual({
      target: { name: 'Sepal.Length', index: 1 },
      columns: [
        { name: 'Species', index: 3, type: 'category', levels: ['setosa', 'versicolor', 'virginica'] },
        { name: 'Sepal.Width', index: 2, type: 'number' },
        { name: 'wool', index: 8, type: 'category', levels: ['A', 'B'] },
        { name: 'Petal.Length', index: 5, type: 'number' },
      ],
      names: ['Speciesversicolor', 'Speciesvirginica', 'Sepal.Width', 'woolB', 'Petal.Length'],
    } satisfies Design);
    expect(isNumeric(design)).toBe(false);
    expect(levelsOf(design)).toEqual({ Species: ['setosa', 'versicolor', 'virginica'], wool: ['A', 'B'] });
  });

  it('defaults to every number and category column but the target, in header order: no text, no generated column, no category of one level', () => {
    const design = designOf(schema, { target: 'Petal.Length' }, limits);
    expect(design.target).toEqual({ name: 'Petal.Length', index: 5 });
    expect(design.columns.map((column) => column.name)).toEqual(['Sepal.Length', 'Sepal.Width', 'Species', 'wool']);
    expect(design.names).toEqual(['Sepal.Length', 'Sepal.Width', 'Speciesversicolor', 'Speciesvirginica', 'woolB']);
  });

  it('a design of numbers only is numeric, without levels', () => {
    const design = designOf(schema, { target: 'Sepal.Length', features: ['Petal.Length', 'Sepal.Width'] }, limits);
    expect(design.names).toEqual(['Petal.Length', 'Sepal.Width']);
    expect(design.columns).toEqual([
      { name: 'Petal.Length', index: 5, type: 'number' },
      { name: 'Sepal.Width', index: 2, type: 'number' },
    ]);
    expect(isNumeric(design)).toBe(true);
    expect(levelsOf(design)).toEqual({});
  });

  it('refuses a target that is not a column, naming the columns (the first 20)', () => {
    expect(refusal(() => designOf(schema, { target: 'Ozone' }, limits))).toEqual({
      message: 'target is not a column of the dataset',
      details: [
        {
          path: 'target',
          message: "must be one of the dataset's columns: Unnamed: 0, Sepal.Length, Sepal.Width, Species, comment, Petal.Length, code, flag, wool",
        },
      ],
    });
    const wide: ColumnSchema[] = Array.from({ length: 25 }, (_, i) => ({ name: `c${i}`, type: 'number', missing: 0 }));
    expect(refusal(() => designOf(wide, { target: 'y' }, limits)).details).toEqual([
      { path: 'target', message: `must be one of the dataset's columns: ${Array.from({ length: 20 }, (_, i) => `c${i}`).join(', ')}, …` },
    ]);
  });

  it.each([
    ['Species', '"Species" is a category column; a regression predicts a number column'],
    ['comment', '"comment" is a text column; a regression predicts a number column'],
    ['Unnamed: 0', '"Unnamed: 0" is a text column; a regression predicts a number column'],
  ])('refuses the target %s: not a number column', (target, message) => {
    expect(refusal(() => designOf(schema, { target }, limits))).toEqual({
      message: 'the target must be a number column',
      details: [{ path: 'target', message }],
    });
  });

  it('refuses each bad feature at its index, all of them at once', () => {
    const features = ['Sepal.Width', 'Sepal.Length', 'Ozone', 'Sepal.Width', 'Unnamed: 0', 'comment', 'code', 'flag'];
    expect(refusal(() => designOf(schema, { target: 'Sepal.Length', features }, limits))).toEqual({
      message: 'features must be distinct number or category columns of the dataset other than the target',
      details: [
        { path: 'features.1', message: 'is the target; a column cannot predict itself' },
        { path: 'features.2', message: '"Ozone" is not a column of the dataset' },
        { path: 'features.3', message: '"Sepal.Width" is listed twice' },
        { path: 'features.4', message: '"Unnamed: 0" has no name in the file\'s header: it holds row names or an index, not data' },
        { path: 'features.5', message: '"comment" has more than 100 distinct values: too many levels for a category (at most 100)' },
        { path: 'features.6', message: '"code" is a text column (numbers mixed with text): it cannot be a feature' },
        { path: 'features.7', message: '"flag" has one level ("yes"): it cannot tell rows apart' },
      ],
    });
  });

  it('refuses a dataset whose other columns cannot be features, when none are named', () => {
    const onlyText: ColumnSchema[] = [
      { name: 'Unnamed: 0', type: 'text', missing: 0, generated: true, reason: 'identifier' },
      { name: 'y', type: 'number', missing: 0 },
      { name: 'note', type: 'text', missing: 0, reason: 'too-many-values', distinctOver: 100 },
      { name: 'flag', type: 'category', missing: 0, levels: [{ value: 'yes', count: 3 }] },
    ];
    expect(refusal(() => designOf(onlyText, { target: 'y' }, limits))).toEqual({
      message: 'the dataset has no column to predict from',
      details: [{ path: 'features', message: 'every other column is text (identifiers or free text) or a category of one level: name the features' }],
    });
  });

  it('missing: "error" refuses the columns of the job that have missing values, at their paths; "drop" and the default do not', () => {
    expect(refusal(() => designOf(schema, { target: 'Sepal.Width', features: ['Petal.Length', 'Species'], missing: 'error' }, limits))).toEqual({
      message: 'the columns of this job have missing values (missing: "error")',
      details: [
        { path: 'target', message: '"Sepal.Width" has 3 missing value(s); use missing: "drop" to leave those rows out' },
        { path: 'features.1', message: '"Species" has 2 missing value(s); use missing: "drop" to leave those rows out' },
      ],
    });
    // Defaulted features: the path is the index in the defaulted list (Sepal.Length, Sepal.Width, Species, wool).
    expect(refusal(() => designOf(schema, { target: 'Petal.Length', missing: 'error' }, limits)).details).toEqual([
      { path: 'features.1', message: '"Sepal.Width" has 3 missing value(s); use missing: "drop" to leave those rows out' },
      { path: 'features.2', message: '"Species" has 2 missing value(s); use missing: "drop" to leave those rows out' },
    ]);
    // Columns of the dataset the job does not use may have missing values.
    expect(designOf(schema, { target: 'Sepal.Length', features: ['Petal.Length', 'wool'], missing: 'error' }, limits).names).toEqual(['Petal.Length', 'woolB']);
    for (const missing of ['drop', undefined] as const) {
      expect(designOf(schema, { target: 'Sepal.Width', features: ['Species'], missing }, limits).names).toEqual(['Speciesversicolor', 'Speciesvirginica']);
    }
  });

  it('refuses a design wider than the limit, counting one column per level but the first', () => {
    const request = { target: 'Sepal.Length', features: ['Species', 'wool'] };
    expect(designOf(schema, request, { maxDesignColumns: 3 }).names).toHaveLength(3);
    expect(refusal(() => designOf(schema, request, { maxDesignColumns: 2 }))).toEqual({
      message: "the job's design has 3 columns; at most 2",
      details: [{ path: 'features', message: 'each category adds one column per level but the first: choose fewer features or categories with fewer levels' }],
    });
  });
});

describe('encodeRow', () => {
  const design = designOf(schema, { target: 'Sepal.Length', features: ['Sepal.Width', 'Species', 'wool'] }, limits);
  const encode = (values: Record<string, number | string | undefined>) => {
    const out = new Float64Array(design.names.length).fill(-7);
    const used = encodeRow(design.columns, (column) => values[column.name], out);
    return { used, out: Array.from(out) };
  };

  it('writes numbers as they are and each category one-hot, its reference level all zeros', () => {
    expect(encode({ 'Sepal.Width': 3.5, Species: 'setosa', wool: 'A' })).toEqual({ used: true, out: [3.5, 0, 0, 0] });
    expect(encode({ 'Sepal.Width': -0.25, Species: 'versicolor', wool: 'B' })).toEqual({ used: true, out: [-0.25, 1, 0, 1] });
    expect(encode({ 'Sepal.Width': 1e300, Species: 'virginica', wool: 'A' })).toEqual({ used: true, out: [1e300, 0, 1, 0] });
  });

  it('answers false for a row with a missing value (NaN number, undefined level)', () => {
    expect(encode({ 'Sepal.Width': Number.NaN, Species: 'setosa', wool: 'A' }).used).toBe(false);
    expect(encode({ 'Sepal.Width': undefined, Species: 'setosa', wool: 'A' }).used).toBe(false);
    expect(encode({ 'Sepal.Width': 3, Species: undefined, wool: 'A' }).used).toBe(false);
    expect(encode({ 'Sepal.Width': 3, Species: 'setosa', wool: undefined }).used).toBe(false);
  });

  it('gives the callback each column with its position', () => {
    const seen: [string, number][] = [];
    encodeRow(
      design.columns,
      (column, position) => {
        seen.push([column.name, position]);
        return column.type === 'number' ? 1 : column.levels![0];
      },
      new Float64Array(4),
    );
    expect(seen).toEqual([
      ['Sepal.Width', 0],
      ['Species', 1],
      ['wool', 2],
    ]);
  });

  it('refuses an unknown level and text for a number, at the path given (the column name by default)', () => {
    expect(refusal(() => encode({ 'Sepal.Width': 3, Species: 'Setosa', wool: 'A' }))).toEqual({
      message: '"Setosa" is not a level of Species',
      details: [{ path: 'Species', message: 'must be one of "setosa", "versicolor", "virginica"' }],
    });
    expect(refusal(() => encode({ 'Sepal.Width': '3', Species: 'setosa', wool: 'A' }))).toEqual({
      message: 'Sepal.Width must be a number',
      details: [{ path: 'Sepal.Width', message: '"Sepal.Width" is a number column' }],
    });
    const out = new Float64Array(4);
    expect(
      refusal(() =>
        encodeRow(
          design.columns,
          (column) => (column.type === 'number' ? 1 : 'C'),
          out,
          (position) => `x.${position}`,
        ),
      ).details,
    ).toEqual([{ path: 'x.1', message: 'must be one of "setosa", "versicolor", "virginica"' }]);
  });
});

describe('modelColumns and encodeNamedRows', () => {
  const model = { columns: ['Sepal.Width', 'Species', 'Petal.Length'], levels: { Species: ['setosa', 'versicolor', 'virginica'] } };
  const columns: DesignColumn[] = modelColumns(model);
  const width = 4;

  it("rebuilds a model's design columns from its names and levels", () => {
    expect(columns).toEqual([
      { name: 'Sepal.Width', index: 0, type: 'number' },
      { name: 'Species', index: 1, type: 'category', levels: ['setosa', 'versicolor', 'virginica'] },
      { name: 'Petal.Length', index: 2, type: 'number' },
    ]);
  });

  it('encodes rows given by name, in the design order, ignoring extra keys', () => {
    expect(
      encodeNamedRows(columns, width, [
        { 'Petal.Length': 1.4, Species: 'setosa', 'Sepal.Width': 3.5, 'Sepal.Length': 5.1 },
        { Species: 'virginica', 'Sepal.Width': 2.5, 'Petal.Length': 6, extra: 'x' },
        { 'Sepal.Width': 0, Species: 'versicolor', 'Petal.Length': -1 },
      ]),
    ).toEqual([
      [3.5, 0, 0, 1.4],
      [2.5, 0, 1, 6],
      [0, 1, 0, -1],
    ]);
  });

  it.each([
    [
      'a missing column',
      [
        { 'Sepal.Width': 3, Species: 'setosa', 'Petal.Length': 1 },
        { 'Sepal.Width': 3, 'Petal.Length': 1 },
      ],
      "each row must give the model's columns: Sepal.Width, Species, Petal.Length",
      { path: 'rows.1', message: '"Species" is missing' },
    ],
    [
      'an unknown level',
      [
        { 'Sepal.Width': 3, Species: 'setosa', 'Petal.Length': 1 },
        { 'Sepal.Width': 3, Species: 'setosa', 'Petal.Length': 1 },
        { 'Sepal.Width': 3, Species: 'iris', 'Petal.Length': 1 },
      ],
      '"iris" is not a level of Species',
      { path: 'rows.2.Species', message: 'must be one of "setosa", "versicolor", "virginica"' },
    ],
    [
      'a number column given a string',
      [{ 'Sepal.Width': 3, Species: 'setosa', 'Petal.Length': '1.4' }],
      'Petal.Length must be a number',
      { path: 'rows.0.Petal.Length', message: '"Petal.Length" is a number column' },
    ],
    [
      'a category given a number',
      [
        { 'Sepal.Width': 3, Species: 'setosa', 'Petal.Length': 1 },
        { 'Sepal.Width': 3, Species: 2, 'Petal.Length': 1 },
      ],
      'Species is a category: give one of its levels',
      { path: 'rows.1.Species', message: 'must be a string' },
    ],
  ] as const)('refuses %s, naming the row and column', (_name, rows, message, detail) => {
    expect(refusal(() => encodeNamedRows(columns, width, rows))).toEqual({ message, details: [detail] });
  });

  it('refuses a number column given no number (null, as JSON writes a missing value, or NaN): a prediction has no row to leave out', () => {
    const rows = (value: unknown) => [
      { 'Sepal.Width': 3, Species: 'setosa', 'Petal.Length': 1 },
      { 'Sepal.Width': value, Species: 'setosa', 'Petal.Length': 1 },
    ];
    for (const value of [null, Number.NaN, undefined, true]) {
      expect(refusal(() => encodeNamedRows(columns, width, rows(value) as Record<string, number | string>[]))).toEqual({
        message: 'Sepal.Width must be a number',
        details: [{ path: 'rows.1.Sepal.Width', message: 'must be a number' }],
      });
    }
    // A category given null is not a level.
    expect(
      refusal(() => encodeNamedRows(columns, width, [{ 'Sepal.Width': 3, Species: null, 'Petal.Length': 1 }] as unknown as Record<string, number>[])).details,
    ).toEqual([{ path: 'rows.0.Species', message: 'must be a string' }]);
  });

  it('a column named like an Object.prototype member must still be given', () => {
    const odd = modelColumns({ columns: ['constructor', 'toString'], levels: { toString: ['a', 'b'] } });
    expect(encodeNamedRows(odd, 2, [{ constructor: 2, toString: 'b' }])).toEqual([[2, 1]]);
    expect(refusal(() => encodeNamedRows(odd, 2, [{ toString: 'a' }])).details).toEqual([{ path: 'rows.0', message: '"constructor" is missing' }]);
    expect(refusal(() => encodeNamedRows(odd, 2, [{ constructor: 1 }])).details).toEqual([{ path: 'rows.0', message: '"toString" is missing' }]);
  });
});
