/**
 * The shift spec: what a pipeline author asks for, in the shape the Deck editor saves and the
 * stage service accepts. Everything here is plain data so the same objects travel through
 * Orca (as a webhook payload), through a Run Job (as a JSON parameter file) and through tests.
 */

import { AnalysisSpec, StepAnalysisSpec } from './analysis/spec';

/** Istio's three route lists in a VirtualService spec. */
export type RouteProtocol = 'http' | 'tls' | 'tcp';

/**
 * Which route of the VirtualService to shift.
 * HTTP routes are picked by `name` (preferred) or `index`; TLS and TCP routes have no name in
 * Istio, so they are picked by the `port` of one of their match blocks, or by `index`.
 */
export interface RouteSelector {
  protocol: RouteProtocol;
  name?: string;
  index?: number;
  port?: number;
}

/**
 * One destination of the route. Istio identifies a destination by host, subset and port;
 * `label` is only for humans (progress messages, the Deck table) and defaults to the subset,
 * or the first DNS label of the host.
 */
export interface DestinationSpec {
  host: string;
  subset?: string;
  port?: number;
  label?: string;
}

export interface StepSpec {
  /** One integer weight per destination, in the order of `destinations`; they sum to 100. */
  weights: number[];
  /** How long to hold this step before the next one: "90s", "10m", "1h30m" or seconds. */
  pause?: string;
  /** Per-step analysis timing; only meaningful with the shift's `analysis` block. */
  analysis?: StepAnalysisSpec;
}

/** What cancelling a running shift does to traffic. */
export type CancelBehaviour = 'rollback' | 'hold';

export interface ShiftSpec {
  /** The Spinnaker (Kubernetes) account: the service maps it to a cluster and allowed namespaces. */
  account: string;
  namespace: string;
  virtualService: string;
  route: RouteSelector;
  destinations: DestinationSpec[];
  steps: StepSpec[];
  /** Remove destinations that the route has but the spec does not list (otherwise that is an error). */
  pruneUnlisted?: boolean;
  /** `rollback` (default) restores the weights recorded before the first step; `hold` leaves them. */
  onCancel?: CancelBehaviour;
  /**
   * Idempotency: Orca's `${execution.id}` plus a stage identity the editor writes at save time
   * (Orca does not substitute `${id}` or `${refId}`). The same pair always names the same shift.
   */
  executionId?: string;
  stageRef?: string;
  /**
   * Orca's "Restart stage" marker: the Deck editor writes RESTART_EXPRESSION, which Orca evaluates
   * once, at the stage's first start, to 0. The service takes the attempt's restart time from the
   * RESTART_TIME_HEADER when present (see stage.ts). Each value is a separate attempt of the stage,
   * so a restart runs anew while a retried create (same value) finds the attempt it started.
   */
  restartedAt?: number | string;
  /**
   * How long the shift may go without a status poll (Orca's, or the Run Job CLI's) before the
   * service treats it as abandoned: it then stops moving traffic, restores the weights (or holds
   * them with onCancel: hold) and ends TERMINAL. Default ABANDON_AFTER_DEFAULT.
   */
  abandonAfter?: string;
  /** Judge the canary against the baseline during each step's pause (see analysis/spec.ts). */
  analysis?: AnalysisSpec;
}

/**
 * What the Deck editor writes as `restartedAt`. Orca evaluates the stage's own fields once, when the
 * stage first starts, and stores the result: a missing key reads as null there, so this is 0 and
 * stays 0 after a restart. A restart is told by the webhook's RESTART_TIME_HEADER (stage.ts); this
 * field only counts for an Orca configured without that header (and a literal text arriving is
 * read as 0).
 */
export const RESTART_EXPRESSION = '${restartDetails?.restartTime ?: 0}';

/** Default and bounds of `abandonAfter`: long enough for 4+ of Orca's 15 s polls and a service restart. */
export const ABANDON_AFTER_DEFAULT = '2m';

/** The limits the validator enforces; exported so the Deck editor can say them in its help text. */
export const LIMITS = {
  maxDestinations: 10,
  maxSteps: 50,
  maxPauseSeconds: 7 * 24 * 3600,
  maxNameLength: 253,
  maxIdLength: 128,
  minAbandonAfterSeconds: 30,
  maxAbandonAfterSeconds: 3600,
} as const;
