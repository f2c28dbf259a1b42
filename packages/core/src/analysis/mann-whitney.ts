/**
 * The two-sample Wilcoxon rank-sum (Mann-Whitney U) test, two-sided, as R computes
 * `wilcox.test(x, y, exact = FALSE, correct = TRUE, conf.int = TRUE, conf.level)`:
 * normal approximation with continuity correction and ties correction for the p-value; the
 * confidence interval for the location shift x - y by inverting the corrected statistic with
 * `uniroot` (tol 1e-4); the estimate (Hodges-Lehmann-like) as the root of the *uncorrected*
 * statistic (R sets `correct <- FALSE` before that last uniroot). Kayenta's MannWhitney.scala is a
 * port of the same R code. Where R stops with an error this throws a RankSumError with R's message.
 *
 * Speed: each evaluation of the statistic at a shift d merges the sorted x - d with the sorted y
 * (O(n), no re-sort); subtracting d keeps x sorted because rounding is monotonic.
 */
import { pnormBoth, qnorm } from './normal';
import { zeroin } from './zeroin';

export interface RankSumResult {
  /** R's W: the rank sum of x minus n.x (n.x + 1) / 2. */
  statistic: number;
  pValue: number;
  /** Confidence interval for the shift in location x - y. */
  confInt: [number, number];
  /** R's "difference in location". */
  estimate: number;
}

export class RankSumError extends Error {}

const TOL_ROOT = 1e-4;

/** qnorm(p, lower.tail = FALSE), memoized: the judge asks for the same level every time. */
const quantiles = new Map<number, number>();
function quantile(p: number): number {
  let q = quantiles.get(p);
  if (q === undefined) {
    q = qnorm(p, false);
    quantiles.set(p, q);
  }
  return q;
}

/**
 * Rank sum of x and the ties term sum(t^3 - t) for x shifted by d, merged with y (both sorted).
 * A merge that takes each run of equal values at once: average ranks for ties, as R's rank().
 */
function rankSums(xs: Float64Array, ys: Float64Array, d: number, out: { sumX: number; ties: number }): void {
  const nx = xs.length;
  const ny = ys.length;
  let i = 0;
  let j = 0;
  let position = 0; // ranks used so far
  let sumX = 0;
  let ties = 0;
  let xv = nx > 0 ? xs[0] - d : 0;
  let yv = ny > 0 ? ys[0] : 0;
  while (i < nx || j < ny) {
    if (j >= ny || (i < nx && xv < yv)) {
      // The smallest value is an x that no y equals.
      const v = xv;
      let t = 0;
      do {
        t++;
        i++;
        if (i < nx) xv = xs[i] - d;
      } while (i < nx && xv === v);
      if (t === 1) sumX += ++position;
      else {
        sumX += t * (position + (t + 1) / 2);
        ties += t * t * t - t;
        position += t;
      }
    } else if (i >= nx || yv < xv) {
      const v = yv;
      let t = 0;
      do {
        t++;
        j++;
        if (j < ny) yv = ys[j];
      } while (j < ny && yv === v);
      if (t > 1) ties += t * t * t - t;
      position += t;
    } else {
      // An x and a y tie.
      const v = xv;
      let inX = 0;
      let inY = 0;
      do {
        inX++;
        i++;
        if (i < nx) xv = xs[i] - d;
      } while (i < nx && xv === v);
      do {
        inY++;
        j++;
        if (j < ny) yv = ys[j];
      } while (j < ny && yv === v);
      const t = inX + inY;
      sumX += inX * (position + (t + 1) / 2);
      ties += t * t * t - t;
      position += t;
    }
  }
  out.sumX = sumX;
  out.ties = ties;
}

function withoutNaN(values: readonly number[]): Float64Array {
  return Float64Array.from(values.filter((v) => !Number.isNaN(v))).sort();
}

export function rankSumTest(x: readonly number[], y: readonly number[], confLevel = 0.95): RankSumResult {
  return rankSumTestSorted(withoutNaN(x), withoutNaN(y), confLevel);
}

/** The same test on samples already sorted ascending and free of NaN (the judge sorts once). */
export function rankSumTestSorted(xs: Float64Array, ys: Float64Array, confLevel = 0.95): RankSumResult {
  if (xs.length < 1) throw new RankSumError("not enough (non-missing) 'x' observations");
  if (ys.length < 1) throw new RankSumError("not enough 'y' observations");
  const nx = xs.length;
  const ny = ys.length;
  const sigmaOf = (ties: number) => Math.sqrt(((nx * ny) / 12) * (nx + ny + 1 - ties / ((nx + ny) * (nx + ny - 1))));

  const atZero = { sumX: 0, ties: 0 };
  rankSums(xs, ys, 0, atZero);
  const statistic = atZero.sumX - (nx * (nx + 1)) / 2;
  let z = statistic - (nx * ny) / 2;
  z = (z - Math.sign(z) * 0.5) / sigmaOf(atZero.ties);
  // R: 2 * min(pnorm(z), pnorm(z, lower.tail = FALSE)). The smaller tail is the one on z's side, and
  // R computes it with the matching lower_tail flag; one call with that flag gives the same double.
  const tails = pnormBoth(z, z < 0);
  const pValue = 2 * Math.min(tails[0], tails[1]);

  let correct = true;
  const sums = { sumX: 0, ties: 0 };
  const W = (d: number): number => {
    rankSums(xs, ys, d, sums);
    const { sumX, ties } = sums;
    const dz = sumX - (nx * (nx + 1)) / 2 - (nx * ny) / 2;
    const correction = correct ? Math.sign(dz) * 0.5 : 0;
    return (dz - correction) / sigmaOf(ties);
  };
  const alpha = 1 - confLevel;
  const muMin = xs[0] - ys[ny - 1];
  const muMax = xs[nx - 1] - ys[0];
  const wMin = W(muMin);
  const atMin = { ...sums };
  const wMax = W(muMax);
  const atMax = { ...sums };
  const root = (zq: number): number => {
    const fLower = wMin - zq;
    if (Number.isNaN(fLower)) throw new RankSumError('missing value where TRUE/FALSE needed');
    if (fLower <= 0) return muMin;
    const fUpper = wMax - zq;
    if (Number.isNaN(fUpper)) throw new RankSumError('missing value where TRUE/FALSE needed');
    if (fUpper >= 0) return muMax;
    return zeroin(muMin, muMax, fLower, fUpper, (d) => W(d) - zq, TOL_ROOT);
  };
  const upper = quantile(alpha / 2);
  const confInt: [number, number] = [root(upper), root(-upper)];

  correct = false;
  if (!(muMin < muMax)) throw new RankSumError('lower < upper  is not fulfilled');
  // The uncorrected statistic at the ends reuses their rank sums (a merge each saved).
  const uncorrected = (at: { sumX: number; ties: number }) => (at.sumX - (nx * (nx + 1)) / 2 - (nx * ny) / 2) / sigmaOf(at.ties);
  const fLower = uncorrected(atMin);
  const fUpper = uncorrected(atMax);
  if (Number.isNaN(fLower)) throw new RankSumError('f.lower = f(lower) is NA');
  if (Number.isNaN(fUpper)) throw new RankSumError('f.upper = f(upper) is NA');
  if (!(Math.sign(fLower) * Math.sign(fUpper) <= 0)) throw new RankSumError('f() values at end points not of opposite sign');
  const estimate = zeroin(muMin, muMax, fLower, fUpper, W, TOL_ROOT);
  return { statistic, pValue, confInt, estimate };
}
