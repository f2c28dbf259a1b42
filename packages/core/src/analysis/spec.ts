/**
 * The analysis block of a shift spec: how each step's canary is judged against its baseline while
 * the step's traffic flows. Plain data, shared by the Deck editor, the service and the pipeline
 * generator. A step's pause is its warm-up plus its analysis window.
 */

/** A workload as Istio's `destination_workload` and the pods' labels see it. */
export interface WorkloadScope {
  /** Defaults to the shift's namespace. */
  namespace?: string;
  /** Istio's `destination_workload` (the Deployment name), e.g. `checkout-canary`. */
  workload: string;
  /** Pod labels that select the workload's pods (pod status metrics, cAdvisor `pod` names). */
  podSelector?: Record<string, string>;
}

/** Metrics the service knows how to query without PromQL from the author. */
export type BuiltInMetric =
  | 'success-rate' // non-5xx share of requests, percent (istio_requests_total, reporter="destination")
  | 'latency-p50' // ms, istio_request_duration_milliseconds_bucket
  | 'latency-p95'
  | 'latency-p99'
  | 'cpu' // cores per pod, container_cpu_usage_seconds_total
  | 'memory' // bytes per pod, container_memory_working_set_bytes
  | 'restarts' // from the Kubernetes API pod status (no Prometheus)
  | 'readiness' // percent of pods Ready, pod status
  | 'oom-killed'; // containers whose last termination was OOMKilled, pod status

/** Which change of the canary against the baseline fails the metric. */
export type FailDirection = 'increase' | 'decrease' | 'either';
/** Every direction the contract allows, in the order the Deck editor offers them. */
export const FAIL_DIRECTIONS: readonly FailDirection[] = ['increase', 'decrease', 'either'];

/** What missing data means: fail the metric, pass it, or keep waiting (retry within the window). */
export type NodataPolicy = 'fail' | 'pass' | 'wait';

export type JudgeSpec =
  | {
      type: 'threshold';
      /** Absolute bounds on the canary's value (e.g. success-rate min 99). */
      min?: number;
      max?: number;
      /** Bounds relative to the baseline: canary / baseline (e.g. p99 maxRatio 1.2). */
      minRatio?: number;
      maxRatio?: number;
      /**
       * Bound on canary mean - baseline mean (e.g. restarts `maxIncrease 0`: the canary's pods may not
       * restart more than the baseline's in the window).
       */
      maxIncrease?: number;
      /**
       * Bound on baseline mean - canary mean (readiness `maxDecrease 0`: the canary's pods may not be
       * less ready than the baseline's at the same looks; a node drain that hits both is no fault).
       */
      maxDecrease?: number;
    }
  | {
      type: 'statistical';
      /** Kayenta's effect-size gates (mean ratio): fail only beyond these, e.g. 1.1 = +10%. */
      allowedIncrease?: number;
      allowedDecrease?: number;
    }
  | {
      /**
       * `success-rate` only: the window's request and 5xx totals judged as counts (errors.ts). Fails
       * when the canary's error rate is significantly above `maxRatio` x the baseline's and more than
       * `maxIncrease` percentage points above it.
       */
      type: 'errors';
      /** Relative tolerance: the canary may have up to this many times the baseline's error rate (default 1). */
      maxRatio?: number;
      /** Absolute tolerance in percentage points of requests (default 0.1). */
      maxIncrease?: number;
    };

export interface MetricSpec {
  /** Unique within the analysis; shown in judgements. */
  name: string;
  /** A built-in metric, or `custom` with `query`. */
  metric: BuiltInMetric | 'custom';
  /**
   * PromQL template for `custom`: `{{namespace}}`, `{{workload}}`, `{{interval}}` (e.g. `30s`) and
   * `{{scope}}` (`canary` or `baseline`) are replaced; the query must return one series per scope.
   */
  query?: string;
  /** Score group (default: `istio` for request metrics, `kubernetes` for pod metrics). */
  group?: string;
  direction?: FailDirection;
  /** A critical metric that fails forces the score to 0, and fails the step at once (mid-window). */
  critical?: boolean;
  nodata?: NodataPolicy;
  judge: JudgeSpec;
  /**
   * Replaced by sequential testing (`analysis.mode`); still accepted so that stored shifts and old
   * pipelines stay valid, and ignored.
   * @deprecated
   */
  failAfterSamples?: number;
}

/**
 * How a step is judged:
 * - `sequential` (default): every interval, anytime-valid tests (sequential.ts) may stop a bad canary
 *   early; over the whole step, all looks and all metrics, the chance that they roll back a canary
 *   that is as good as its baseline stays below `alpha`. The window's end adds Kayenta's fixed judge.
 * - `fixed`: Kayenta's behaviour: one judgement over the whole window at its end.
 * Pod health (critical pod metrics) and the evidence gate apply in both modes.
 */
export type AnalysisMode = 'sequential' | 'fixed';

/** No verdict without evidence: what a step must have seen before it may pass. */
export interface EvidenceSpec {
  /** Canary requests the window must hold (istio_requests_total; default 50; 0 turns the count off). */
  minRequests?: number;
  /**
   * The canary's requests per weight point, as a share of the baseline's (default 0.5): a canary at
   * weight 10 beside a baseline at weight 10 must get at least half the baseline's requests.
   */
  minTrafficShare?: number;
  /** Points each statistical metric needs in each scope (default 3). */
  minPoints?: number;
  /** How long past the window's end the step waits for evidence (default: one more window). */
  extendUpTo?: string;
  /** What too little evidence does once the wait is over: fail the step (default), or hold the weights. */
  onInsufficient?: 'fail' | 'hold';
}

export interface ScoreThresholds {
  /** The step passes at or above this score. */
  pass: number;
  /** Below pass but at or above marginal: the step fails unless `marginalPasses`. */
  marginal: number;
}

/** Per-step overrides of the analysis timing (index-aligned with steps). */
export interface StepAnalysisSpec {
  /** Skip analysis on this step (e.g. the final 100/0/0 step). */
  skip?: boolean;
  warmup?: string;
  interval?: string;
}

export interface AnalysisSpec {
  /** The name of a metrics source in the service configuration: never a URL. */
  source: string;
  scopes: { canary: WorkloadScope; baseline: WorkloadScope };
  /** Excluded from the window at the start of each step ("1m"). */
  warmup?: string;
  /** Sampling step of the range queries ("30s"); the window must hold at least two. */
  interval?: string;
  metrics: MetricSpec[];
  /** Group weights summing to at most 100; groups without a weight share the rest equally. */
  groups?: Record<string, number>;
  thresholds?: ScoreThresholds;
  /** What a failed judgement does to traffic: restore the weights from before the shift, or hold. */
  onFailure?: 'rollback' | 'hold';
  /** `sequential` (default) or `fixed` (Kayenta's one judgement at the window's end). */
  mode?: AnalysisMode;
  /** Sequential mode: the chance of rolling back a good canary over a whole step (default 0.01). */
  alpha?: number;
  evidence?: EvidenceSpec;
}

/** The reference pipeline's defaults (Descartes Labs / Kayenta): Istio 60 / Kubernetes 40, pass 75, marginal 50. */
export const REFERENCE_GROUPS: Readonly<Record<string, number>> = { istio: 60, kubernetes: 40 };
export const REFERENCE_THRESHOLDS: Readonly<ScoreThresholds> = { pass: 75, marginal: 50 };
