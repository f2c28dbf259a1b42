/**
 * judgeStep: the pure entry point the engine calls with each step's samples. It classifies every
 * metric, scores the groups and decides: Pass passes; Marginal passes a step that is not the last
 * analysed one (Kayenta: only the final interval must reach `pass`); Fail fails. The result is plain
 * JSON (no NaN or Infinity), persisted in the shift record and shown in the status body.
 */
import { classifyMetric, MetricClassification } from './classify';
import { BuiltInMetric, ScoreThresholds } from './spec';
import { NormalizedAnalysis } from './normalized';
import { GroupScore, isFailure, ScoreOutcome, ScoreResult, scoreMetrics } from './score';

export interface MetricSamples {
  canary: readonly number[];
  baseline: readonly number[];
}

export interface MetricJudgement extends MetricClassification {
  name: string;
  metric: BuiltInMetric | 'custom';
  group: string;
  critical: boolean;
  /** High, Low or NodataFail: counts against the group. */
  failed: boolean;
}

export interface StepJudgement {
  score: number;
  result: ScoreResult;
  /** Whether the shift may go on: Pass, or Marginal on a step that is not the last analysed one. */
  passed: boolean;
  /** This was the last analysed step, which must reach `pass`. */
  final: boolean;
  thresholds: ScoreThresholds;
  groups: GroupScore[];
  forcedZero?: ScoreOutcome['forcedZero'];
  metrics: MetricJudgement[];
  /**
   * Set when the step failed mid-window (fail fast): per metric that tripped, how many checks in a
   * row it failed (its failAfterSamples or more).
   */
  failedChecks?: Record<string, number>;
}

export interface JudgeOptions {
  /** Index of the step in the shift; decides whether it is the last analysed step. Omitted: final. */
  step?: number;
}

export function isFinalAnalysedStep(analysis: NormalizedAnalysis, step: number | undefined): boolean {
  if (step === undefined) return true;
  return !analysis.steps.some((s, i) => i > step && s.analysed);
}

export function judgeStep(analysis: NormalizedAnalysis, samples: Readonly<Record<string, MetricSamples | undefined>>, options: JudgeOptions = {}): StepJudgement {
  const metrics = analysis.metrics.map((metric): MetricJudgement => {
    const data = samples[metric.name];
    const classification = classifyMetric(metric, data?.canary ?? [], data?.baseline ?? []);
    return {
      name: metric.name,
      metric: metric.metric,
      group: metric.group,
      critical: metric.critical,
      failed: isFailure(classification.classification),
      ...classification,
    };
  });
  const outcome = scoreMetrics(metrics, analysis.groups, analysis.thresholds);
  const final = isFinalAnalysedStep(analysis, options.step);
  const passed = outcome.result === 'Pass' || (outcome.result === 'Marginal' && !final);
  const judgement: StepJudgement = { score: outcome.score, result: outcome.result, passed, final, thresholds: { ...analysis.thresholds }, groups: outcome.groups, metrics };
  if (outcome.forcedZero) judgement.forcedZero = outcome.forcedZero;
  return judgement;
}
