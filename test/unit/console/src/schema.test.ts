import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ColumnSchema, CsvFormat, Dataset, Model } from '../../../../client/index.js';

/**
 * The console's schema table and model columns (console/src/schema.ts), rendered
 * into a minimal fake DOM (the unit project runs in Node.js; the end-to-end suite
 * drives the real page in a browser): what each cell says, and that text from the
 * API stays text.
 */

class FakeText {
  constructor(readonly data: string) {}
  get textContent(): string {
    return this.data;
  }
}

class FakeElement {
  readonly childNodes: (FakeElement | FakeText)[] = [];
  readonly attributes = new Map<string, string>();
  constructor(readonly tagName: string) {}
  appendChild(child: FakeElement | FakeText) {
    this.childNodes.push(child);
    return child;
  }
  setAttribute(name: string, value: string) {
    this.attributes.set(name, value);
  }
  removeAttribute(name: string) {
    this.attributes.delete(name);
  }
  getAttribute(name: string) {
    return this.attributes.get(name) ?? null;
  }
  addEventListener() {}
  get textContent(): string {
    return this.childNodes.map((child) => child.textContent).join('');
  }
  get children(): FakeElement[] {
    return this.childNodes.filter((child): child is FakeElement => child instanceof FakeElement);
  }
  /** Every descendant element with this tag name (lower case), in document order. */
  all(tag: string): FakeElement[] {
    return this.children.flatMap((child) => [...(child.tagName === tag.toUpperCase() ? [child] : []), ...child.all(tag)]);
  }
}

/**
 * console/src/schema.ts as this file uses it. Its sources are type-checked against the DOM by `tsc -p console`; they
 * are imported here by a computed path, so the root program (Node.js types, no DOM library) never includes them.
 */
interface SchemaModule {
  DELIMITER_CHOICES: readonly { value: CsvFormat['delimiter']; label: string }[];
  DECIMAL_CHOICES: readonly { value: CsvFormat['decimal']; label: string }[];
  LEVELS_SHOWN: number;
  formatDescription(csv: CsvFormat | undefined): string | undefined;
  levelChips(column: ColumnSchema): unknown;
  schemaTable(schema: readonly ColumnSchema[]): unknown;
  targetColumns(dataset: Pick<Dataset, 'columns' | 'schema'>): string[];
  featureChoices(dataset: Pick<Dataset, 'columns' | 'schema'>, target: string): { name: string; label: string }[];
  coefficientTable(model: Pick<Model, 'features' | 'coefficients' | 'intercept'>): unknown;
  modelLevels(levels: Model['levels'] | undefined): unknown;
}
const SCHEMA_MODULE = path.resolve(import.meta.dirname, '../../../../console/src/schema.ts');
let coefficientTable: SchemaModule['coefficientTable'];
let DECIMAL_CHOICES: SchemaModule['DECIMAL_CHOICES'];
let DELIMITER_CHOICES: SchemaModule['DELIMITER_CHOICES'];
let featureChoices: SchemaModule['featureChoices'];
let formatDescription: SchemaModule['formatDescription'];
let LEVELS_SHOWN: SchemaModule['LEVELS_SHOWN'];
let levelChips: SchemaModule['levelChips'];
let modelLevels: SchemaModule['modelLevels'];
let schemaTable: SchemaModule['schemaTable'];
let targetColumns: SchemaModule['targetColumns'];

beforeAll(async () => {
  vi.stubGlobal('document', {
    createElement: (tag: string) => new FakeElement(tag.toUpperCase()),
    createTextNode: (text: string) => new FakeText(text),
  });
  ({
    coefficientTable,
    DECIMAL_CHOICES,
    DELIMITER_CHOICES,
    featureChoices,
    formatDescription,
    LEVELS_SHOWN,
    levelChips,
    modelLevels,
    schemaTable,
    targetColumns,
  } = (await import(SCHEMA_MODULE)) as SchemaModule);
});
afterAll(() => {
  vi.unstubAllGlobals();
});

const fake = (node: unknown) => node as FakeElement;
const column = (changes: Partial<ColumnSchema> & { name: string }): ColumnSchema => ({
  type: 'number',
  missing: 0,
  generated: false,
  levelCount: null,
  levels: null,
  ...changes,
});
const SPECIES = column({
  name: 'Species',
  type: 'category',
  levelCount: 3,
  levels: [
    { value: 'setosa', count: 50 },
    { value: 'versicolor', count: 49 },
    { value: 'virginica', count: 51 },
  ],
});
const SCHEMA = [column({ name: '', type: 'text', generated: true }), column({ name: 'Sepal.Width', missing: 2 }), SPECIES, column({ name: 'Sepal.Length' })];

describe('schemaTable', () => {
  it('has a row per column: its name, type, missing values and levels', () => {
    const table = fake(schemaTable(SCHEMA));
    expect(table.getAttribute('class')).toBe('schema');
    expect(table.all('th').map((cell) => cell.textContent)).toEqual([
      'Column',
      'Type',
      'Missing',
      'Levels',
      ' (no header name)',
      'Sepal.Width',
      'Species',
      'Sepal.Length',
    ]);
    const rows = table.all('tr').slice(1);
    expect(rows.map((row) => row.getAttribute('data-column'))).toEqual(['', 'Sepal.Width', 'Species', 'Sepal.Length']);
    expect(rows.map((row) => row.all('td').map((cell) => cell.textContent))).toEqual([
      ['text', '0', 'never a feature'],
      ['number', '2', ''],
      ['category', '0', 'setosa 50versicolor 49virginica 513 levels'],
      ['number', '0', ''],
    ]);
    // A column with missing values is marked, for the eye (the number says it too).
    expect(rows[1]?.all('td')[1]?.getAttribute('class')).toBe('missing');
    expect(rows[0]?.all('td')[1]?.getAttribute('class')).toBeNull();
  });

  it('shows levels as chips, the reference first, then the count (… N levels past the first few)', () => {
    const chips = fake(levelChips(SPECIES));
    const each = chips.all('span').filter((span) => span.getAttribute('class') === 'chip');
    expect(each.map((chip) => chip.textContent)).toEqual(['setosa 50', 'versicolor 49', 'virginica 51']);
    expect(each[0]?.getAttribute('title')).toBe('the reference level');
    const many = column({
      name: 'city',
      type: 'category',
      levelCount: 45,
      levels: Array.from({ length: 20 }, (_, i) => ({ value: `c${i}`, count: i + 1 })),
    });
    const shown = fake(levelChips(many));
    expect(shown.all('span').filter((span) => span.getAttribute('class') === 'chip')).toHaveLength(LEVELS_SHOWN);
    expect(shown.children.at(-1)?.textContent).toBe('… 45 levels');
    expect(fake(levelChips(column({ name: 'one', type: 'category', levelCount: 1, levels: [{ value: 'a', count: 3 }] }))).textContent).toBe('a 31 level');
  });

  it('keeps every text from the API as text, never markup', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const table = fake(schemaTable([column({ name: hostile, type: 'category', levelCount: 1, levels: [{ value: hostile, count: 1 }] })]));
    const texts: string[] = [];
    const walk = (node: FakeElement | FakeText) => (node instanceof FakeText ? texts.push(node.data) : node.childNodes.forEach(walk));
    walk(table);
    expect(texts.filter((text) => text === hostile)).toHaveLength(2);
    expect(table.all('img')).toEqual([]);
  });
});

describe('the train form and the upload form', () => {
  const dataset = { columns: SCHEMA.map((each) => each.name), schema: SCHEMA };

  it('offers number columns as targets, number and category columns as features', () => {
    expect(targetColumns(dataset)).toEqual(['Sepal.Width', 'Sepal.Length']);
    expect(featureChoices(dataset, 'Sepal.Length')).toEqual([
      { name: 'Sepal.Width', label: 'Sepal.Width' },
      { name: 'Species', label: 'Species (category, 3 levels)' },
    ]);
    // Before the scan has typed the columns: every column, as before.
    expect(targetColumns({ columns: ['a', 'b'], schema: null })).toEqual(['a', 'b']);
    expect(featureChoices({ columns: ['a', 'b'], schema: null }, 'b')).toEqual([{ name: 'a', label: 'a' }]);
  });

  it('offers the delimiters and decimal separators POST /datasets takes, defaults first', () => {
    expect(DELIMITER_CHOICES.map((choice) => choice.value)).toEqual([',', ';', '\t', '|']);
    expect(DECIMAL_CHOICES.map((choice) => choice.value)).toEqual(['.', ',']);
    expect(formatDescription({ delimiter: ',', decimal: '.' })).toBeUndefined();
    expect(formatDescription({ delimiter: '\t', decimal: ',' })).toBe('delimiter tab, decimal , (comma)');
  });
});

describe("a model's coefficients and levels", () => {
  it('lists each coefficient by name with its value, the intercept first', () => {
    const table = fake(
      coefficientTable({ features: ['Sepal.Width', 'Speciesversicolor', 'Speciesvirginica'], coefficients: [0.8, 1.4, -1.25], intercept: 2.25 }),
    );
    expect(table.all('tr').map((row) => row.textContent)).toEqual([
      'NameCoefficient',
      '(intercept)2.25',
      'Sepal.Width0.8',
      'Speciesversicolor1.4',
      'Speciesvirginica-1.25',
    ]);
    expect(fake(coefficientTable({ features: ['a'], coefficients: [1], intercept: null })).all('tr')).toHaveLength(2);
  });

  it("lists each category column's levels, the reference marked; a dash without any", () => {
    const levels = fake(modelLevels({ Species: ['setosa', 'versicolor', 'virginica'] }));
    expect(levels.textContent).toBe('Species:setosa (reference)versicolorvirginica');
    expect(modelLevels({})).toBe('—');
  });
});
