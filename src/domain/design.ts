import { ValidationFailed } from './errors.js';
import type { ColumnSchema } from './schema.js';

/**
 * The design of a dataset job: which columns it models and how a row of them
 * becomes the numbers a fit sees, as R's `lm` builds its model matrix.
 *
 * - A `number` column is one coefficient, named after the column.
 * - A `category` column is one-hot with treatment contrasts: its first level (the
 *   schema sorts levels by code point) is the reference and has no coefficient;
 *   every other level is one 0/1 column named column + level, as R writes it
 *   (`Species` with levels setosa, versicolor, virginica: `Speciesversicolor`,
 *   `Speciesvirginica`).
 * - A `text` column (identifiers, row names, more distinct values than a category
 *   holds, numbers mixed with text) is never modelled.
 *
 * Rows with a missing value in the target or a feature are left out (`missing:
 * "drop"`, R's `na.omit`), or the job is refused when the dataset has any there
 * (`missing: "error"`).
 */

export type MissingRule = 'drop' | 'error';

export interface DesignColumn {
  name: string;
  /** Its index among the dataset's columns. */
  index: number;
  type: 'number' | 'category';
  /** Categories: every level, the reference first. */
  levels?: string[];
}

export interface Design {
  target: { name: string; index: number };
  /** The feature columns, in the job's order. */
  columns: DesignColumn[];
  /** One name per coefficient, in order: what a model calls its features. */
  names: string[];
}

/** Whether the design's every feature is a number column: such a job fits from the dataset's statistics. */
export function isNumeric(design: Design): boolean {
  return design.columns.every((column) => column.type === 'number');
}

/** The levels of each category feature, by column name: what a model keeps to encode a prediction's rows. */
export function levelsOf(design: Design): Record<string, string[]> {
  return Object.fromEntries(design.columns.filter((column) => column.levels).map((column) => [column.name, column.levels!]));
}

type Issue = { path: string; message: string };

/**
 * The design of a job on a dataset of this schema, or a 400 naming each column that
 * cannot be used and why. `features` defaults to every number and category column
 * but the target, in header order; a text column is only ever used when named (and
 * then refused, with the reason).
 */
export function designOf(
  schema: readonly ColumnSchema[],
  request: { target: string; features?: readonly string[] | undefined; missing?: MissingRule | undefined },
  limits: { maxDesignColumns: number },
): Design {
  const index = new Map(schema.map((column, i) => [column.name, i]));
  const targetIndex = index.get(request.target);
  const names = schema.map((column) => column.name);
  if (targetIndex === undefined) {
    throw new ValidationFailed('target is not a column of the dataset', [
      { path: 'target', message: `must be one of the dataset's columns: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}` },
    ]);
  }
  const target = schema[targetIndex]!;
  if (target.type !== 'number') {
    throw new ValidationFailed('the target must be a number column', [
      { path: 'target', message: `${JSON.stringify(target.name)} is a ${target.type} column; a regression predicts a number column` },
    ]);
  }

  const issues: Issue[] = [];
  let features: string[];
  if (request.features === undefined) {
    // A category of one level adds no coefficient (and is refused when named): it is no default feature either.
    features = schema
      .filter((column, i) => i !== targetIndex && column.type !== 'text' && !(column.type === 'category' && (column.levels?.length ?? 0) < 2))
      .map((column) => column.name);
    if (features.length === 0) {
      throw new ValidationFailed('the dataset has no column to predict from', [
        { path: 'features', message: 'every other column is text (identifiers or free text) or a category of one level: name the features' },
      ]);
    }
  } else {
    features = [...request.features];
    const seen = new Set<string>();
    features.forEach((name, i) => {
      const column = schema[index.get(name) ?? -1];
      const path = `features.${i}`;
      if (name === request.target) issues.push({ path, message: 'is the target; a column cannot predict itself' });
      else if (!column) issues.push({ path, message: `${JSON.stringify(name)} is not a column of the dataset` });
      else if (seen.has(name)) issues.push({ path, message: `${JSON.stringify(name)} is listed twice` });
      else if (column.type === 'text') issues.push({ path, message: textReason(column) });
      else if (column.type === 'category' && (column.levels?.length ?? 0) < 2) {
        issues.push({ path, message: `${JSON.stringify(name)} has one level (${JSON.stringify(column.levels?.[0]?.value)}): it cannot tell rows apart` });
      }
      seen.add(name);
    });
    if (issues.length > 0) throw new ValidationFailed('features must be distinct number or category columns of the dataset other than the target', issues);
  }

  if (request.missing === 'error') {
    const used = [request.target, ...features].map((name) => schema[index.get(name)!]!).filter((column) => column.missing > 0);
    if (used.length > 0) {
      throw new ValidationFailed(
        'the columns of this job have missing values (missing: "error")',
        used.map((column) => ({
          path: column.name === request.target ? 'target' : `features.${features.indexOf(column.name)}`,
          message: `${JSON.stringify(column.name)} has ${column.missing} missing value(s); use missing: "drop" to leave those rows out`,
        })),
      );
    }
  }

  const columns: DesignColumn[] = features.map((name) => {
    const i = index.get(name)!;
    const column = schema[i]!;
    return column.type === 'category'
      ? { name, index: i, type: 'category', levels: (column.levels ?? []).map((level) => level.value) }
      : { name, index: i, type: 'number' };
  });
  const coefficientNames = columns.flatMap((column) => (column.levels ? column.levels.slice(1).map((level) => `${column.name}${level}`) : [column.name]));
  if (coefficientNames.length > limits.maxDesignColumns) {
    throw new ValidationFailed(`the job's design has ${coefficientNames.length} columns; at most ${limits.maxDesignColumns}`, [
      { path: 'features', message: 'each category adds one column per level but the first: choose fewer features or categories with fewer levels' },
    ]);
  }
  return { target: { name: target.name, index: targetIndex }, columns, names: coefficientNames };
}

function textReason(column: ColumnSchema): string {
  const name = JSON.stringify(column.name);
  if (column.generated) return `${name} has no name in the file's header: it holds row names or an index, not data`;
  if (column.distinctOver !== undefined) {
    return `${name} has more than ${column.distinctOver} distinct values: too many levels for a category (at most ${column.distinctOver})`;
  }
  return `${name} is a text column (numbers mixed with text): it cannot be a feature`;
}

/**
 * Writes a design row into `out` (one value per coefficient): answers false when
 * a value the job uses is missing (the row is left out). `value(column)` answers a
 * number column's number (NaN when missing) or a category column's level (undefined
 * when missing). A level the design does not know is a 400 naming it: that is a
 * prediction's input, since a dataset's own rows only hold known levels.
 */
export function encodeRow(
  columns: readonly DesignColumn[],
  value: (column: DesignColumn, position: number) => number | string | undefined,
  out: Float64Array,
  path: (position: number) => string = (position) => columns[position]!.name,
): boolean {
  let at = 0;
  for (const [position, column] of columns.entries()) {
    const raw = value(column, position);
    if (column.type === 'number') {
      if (typeof raw !== 'number' || Number.isNaN(raw)) {
        if (typeof raw === 'string') {
          throw new ValidationFailed(`${column.name} must be a number`, [
            { path: path(position), message: `${JSON.stringify(column.name)} is a number column` },
          ]);
        }
        return false;
      }
      out[at++] = raw;
      continue;
    }
    if (raw === undefined) return false;
    const levels = column.levels!;
    const level = levels.indexOf(String(raw));
    if (level < 0) {
      throw new ValidationFailed(`${JSON.stringify(String(raw))} is not a level of ${column.name}`, [
        { path: path(position), message: `must be one of ${levels.map((l) => JSON.stringify(l)).join(', ')}` },
      ]);
    }
    for (let l = 1; l < levels.length; l++) out[at++] = l === level ? 1 : 0;
  }
  return true;
}

/** The feature columns of a trained model, to encode the rows of a prediction by name. */
export function modelColumns(model: { columns: readonly string[]; levels: Readonly<Record<string, readonly string[]>> }): DesignColumn[] {
  return model.columns.map((name, index) => {
    // Own keys only: a column named like a member of Object.prototype ("constructor") is not a category.
    const levels = Object.hasOwn(model.levels, name) ? model.levels[name] : undefined;
    return levels ? { name, index, type: 'category', levels: [...levels] } : { name, index, type: 'number' };
  });
}

/**
 * The design rows of a prediction given by column name (`{"rows": [{"Sepal.Width": 3, "Species": "setosa"}]}`):
 * a column the model reads that a row lacks, a number column given text, or a
 * level the model does not know is a 400 naming it. Extra keys are ignored.
 */
export function encodeNamedRows(columns: readonly DesignColumn[], width: number, rows: readonly Readonly<Record<string, number | string>>[]): number[][] {
  return rows.map((row, r) => {
    const out = new Float64Array(width);
    const path = (position: number) => `rows.${r}.${columns[position]!.name}`;
    for (const [position, column] of columns.entries()) {
      if (!Object.hasOwn(row, column.name)) {
        throw new ValidationFailed(`each row must give the model's columns: ${columns.map((c) => c.name).join(', ')}`, [
          { path: `rows.${r}`, message: `${JSON.stringify(column.name)} is missing` },
        ]);
      }
      const value: unknown = row[column.name];
      if (column.type === 'category' && typeof value !== 'string') {
        throw new ValidationFailed(`${column.name} is a category: give one of its levels`, [{ path: path(position), message: 'must be a string' }]);
      }
      // encodeRow reads anything else as missing (false): a prediction has no row to leave out, so that is a 400 too.
      if (column.type === 'number' && typeof value !== 'string' && !(typeof value === 'number' && !Number.isNaN(value))) {
        throw new ValidationFailed(`${column.name} must be a number`, [{ path: path(position), message: 'must be a number' }]);
      }
    }
    encodeRow(columns, (column) => row[column.name], out, path);
    return Array.from(out);
  });
}
