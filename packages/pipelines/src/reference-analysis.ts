/**
 * The reference analysis preset, built from core's analysis types: the Descartes Labs / Kayenta
 * setup (Istio request metrics 60, pod metrics 40; pass 75, marginal 50). Used when the parameter
 * file asks for the built-in analysis without spelling it out.
 */
import { REFERENCE_GROUPS, REFERENCE_THRESHOLDS } from '@istio-shift/core';
import type { AnalysisSpec } from '@istio-shift/core';

export interface ReferenceScope {
  source: string;
  namespace: string;
  baseline: string;
  canary: string;
}

export function referenceAnalysis(scope: ReferenceScope): AnalysisSpec {
  return {
    source: scope.source,
    scopes: {
      baseline: { namespace: scope.namespace, workload: scope.baseline },
      canary: { namespace: scope.namespace, workload: scope.canary },
    },
    interval: '30s',
    metrics: [
      { name: 'Healthy responses', metric: 'success-rate', group: 'istio', direction: 'decrease', critical: true, judge: { type: 'threshold', min: 99 } },
      { name: 'p95 latency', metric: 'latency-p95', group: 'istio', direction: 'increase', judge: { type: 'statistical', allowedIncrease: 1.2 } },
      { name: 'CPU', metric: 'cpu', group: 'kubernetes', direction: 'increase', judge: { type: 'statistical', allowedIncrease: 1.5 } },
      { name: 'Memory', metric: 'memory', group: 'kubernetes', direction: 'increase', judge: { type: 'statistical', allowedIncrease: 1.3 } },
      { name: 'Restarts', metric: 'restarts', group: 'kubernetes', direction: 'increase', critical: true, judge: { type: 'threshold', max: 0 } },
    ],
    groups: { ...REFERENCE_GROUPS },
    thresholds: { ...REFERENCE_THRESHOLDS },
    onFailure: 'rollback',
  };
}
