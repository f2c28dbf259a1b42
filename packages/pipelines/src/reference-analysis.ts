/**
 * The reference analysis preset for generated pipelines: core's `referenceAnalysis` (the same preset
 * the Deck editor's button inserts and the service validates), scoped to the baseline and canary
 * workloads. Not a copy: an earlier local copy used metric names the service rejects
 * ("Healthy responses"), so every generated canary would have failed at its first request.
 */
import { referenceAnalysis as corePreset } from '@istio-shift/core';
import type { AnalysisSpec } from '@istio-shift/core';

export interface ReferenceScope {
  source: string;
  namespace: string;
  baseline: string;
  canary: string;
}

export function referenceAnalysis(scope: ReferenceScope): AnalysisSpec {
  return corePreset({
    source: scope.source,
    baseline: { namespace: scope.namespace, workload: scope.baseline },
    canary: { namespace: scope.namespace, workload: scope.canary },
  });
}
