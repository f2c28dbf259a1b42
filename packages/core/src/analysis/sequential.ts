/**
 * Anytime-valid tests: the analysis may look at every interval and stop a bad canary as soon as the
 * evidence suffices, while the chance of stopping a good one stays below alpha over all the looks.
 *
 * Each test is an e-process: a nonnegative process that, while the canary is no worse than the
 * baseline (the null), is a supermartingale starting at 1. Ville's inequality then bounds the chance
 * that it EVER reaches 1/alpha by alpha, however often it is looked at. Each process here is a mixture
 * (an average) of test martingales over a fixed grid of alternatives, which is again one; this is the
 * mixture-martingale construction of Lindon, Sanden and Shirikian (KDD 2022, "Rapid regression
 * detection in software deployments through sequential testing") and of confidence sequences, with
 * a discrete mixing distribution so every number can be recomputed by hand.
 *
 * Continuous metrics (latency, CPU, memory, custom) are compared interval by interval: the canary's
 * and the baseline's value of the same interval form a pair, so a load swing that hits both cancels.
 * With X = log(canary / (allowed x baseline)) (direction increase), the bet uses
 * Y = clip(X / ln 2, -1, 1): a canary at twice the allowed level wins a whole unit. The null is that
 * X is symmetric about a point <= 0 given the past (the canary is not systematically above
 * `allowed` x the baseline); then E[Y] <= 0, because clip is monotone and odd, and each factor
 * 1 + lambda Y has expectation <= 1 (betting martingale, Waudby-Smith and Ramdas, JRSS-B 2024).
 * Values that are not positive fall back to the sign of canary - allowed x baseline.
 *
 * Everything here is pure and deterministic: the same window's data gives the same path, so any
 * replica that takes the judgement over recomputes exactly the same decision.
 */

/** Bet sizes mixed with equal weight: small ones for long, noisy windows, large ones for blatant regressions. */
export const BET_SIZES: readonly number[] = [0.1, 0.25, 0.5, 0.75, 0.9];

/** One pair of the same interval, canary and baseline. */
export interface Pair {
  canary: number;
  baseline: number;
}

/** The path of an e-process over the looks: its value after each look and its running maximum. */
export interface EProcessPath {
  /** Value after the last look. */
  value: number;
  /** Largest value at any look (what Ville's inequality bounds). */
  max: number;
  /** 1-based look at which the process first reached `threshold`, if it did. */
  crossedAt?: number;
  looks: number;
}

/** Direction-aware bet outcome of one pair, in [-1, 1]. */
export function pairOutcome(pair: Pair, direction: 'increase' | 'decrease', allowed: number): number {
  const { canary, baseline } = pair;
  if (canary > 0 && baseline > 0) {
    const x = direction === 'increase' ? Math.log(canary / (allowed * baseline)) : Math.log((allowed * baseline) / canary);
    return Math.max(-1, Math.min(1, x / Math.LN2));
  }
  const d = direction === 'increase' ? canary - allowed * baseline : allowed * baseline - canary;
  return Math.sign(d);
}

/**
 * The betting e-process over a sequence of outcomes in [-1, 1]: the average over BET_SIZES of
 * prod(1 + lambda y). Computed in logs so that long windows neither overflow nor underflow.
 */
export function bettingPath(outcomes: readonly number[], threshold: number): EProcessPath {
  const logs = BET_SIZES.map(() => 0);
  let max = 1;
  let value = 1;
  let crossedAt: number | undefined;
  outcomes.forEach((y, i) => {
    for (let k = 0; k < BET_SIZES.length; k++) logs[k] += Math.log1p(BET_SIZES[k] * y);
    value = meanOfExp(logs);
    if (value > max) max = value;
    if (crossedAt === undefined && value >= threshold) crossedAt = i + 1;
  });
  const path: EProcessPath = { value, max, looks: outcomes.length };
  if (crossedAt !== undefined) path.crossedAt = crossedAt;
  return path;
}

/** log-sum-exp average: mean(exp(logs)) without overflow. */
export function meanOfExp(logs: readonly number[]): number {
  const top = Math.max(...logs);
  if (top === -Infinity) return 0;
  let sum = 0;
  for (const l of logs) sum += Math.exp(l - top);
  return Math.exp(top) * (sum / logs.length);
}

/**
 * The e-process of a continuous metric over its pairs. Direction `either` averages the two one-sided
 * processes (an average of e-processes under the same null is one).
 */
export function pairedPath(pairs: readonly Pair[], direction: 'increase' | 'decrease' | 'either', allowedIncrease: number, allowedDecrease: number, threshold: number): EProcessPath {
  if (direction !== 'either') {
    return bettingPath(pairs.map((p) => pairOutcome(p, direction, direction === 'increase' ? allowedIncrease : allowedDecrease)), threshold);
  }
  const up = pairs.map((p) => pairOutcome(p, 'increase', allowedIncrease));
  const down = pairs.map((p) => pairOutcome(p, 'decrease', allowedDecrease));
  const upLogs = BET_SIZES.map(() => 0);
  const downLogs = BET_SIZES.map(() => 0);
  let value = 1;
  let max = 1;
  let crossedAt: number | undefined;
  for (let i = 0; i < pairs.length; i++) {
    for (let k = 0; k < BET_SIZES.length; k++) {
      upLogs[k] += Math.log1p(BET_SIZES[k] * up[i]);
      downLogs[k] += Math.log1p(BET_SIZES[k] * down[i]);
    }
    value = (meanOfExp(upLogs) + meanOfExp(downLogs)) / 2;
    if (value > max) max = value;
    if (crossedAt === undefined && value >= threshold) crossedAt = i + 1;
  }
  const path: EProcessPath = { value, max, looks: pairs.length };
  if (crossedAt !== undefined) path.crossedAt = crossedAt;
  return path;
}

/**
 * Pairs canary and baseline samples of the same interval: by timestamp when both have times, else by
 * position. Points that are not finite, or that only one scope has, are left out.
 */
export function pairSamples(canary: readonly number[], baseline: readonly number[], times?: { canary: readonly number[]; baseline: readonly number[] }): Pair[] {
  const pairs: Pair[] = [];
  if (times && times.canary.length === canary.length && times.baseline.length === baseline.length) {
    const byTime = new Map<number, number>();
    baseline.forEach((v, i) => byTime.set(times.baseline[i], v));
    canary.forEach((c, i) => {
      const b = byTime.get(times.canary[i]);
      if (b !== undefined && Number.isFinite(c) && Number.isFinite(b)) pairs.push({ canary: c, baseline: b });
    });
    return pairs;
  }
  const n = Math.min(canary.length, baseline.length);
  for (let i = 0; i < n; i++) if (Number.isFinite(canary[i]) && Number.isFinite(baseline[i])) pairs.push({ canary: canary[i], baseline: baseline[i] });
  return pairs;
}
