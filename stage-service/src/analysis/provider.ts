/**
 * What the analysis engine needs from the outside world, and nothing more: one range query per
 * metric and scope per judgement window (never a query per sample), and the status of a scope's
 * pods. Providers live one per file beside this one; the engine and the judge see only these types.
 */

/** One point of a range query: unix seconds and the value (NaN or ±Infinity when PromQL says so, e.g. 0/0 with no traffic). */
export interface Sample {
  time: number;
  value: number;
}

/** The judgement window; `stepSeconds` is the spacing of the samples Prometheus evaluates. */
export interface QueryWindow {
  start: Date;
  end: Date;
  stepSeconds: number;
}

/** A query that matched exactly one series, or none ("nodata": the judge's nodata policy decides). */
export type RangeResult = { kind: 'series'; labels: Record<string, string>; samples: Sample[] } | { kind: 'nodata' };

/**
 * Why a read failed:
 * - `outage`: the source did not answer usefully (unreachable, timeout, 5xx); the engine retries.
 * - `invalid-query`: the source rejected the query; its own message says why. Retrying cannot help.
 * - `ambiguous`: the query matched more than one series, so there is no single value per scope.
 * - `misconfigured`: credentials refused, no Prometheus API at the URL, missing RBAC: fix the service config.
 * - `aborted`: the caller cancelled the read (the step ended or the shift stopped).
 */
export type MetricsErrorKind = 'outage' | 'invalid-query' | 'ambiguous' | 'misconfigured' | 'aborted';

export class MetricsError extends Error {
  constructor(
    readonly kind: MetricsErrorKind,
    /** The metrics source (or "kubernetes" for pod status) that failed. */
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'MetricsError';
  }

  /** Only outages are worth retrying within the window. */
  get retryable(): boolean {
    return this.kind === 'outage';
  }
}

export interface MetricsProvider {
  /** The configured source name (never its URL: that stays in the service config). */
  readonly source: string;
  /** Evaluates an already rendered PromQL expression over the window, in one HTTP request. */
  rangeQuery(promql: string, window: QueryWindow, signal?: AbortSignal): Promise<RangeResult>;
}

/** One container of a pod, as the pod-status metrics need it. */
export interface ContainerState {
  name: string;
  restartCount: number;
  ready: boolean;
  /** Terminations so far: restartCount, plus one while the container is down (not restarted yet). */
  terminations: number;
  /** Reason of the latest termination (OOMKilled, Error, ...): the current state when down, else lastState. */
  lastTermination?: string;
  /** Why the container waits to run again (CrashLoopBackOff, ...). */
  waiting?: string;
}

/** A pod as the pod-status metrics need it, distilled from the Kubernetes object. */
export interface PodState {
  uid: string;
  name: string;
  /** The pod's Ready condition is True. */
  ready: boolean;
  /** Its app containers (init containers excluded: they restart by design). */
  containers: ContainerState[];
  /** deletionTimestamp is set: the pod is going away and no longer counts. */
  terminating: boolean;
}

/** Lists the pods of one scope; implemented on the Kubernetes API (pod-status.ts). */
export interface PodReader {
  listPods(namespace: string, selector: Record<string, string>, signal?: AbortSignal): Promise<PodState[]>;
  /** The labels that select a workload's pods: its Deployment's spec.selector.matchLabels. */
  workloadSelector(namespace: string, workload: string): Promise<Record<string, string>>;
}
