import betainc from '@stdlib/math-base-special-betainc';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/**
 * The tail probabilities and quantiles behind a coefficient table (inference.ts): the
 * two-sided p-value of a t statistic, the upper tail of an F statistic, and the t
 * quantile of a confidence interval.
 *
 * They come from a library (stdlib's regularized incomplete beta I_x(a, b) and its
 * inverse) rather than from code of our own because what is hard is accuracy in the
 * far tails: a coefficient estimated very precisely has a t statistic of 30 or 40 and
 * a p-value of 1e-200 or 1e-300, which must come out with nearly every digit for any
 * degrees of freedom from 1 to millions, and that takes a carefully built incomplete
 * beta (power terms that do not overflow or cancel, several series and continued
 * fractions chosen by region). Each tail is written as one I_x(a, b) taken on its small
 * side, never as 1 − cdf, so a tiny p-value keeps its relative accuracy (1 − cdf has
 * no digit left below 1e-16).
 *
 * Two regions are steered around the library, as the test against R found them
 * (test/unit/src/domain/distributions.test.ts):
 * - its complement 1 − I_y(1/2, 1/2) is off for y below about 1e-12 (3e-9 at 1e-16;
 *   t near 0 with df = 1): where I_y is below one half the complement is taken as
 *   1 − I_y, which loses nothing there (`complement`);
 * - with both parameters integers it sums a binomial series from powers of a rounded
 *   1 − x, which costs up to (a + b)·1e-16 relative (3e-11 at 1e6 residual degrees of
 *   freedom), and its fallback when the first term underflows answers 0 for tails R
 *   gives as 6e-279 or 2e-297: the F tail with even degrees of freedom is summed here
 *   instead (`evenFUpperTail`).
 * The test holds all three functions to R's pt, pf and qt to 1e-12 relative
 * (test/fixtures/r/distributions.json, written by scripts/distribution-fixtures.R).
 */

/**
 * 1 − I_y(a, b) for y ≤ 1/2: the library's complement where it is small, 1 − I_y
 * where that is larger than one half (and so has no digit to lose).
 */
function complement(y: number, a: number, b: number): number {
  const lower = betainc(y, a, b);
  return lower < 0.5 ? 1 - lower : betainc(y, a, b, true, true);
}

/**
 * 2·P(T > |t|) for Student's t with `df` degrees of freedom (R's `2*pt(-abs(t), df)`):
 * I_{df/(df+t²)}(df/2, 1/2). When t² < df that x is above one half and rounding it
 * would cost digits, so the same value is taken as the complement 1 − I_y(1/2, df/2)
 * of y = t²/(df+t²), computed without forming 1 − x (as R's pt does).
 * NaN for a NaN argument or a df that is not finite and > 0; 1 at t = 0, 0 at |t| = ∞.
 */
export function studentTTwoSided(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0 && df < Infinity)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  if (t2 < df) return complement(t2 / (df + t2), 0.5, df / 2);
  return betainc(df / (df + t2), df / 2, 0.5);
}

/**
 * P(F > f) for Fisher's F with `d1` and `d2` degrees of freedom (R's
 * `pf(f, d1, d2, lower.tail = FALSE)`): I_{d2/(d2+d1·f)}(d2/2, d1/2), taken as the
 * complement 1 − I_y(d1/2, d2/2) of y = d1·f/(d2+d1·f) when d1·f < d2, as in
 * `studentTTwoSided`. NaN for a NaN argument or degrees of freedom that are not finite
 * and > 0; 1 for f ≤ 0, 0 at f = ∞.
 */
export function fUpperTail(f: number, d1: number, d2: number): number {
  if (Number.isNaN(f) || !(d1 > 0 && d1 < Infinity) || !(d2 > 0 && d2 < Infinity)) return Number.NaN;
  if (f <= 0) return 1;
  if (!Number.isFinite(f)) return 0;
  const scaled = d1 * f;
  if (d1 % 2 === 0 && d2 % 2 === 0 && d1 <= MAX_SUMMED_D1) return evenFUpperTail(scaled, d1, d2);
  if (scaled < d2) return complement(scaled / (d2 + scaled), d1 / 2, d2 / 2);
  return betainc(d2 / (d2 + scaled), d2 / 2, d1 / 2);
}

/** The longest finite sum `fUpperTail` runs (d1/2 terms): a model has far fewer terms. */
const MAX_SUMMED_D1 = 100_000;

/**
 * P(F > f) for even d1 and d2, from s = d1·f. With b = d1/2 an integer, I_x(a, b) is a
 * finite sum: Σ_{k<b} Γ(a+k)/(Γ(a)·k!)·x^a·y^k, x = d2/(d2+s), y = s/(d2+s) = 1 − x,
 * a = d2/2. Every term is positive, x^a is exp(−a·log1p(s/d2)) and y is formed
 * directly, so nothing cancels and the sum keeps its relative accuracy however small
 * it is. The terms are added in logarithms, scaled by the largest, so that none
 * overflows or underflows on the way. O(d1) work.
 */
function evenFUpperTail(s: number, d1: number, d2: number): number {
  const a = d2 / 2;
  const b = d1 / 2;
  const logY = Math.log(s / (d2 + s));
  const logs = new Float64Array(b);
  let log = -a * Math.log1p(s / d2);
  let top = log;
  logs[0] = log;
  for (let k = 1; k < b; k++) {
    log += Math.log((a + k - 1) / k) + logY;
    logs[k] = log;
    if (log > top) top = log;
  }
  let sum = 0;
  for (let k = 0; k < b; k++) sum += Math.exp(logs[k]! - top);
  return Math.min(1, Math.exp(top + Math.log(sum)));
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom (R's `qt(p, df)`): the
 * library inverts I_x(df/2, 1/2) at 2·min(p, 1 − p). NaN outside 0 ≤ p ≤ 1 or for a
 * df that is not finite and > 0.
 */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || !(df > 0 && df < Infinity) || p < 0 || p > 1) return Number.NaN;
  return tQuantile(p, df);
}
