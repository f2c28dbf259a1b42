/**
 * The reference analysis (Descartes Labs' Kayenta setup, on Prometheus): Istio 60 / Kubernetes 40,
 * pass 75, marginal 50. One call gives the Deck editor its "reference preset" button and the
 * pipeline generator its default; validation also fills these metrics when `metrics` is omitted.
 */
import { AnalysisSpec, MetricSpec, REFERENCE_GROUPS, REFERENCE_THRESHOLDS, WorkloadScope } from './spec';

export const REFERENCE_METRICS: readonly MetricSpec[] = [
  // Errors as counts: the window's 5xx totals, canary against baseline (errors.ts). A rise from 0.1% to
  // 0.9% is 9x, which a mean of per-interval percentages judged by a ratio of 0.99 could not see.
  // maxRatio 1: any significant rise of more than 0.1 points fails. A relative tolerance (say 2x)
  // needs more errors before it is sure, so 0.1% -> 1% at 10 req/s would stop later (errors.test.ts
  // shows the same counts crossing later with maxRatio 2).
  { name: 'success-rate', metric: 'success-rate', group: 'istio', direction: 'decrease', critical: true, judge: { type: 'errors', maxRatio: 1, maxIncrease: 0.1 } },
  { name: 'latency-p99', metric: 'latency-p99', group: 'istio', direction: 'increase', judge: { type: 'statistical', allowedIncrease: 1.2 } },
  // Critical: the talk's incident (CPU +190%, memory +35%, Istio healthy) must not be outvoted by the
  // healthy L7 metrics, as it was when five pod metrics shared 40 points.
  { name: 'cpu', metric: 'cpu', group: 'kubernetes', direction: 'increase', critical: true, judge: { type: 'statistical', allowedIncrease: 1.2 } },
  { name: 'memory', metric: 'memory', group: 'kubernetes', direction: 'increase', critical: true, judge: { type: 'statistical', allowedIncrease: 1.2 } },
  // Pod health is a gate: a canary pod that restarts or is OOM-killed more than the baseline's, or is
  // less ready than the baseline's pods at the same looks, fails the step at once. Relative, so a node
  // drain that restarts or unreadies a canary and a baseline pod alike is not the canary's fault.
  { name: 'restarts', metric: 'restarts', group: 'kubernetes', direction: 'increase', critical: true, judge: { type: 'threshold', maxIncrease: 0 } },
  { name: 'readiness', metric: 'readiness', group: 'kubernetes', direction: 'decrease', critical: true, judge: { type: 'threshold', maxDecrease: 0 } },
  { name: 'oom-killed', metric: 'oom-killed', group: 'kubernetes', direction: 'increase', critical: true, judge: { type: 'threshold', maxIncrease: 0 } },
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
    evidence: { minRequests: 50, minTrafficShare: 0.5, minPoints: 3, onInsufficient: 'fail' },
  };
}

/** The preset builder under the name the Deck editor and the pipeline generator look for. */
export const REFERENCE_ANALYSIS = referenceAnalysis;
