import type { ColumnSchema, CsvFormat, Dataset, Model } from '../../client/index.js';
import { format } from './chart.js';
import { h } from './dom.js';

/**
 * A dataset's schema and a model's columns as the console shows them. Every text
 * from the API (column names, levels) goes into the page as a text node through
 * `h`, never as markup.
 */

/** The delimiters POST /datasets takes, as the upload form offers them (the first is the default). */
export const DELIMITER_CHOICES: readonly { value: CsvFormat['delimiter']; label: string }[] = [
  { value: ',', label: ', (comma)' },
  { value: ';', label: '; (semicolon)' },
  { value: '\t', label: 'tab' },
  { value: '|', label: '| (pipe)' },
];

/** The decimal separators POST /datasets takes (the first is the default). */
export const DECIMAL_CHOICES: readonly { value: CsvFormat['decimal']; label: string }[] = [
  { value: '.', label: '. (point)' },
  { value: ',', label: ', (comma)' },
];

/** How many levels of a category the schema table shows as chips. */
export const LEVELS_SHOWN = 8;

/** The dataset's format in words, or undefined for the default (`,` and `.`). */
export function formatDescription(csv: CsvFormat | undefined): string | undefined {
  if (!csv || (csv.delimiter === ',' && csv.decimal === '.')) return undefined;
  const delimiter = DELIMITER_CHOICES.find((choice) => choice.value === csv.delimiter)?.label ?? csv.delimiter;
  const decimal = DECIMAL_CHOICES.find((choice) => choice.value === csv.decimal)?.label ?? csv.decimal;
  return `delimiter ${delimiter}, decimal ${decimal}`;
}

/** A category's levels: the first few as chips (value and count), then how many there are in all. */
export function levelChips(column: ColumnSchema): HTMLElement | string {
  if (column.type === 'text') return h('span', { class: 'muted' }, 'never a feature');
  if (!column.levels) return '';
  const count = column.levelCount ?? column.levels.length;
  const shown = column.levels.slice(0, LEVELS_SHOWN);
  return h(
    'span',
    { class: 'levels' },
    shown.map((level, i) =>
      h(
        'span',
        { class: 'chip', title: i === 0 ? 'the reference level' : null },
        level.value === '' ? h('em', {}, '(empty)') : level.value,
        ' ',
        h('span', { class: 'muted' }, String(level.count)),
      ),
    ),
    h('span', { class: 'muted' }, count > shown.length ? `… ${count} levels` : `${count} level${count === 1 ? '' : 's'}`),
  );
}

/** A READY dataset's schema as a table: name, type, missing values, levels. */
export function schemaTable(schema: readonly ColumnSchema[]): HTMLTableElement {
  return h(
    'table',
    { class: 'schema' },
    h('caption', { class: 'muted' }, 'Columns as the scan read them. A category is one-hot in a job, its first level the reference.'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Column', 'Type', 'Missing', 'Levels'].map((name) => h('th', { scope: 'col' }, name)),
      ),
    ),
    h(
      'tbody',
      {},
      schema.map((column) =>
        h(
          'tr',
          { 'data-column': column.name },
          h('th', { scope: 'row' }, column.name, column.generated ? h('span', { class: 'muted' }, ' (no header name)') : null),
          h('td', { 'data-type': column.type }, column.type),
          h('td', { class: column.missing > 0 ? 'missing' : null }, String(column.missing)),
          h('td', {}, levelChips(column)),
        ),
      ),
    ),
  );
}

/** The columns a job can use as its target: the number columns (every column before the scan has typed them). */
export function targetColumns(dataset: Pick<Dataset, 'columns' | 'schema'>): string[] {
  return dataset.schema ? dataset.schema.filter((column) => column.type === 'number').map((column) => column.name) : [...dataset.columns];
}

/** The columns a job can use as features, but the target: number and category columns, with how the form names them. */
export function featureChoices(dataset: Pick<Dataset, 'columns' | 'schema'>, target: string): { name: string; label: string }[] {
  if (!dataset.schema) return dataset.columns.filter((column) => column !== target).map((name) => ({ name, label: name }));
  return dataset.schema
    .filter((column) => column.type !== 'text' && column.name !== target)
    .map((column) => ({
      name: column.name,
      label: column.type === 'category' ? `${column.name} (category, ${column.levelCount ?? column.levels?.length ?? 0} levels)` : column.name,
    }));
}

/** A model's coefficients by name (R's names for a category's levels, e.g. Speciesversicolor), with their values. */
export function coefficientTable(model: Pick<Model, 'features' | 'coefficients' | 'intercept'>): HTMLTableElement {
  const rows: [string, number][] = model.coefficients.map((value, i) => [model.features[i] ?? `x${i + 1}`, value]);
  if (model.intercept !== null) rows.unshift(['(intercept)', model.intercept]);
  return h(
    'table',
    { class: 'coefficients' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Coefficient'))),
    h(
      'tbody',
      {},
      rows.map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: 'number' }, format(value)))),
    ),
  );
}

/** A model's category columns and their levels, the reference first. */
export function modelLevels(levels: Model['levels'] | undefined): HTMLElement | string {
  const entries = Object.entries(levels ?? {});
  if (entries.length === 0) return '—';
  return h(
    'span',
    {},
    entries.map(([column, values]) =>
      h(
        'div',
        { class: 'levels' },
        h('strong', {}, `${column}:`),
        values.map((value, i) =>
          h('span', { class: 'chip', title: i === 0 ? 'the reference level' : null }, value, i === 0 ? h('span', { class: 'muted' }, ' (reference)') : null),
        ),
      ),
    ),
  );
}
