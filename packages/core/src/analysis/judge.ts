/**
 * judgeStep: the pure entry point the runner calls with a step's samples and evidence. In order:
 * 1. every metric is classified (Kayenta's fixed-window judge; error rates as counts, errors.ts);
 * 2. in sequential mode, each statistical and error-count metric also gets its anytime-valid
 *    e-process (sequential.ts); one that reached 1/(alpha / tested metrics) at any look fails;
 * 3. the evidence gate (evidence.ts): without enough traffic and points the step has no verdict
 *    (InsufficientData) unless a metric already showed the canary bad;
 * 4. the groups are scored as Kayenta's WeightedSumScorer does: Pass passes; Marginal passes a step
 *    that is not the last analysed one; Fail fails.
 * Mid-window (`midWindow`), only what may stop a step early counts: a sequential test that crossed,
 * or a critical threshold metric (pod health) that fails. The result is plain JSON (no NaN or
 * Infinity), persisted in the shift record and shown in the status body.
 */
import { classifyMetric, Classification, MetricClassification } from './classify';
import { Counts, errorPercent, errorsPath, errorsPValue, totals } from './errors';
import { alignedCounts, EvidenceGate, evidenceGate, PodEvent, StepEvidence } from './evidence';
import { BuiltInMetric, ScoreThresholds } from './spec';
import { ERRORS_JUDGE_DEFAULTS, NormalizedAnalysis, NormalizedMetric } from './normalized';
import { GroupScore, isFailure, ScoreOutcome, ScoreResult, scoreMetrics } from './score';
import { formatE } from './format';
import { pairedPath, pairSamples } from './sequential';
import { finiteOrNull, sortedUsable, summarize } from './summary';

export interface MetricSamples {
  canary: readonly number[];
  baseline: readonly number[];
  /** Unix seconds of each sample, to pair canary and baseline intervals; else paired by position. */
  times?: { canary: readonly number[]; baseline: readonly number[] };
}

/** A metric's anytime-valid test as it stands after the last look. */
export interface SequentialResult {
  /** The e-value after the last look, and the largest at any look. */
  eValue: number;
  maxEValue: number;
  /** 1 / the metric's share of alpha: the level the e-value must reach to fail the metric. */
  threshold: number;
  crossed: boolean;
  /** 1-based interval at which it crossed. */
  crossedAt?: number;
  /** Intervals (pairs) seen. */
  looks: number;
}

export interface MetricJudgement extends MetricClassification {
  name: string;
  metric: BuiltInMetric | 'custom';
  group: string;
  critical: boolean;
  /** High, Low or NodataFail: counts against the group. */
  failed: boolean;
  /** Error-count metrics: the window's totals per scope. */
  counts?: { canary: Counts; baseline: Counts };
  /** Sequential mode, statistical and error-count metrics. */
  sequential?: SequentialResult;
  /** Pod metrics: what the canary's pods did (restarts, OOM kills, not ready). */
  events?: PodEvent[];
}

/** Pass/Marginal/Fail from the score, or InsufficientData: the step saw too little to judge. */
export type StepResult = ScoreResult | 'InsufficientData';

export interface StepJudgement {
  score: number;
  result: StepResult;
  /** Whether the shift may go on: Pass, or Marginal on a step that is not the last analysed one. */
  passed: boolean;
  /** This was the last analysed step, which must reach `pass`. */
  final: boolean;
  thresholds: ScoreThresholds;
  groups: GroupScore[];
  forcedZero?: ScoreOutcome['forcedZero'];
  metrics: MetricJudgement[];
  /** The evidence gate (absent on judgements stored before it existed). */
  evidence?: EvidenceGate;
  /** Sequential mode: the error budget and each tested metric's share of it (by name). */
  sequential?: { alpha: number; shares: Record<string, number>; tested: number };
  /** Failed before the window's end (a sequential test crossed, or pod health failed). */
  stoppedEarly?: boolean;
  /** Stored by earlier versions (fail fast by consecutive checks); read, never written. */
  failedChecks?: Record<string, number>;
}

export interface JudgeOptions {
  /** Index of the step in the shift; decides whether it is the last analysed step. Omitted: final. */
  step?: number;
  evidence?: StepEvidence;
  /** A look before the window's end: only early stops count (see the module comment). */
  midWindow?: boolean;
}

export function isFinalAnalysedStep(analysis: NormalizedAnalysis, step: number | undefined): boolean {
  if (step === undefined) return true;
  return !analysis.steps.some((s, i) => i > step && s.analysed);
}

/** Metrics with an anytime-valid test in sequential mode (the alpha budget is split among them). */
export function sequentiallyTested(analysis: NormalizedAnalysis): NormalizedMetric[] {
  if (analysis.mode !== 'sequential') return [];
  return analysis.metrics.filter((m) => m.judge.type === 'statistical' || m.judge.type === 'errors');
}

/**
 * An error-count test weighs ERRORS_ALPHA_WEIGHT against 1 for each continuous one when alpha is
 * split (weighted Bonferroni: the shares still sum to alpha). Errors are the commonest regression and
 * their counts the most direct evidence; with the preset (one error test, three continuous) they get
 * two thirds of alpha, which is what lets 0.1% -> 1% at 10 req/s stop within five minutes in 95% of
 * runs (bench/power.js: 94.5% with an even split); a blatant CPU rise then needs one interval more.
 */
export const ERRORS_ALPHA_WEIGHT = 6;

/** Each tested metric's share of alpha, by name. */
export function alphaShares(analysis: NormalizedAnalysis): Map<string, number> {
  const tested = sequentiallyTested(analysis);
  const weight = (m: NormalizedMetric) => (m.judge.type === 'errors' ? ERRORS_ALPHA_WEIGHT : 1);
  const total = tested.reduce((sum, m) => sum + weight(m), 0);
  return new Map(tested.map((m) => [m.name, (analysis.alpha * weight(m)) / total]));
}

const POD_EVENT_KINDS: Partial<Record<BuiltInMetric | 'custom', PodEvent['kind']>> = { restarts: 'restart', 'oom-killed': 'oom-kill', readiness: 'not-ready' };

/**
 * The error-count judge of one metric. Fixed mode: the exact test on the window's totals at alpha.
 * Sequential mode: the e-process at every look; at the window's end also the exact test at the
 * metric's share of alpha (it sees a regression at low traffic that the anytime test, which pays for
 * looking often, cannot yet; its false alarms are on top of the anytime bound: docs/analysis.md).
 */
function judgeErrors(metric: NormalizedMetric, analysis: NormalizedAnalysis, evidence: StepEvidence | undefined, metricAlpha: number, midWindow: boolean): Omit<MetricJudgement, 'name' | 'metric' | 'group' | 'critical' | 'failed'> {
  const threshold = 1 / metricAlpha;
  const judge: { maxRatio?: number; maxIncrease?: number } = metric.judge.type === 'errors' ? metric.judge : {};
  const maxRatio = judge.maxRatio ?? ERRORS_JUDGE_DEFAULTS.maxRatio;
  const maxIncrease = judge.maxIncrease ?? ERRORS_JUDGE_DEFAULTS.maxIncrease;
  const aligned = evidence?.requests ? alignedCounts(evidence.requests) : { canary: [], baseline: [] };
  const c = totals(aligned.canary);
  const b = totals(aligned.baseline);
  // Success rate per interval (for the summaries people read), and of the whole window (the mean).
  const perInterval = (list: Counts[]) => list.filter((x) => x.requests > 0).map((x) => 100 - (errorPercent(totals([x])) ?? 0));
  const summary = (list: Counts[], sum: Counts) => {
    const s = summarize(sortedUsable(perInterval(list)));
    return { ...s, mean: sum.requests > 0 ? 100 - (errorPercent(sum) as number) : null };
  };
  const base = {
    canary: summary(aligned.canary, c),
    baseline: summary(aligned.baseline, b),
    ratio: c.requests > 0 && b.requests > 0 && b.errors > 0 ? finiteOrNull((c.errors / c.requests) / (b.errors / b.requests)) : null,
    counts: { canary: c, baseline: b },
  };
  const nodataClass: Classification = metric.nodata === 'pass' ? 'Nodata' : 'NodataFail';
  if (c.requests === 0) return { ...base, classification: nodataClass, reason: `no requests to the canary (nodata: ${metric.nodata})` };
  if (b.requests === 0) return { ...base, classification: nodataClass, reason: `no requests to the baseline (nodata: ${metric.nodata})` };
  const rates = `canary ${c.errors}/${c.requests} 5xx, baseline ${b.errors}/${b.requests}`;
  const limit = maxRatio === 1 ? "the baseline's" : `${maxRatio}x the baseline's`;
  const gap = (errorPercent(c) as number) - (errorPercent(b) as number);
  let sequential: SequentialResult | undefined;
  if (analysis.mode === 'sequential') {
    const path = errorsPath(aligned.canary, aligned.baseline, maxRatio, maxIncrease, threshold);
    sequential = sequentialResult(path, threshold);
    if (sequential.crossed) return { ...base, sequential, classification: 'Low', reason: `error rate above ${limit} with e-value ${formatE(path.max)} >= ${formatE(threshold)} (${rates})` };
    if (midWindow) return { ...base, sequential, classification: 'Pass', reason: `no significant rise of the error rate yet (${rates}; e-value ${formatE(path.value)} < ${formatE(threshold)})` };
  }
  const level = analysis.mode === 'sequential' ? metricAlpha : analysis.alpha;
  const pValue = errorsPValue(c, b, maxRatio);
  const withSequential = sequential ? { sequential } : {};
  if (pValue < level && gap > maxIncrease) return { ...base, ...withSequential, classification: 'Low', reason: `error rate significantly above ${limit} over the window (p = ${pValue.toPrecision(2)} < ${formatAlpha(level)}; ${rates})` };
  return { ...base, ...withSequential, classification: 'Pass', reason: `error rate not significantly above ${limit} by more than ${maxIncrease} points (p = ${pValue.toPrecision(2)}; ${rates})` };
}

function sequentialResult(path: { value: number; max: number; crossedAt?: number; looks: number }, threshold: number): SequentialResult {
  const result: SequentialResult = { eValue: finiteOrNull(path.value) ?? Number.MAX_VALUE, maxEValue: finiteOrNull(path.max) ?? Number.MAX_VALUE, threshold, crossed: path.crossedAt !== undefined, looks: path.looks };
  if (path.crossedAt !== undefined) result.crossedAt = path.crossedAt;
  return result;
}

const formatAlpha = (alpha: number) => String(Number(alpha.toPrecision(3)));


/** A statistical metric: Kayenta's fixed-window classification, then its e-process in sequential mode. */
function judgeStatistical(metric: NormalizedMetric, data: MetricSamples | undefined, threshold: number | undefined): Omit<MetricJudgement, 'name' | 'metric' | 'group' | 'critical' | 'failed'> {
  const fixed = classifyMetric(metric, data?.canary ?? [], data?.baseline ?? []);
  if (threshold === undefined || metric.judge.type !== 'statistical') return fixed;
  const pairs = pairSamples(data?.canary ?? [], data?.baseline ?? [], data?.times);
  const path = pairedPath(pairs, metric.direction, metric.judge.allowedIncrease ?? 1, metric.judge.allowedDecrease ?? 1, threshold);
  const sequential = sequentialResult(path, threshold);
  if (!sequential.crossed || fixed.classification === 'Nodata' || fixed.classification === 'NodataFail') return { ...fixed, sequential };
  const up = metric.direction === 'increase' || (metric.direction === 'either' && (fixed.ratio ?? 1) >= 1);
  const classification: Classification = up ? 'High' : 'Low';
  const reason = `canary is ${up ? 'higher' : 'lower'} than baseline interval by interval: e-value ${formatE(path.max)} >= ${formatE(threshold)} after ${path.crossedAt} of ${path.looks} intervals`;
  return { ...fixed, classification, reason, sequential };
}

const isPodMetric = (m: NormalizedMetric) => m.metric in POD_EVENT_KINDS;

export function judgeStep(analysis: NormalizedAnalysis, samples: Readonly<Record<string, MetricSamples | undefined>>, options: JudgeOptions = {}): StepJudgement {
  const shares = alphaShares(analysis);
  const all = analysis.metrics.map((metric): MetricJudgement => {
    const data = samples[metric.name];
    const share = shares.get(metric.name);
    const classification =
      metric.judge.type === 'errors'
        ? judgeErrors(metric, analysis, options.evidence, share ?? analysis.alpha, options.midWindow === true)
        : judgeStatistical(metric, data, share === undefined ? undefined : 1 / share);
    const judgement: MetricJudgement = { name: metric.name, metric: metric.metric, group: metric.group, critical: metric.critical, failed: isFailure(classification.classification), ...classification };
    const kind = POD_EVENT_KINDS[metric.metric];
    const events = kind ? options.evidence?.podEvents?.canary.filter((e) => e.kind === kind) : undefined;
    if (events && events.length > 0) judgement.events = events;
    return judgement;
  });
  const final = isFinalAnalysedStep(analysis, options.step);
  const base = { final, thresholds: { ...analysis.thresholds } };
  const sequential = analysis.mode === 'sequential' ? { sequential: { alpha: analysis.alpha, shares: Object.fromEntries(shares), tested: shares.size } } : {};

  // What shows the canary bad on positive evidence (not on missing data): this may stop a step early,
  // and overrides a lack of evidence.
  const stops = all.filter((m) => m.failed && m.classification !== 'NodataFail' && (m.sequential?.crossed || (m.critical && isThresholdOrPod(analysis, m))));
  if (options.midWindow) {
    if (stops.length === 0) return { score: 100, result: 'Pass', passed: true, ...base, groups: [], metrics: [], ...sequential };
    const outcome = scoreMetrics(stops, analysis.groups, analysis.thresholds);
    return { score: 0, result: 'Fail', passed: false, ...base, groups: outcome.groups, forcedZero: 'critical', metrics: stops, stoppedEarly: true, ...sequential };
  }

  const points = analysis.metrics
    .filter((m) => m.judge.type === 'statistical')
    .map((m) => ({ name: m.name, canary: sortedUsable(samples[m.name]?.canary ?? []).length, baseline: sortedUsable(samples[m.name]?.baseline ?? []).length }));
  const gate = evidenceGate(analysis.evidence, options.evidence, points);
  const outcome = scoreMetrics(all, analysis.groups, analysis.thresholds);
  const judgement: StepJudgement = { score: outcome.score, result: outcome.result, passed: false, ...base, groups: outcome.groups, metrics: all, evidence: gate, ...sequential };
  if (outcome.forcedZero) judgement.forcedZero = outcome.forcedZero;
  if (!gate.passed && stops.length === 0) {
    judgement.result = 'InsufficientData';
    return judgement;
  }
  if (stops.length > 0 && outcome.result !== 'Fail') {
    // A crossed sequential test fails its metric whatever the group weights say.
    judgement.score = 0;
    judgement.result = 'Fail';
    judgement.forcedZero = 'critical';
  }
  judgement.passed = judgement.result === 'Pass' || (judgement.result === 'Marginal' && !final);
  return judgement;
}

/** Critical metrics judged by fixed rules (thresholds, pod health) stop a step at once. */
function isThresholdOrPod(analysis: NormalizedAnalysis, m: MetricJudgement): boolean {
  const spec = analysis.metrics.find((x) => x.name === m.name);
  if (!spec) return false;
  return spec.judge.type === 'threshold' || isPodMetric(spec);
}
