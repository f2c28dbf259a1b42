/**
 * The reference analysis (Descartes Labs' Kayenta setup, on Prometheus): Istio 60 / Kubernetes 40,
 * pass 75, marginal 50. One call gives the Deck editor its "reference preset" button and the
 * pipeline generator its default; validation also fills these metrics when `metrics` is omitted.
 */
import { AnalysisSpec, MetricSpec, REFERENCE_GROUPS, REFERENCE_THRESHOLDS, WorkloadScope } from './spec';

export const REFERENCE_METRICS: readonly MetricSpec[] = [
  // A canary that loses requests fails at once. By ratio, not rank: with most intervals at 100% the
  // rank-sum interval ends at 0 even when half the canary's intervals lose 10% (see docs/analysis.md);
  // the mean ratio sees it. 0.99 ignores a drop smaller than 1% of the baseline.
  { name: 'success-rate', metric: 'success-rate', group: 'istio', direction: 'decrease', critical: true, judge: { type: 'threshold', minRatio: 0.99 } },
  { name: 'latency-p99', metric: 'latency-p99', group: 'istio', direction: 'increase', judge: { type: 'statistical', allowedIncrease: 1.2 } },
  { name: 'cpu', metric: 'cpu', group: 'kubernetes', direction: 'increase', judge: { type: 'statistical', allowedIncrease: 1.2 } },
  { name: 'memory', metric: 'memory', group: 'kubernetes', direction: 'increase', judge: { type: 'statistical', allowedIncrease: 1.2 } },
  { name: 'restarts', metric: 'restarts', group: 'kubernetes', direction: 'increase', judge: { type: 'threshold', max: 0 } },
  { name: 'readiness', metric: 'readiness', group: 'kubernetes', direction: 'decrease', judge: { type: 'threshold', min: 100 } },
  { name: 'oom-killed', metric: 'oom-killed', group: 'kubernetes', direction: 'increase', judge: { type: 'threshold', max: 0 } },
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
  };
}

/** The preset builder under the name the Deck editor and the pipeline generator look for. */
export const REFERENCE_ANALYSIS = referenceAnalysis;
