import { fUpperTail, studentTQuantile, studentTTwoSided } from './distributions.js';
import { packedIndex, packedLength, residualSumOfSquares } from './linalg.js';
import { aliasedFeatures, type TrainingState } from './regression.js';

/**
 * The coefficient table of a least-squares fit, as R's `summary(lm(...))` prints it
 * (with `confint`, `logLik`, `AIC` and `BIC`), from the training state alone: no pass
 * over the rows.
 *
 * The state's factor [R | r] of [Xc, yc] (of [X, y] without an intercept) holds all of
 * it: RᵀR = XcᵀXc, the residual sum of squares is the corner², the fitted sum of
 * squares ‖r‖². So (XcᵀXc)⁻¹ = R⁻¹R⁻ᵀ, whose diagonal is the squared row norms of
 * R⁻¹ (inverted by back substitution), the slopes' variances are σ² times that, and
 * the intercept's is σ²(1/n + x̄ᵀ(XcᵀXc)⁻¹x̄) = σ²(1/n + ‖R⁻ᵀx̄‖²), a sum of positive
 * terms. Working from R keeps the condition number of X, as R's own `chol2inv` of its
 * QR factor does.
 *
 * R's definitions, p the number of coefficients (the intercept counted), n the rows:
 * - σ² = RSS/(n − p), the residual degrees of freedom n − p;
 * - R² = MSS/(MSS + RSS) with MSS the fitted sum of squares about the mean, or about 0
 *   without an intercept (R's uncentred R² then); adjusted R² = 1 − (1 − R²)(n − i)/(n − p),
 *   i = 1 with an intercept and 0 without;
 * - F = (MSS/(p − i))/σ² on p − i and n − p degrees of freedom, and its upper tail;
 * - log-likelihood −n/2·(log 2π + 1 − log n + log RSS), with p + 1 parameters (σ is
 *   one) in AIC = −2ℓ + 2(p + 1) and BIC = −2ℓ + log(n)(p + 1).
 *
 * Two states have no variance to estimate, and then every statistic that needs σ
 * (σ, standard errors, t, p-values, intervals, F) is null and `note` says why:
 * - no residual degrees of freedom (as many coefficients as rows): the fit is exact
 *   and its RSS is rounding; adjusted R² and the log-likelihood are null too;
 * - a rank-deficient design: a feature that is a linear combination of the ones
 *   before it (regression.ts `aliasedFeatures`, R's NA coefficients). R², adjusted R²
 *   and the log-likelihood stay, on R's rank, computed from the model's own residual
 *   sum of squares (‖r − Rw‖² + corner², exact whatever w is).
 */

export interface CoefficientRow {
  /** `(Intercept)` or the feature's name. */
  term: string;
  estimate: number;
  stdError: number | null;
  /** t = estimate / stdError. */
  statistic: number | null;
  /** Two-sided, on the residual degrees of freedom. */
  pValue: number | null;
  confLow: number | null;
  confHigh: number | null;
}

export interface CoefficientTable {
  /** `(Intercept)` first when fitted, then the features in order. */
  coefficients: CoefficientRow[];
  /** Residual standard error. */
  sigma: number | null;
  dfResidual: number;
  r2: number | null;
  adjR2: number | null;
  fStatistic: number | null;
  /** F's degrees of freedom: the coefficients but the intercept, and the residual ones. */
  fDf: { numerator: number; denominator: number };
  fPValue: number | null;
  logLik: number | null;
  aic: number | null;
  bic: number | null;
  nobs: number;
  /** The confidence level of the intervals. */
  level: number;
  /** Why some statistics are null, when they are. */
  note?: string;
}

export interface CoefficientTableOptions {
  /** Must match the state's (centred with an intercept, raw without). */
  fitIntercept: boolean;
  /** One per feature, in the state's order. */
  names: readonly string[];
  /** Of the confidence intervals, in (0, 1); default 0.95. */
  level?: number;
}

/**
 * R's `summary.lm` table of the least-squares fit `model` of `state` (its LINEAR fit:
 * `fitStateWithReport` with kind LINEAR). Never throws on the data, never answers NaN;
 * throws only when the arguments disagree with each other (a RangeError).
 */
export function coefficientTable(
  state: TrainingState,
  model: { coefficients: readonly number[]; intercept: number },
  options: CoefficientTableOptions,
): CoefficientTable {
  const { n, d, triangle } = state;
  const { fitIntercept, names, level = 0.95 } = options;
  const m = d + 1;
  if (names.length !== d) throw new RangeError(`${names.length} names for ${d} features`);
  if (model.coefficients.length !== d) throw new RangeError(`${model.coefficients.length} coefficients for ${d} features`);
  if (triangle.length !== packedLength(m)) throw new RangeError(`a factor of ${triangle.length} entries for ${d} features`);
  if (!(level > 0 && level < 1)) throw new RangeError(`the confidence level must lie strictly between 0 and 1, got ${level}`);

  const interceptTerms = fitIntercept ? 1 : 0;
  const aliased = aliasedFeatures(state);
  const rank = interceptTerms + d - aliased.length;
  const dfResidual = Math.max(0, n - rank);
  const fDf = { numerator: rank - interceptTerms, denominator: dfResidual };
  const notes: string[] = [];

  // The last column of the factor: the fitted part r (‖r‖² = MSS) and the corner (corner² = RSS).
  let mss = 0;
  for (let i = 0; i < d; i++) mss += triangle[packedIndex(m, i, d)]! ** 2;
  const corner = triangle[packedLength(m) - 1]!;
  const fullRank = aliased.length === 0;
  const rss = fullRank ? corner * corner : residualSumOfSquares(triangle, m, Float64Array.from(model.coefficients));
  const total = mss + corner * corner;

  let r2: number | null = null;
  if (total > 0) r2 = fullRank ? mss / total : Math.max(0, 1 - rss / total);
  else notes.push(`the target is ${fitIntercept ? 'constant' : 'zero in every row'}, so R² is not defined`);
  const adjR2 = r2 !== null && dfResidual > 0 ? 1 - ((1 - r2) * (n - interceptTerms)) / dfResidual : null;

  let logLik: number | null = null;
  let aic: number | null = null;
  let bic: number | null = null;
  if (dfResidual > 0 && rss > 0) {
    logLik = -0.5 * n * (Math.log(2 * Math.PI) + 1 - Math.log(n) + Math.log(rss));
    const parameters = rank + 1;
    aic = -2 * logLik + 2 * parameters;
    bic = -2 * logLik + Math.log(n) * parameters;
  }

  const estimates = fitIntercept ? [model.intercept, ...model.coefficients] : [...model.coefficients];
  const terms = fitIntercept ? ['(Intercept)', ...names] : [...names];
  const empty = (term: string, i: number): CoefficientRow => ({
    term,
    estimate: estimates[i]!,
    stdError: null,
    statistic: null,
    pValue: null,
    confLow: null,
    confHigh: null,
  });

  if (dfResidual === 0) {
    notes.unshift(
      `no residual degrees of freedom: ${rank} coefficients for ${n} rows fit them exactly, so the residual variance, and every statistic that needs it, cannot be estimated`,
    );
  }
  if (!fullRank) {
    const which = aliased.map((j) => names[j]!).join(', ');
    notes.unshift(
      `the design is rank-deficient: ${which} ${aliased.length === 1 ? 'is a linear combination' : 'are linear combinations'} of the columns before (R reports NA), so sigma, standard errors, t statistics, p-values, intervals and F are not given`,
    );
  }
  if (dfResidual === 0 || !fullRank) {
    return {
      coefficients: terms.map(empty),
      sigma: null,
      dfResidual,
      r2,
      adjR2,
      fStatistic: null,
      fDf,
      fPValue: null,
      logLik,
      aic,
      bic,
      nobs: n,
      level,
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    };
  }

  const sigma = Math.sqrt(rss / dfResidual);
  const variances = unscaledVariances(state, fitIntercept);
  const quantile = studentTQuantile((1 + level) / 2, dfResidual);
  const coefficients = terms.map((term, i): CoefficientRow => {
    const estimate = estimates[i]!;
    const stdError = sigma * Math.sqrt(variances[i]!);
    const statistic = finiteOrNull(estimate / stdError);
    const half = quantile * stdError;
    return {
      term,
      estimate,
      stdError: finiteOrNull(stdError),
      statistic,
      pValue: statistic === null ? null : finiteOrNull(studentTTwoSided(statistic, dfResidual)),
      confLow: finiteOrNull(estimate - half),
      confHigh: finiteOrNull(estimate + half),
    };
  });
  let fStatistic: number | null = null;
  let fPValue: number | null = null;
  if (fDf.numerator > 0) {
    fStatistic = finiteOrNull(mss / fDf.numerator / (sigma * sigma));
    fPValue = fStatistic === null ? null : finiteOrNull(fUpperTail(fStatistic, fDf.numerator, dfResidual));
  }
  if (sigma === 0) notes.push('the model fits every row exactly (residual sum of squares 0): t statistics, p-values and F are not defined');
  return {
    coefficients,
    sigma,
    dfResidual,
    r2,
    adjR2,
    fStatistic,
    fDf,
    fPValue,
    logLik,
    aic,
    bic,
    nobs: n,
    level,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}

/**
 * The diagonal of (XᵀX)⁻¹ in the table's order (the intercept first when fitted): the
 * squared row norms of V = R⁻¹, and for the intercept 1/n + ‖Vᵀx̄‖². R must be regular.
 */
function unscaledVariances(state: TrainingState, fitIntercept: boolean): number[] {
  const { n, d, triangle, xMeans } = state;
  const m = d + 1;
  // V = R⁻¹, upper triangular, dense row-major: column j solves R v = e_j by back substitution.
  const v = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    v[j * d + j] = 1 / triangle[packedIndex(m, j, j)]!;
    for (let i = j - 1; i >= 0; i--) {
      const start = packedIndex(m, i, i);
      let sum = 0;
      for (let k = i + 1; k <= j; k++) sum += triangle[start + k - i]! * v[k * d + j]!;
      v[i * d + j] = -sum / triangle[start]!;
    }
  }
  const slopes: number[] = [];
  for (let j = 0; j < d; j++) {
    let squares = 0;
    for (let k = j; k < d; k++) squares += v[j * d + k]! ** 2;
    slopes.push(squares);
  }
  if (!fitIntercept) return slopes;
  let intercept = 1 / n;
  for (let k = 0; k < d; k++) {
    let z = 0;
    for (let i = 0; i <= k; i++) z += v[i * d + k]! * xMeans[i]!;
    intercept += z * z;
  }
  return [intercept, ...slopes];
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
