/**
 * Known answers from R: every data set of test/fixtures/r (README.md there), in each
 * export R and pandas wrote of it, read by the scan and fitted both ways a dataset job
 * is (from the scan's statistics, and by a pass over the file building the design row
 * by row), against R's `lm`: its coefficients by R's names, its `n` and rows dropped,
 * and its predictions by column name.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type CsvFormat, NumericCsvReader } from '#domain/csv.js';
import { type Design, designOf, encodeNamedRows, isNumeric, levelsOf, modelColumns } from '#domain/design.js';
import { DesignSink } from '#domain/design-sink.js';
import { ValidationFailed } from '#domain/errors.js';
import { headerEnd, lastByteNeeded, MAX_LINE_BYTES, mergePartials, planRanges, RangeScan, type ScanOutcome } from '#domain/range-scan.js';
import { type FittedModel, fitModel, predict } from '#domain/regression.js';
import type { ColumnSchema } from '#domain/schema.js';
import { fitStatistics, statisticsOver } from '#domain/statistics.js';
import { hasRFixture, type RFit, type RReference, rCsvFiles, rFixture, rReferences } from '../../helpers/r-fixtures.js';

type RFixture = RReference;

const fixtures = rReferences();

/**
 * What R's data sets hold (R's `datasets` package; `iris_na` is iris with 5 values set to NA): rows, missing values
 * by column, and each factor's levels (sorted by code point) with their counts. Every other column is numbers only.
 */
const KNOWN: Record<string, { rows: number; missing?: Record<string, number>; factors?: Record<string, Record<string, number>> }> = {
  CO2: {
    rows: 84,
    factors: {
      Plant: { Mc1: 7, Mc2: 7, Mc3: 7, Mn1: 7, Mn2: 7, Mn3: 7, Qc1: 7, Qc2: 7, Qc3: 7, Qn1: 7, Qn2: 7, Qn3: 7 },
      Type: { Mississippi: 42, Quebec: 42 },
      Treatment: { chilled: 42, nonchilled: 42 },
    },
  },
  ToothGrowth: { rows: 60, factors: { supp: { OJ: 30, VC: 30 } } },
  airquality: { rows: 153, missing: { Ozone: 37, 'Solar.R': 7 } },
  iris: { rows: 150, factors: { Species: { setosa: 50, versicolor: 50, virginica: 50 } } },
  iris_na: {
    rows: 150,
    missing: { 'Sepal.Width': 3, 'Petal.Length': 1, Species: 1 },
    factors: { Species: { setosa: 50, versicolor: 50, virginica: 49 } },
  },
  mtcars: { rows: 32 },
  swiss: { rows: 47 },
  trees: { rows: 31 },
  warpbreaks: { rows: 54, factors: { wool: { A: 27, B: 27 }, tension: { H: 18, L: 18, M: 18 } } },
};

/** The exports of a data set, as the fixtures name them, and the format each is read with. */
const EXPORTS: { suffix: string; label: string; format: CsvFormat | undefined }[] = [
  { suffix: '.r.csv', label: "R's write.csv", format: undefined },
  { suffix: '.pandas.csv', label: "pandas' to_csv", format: undefined },
  { suffix: '.r2.csv', label: "R's write.csv2", format: { delimiter: ';', decimal: ',' } },
];

/** The schema R's data frame has, as the scan should find it. */
function schemaOfKnown(fixture: RFixture): ColumnSchema[] {
  const known = KNOWN[fixture.dataset]!;
  return [
    { name: 'Unnamed: 0', type: 'text', missing: 0, generated: true, reason: 'identifier' },
    ...fixture.columns.map((name): ColumnSchema => {
      const missing = known.missing?.[name] ?? 0;
      const factor = known.factors?.[name];
      if (factor === undefined) return { name, type: 'number', missing };
      return { name, type: 'category', missing, levels: Object.entries(factor).map(([value, count]) => ({ value, count })) };
    }),
  ];
}

/** The scan of a file cut into `parts` ranges (1 or 3), each read from its start in chunks of `chunkBytes`, merged. */
function scan(bytes: Uint8Array, format: CsvFormat | undefined, parts: number, chunkBytes: number): ScanOutcome {
  const dataStart = headerEnd(bytes.subarray(0, 1 << 20));
  const ranges = planRanges({ sizeBytes: bytes.length, dataStart, rangeBytes: 1, maxRanges: parts });
  expect(ranges).toHaveLength(parts);
  const partials = ranges.map((range) => {
    const reader = new RangeScan(range, { maxColumns: 1000, header: range.index > 0 ? bytes.subarray(0, dataStart) : undefined, format });
    const stop = lastByteNeeded(range, bytes.length) + 1;
    for (let position = range.start; position < stop; position += chunkBytes) {
      if (reader.push(bytes.subarray(position, Math.min(stop, position + chunkBytes)), position)) break;
    }
    return reader.finish();
  });
  return mergePartials(partials);
}

/** One pass over the file building the design row by row: the fit of a job with a category, and its rows read. */
function designPass(bytes: Uint8Array, format: CsvFormat | undefined, design: Design, columns: readonly string[], fitIntercept: boolean) {
  const sink = new DesignSink(design, columns, fitIntercept);
  const reader = new NumericCsvReader(sink, { maxColumns: columns.length, maxLineBytes: MAX_LINE_BYTES, ...format });
  // Chunks that end mid-line, so lines are carried from one chunk to the next.
  for (let position = 0; position < bytes.length; position += 97) reader.push(bytes.subarray(position, position + 97));
  reader.end();
  return { model: fitModel(sink.accumulator, { kind: 'LINEAR', alpha: 0, fitIntercept }), rows: sink.rows, used: sink.accumulator.count };
}

/** The largest difference from R seen per data set: relative, or absolute for R's values below 1e-6. */
const largest = new Map<string, { difference: number; what: string }>();

function expectR(dataset: string, actual: number, expected: number, what: string): void {
  const difference = Math.abs(expected) < 1e-6 ? Math.abs(actual - expected) : Math.abs(actual - expected) / Math.abs(expected);
  if (difference >= (largest.get(dataset)?.difference ?? -1)) largest.set(dataset, { difference, what });
  expect(difference, `${what}: ${actual} against R's ${expected}`).toBeLessThanOrEqual(1e-9);
}

afterAll(() => {
  const lines = [...largest].map(([dataset, { difference, what }]) => `  ${dataset.padEnd(12)} ${difference.toExponential(2)}  (${what})`);
  console.log(`largest difference from R per data set:\n${lines.join('\n')}`);
});

/** The fit equals R's: each coefficient by R's name, the intercept (0 without one), n. */
function expectRFit(dataset: string, design: Design, model: FittedModel, fit: RFit, how: string): void {
  expect(model.metrics.n).toBe(fit.n);
  expect(model.coefficients).toHaveLength(design.names.length);
  for (const [name, value] of Object.entries(fit.coefficients)) {
    if (name === '(Intercept)') {
      expectR(dataset, model.intercept, value, `${how} ${fit.formula} (Intercept)`);
      continue;
    }
    const j = design.names.indexOf(name);
    expect(j, `R's coefficient ${name} is one of the design's: ${design.names.join(', ')}`).toBeGreaterThanOrEqual(0);
    expectR(dataset, model.coefficients[j]!, value, `${how} ${fit.formula} ${name}`);
  }
  if (!fit.fitIntercept) expect(model.intercept).toBe(0);
}

/** R's predictions of its 3 rows, given by column name as POST /models/{id}/predict takes them. */
function expectRPredictions(dataset: string, design: Design, model: FittedModel, fit: RFit, how: string): void {
  const columns = modelColumns({ columns: design.columns.map((column) => column.name), levels: levelsOf(design) });
  for (const [i, { rowName, values, predicted }] of fit.predictions.entries()) {
    const rows = [values as Record<string, number | string>];
    if (predicted === null) {
      // R predicts NA for a row with a missing value; a prediction by name refuses it, naming the value.
      const column = design.columns.find((c) => values[c.name] === null)!;
      expect(column, `R's prediction of row ${rowName} is NA: one of its values is`).toBeDefined();
      try {
        encodeNamedRows(columns, design.names.length, rows);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationFailed);
        expect((error as ValidationFailed).details).toEqual([{ path: `rows.0.${column.name}`, message: expect.any(String) }]);
      }
      continue;
    }
    const [value] = predict(model, encodeNamedRows(columns, design.names.length, rows));
    expectR(dataset, value!, predicted, `${how} ${fit.formula} prediction ${i} (row ${rowName})`);
  }
}

it('every data set of the fixtures has its known answers, an R and a pandas export, and models', () => {
  const datasets = fixtures.map((fixture) => fixture.dataset);
  expect(datasets.length).toBeGreaterThanOrEqual(8);
  expect(Object.keys(KNOWN).sort()).toEqual([...datasets].sort());
  for (const fixture of fixtures) {
    expect(hasRFixture(`${fixture.dataset}.r.csv`)).toBe(true);
    expect(hasRFixture(`${fixture.dataset}.pandas.csv`)).toBe(true);
    expect(fixture.nrow).toBe(KNOWN[fixture.dataset]!.rows);
    expect(fixture.models.length).toBeGreaterThan(0);
    for (const fit of fixture.models) expect(fit.rowsDropped).toBe(fixture.nrow - fit.n);
  }
  // Every CSV there belongs to one of them, in one of the exports read here.
  for (const file of rCsvFiles()) {
    expect(
      datasets.some((dataset) => EXPORTS.some(({ suffix }) => file === `${dataset}${suffix}`)),
      file,
    ).toBe(true);
  }
});

describe.each(fixtures)('$dataset', (fixture) => {
  const exports = EXPORTS.filter(({ suffix }) => hasRFixture(`${fixture.dataset}${suffix}`));

  describe.each(exports)('$label', ({ suffix, format }) => {
    const bytes = new Uint8Array(rFixture(`${fixture.dataset}${suffix}`));
    const columns = ['Unnamed: 0', ...fixture.columns];
    /** The file read in one range, and cut in three (read in chunks of 301 bytes), once for the tests below. */
    let scanned: { whole: ScanOutcome; ranges: ScanOutcome } | undefined;
    const outcomes = () => (scanned ??= { whole: scan(bytes, format, 1, 1 << 16), ranges: scan(bytes, format, 3, 301) });

    it("reads READY with R's schema: the row names an identifier, factors categories with R's levels, NA missing", () => {
      const schema = schemaOfKnown(fixture);
      const { whole, ranges } = outcomes();
      for (const outcome of [whole, ranges]) {
        expect(outcome).toMatchObject({ status: 'READY', rows: fixture.nrow, columns });
        if (outcome.status !== 'READY') continue;
        expect(outcome.schema).toEqual(schema);
        expect(outcome.statistics!.rowsLeftOut).toBe(0);
      }
    });

    it.each(fixture.models)('$formula', (fit) => {
      const { dataset } = fixture;
      const { whole, ranges } = outcomes();
      const schema = whole.status === 'READY' ? whole.schema : [];
      const design = designOf(schema, { target: fit.target, features: fit.features }, { maxDesignColumns: 1000 });
      // R's coefficients, in R's order and with R's names; R's levels.
      expect(design.names).toEqual(Object.keys(fit.coefficients).filter((name) => name !== '(Intercept)'));
      expect(levelsOf(design)).toEqual(fit.levels);
      expect(design.target).toEqual({ name: fit.target, index: columns.indexOf(fit.target) });

      // (a) From the scan's statistics, when every feature is a number column (in one range and in three).
      if (isNumeric(design)) {
        for (const [how, outcome] of [
          ['statistics', whole],
          ['statistics of 3 ranges', ranges],
        ] as const) {
          if (outcome.status !== 'READY') throw new Error(`${dataset} is ${outcome.status}`);
          const over = statisticsOver(outcome.statistics!, [...design.columns.map((column) => column.index), design.target.index]);
          expect(over.complete).toBe(true);
          expect(over.rowsUsed).toBe(fit.n);
          expect(outcome.rows - over.rowsUsed).toBe(fit.rowsDropped);
          const d = design.names.length;
          const selection = { features: Array.from({ length: d }, (_, i) => i), target: d };
          const { model } = fitStatistics(over.statistics, selection, { kind: 'LINEAR', alpha: 0, fitIntercept: fit.fitIntercept });
          expectRFit(dataset, design, model, fit, how);
          expectRPredictions(dataset, design, model, fit, how);
        }
      }

      // (b) A pass over the file, building the design row by row: every model.
      const pass = designPass(bytes, format, design, columns, fit.fitIntercept);
      expect(pass.rows).toBe(fixture.nrow);
      expect(pass.used).toBe(fit.n);
      expect(pass.rows - pass.used).toBe(fit.rowsDropped);
      expectRFit(dataset, design, pass.model, fit, 'design pass');
      expectRPredictions(dataset, design, pass.model, fit, 'design pass');
    });
  });
});
