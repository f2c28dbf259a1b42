/**
 * No verdict without evidence. Before a step may pass, the canary must have received traffic (enough
 * requests, and a fair share of what its weight should bring next to the baseline's), and every
 * statistical metric must have enough points. Too little is its own outcome, InsufficientData: the
 * runner waits for more up to `evidence.extendUpTo`, then fails or holds; it never promotes.
 */
import type { Counts } from './errors';
import { totals } from './errors';
import { formatShare } from './format';
import type { NormalizedEvidence } from './normalized';

/** Requests and 5xx per interval of one scope (sum(increase(istio_requests_total[interval]))). */
export interface IntervalCounts {
  requests: readonly number[];
  errors: readonly number[];
  /** Unix seconds of each interval's end, for pairing with the other scope; else by position. */
  times?: readonly number[];
}

/** What a pod did in the window, for messages that name pod, container, reason and count. */
export interface PodEvent {
  pod: string;
  container?: string;
  kind: 'restart' | 'oom-kill' | 'not-ready';
  /** The container's last termination reason (OOMKilled, Error, ...) or waiting reason (CrashLoopBackOff). */
  reason?: string;
  count: number;
}

/** What the runner read besides the metrics' own samples. */
export interface StepEvidence {
  requests?: { canary: IntervalCounts; baseline: IntervalCounts };
  /** The step's weights of the canary's and the baseline's destinations. */
  weights?: { canary: number; baseline: number };
  podEvents?: { canary: readonly PodEvent[]; baseline: readonly PodEvent[] };
}

/** The evidence gate as judged, plain JSON for the record and Deck. */
export interface EvidenceGate {
  passed: boolean;
  /** Window totals; null when the counts were not read. */
  requests: { canary: number; baseline: number } | null;
  errors: { canary: number; baseline: number } | null;
  /** Canary weight / baseline weight: the request ratio the weights should bring. */
  expectedRatio: number | null;
  /** (canary requests / baseline requests) / expectedRatio; null when it cannot be computed. */
  trafficShare: number | null;
  minRequests: number;
  minTrafficShare: number;
  minPoints: number;
  /** Statistical metrics with some points, but fewer than minPoints in a scope. */
  shortMetrics: Array<{ name: string; canary: number; baseline: number }>;
  /** Why the gate is shut, in words (empty when it passed). */
  problems: string[];
}

/** Index-aligned interval counts of both scopes (by time when both carry times). */
export function alignedCounts(requests: { canary: IntervalCounts; baseline: IntervalCounts }): { canary: Counts[]; baseline: Counts[] } {
  const { canary, baseline } = requests;
  const at = (s: IntervalCounts, i: number): Counts => ({ requests: s.requests[i] ?? 0, errors: s.errors[i] ?? 0 });
  if (canary.times && baseline.times && canary.times.length === canary.requests.length && baseline.times.length === baseline.requests.length) {
    // Every interval either scope has, in time order: an interval without canary requests still
    // counts the baseline's (an idle canary must show the baseline's traffic, not 0).
    const indexOf = (times: readonly number[]) => new Map(times.map((t, i) => [t, i]));
    const c = indexOf(canary.times);
    const b = indexOf(baseline.times);
    const times = [...new Set([...canary.times, ...baseline.times])].sort((x, y) => x - y);
    const none: Counts = { requests: 0, errors: 0 };
    const pick = (s: IntervalCounts, index: Map<number, number>, t: number) => (index.has(t) ? at(s, index.get(t) as number) : none);
    return { canary: times.map((t) => pick(canary, c, t)), baseline: times.map((t) => pick(baseline, b, t)) };
  }
  const n = Math.max(canary.requests.length, baseline.requests.length);
  return { canary: Array.from({ length: n }, (_, i) => at(canary, i)), baseline: Array.from({ length: n }, (_, i) => at(baseline, i)) };
}

const count = (n: number) => n.toLocaleString('en-US');

export function evidenceGate(
  settings: NormalizedEvidence,
  evidence: StepEvidence | undefined,
  points: ReadonlyArray<{ name: string; canary: number; baseline: number }>,
): EvidenceGate {
  const problems: string[] = [];
  const gate: EvidenceGate = {
    passed: true,
    requests: null,
    errors: null,
    expectedRatio: null,
    trafficShare: null,
    minRequests: settings.minRequests,
    minTrafficShare: settings.minTrafficShare,
    minPoints: settings.minPoints,
    shortMetrics: [],
    problems,
  };
  const needsRequests = settings.minRequests > 0 || settings.minTrafficShare > 0;
  if (evidence?.requests) {
    const aligned = alignedCounts(evidence.requests);
    const c = totals(aligned.canary);
    const b = totals(aligned.baseline);
    gate.requests = { canary: c.requests, baseline: b.requests };
    gate.errors = { canary: c.errors, baseline: b.errors };
    if (c.requests < settings.minRequests) problems.push(`the canary received ${count(c.requests)} requests; at least ${count(settings.minRequests)} are needed (evidence.minRequests)`);
    const w = evidence.weights;
    if (w && w.canary > 0 && w.baseline > 0) {
      gate.expectedRatio = w.canary / w.baseline;
      if (b.requests > 0) gate.trafficShare = c.requests / b.requests / gate.expectedRatio;
      if (settings.minTrafficShare > 0) {
        if (b.requests === 0) problems.push(`the baseline received no requests, so the canary's share of traffic cannot be checked`);
        else if ((gate.trafficShare as number) < settings.minTrafficShare) {
          problems.push(
            `the canary received ${count(c.requests)} requests while the baseline received ${count(b.requests)} at weights ${w.canary}/${w.baseline}: ` +
              `${formatShare(gate.trafficShare as number)} of its expected share, at least ${formatShare(settings.minTrafficShare)} is needed (a broken route or selector?)`,
          );
        }
      }
    }
  } else if (needsRequests) {
    problems.push('the request counts were not read, so the canary cannot be shown to have received traffic');
  }
  for (const p of points) {
    const short = (n: number) => n > 0 && n < settings.minPoints;
    if (short(p.canary) || short(p.baseline)) gate.shortMetrics.push({ name: p.name, canary: p.canary, baseline: p.baseline });
  }
  for (const s of gate.shortMetrics) problems.push(`${s.name} has ${s.canary} canary and ${s.baseline} baseline points; at least ${settings.minPoints} each are needed (evidence.minPoints)`);
  gate.passed = problems.length === 0;
  return gate;
}
