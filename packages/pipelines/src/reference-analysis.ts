/**
 * The reference analysis preset for generated pipelines: core's `referenceAnalysis` (the same preset
 * the Deck editor's button inserts and the service validates), scoped to the baseline and canary
 * workloads. Not a copy: an earlier local copy used metric names the service rejects
 * ("Healthy responses"), so every generated canary would have failed at its first request.
 *
 * Each scope carries its Deployment's pod selector: the preset's restarts, readiness and OOM-kill
 * metrics read pod status through it, and without it they would never see a pod (always "no
 * data", so three of the seven metrics would judge nothing).
 */
import { referenceAnalysis as corePreset } from '@istio-shift/core';
import type { AnalysisSpec } from '@istio-shift/core';

export interface ReferenceScope {
  source: string;
  namespace: string;
  baseline: TrackWorkload;
  canary: TrackWorkload;
}

/** A track's Deployment: its name (Istio's destination_workload) and its spec.selector.matchLabels. */
export interface TrackWorkload {
  workload: string;
  podSelector: Record<string, string>;
}

export function referenceAnalysis(scope: ReferenceScope): AnalysisSpec {
  return corePreset({
    source: scope.source,
    baseline: { namespace: scope.namespace, workload: scope.baseline.workload, podSelector: { ...scope.baseline.podSelector } },
    canary: { namespace: scope.namespace, workload: scope.canary.workload, podSelector: { ...scope.canary.podSelector } },
  });
}
