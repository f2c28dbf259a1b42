/**
 * Where and how long the service's evidence gate looks (the analysis runner's questions). Apart
 * from normalized.ts so the Deck plugin, which reads its defaults there, does not bundle them.
 */
import type { NormalizedAnalysis, NormalizedStepAnalysis } from './normalized';

/** How long a step may wait for evidence past its window: `extendUpTo`, else one more window. */
export function evidenceExtensionSeconds(analysis: NormalizedAnalysis, step: NormalizedStepAnalysis): number {
  return analysis.evidence.extendSeconds ?? Math.max(step.windowSeconds, 2 * step.intervalSeconds);
}

/**
 * Which destinations carry the canary's and the baseline's traffic, for the evidence gate's expected
 * share: by convention (release, baseline, canary) the last destination is the canary and the one
 * before it the baseline. With fewer than three destinations there is no separate baseline
 * destination, and the share is not checked.
 */
export function analysedDestinations(destinationCount: number): { canary: number; baseline: number } | undefined {
  return destinationCount >= 3 ? { canary: destinationCount - 1, baseline: destinationCount - 2 } : undefined;
}
