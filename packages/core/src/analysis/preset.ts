/**
 * The reference analysis (Descartes Labs' Kayenta setup, on Prometheus): Istio 60 / Kubernetes 40,
 * pass 75, marginal 50. One call gives the Deck editor its "reference preset" button and the
 * pipeline generator its default; validation also fills these metrics when `metrics` is omitted.
 */
import { AnalysisSpec, BuiltInMetric, JudgeSpec, MetricSpec, REFERENCE_GROUPS, REFERENCE_THRESHOLDS, WorkloadScope } from './spec';
import { DEFAULT_DIRECTION, defaultGroup, EVIDENCE_DEFAULTS } from './normalized';

/** A built-in metric under its own name, in its default group and direction. */
const builtIn = (metric: BuiltInMetric, judge: JudgeSpec, critical = true): MetricSpec => ({
  name: metric,
  metric,
  group: defaultGroup(metric),
  direction: DEFAULT_DIRECTION[metric],
  ...(critical ? { critical } : {}),
  judge,
});

export const REFERENCE_METRICS: readonly MetricSpec[] = [
  // Errors as counts: the window's 5xx totals, canary against baseline (errors.ts). A rise from 0.1% to
  // 0.9% is 9x, which a mean of per-interval percentages judged by a ratio of 0.99 could not see.
  // maxRatio 1: any significant rise of more than 0.1 points fails. A relative tolerance (say 2x)
  // needs more errors before it is sure, so 0.1% -> 1% at 10 req/s would stop later (errors.test.ts
  // shows the same counts crossing later with maxRatio 2).
  builtIn('success-rate', { type: 'errors', maxRatio: 1, maxIncrease: 0.1 }),
  builtIn('latency-p99', { type: 'statistical', allowedIncrease: 1.2 }, false),
  // Critical: the talk's incident (CPU +190%, memory +35%, Istio healthy) must not be outvoted by the
  // healthy L7 metrics, as it was when five pod metrics shared 40 points.
  builtIn('cpu', { type: 'statistical', allowedIncrease: 1.2 }),
  builtIn('memory', { type: 'statistical', allowedIncrease: 1.2 }),
  // Pod health is a gate: a canary pod that restarts or is OOM-killed more than the baseline's, or is
  // less ready than the baseline's pods at the same looks, fails the step at once. Relative, so a node
  // drain that restarts or unreadies a canary and a baseline pod alike is not the canary's fault.
  builtIn('restarts', { type: 'threshold', maxIncrease: 0 }),
  builtIn('readiness', { type: 'threshold', maxDecrease: 0 }),
  builtIn('oom-killed', { type: 'threshold', maxIncrease: 0 }),
];

export interface ReferenceAnalysisOptions {
  /** The metrics source name from the service configuration (default `prometheus`). */
  source?: string;
  canary: WorkloadScope;
  baseline: WorkloadScope;
}

/** A fresh, editable copy of the reference analysis for the given workloads. */
export function referenceAnalysis(options: ReferenceAnalysisOptions): AnalysisSpec {
  return {
    source: options.source ?? 'prometheus',
    scopes: { canary: { ...options.canary }, baseline: { ...options.baseline } },
    warmup: '1m',
    interval: '30s',
    metrics: REFERENCE_METRICS.map((metric) => ({ ...metric, judge: { ...metric.judge } })),
    groups: { ...REFERENCE_GROUPS },
    thresholds: { ...REFERENCE_THRESHOLDS },
    onFailure: 'rollback',
    mode: 'sequential',
    alpha: 0.01,
    evidence: { ...EVIDENCE_DEFAULTS },
  };
}

/** The preset builder under the name the Deck editor and the pipeline generator look for. */
export const REFERENCE_ANALYSIS = referenceAnalysis;
