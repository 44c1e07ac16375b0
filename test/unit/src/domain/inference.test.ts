/**
 * The coefficient table (src/domain/inference.ts) against R's `summary(lm)`:
 * - every model of every test/fixtures/r/*.lm.json (categories, missing values, the
 *   no-intercept trees model), from the state of a design pass over R's CSV and, for
 *   number-only designs, from the scan's statistics: R's estimates, standard errors, t
 *   values, p-values and 95% intervals, sigma, R², adjusted R², residual df to 1e-9
 *   relative (p-values 1e-9 absolute or relative, the looser), F and the
 *   log-likelihood against R's own formulas on R's sigma and R²;
 * - Longley (scripts/longley-fixture.R): R's summary, F, logLik, AIC, BIC and 99%
 *   intervals to 1e-9, and NIST StRD's certified values to 7 significant digits;
 * - the states with no variance to estimate (no residual df, a rank-deficient design):
 *   nulls and a note, never NaN.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { NumericCsvReader } from '#domain/csv.js';
import { type Design, designOf, isNumeric } from '#domain/design.js';
import { DesignSink } from '#domain/design-sink.js';
import { type CoefficientTable, coefficientTable } from '#domain/inference.js';
import { MAX_LINE_BYTES } from '#domain/range-scan.js';
import { fitStateWithReport, RegressionAccumulator, type TrainingState } from '#domain/regression.js';
import { statisticsOver, trainingStateOf } from '#domain/statistics.js';
import { type RFit, readyScan, rFixture, rReferences } from '../../helpers/r-fixtures.js';

interface RCoefficientStats {
  'std.error': number;
  't.value': number;
  'p.value': number;
  'conf.low': number;
  'conf.high': number;
}

/** A fit of the fixtures with R's summary (test/fixtures/r/README.md). */
interface RSummaryFit extends RFit {
  sigma: number;
  'r.squared': number;
  'adj.r.squared': number;
  'df.residual': number;
  coefficientStats: Record<string, RCoefficientStats>;
}

/** A fit of longley.summary.json: the same, plus R's F, logLik, AIC, BIC and 99% intervals. */
interface LongleyFit extends Omit<RSummaryFit, 'coefficientStats' | 'levels' | 'rowsDropped' | 'predictions'> {
  fstatistic: { value: number; numdf: number; dendf: number };
  'f.p.value': number;
  logLik: number;
  'logLik.df': number;
  AIC: number;
  BIC: number;
  coefficientStats: Record<string, RCoefficientStats & { 'conf.low.99': number; 'conf.high.99': number }>;
}

/** The largest difference from R (relative, or absolute for a p-value where that is looser) per quantity. */
const largest = new Map<string, { difference: number; what: string }>();

function record(quantity: string, difference: number, what: string): void {
  if (difference >= (largest.get(quantity)?.difference ?? -1)) largest.set(quantity, { difference, what });
}

/** |actual − expected| ≤ 1e-9·|expected|. */
function expectR(quantity: string, actual: number | null | undefined, expected: number, what: string): void {
  expect(actual, `${what}: R's ${expected}`).toEqual(expect.any(Number));
  const difference = actual === expected ? 0 : Math.abs(actual! - expected) / Math.abs(expected);
  record(quantity, difference, what);
  expect(difference, `${what}: ${actual} against R's ${expected}`).toBeLessThanOrEqual(1e-9);
}

/** A p-value: 1e-9 absolute or relative, whichever is looser. */
function expectRPValue(quantity: string, actual: number | null | undefined, expected: number, what: string): void {
  expect(actual, `${what}: R's ${expected}`).toEqual(expect.any(Number));
  const absolute = Math.abs(actual! - expected);
  const difference = Math.min(absolute, expected === 0 ? absolute : absolute / expected);
  record(quantity, difference, what);
  expect(difference, `${what}: ${actual} against R's ${expected}`).toBeLessThanOrEqual(1e-9);
}

afterAll(() => {
  const lines = [...largest].map(([quantity, { difference, what }]) => `  ${quantity.padEnd(24)} ${difference.toExponential(2)}  (${what})`);
  console.log(`largest difference from R and NIST:\n${lines.join('\n')}`);
});

/** Every number anywhere in the table is finite (null stands for what is not defined). */
function expectNoNaN(table: CoefficientTable): void {
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'number') expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
    else if (value !== null && typeof value === 'object') for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`);
  };
  walk(table, 'table');
}

/** The training state of one pass over a CSV file building the design row by row, as a dataset job does. */
function designPassState(bytes: Uint8Array, design: Design, columns: readonly string[], fitIntercept: boolean): TrainingState {
  const sink = new DesignSink(design, columns, fitIntercept);
  const reader = new NumericCsvReader(sink, { maxColumns: columns.length, maxLineBytes: MAX_LINE_BYTES });
  for (let position = 0; position < bytes.length; position += 4096) reader.push(bytes.subarray(position, position + 4096));
  reader.end();
  return sink.accumulator.state();
}

/** The states of a model: from a design pass, and from the scan's statistics when every feature is a number column. */
function statesOf(file: string, fit: { target: string; features: string[]; fitIntercept: boolean; n: number }) {
  const bytes = new Uint8Array(rFixture(file));
  const outcome = readyScan(bytes);
  const design = designOf(outcome.schema, { target: fit.target, features: fit.features }, { maxDesignColumns: 1000 });
  const states: { how: string; state: TrainingState }[] = [{ how: 'design pass', state: designPassState(bytes, design, outcome.columns, fit.fitIntercept) }];
  if (isNumeric(design)) {
    const over = statisticsOver(outcome.statistics!, [...design.columns.map((column) => column.index), design.target.index]);
    expect(over.rowsUsed).toBe(fit.n);
    const d = design.names.length;
    const selection = { features: Array.from({ length: d }, (_, i) => i), target: d };
    states.push({ how: 'statistics', state: trainingStateOf(over.statistics, selection, fit.fitIntercept) });
  }
  for (const { state } of states) expect(state.n).toBe(fit.n);
  return { design, states };
}

function tableOf(state: TrainingState, names: readonly string[], fitIntercept: boolean, level?: number): CoefficientTable {
  const { model } = fitStateWithReport(state, { kind: 'LINEAR', alpha: 0, fitIntercept });
  return coefficientTable(state, model, { fitIntercept, names, ...(level === undefined ? {} : { level }) });
}

/** The table equals R's summary: every row by R's name and order, sigma, R², adjusted R², df, n. */
function expectRTable(table: CoefficientTable, fit: RSummaryFit | LongleyFit, label: string): void {
  expect(table.note).toBeUndefined();
  expectNoNaN(table);
  expect(table.coefficients.map((row) => row.term)).toEqual(Object.keys(fit.coefficients));
  for (const row of table.coefficients) {
    const what = `${label} ${row.term}`;
    const stats = fit.coefficientStats[row.term]!;
    expectR('estimate', row.estimate, fit.coefficients[row.term]!, `${what} estimate`);
    expectR('std.error', row.stdError, stats['std.error'], `${what} std.error`);
    expectR('t.value', row.statistic, stats['t.value'], `${what} t value`);
    expectRPValue('p.value', row.pValue, stats['p.value'], `${what} p-value`);
    expectR('conf.low', row.confLow, stats['conf.low'], `${what} 2.5 %`);
    expectR('conf.high', row.confHigh, stats['conf.high'], `${what} 97.5 %`);
  }
  expectR('sigma', table.sigma, fit.sigma, `${label} sigma`);
  expectR('r.squared', table.r2, fit['r.squared'], `${label} r.squared`);
  expectR('adj.r.squared', table.adjR2, fit['adj.r.squared'], `${label} adj.r.squared`);
  expect(table.dfResidual).toBe(fit['df.residual']);
  expect(table.nobs).toBe(fit.n);
  expect(table.level).toBe(0.95);
  const p = Object.keys(fit.coefficients).length;
  expect(table.fDf).toEqual({ numerator: p - (fit.fitIntercept ? 1 : 0), denominator: fit['df.residual'] });
}

const references = rReferences();

describe.each(references)('$dataset', (reference) => {
  it.each(reference.models as RSummaryFit[])('$formula: the table of summary(lm)', (fit) => {
    const { design, states } = statesOf(`${reference.dataset}.r.csv`, fit);
    for (const { how, state } of states) {
      const label = `${reference.dataset} ${fit.formula} (${how})`;
      const table = tableOf(state, design.names, fit.fitIntercept);
      expectRTable(table, fit, label);
      // F and the log-likelihood as R computes them, from R's own R² and sigma: F = (R²/(p − i))/((1 − R²)/(n − p)),
      // RSS = sigma²·(n − p) in −n/2·(log 2π + 1 − log n + log RSS).
      const { numerator, denominator } = table.fDf;
      const r2 = fit['r.squared'];
      expectR('F (R formula)', table.fStatistic, r2 / numerator / ((1 - r2) / denominator), `${label} F`);
      const rss = fit.sigma ** 2 * denominator;
      const logLik = -0.5 * fit.n * (Math.log(2 * Math.PI) + 1 - Math.log(fit.n) + Math.log(rss));
      expectR('logLik (R formula)', table.logLik, logLik, `${label} logLik`);
      const parameters = Object.keys(fit.coefficients).length + 1;
      expectR('AIC (R formula)', table.aic, -2 * logLik + 2 * parameters, `${label} AIC`);
      expectR('BIC (R formula)', table.bic, -2 * logLik + Math.log(fit.n) * parameters, `${label} BIC`);
    }
  });
});

it('covers every fixture model: categories, missing values, and a model without an intercept', () => {
  const models = references.flatMap((reference) => reference.models);
  expect(models.length).toBeGreaterThanOrEqual(13);
  expect(models.some((fit) => !fit.fitIntercept)).toBe(true);
  expect(models.some((fit) => Object.keys(fit.levels).length > 0)).toBe(true);
  expect(models.some((fit) => fit.rowsDropped > 0)).toBe(true);
});

describe('Longley (NIST StRD), the classic ill-conditioned regression', () => {
  const longley = JSON.parse(rFixture('longley.summary.json').toString('utf8')) as { csv: string; nrow: number; models: LongleyFit[] };

  /**
   * NIST StRD's certified values for Longley (computed in 500-digit arithmetic): y = Employed on the six others
   * with an intercept; in R's names, with R's order.
   */
  const CERTIFIED = {
    coefficients: {
      '(Intercept)': [-3482258.63459582, 890420.383607373],
      'GNP.deflator': [15.0618722713733, 84.9149257747669],
      GNP: [-0.035819179292591, 0.0334910077722432],
      Unemployed: [-2.02022980381683, 0.488399681651699],
      'Armed.Forces': [-1.03322686717359, 0.214274163161675],
      Population: [-0.0511041056535807, 0.22607320006937],
      Year: [1829.15146461355, 455.478499142212],
    } as Record<string, [number, number]>,
    residualSd: 304.854073561965,
    r2: 0.995479004577296,
    f: 330.285339234588,
  };

  /** At least 7 significant digits: the log relative error of StRD, −log10(|x − c|/|c|), ≥ 7. */
  function expectCertified(quantity: string, actual: number | null | undefined, certified: number, what: string): void {
    expect(actual, what).toEqual(expect.any(Number));
    const difference = Math.abs(actual! - certified) / Math.abs(certified);
    record(`NIST ${quantity}`, difference, what);
    expect(difference, `${what}: ${actual} against NIST's ${certified}`).toBeLessThanOrEqual(1e-7);
  }

  it.each(longley.models)("$formula: R's summary, F, logLik, AIC, BIC and 99% intervals", (fit) => {
    const { design, states } = statesOf(longley.csv, fit);
    expect(states).toHaveLength(2);
    for (const { how, state } of states) {
      const label = `longley ${fit.formula} (${how})`;
      const table = tableOf(state, design.names, fit.fitIntercept);
      expectRTable(table, fit, label);
      expectR('F', table.fStatistic, fit.fstatistic.value, `${label} F`);
      expect(table.fDf).toEqual({ numerator: fit.fstatistic.numdf, denominator: fit.fstatistic.dendf });
      expectRPValue('F p-value', table.fPValue, fit['f.p.value'], `${label} F p-value`);
      expectR('logLik', table.logLik, fit.logLik, `${label} logLik`);
      expectR('AIC', table.aic, fit.AIC, `${label} AIC`);
      expectR('BIC', table.bic, fit.BIC, `${label} BIC`);
      expect(fit['logLik.df']).toBe(table.coefficients.length + 1);

      const at99 = tableOf(state, design.names, fit.fitIntercept, 0.99);
      expect(at99.level).toBe(0.99);
      for (const row of at99.coefficients) {
        const stats = fit.coefficientStats[row.term]!;
        expectR('conf.low 99%', row.confLow, stats['conf.low.99'], `${label} ${row.term} 0.5 %`);
        expectR('conf.high 99%', row.confHigh, stats['conf.high.99'], `${label} ${row.term} 99.5 %`);
        expect(row.pValue).toBe(table.coefficients.find((other) => other.term === row.term)!.pValue);
      }
    }
  });

  it("meets NIST's certified values to 7 significant digits", () => {
    const fit = longley.models.find((model) => model.formula === 'Employed ~ .')!;
    const { design, states } = statesOf(longley.csv, fit);
    for (const { how, state } of states) {
      const table = tableOf(state, design.names, true);
      expect(table.coefficients.map((row) => row.term)).toEqual(Object.keys(CERTIFIED.coefficients));
      for (const row of table.coefficients) {
        const [estimate, stdError] = CERTIFIED.coefficients[row.term]!;
        expectCertified('estimate', row.estimate, estimate, `${how} ${row.term} estimate`);
        expectCertified('std.error', row.stdError, stdError, `${how} ${row.term} std.error`);
      }
      expectCertified('residual SD', table.sigma, CERTIFIED.residualSd, `${how} residual SD`);
      expectCertified('R²', table.r2, CERTIFIED.r2, `${how} R²`);
      expectCertified('F', table.fStatistic, CERTIFIED.f, `${how} F`);
      expect(table.dfResidual).toBe(9);
    }
  });

  /** The rows of longley.csv.txt: the six features then Employed. */
  function longleyRows(): { x: number[]; y: number }[] {
    const lines = rFixture(longley.csv).toString('utf8').trim().split('\n').slice(1);
    expect(lines).toHaveLength(longley.nrow);
    return lines.map((line) => {
      const values = line.split(',').slice(1).map(Number);
      return { x: values.slice(0, 6), y: values[6]! };
    });
  }

  function stateOf(rows: { x: number[]; y: number }[], fitIntercept: boolean): TrainingState {
    const accumulator = new RegressionAccumulator(rows[0]!.x.length, fitIntercept);
    for (const { x, y } of rows) accumulator.add(x, y);
    return accumulator.state();
  }

  const NAMES = ['GNP.deflator', 'GNP', 'Unemployed', 'Armed.Forces', 'Population', 'Year'];

  it.each([
    { fitIntercept: true, rows: 7 },
    { fitIntercept: false, rows: 6 },
  ])('with no residual degrees of freedom ($rows rows, intercept $fitIntercept): nulls and a note, never NaN', ({ fitIntercept, rows }) => {
    const table = tableOf(stateOf(longleyRows().slice(0, rows), fitIntercept), NAMES, fitIntercept);
    expect(table.dfResidual).toBe(0);
    expect(table.nobs).toBe(rows);
    expect(table.note).toMatch(/^no residual degrees of freedom: 7 coefficients|^no residual degrees of freedom: 6 coefficients/);
    expect(table.note).toContain(`for ${rows} rows`);
    expect(table).toMatchObject({ sigma: null, adjR2: null, fStatistic: null, fPValue: null, logLik: null, aic: null, bic: null });
    expect(table.fDf).toEqual({ numerator: 6, denominator: 0 });
    expect(table.coefficients).toHaveLength(fitIntercept ? 7 : 6);
    for (const row of table.coefficients) {
      expect(row.estimate).toEqual(expect.any(Number));
      expect(row).toMatchObject({ stdError: null, statistic: null, pValue: null, confLow: null, confHigh: null });
    }
    // The fit is exact: R² is 1 up to rounding.
    expect(table.r2).toBeCloseTo(1, 9);
    expectNoNaN(table);
  });

  it('with a rank-deficient design: nulls and a note naming the aliased column; R², df and logLik on R’s rank', () => {
    // Population again, as a seventh column: R's lm gives it NA and otherwise the fit of Employed ~ . .
    const rows = longleyRows().map(({ x, y }) => ({ x: [...x, x[4]!], y }));
    const fit = longley.models.find((model) => model.formula === 'Employed ~ .')!;
    const table = tableOf(stateOf(rows, true), [...NAMES, 'Population.again'], true);
    expect(table.note).toMatch(/^the design is rank-deficient: Population\.again is a linear combination of the columns before/);
    expect(table.dfResidual).toBe(9);
    expect(table.fDf).toEqual({ numerator: 6, denominator: 9 });
    expect(table).toMatchObject({ sigma: null, fStatistic: null, fPValue: null });
    for (const row of table.coefficients) expect(row).toMatchObject({ stdError: null, statistic: null, pValue: null, confLow: null, confHigh: null });
    expectR('rank-deficient r2', table.r2, fit['r.squared'], 'rank-deficient Longley r.squared');
    expectR('rank-deficient adj r2', table.adjR2, fit['adj.r.squared'], 'rank-deficient Longley adj.r.squared');
    expectR('rank-deficient logLik', table.logLik, fit.logLik, 'rank-deficient Longley logLik');
    expectR('rank-deficient AIC', table.aic, fit.AIC, 'rank-deficient Longley AIC');
    expectNoNaN(table);
  });
});

describe('degenerate data never gives NaN', () => {
  function tableOfRows(rows: [number[], number][], fitIntercept: boolean): CoefficientTable {
    const accumulator = new RegressionAccumulator(rows[0]![0].length, fitIntercept);
    for (const [x, y] of rows) accumulator.add(x, y);
    return tableOf(accumulator.state(), ['x'], fitIntercept);
  }

  it('a target fitted exactly: sigma 0, intervals of width 0, no t, p or F, and a note', () => {
    const table = tableOfRows(
      [
        [[1], 3],
        [[2], 5],
        [[3], 7],
        [[4], 9],
      ],
      true,
    );
    expectNoNaN(table);
    expect(table.sigma).toBe(0);
    expect(table.note).toMatch(/fits every row exactly/);
    expect(table.fStatistic).toBeNull();
    expect(table.logLik).toBeNull();
    for (const row of table.coefficients)
      expect(row).toMatchObject({ stdError: 0, statistic: null, pValue: null, confLow: row.estimate, confHigh: row.estimate });
  });

  it('a constant target: R² undefined, and a note', () => {
    const table = tableOfRows(
      [
        [[1], 2],
        [[2], 2],
        [[3], 2],
        [[5], 2],
      ],
      true,
    );
    expectNoNaN(table);
    expect(table.r2).toBeNull();
    expect(table.adjR2).toBeNull();
    expect(table.note).toMatch(/the target is constant/);
  });

  it('a constant feature is aliased with the intercept', () => {
    const table = tableOfRows(
      [
        [[4], 1],
        [[4], 2],
        [[4], 4],
      ],
      true,
    );
    expectNoNaN(table);
    expect(table.note).toMatch(/rank-deficient: x is a linear combination/);
    expect(table.dfResidual).toBe(2);
    expect(table.fDf.numerator).toBe(0);
  });
});

it('refuses arguments that disagree with the state', () => {
  const accumulator = new RegressionAccumulator(2, true);
  for (const [x, y] of [
    [[1, 2], 1],
    [[2, 1], 3],
    [[3, 5], 2],
    [[4, 3], 5],
  ] as [number[], number][])
    accumulator.add(x, y);
  const state = accumulator.state();
  const model = { coefficients: [1, 2], intercept: 0 };
  expect(() => coefficientTable(state, model, { fitIntercept: true, names: ['a'] })).toThrow(RangeError);
  expect(() => coefficientTable(state, { coefficients: [1], intercept: 0 }, { fitIntercept: true, names: ['a', 'b'] })).toThrow(RangeError);
  for (const level of [0, 1, 1.5, Number.NaN])
    expect(() => coefficientTable(state, model, { fitIntercept: true, names: ['a', 'b'], level })).toThrow(RangeError);
});
