/**
 * Classifies one metric by comparing the canary's samples with the baseline's, in the manner of
 * Kayenta's NetflixACAJudge (MannWhitneyClassifier, tolerance 0.25, 98% confidence):
 * High when the whole confidence interval of the shift canary - baseline lies above
 * 0.25 x |estimate| and the mean ratio canary/baseline reaches allowedIncrease (default 1); Low
 * symmetrically with allowedDecrease; only in the metric's fail direction. The threshold judge
 * compares the canary's mean with absolute bounds and with the baseline's mean (ratio bounds).
 *
 * Deliberate differences from Kayenta (docs/analysis.md):
 * - Constant series: Kayenta adds random noise so R can compute an interval; the judge is
 *   deterministic instead: two constant series compare by their values (then the ratio gate).
 * - The test runs on samples scaled to |max| = 1 and the interval is scaled back: R's uniroot
 *   tolerance (1e-4) is absolute, which would blur metrics measured in small units (cores, 1e-6 s).
 * - Infinite values are removed with NaN (PromQL yields +Inf/NaN for empty histograms and 0/0).
 */
import { RankSumError, rankSumTestSorted } from './mann-whitney';
import { NormalizedMetric } from './normalized';
import { finiteOrNull, mean, summarize, SampleSummary, sortedUsable } from './summary';

export type Classification = 'Pass' | 'High' | 'Low' | 'Nodata' | 'NodataFail';

export const CONFIDENCE_LEVEL = 0.98;
export const TOLERANCE = 0.25;

export interface MetricClassification {
  classification: Classification;
  /** Why, in words, for the status body and logs. */
  reason: string;
  canary: SampleSummary;
  baseline: SampleSummary;
  /** canary mean / baseline mean, null when undefined. */
  ratio: number | null;
  /** The rank-sum test's interval for canary - baseline and its estimate, when the test ran. */
  test?: { pValue: number; confInt: [number, number]; estimate: number };
}

const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;

function sameValues(x: Float64Array, y: Float64Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const isConstant = (sorted: Float64Array) => sorted[0] === sorted[sorted.length - 1];

/** High/Low/Pass given where the shift lies (above: +1, below: -1, neither: 0) and the ratio gates. */
function decide(metric: NormalizedMetric, side: number, ratio: number, evidence: string): { classification: Classification; reason: string } {
  const judge: { allowedIncrease?: number; allowedDecrease?: number } = metric.judge.type === 'statistical' ? metric.judge : {};
  const allowedIncrease = judge.allowedIncrease ?? 1;
  const allowedDecrease = judge.allowedDecrease ?? 1;
  const gateOpen = (limit: number, above: boolean) => Number.isNaN(ratio) || (above ? ratio >= limit : ratio <= limit);
  const ratioText = Number.isFinite(ratio) ? ` (mean ${percent(ratio)})` : '';
  if (side > 0 && metric.direction !== 'decrease') {
    if (gateOpen(allowedIncrease, true)) return { classification: 'High', reason: `canary is higher than baseline${ratioText}: ${evidence}` };
    return { classification: 'Pass', reason: `canary is higher${ratioText} but within allowedIncrease ${allowedIncrease}` };
  }
  if (side < 0 && metric.direction !== 'increase') {
    if (gateOpen(allowedDecrease, false)) return { classification: 'Low', reason: `canary is lower than baseline${ratioText}: ${evidence}` };
    return { classification: 'Pass', reason: `canary is lower${ratioText} but within allowedDecrease ${allowedDecrease}` };
  }
  if (side !== 0) return { classification: 'Pass', reason: `canary is ${side > 0 ? 'higher' : 'lower'}${ratioText}, which direction ${metric.direction} allows` };
  return { classification: 'Pass', reason: `no significant difference${ratioText}: ${evidence}` };
}

function nodata(metric: NormalizedMetric, which: string): { classification: Classification; reason: string } {
  const classification: Classification = metric.nodata === 'pass' ? 'Nodata' : 'NodataFail';
  return { classification, reason: `no data for the ${which} (nodata: ${metric.nodata})` };
}

function statistical(metric: NormalizedMetric, canary: Float64Array, baseline: Float64Array, ratio: number): Omit<MetricClassification, 'canary' | 'baseline' | 'ratio'> {
  if (sameValues(canary, baseline)) return { classification: 'Pass', reason: 'canary and baseline samples are identical' };
  if (isConstant(canary) && isConstant(baseline)) {
    return decide(metric, Math.sign(canary[0] - baseline[0]), ratio, `both constant (${canary[0]} vs ${baseline[0]})`);
  }
  const scale = Math.max(Math.abs(canary[0]), Math.abs(canary[canary.length - 1]), Math.abs(baseline[0]), Math.abs(baseline[baseline.length - 1]));
  let result;
  try {
    result = rankSumTestSorted(canary.map((v) => v / scale), baseline.map((v) => v / scale), CONFIDENCE_LEVEL);
  } catch (error) {
    // Where R's wilcox.test stops (one point against a few tied ones, say), there is no interval to
    // judge by: that is missing evidence, never a pass.
    if (!(error instanceof RankSumError)) throw error;
    return { ...nodata(metric, 'rank-sum test'), reason: `too few distinct points for the rank-sum test (${canary.length} canary, ${baseline.length} baseline: ${error.message}); nodata: ${metric.nodata}` };
  }
  const confInt: [number, number] = [result.confInt[0] * scale, result.confInt[1] * scale];
  const estimate = result.estimate * scale;
  const bound = TOLERANCE * Math.abs(estimate);
  const side = confInt[0] > bound ? 1 : confInt[1] < -bound ? -1 : 0;
  const evidence = `98% interval of the shift [${confInt[0].toPrecision(3)}, ${confInt[1].toPrecision(3)}]`;
  return { ...decide(metric, side, ratio, evidence), test: { pValue: result.pValue, confInt, estimate } };
}

function threshold(metric: NormalizedMetric, canaryMean: number, baselineMean: number, ratio: number): { classification: Classification; reason: string } {
  const judge: { min?: number; max?: number; minRatio?: number; maxRatio?: number; maxIncrease?: number; maxDecrease?: number } = metric.judge.type === 'threshold' ? metric.judge : {};
  const value = canaryMean.toPrecision(4);
  if (judge.max !== undefined && canaryMean > judge.max) return { classification: 'High', reason: `canary mean ${value} is above max ${judge.max}` };
  if (judge.min !== undefined && canaryMean < judge.min) return { classification: 'Low', reason: `canary mean ${value} is below min ${judge.min}` };
  if (judge.maxRatio !== undefined && ratio > judge.maxRatio) return { classification: 'High', reason: `canary/baseline ${ratio.toPrecision(3)} is above maxRatio ${judge.maxRatio}` };
  if (judge.maxIncrease !== undefined && canaryMean - baselineMean > judge.maxIncrease) {
    return { classification: 'High', reason: `canary ${value} is more than ${judge.maxIncrease} above the baseline's ${baselineMean.toPrecision(4)}` };
  }
  if (judge.maxDecrease !== undefined && baselineMean - canaryMean > judge.maxDecrease) {
    return { classification: 'Low', reason: `canary ${value} is more than ${judge.maxDecrease} below the baseline's ${baselineMean.toPrecision(4)}` };
  }
  if (judge.minRatio !== undefined && ratio < judge.minRatio) return { classification: 'Low', reason: `canary/baseline ${ratio.toPrecision(3)} is below minRatio ${judge.minRatio}` };
  return { classification: 'Pass', reason: `canary mean ${value} is within the thresholds` };
}

export function classifyMetric(metric: NormalizedMetric, canarySamples: readonly number[], baselineSamples: readonly number[]): MetricClassification {
  const canary = sortedUsable(canarySamples);
  const baseline = sortedUsable(baselineSamples);
  const summaries = { canary: summarize(canary), baseline: summarize(baseline) };
  const ratio = canary.length > 0 && baseline.length > 0 ? mean(canary) / mean(baseline) : Number.NaN;
  const base = { ...summaries, ratio: finiteOrNull(ratio) };
  const needsBaseline = metric.judge.type !== 'threshold' || metric.judge.minRatio !== undefined || metric.judge.maxRatio !== undefined || metric.judge.maxIncrease !== undefined || metric.judge.maxDecrease !== undefined;
  if (canary.length === 0) return { ...base, ...nodata(metric, 'canary') };
  if (needsBaseline && baseline.length === 0) return { ...base, ...nodata(metric, 'baseline') };
  if (metric.judge.type === 'threshold') return { ...base, ...threshold(metric, mean(canary), baseline.length > 0 ? mean(baseline) : Number.NaN, ratio) };
  return { ...base, ...statistical(metric, canary, baseline, ratio) };
}
