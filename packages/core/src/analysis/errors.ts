/**
 * Error rates judged as counts, not as a mean of per-interval percentages: the window's request and
 * 5xx totals of canary and baseline (istio_requests_total, reporter="destination").
 *
 * The model: errors are rare events, so each scope's 5xx count in an interval is close to Poisson with
 * mean requests x error rate. Given the interval's total of errors e = e_canary + e_baseline, the
 * canary's share is then Binomial(e, rho) with
 *   rho(theta) = theta n_canary / (theta n_canary + n_baseline),  theta = canary rate / baseline rate.
 * Conditioning on e removes the unknown baseline rate: only theta is left. The null is
 * theta <= maxRatio (the tolerance); the canary fails when the evidence says theta > maxRatio AND its
 * rate is more than `maxIncrease` percentage points above the baseline's (both: a 3x rise from 0.001%
 * is not worth a rollback, nor is +0.2 points on a baseline at 5%).
 *
 * - Fixed window (`mode: fixed`): the exact one-sided conditional binomial test on the window's totals,
 *   p = P(X >= e_canary | e, rho(maxRatio)), fails at p < alpha.
 * - Sequential: a mixture of likelihood ratios rho(theta1)/rho(maxRatio) over a grid of theta1 above
 *   maxRatio, interval by interval. For one error with canary share q <= rho(maxRatio) each ratio has
 *   expectation q r1/r0 + (1-q)(1-r1)/(1-r0) <= 1 (linear in q, 1 at q = r0, increasing), so the
 *   product is a test supermartingale under the whole null theta <= maxRatio and Ville's inequality
 *   applies (see sequential.ts).
 * Prometheus' increase() extrapolates, so counts arrive as decimals: they are rounded to whole
 * requests and errors first.
 */
import { EProcessPath, meanOfExp } from './sequential';

/** One interval's (or a window's) requests and 5xx responses of one scope. */
export interface Counts {
  requests: number;
  errors: number;
}

/** Alternatives mixed with equal weight, as multiples of maxRatio. */
export const RATIO_GRID: readonly number[] = [2, 4, 8, 16, 32];

const whole = (v: number) => (Number.isFinite(v) && v > 0 ? Math.round(v) : 0);

export function totals(intervals: readonly Counts[]): Counts {
  let requests = 0;
  let errors = 0;
  for (const c of intervals) {
    requests += whole(c.requests);
    errors += Math.min(whole(c.errors), whole(c.requests));
  }
  return { requests, errors };
}

/** Error rate in percent of requests, or null without requests. */
export const errorPercent = (c: Counts): number | null => (c.requests > 0 ? (100 * c.errors) / c.requests : null);

const share = (theta: number, nCanary: number, nBaseline: number) => (theta * nCanary) / (theta * nCanary + nBaseline);

/**
 * The sequential e-process over intervals (index-aligned canary and baseline counts). `crossedAt`
 * counts looks at which both the e-value reached `threshold` and the cumulative rates differ by more
 * than maxIncrease points.
 */
export function errorsPath(canary: readonly Counts[], baseline: readonly Counts[], maxRatio: number, maxIncrease: number, threshold: number): EProcessPath {
  const logs = RATIO_GRID.map(() => 0);
  const n = Math.min(canary.length, baseline.length);
  let value = 1;
  let max = 1;
  let crossedAt: number | undefined;
  const sumC = { requests: 0, errors: 0 };
  const sumB = { requests: 0, errors: 0 };
  for (let i = 0; i < n; i++) {
    const c = totals([canary[i]]);
    const b = totals([baseline[i]]);
    sumC.requests += c.requests;
    sumC.errors += c.errors;
    sumB.requests += b.requests;
    sumB.errors += b.errors;
    // An interval where either scope had no requests says nothing about their ratio.
    if (c.requests > 0 && b.requests > 0 && c.errors + b.errors > 0) {
      const r0 = share(maxRatio, c.requests, b.requests);
      RATIO_GRID.forEach((g, k) => {
        const r1 = share(maxRatio * g, c.requests, b.requests);
        logs[k] += c.errors * Math.log(r1 / r0) + b.errors * Math.log((1 - r1) / (1 - r0));
      });
      value = meanOfExp(logs);
      if (value > max) max = value;
    }
    const gap = (errorPercent(sumC) ?? 0) - (errorPercent(sumB) ?? 0);
    if (crossedAt === undefined && value >= threshold && gap > maxIncrease) crossedAt = i + 1;
  }
  const path: EProcessPath = { value, max, looks: n };
  if (crossedAt !== undefined) path.crossedAt = crossedAt;
  return path;
}

/** The fixed-window test: exact one-sided conditional binomial p-value of the canary's errors. */
export function errorsPValue(canary: Counts, baseline: Counts, maxRatio: number): number {
  const e = canary.errors + baseline.errors;
  if (e === 0 || canary.requests === 0 || baseline.requests === 0) return 1;
  return binomialUpperTail(canary.errors, e, share(maxRatio, canary.requests, baseline.requests));
}

/** P(X >= k) for X ~ Binomial(n, p), summed in logs from k up (terms shrink fast past the mode). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  const logTerm = (x: number) => logChoose(n, x) + x * logP + (n - x) * logQ;
  const logs: number[] = [];
  for (let x = k; x <= n; x++) {
    const l = logTerm(x);
    logs.push(l);
    if (x > n * p && l < logs[0] - 40) break;
  }
  return Math.min(1, meanOfExp(logs) * logs.length);
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits). */
export function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}
