import { TrainingFailed, ValidationFailed } from './errors.js';
import { foldRow, packedIndex, packedLength } from './linalg.js';
import { type FitSpec, type FittedModel, fitStateWithReport, type SolverReport, type TrainingState } from './regression.js';

/**
 * A dataset's statistics, computed once by a parallel scan (docs/design.md, "The dataset
 * scan") and enough to fit any model on any of its columns without reading the
 * file again.
 *
 * For the k columns of a file, in header order, they are the row count n, the
 * column means μ and the upper-triangular factor R of the centred columns
 * (RᵀR = XcᵀXc), packed as in linalg.ts. Three exact operations work on them:
 * - a byte range of the file reduces to its own statistics through the one-pass
 *   accumulator of regression.ts (all columns as [x…, y]: its state is that factor);
 * - two ranges merge (TSQR): stacking R₁, R₂ and the row √(n₁n₂/n)(μ₂ - μ₁) and
 *   re-triangularising gives the factor of the union, since the centred scatter of
 *   a union is S₁ + S₂ + (n₁n₂/n) δδᵀ;
 * - a subset and order of columns S (features, then the target) reduces to the
 *   training state of that fit: the QR of R·S has the Gram matrix of Xc·S. Without
 *   an intercept the row √n·μS is folded in too (XᵀX = XcᵀXc + n μμᵀ).
 * Each is a sequence of Givens rotations, as one pass over the rows is, so fits
 * agree with the single pass to rounding (checked to 1e-12 by the unit tests).
 */

export interface ColumnStatistics {
  n: number;
  /** Mean of each column (zeros when n = 0). */
  means: number[];
  /** Packed k×k upper triangle R of the centred columns. */
  triangle: number[];
}

export function emptyStatistics(k: number): ColumnStatistics {
  return { n: 0, means: new Array<number>(k).fill(0), triangle: new Array<number>(packedLength(k)).fill(0) };
}

/** The statistics of an accumulator fed every column, the last as its target (a range of the scan). */
export function statisticsOfState(state: TrainingState): ColumnStatistics {
  return { n: state.n, means: [...state.xMeans, state.yMean], triangle: Array.from(state.triangle) };
}

/** Combines the statistics of two disjoint sets of rows into those of their union. */
export function mergeStatistics(a: ColumnStatistics, b: ColumnStatistics): ColumnStatistics {
  const k = a.means.length;
  if (b.means.length !== k) throw new Error(`cannot merge statistics of ${k} and ${b.means.length} columns`);
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const triangle = Float64Array.from(a.triangle);
  const row = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    row.fill(0);
    for (let j = i; j < k; j++) row[j] = b.triangle[packedIndex(k, i, j)]!;
    foldRow(triangle, k, row, i);
  }
  const weight = Math.sqrt((a.n * b.n) / n);
  const means = a.means.map((mean, j) => {
    const delta = b.means[j]! - mean;
    row[j] = weight * delta;
    return mean + delta * (b.n / n);
  });
  foldRow(triangle, k, row, 0);
  return { n, means, triangle: Array.from(triangle) };
}

/** Which columns a fit uses: indices into the dataset's columns. */
export interface ColumnSelection {
  features: readonly number[];
  target: number;
}

/** The training state (regression.ts) of one fit: the factor of [features, target], centred with an intercept. */
export function trainingStateOf(statistics: ColumnStatistics, selection: ColumnSelection, fitIntercept: boolean): TrainingState {
  const { n, means, triangle: r } = statistics;
  const k = means.length;
  const order = [...selection.features, selection.target];
  const m = order.length;
  const triangle = new Float64Array(packedLength(m));
  const row = new Float64Array(m);
  const last = Math.max(...order);
  for (let i = 0; i <= last; i++) {
    for (let c = 0; c < m; c++) {
      const column = order[c]!;
      row[c] = column >= i ? r[packedIndex(k, i, column)]! : 0;
    }
    foldRow(triangle, m, row, 0);
  }
  if (!fitIntercept) {
    const root = Math.sqrt(n);
    for (let c = 0; c < m; c++) row[c] = root * means[order[c]!]!;
    foldRow(triangle, m, row, 0);
  }
  let targetSquares = 0;
  for (let i = 0; i <= selection.target; i++) targetSquares += r[packedIndex(k, i, selection.target)]! ** 2;
  const centre = (column: number) => (fitIntercept ? means[column]! : 0);
  if (!triangle.every(Number.isFinite)) throw new TrainingFailed('NUMERIC_OVERFLOW', 'the data is too large or too small in magnitude for double precision');
  return {
    n,
    d: selection.features.length,
    triangle,
    xMeans: Float64Array.from(selection.features, centre),
    yMean: centre(selection.target),
    targetMean: means[selection.target]!,
    targetSquares,
  };
}

/** Fits one model from a dataset's statistics. */
export function fitStatistics(statistics: ColumnStatistics, selection: ColumnSelection, spec: FitSpec): { model: FittedModel; solver: SolverReport } {
  return fitStateWithReport(trainingStateOf(statistics, selection, spec.fitIntercept), spec);
}

/**
 * The features of a dataset job: `features` as given (checked), or every column but
 * the target in header order. Answers indices into `columns` as well as names.
 */
export function selectColumns(columns: readonly string[], target: string, features?: readonly string[]): ColumnSelection & { names: string[] } {
  const index = new Map(columns.map((name, i) => [name, i]));
  const targetIndex = index.get(target);
  if (targetIndex === undefined) {
    throw new ValidationFailed('target is not a column of the dataset', [
      { path: 'target', message: `must be one of the dataset's columns: ${columns.slice(0, 20).join(', ')}${columns.length > 20 ? ', …' : ''}` },
    ]);
  }
  if (features === undefined) {
    const names = columns.filter((name) => name !== target);
    return { names, features: names.map((name) => index.get(name)!), target: targetIndex };
  }
  const details: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  features.forEach((name, i) => {
    if (name === target) details.push({ path: `features.${i}`, message: 'is the target; a column cannot predict itself' });
    else if (!index.has(name)) details.push({ path: `features.${i}`, message: `${JSON.stringify(name)} is not a column of the dataset` });
    else if (seen.has(name)) details.push({ path: `features.${i}`, message: `${JSON.stringify(name)} is listed twice` });
    seen.add(name);
  });
  if (features.length === 0) details.push({ path: 'features', message: 'must name at least one column' });
  if (details.length > 0) throw new ValidationFailed('features must be distinct columns of the dataset other than the target', details);
  return { names: [...features], features: features.map((name) => index.get(name)!), target: targetIndex };
}
