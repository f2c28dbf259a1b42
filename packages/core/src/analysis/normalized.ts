/**
 * The analysis block after validation: durations in seconds, every default filled in, one timing
 * entry per step. This is what the engine, the query builder and the judge read.
 */
import { AnalysisMode, BuiltInMetric, FailDirection, JudgeSpec, NodataPolicy, ScoreThresholds } from './spec';

export interface NormalizedWorkloadScope {
  namespace: string;
  workload: string;
  podSelector?: Record<string, string>;
}

export interface NormalizedMetric {
  name: string;
  metric: BuiltInMetric | 'custom';
  query?: string;
  group: string;
  direction: FailDirection;
  critical: boolean;
  nodata: NodataPolicy;
  judge: JudgeSpec;
  /** Deprecated and ignored (sequential testing replaced it); kept only when a stored spec has it. */
  failAfterSamples?: number;
}

/** The evidence gate with its defaults filled in. */
export interface NormalizedEvidence {
  minRequests: number;
  minTrafficShare: number;
  minPoints: number;
  /** Seconds past the window's end the step waits for evidence; undefined: one more window. */
  extendSeconds?: number;
  onInsufficient: 'fail' | 'hold';
}

/** How one step is analysed; `analysed: false` for skipped steps and steps without a pause. */
export interface NormalizedStepAnalysis {
  analysed: boolean;
  warmupSeconds: number;
  intervalSeconds: number;
  /** pause - warm-up: the span whose samples are judged. */
  windowSeconds: number;
}

export interface NormalizedAnalysis {
  source: string;
  scopes: { canary: NormalizedWorkloadScope; baseline: NormalizedWorkloadScope };
  warmupSeconds: number;
  intervalSeconds: number;
  metrics: NormalizedMetric[];
  /** Explicit group weights only; groups without one share 100 - sum equally (see score.ts). */
  groups: Record<string, number>;
  thresholds: ScoreThresholds;
  onFailure: 'rollback' | 'hold';
  mode: AnalysisMode;
  alpha: number;
  evidence: NormalizedEvidence;
  /** Index-aligned with the shift's steps. */
  steps: NormalizedStepAnalysis[];
}

export const ANALYSIS_DEFAULTS = { warmup: '1m', interval: '30s', onFailure: 'rollback', mode: 'sequential', alpha: 0.01 } as const;

export const EVIDENCE_DEFAULTS: Readonly<NormalizedEvidence> = { minRequests: 50, minTrafficShare: 0.5, minPoints: 3, onInsufficient: 'fail' };

export const ANALYSIS_LIMITS = {
  maxMetrics: 30,
  maxQueryLength: 4000,
  /** 2s: a rate() over the interval needs two scrapes of a 1s-scraped target (fast tests, quick fail-fast). */
  minIntervalSeconds: 2,
  maxIntervalSeconds: 3600,
  maxFailAfterSamples: 1000,
  minAlpha: 1e-6,
  maxAlpha: 0.2,
  maxMinRequests: 1e9,
  maxMinPoints: 1000,
} as const;

/** Metrics read from the Kubernetes API pod status, not from Prometheus. */
export const POD_STATUS_METRICS: readonly BuiltInMetric[] = ['restarts', 'readiness', 'oom-killed'];
export const REQUEST_METRICS: readonly BuiltInMetric[] = ['success-rate', 'latency-p50', 'latency-p95', 'latency-p99'];
export const BUILT_IN_METRICS: readonly BuiltInMetric[] = [...REQUEST_METRICS, 'cpu', 'memory', ...POD_STATUS_METRICS];

/** Which way each built-in fails when nobody says: fewer successes, more of everything else. */
export const DEFAULT_DIRECTION: Readonly<Record<BuiltInMetric | 'custom', FailDirection>> = {
  'success-rate': 'decrease',
  'latency-p50': 'increase',
  'latency-p95': 'increase',
  'latency-p99': 'increase',
  cpu: 'increase',
  memory: 'increase',
  restarts: 'increase',
  readiness: 'decrease',
  'oom-killed': 'increase',
  custom: 'either',
};

export function defaultGroup(metric: BuiltInMetric | 'custom'): string {
  if (metric === 'custom') return 'custom';
  return (REQUEST_METRICS as readonly string[]).includes(metric) ? 'istio' : 'kubernetes';
}

/** The judge a metric gets when none is given: pod status by threshold, the rest statistically. */
export function defaultJudge(metric: BuiltInMetric | 'custom'): JudgeSpec {
  // Pod health compares with the baseline's pods: a node drain that restarts both is not the canary's fault.
  if (metric === 'restarts' || metric === 'oom-killed') return { type: 'threshold', maxIncrease: 0 };
  if (metric === 'readiness') return { type: 'threshold', maxDecrease: 0 };
  if (metric === 'success-rate') return { type: 'errors' };
  return { type: 'statistical' };
}

/** Pod health and the request error counts are gates: critical unless the author says otherwise. */
export function defaultCritical(metric: BuiltInMetric | 'custom'): boolean {
  return (POD_STATUS_METRICS as readonly string[]).includes(metric) || metric === 'success-rate';
}

/** Defaults of the `errors` judge (percentage points for maxIncrease). */
export const ERRORS_JUDGE_DEFAULTS = { maxRatio: 1, maxIncrease: 0.1 } as const;
