/**
 * The wire contract's words, written once: the status phases, the failure reasons, the rollback
 * results, the judgement results and the validator's problem codes. The service (record, record
 * schema, OpenAPI), the Run Job CLI and the Deck plugin all import them from here, so a value added
 * or renamed here is added or renamed everywhere (and a `switch` that misses one fails to compile
 * where it is typed).
 */
import type { StepResult } from './analysis/judge';

/** Orca's webhook status words (matched case-insensitively by its monitor task). */
export const SHIFT_PHASES = ['RUNNING', 'SUCCEEDED', 'TERMINAL', 'CANCELED'] as const;
export type ShiftPhase = (typeof SHIFT_PHASES)[number];

/**
 * Why a shift ended TERMINAL, by name: use `FAILURE_REASON.ABANDONED` rather than the string.
 * ROUTE_MISSING / ROUTE_CHANGED: the shifted route is gone or was edited by another writer;
 * ABANDONED: no status poll for abandonAfter; SUPERSEDED: a restart of the stage took over;
 * ANALYSIS_FAILED: a step's judgement failed; ANALYSIS_UNAVAILABLE: the analysis could not run
 * (metrics source down past the grace, query rejected, missing data under nodata: wait);
 * ANALYSIS_INSUFFICIENT_DATA: the step saw too little traffic or too few points to be judged, even
 * after waiting `evidence.extendUpTo` for more.
 */
export const FAILURE_REASON = {
  ROUTE_MISSING: 'ROUTE_MISSING',
  ROUTE_CHANGED: 'ROUTE_CHANGED',
  ABANDONED: 'ABANDONED',
  SUPERSEDED: 'SUPERSEDED',
  ANALYSIS_FAILED: 'ANALYSIS_FAILED',
  ANALYSIS_UNAVAILABLE: 'ANALYSIS_UNAVAILABLE',
  ANALYSIS_INSUFFICIENT_DATA: 'ANALYSIS_INSUFFICIENT_DATA',
} as const;
export type FailureReason = (typeof FAILURE_REASON)[keyof typeof FAILURE_REASON];
/** Every failure.reason the service writes, in a stable order (the record schema and the OpenAPI list them). */
export const FAILURE_REASONS: readonly FailureReason[] = Object.values(FAILURE_REASON);
/** The reasons the analysis explains: the judgement failed, could not be made, or had too little evidence. */
export const ANALYSIS_FAILURE_REASONS: readonly FailureReason[] = [
  FAILURE_REASON.ANALYSIS_FAILED,
  FAILURE_REASON.ANALYSIS_UNAVAILABLE,
  FAILURE_REASON.ANALYSIS_INSUFFICIENT_DATA,
];

export function isFailureReason(value: unknown): value is FailureReason {
  return (FAILURE_REASONS as readonly unknown[]).includes(value);
}

/** What ending a shift did to the traffic: put back, left as it was on purpose, or could not be put back. */
export const ROLLBACK_RESULTS = ['restored', 'held', 'conflict'] as const;
export type RollbackResult = (typeof ROLLBACK_RESULTS)[number];

/** Every judgement result (analysis/judge.ts StepResult): InsufficientData ends a shift that waited for evidence in vain. */
export const STEP_RESULTS = ['Pass', 'Marginal', 'Fail', 'InsufficientData'] as const satisfies readonly StepResult[];
// Both ways: a result added to StepResult but not here fails to compile.
const stepResultsComplete: Record<StepResult, true> = { Pass: true, Marginal: true, Fail: true, InsufficientData: true };
void stepResultsComplete;

/**
 * The shift validator's problem codes: stable names for what is wrong, with the numbers and names
 * in `params`, so a client (the Deck editor) words a problem from its code, not from the English
 * `message` (which is for the API's error bodies and logs and may be reworded at any time).
 */
export const PROBLEM_CODES = [
  /** The spec is not a JSON object. params: {} */
  'spec_not_object',
  /** params: { hint } */
  'required',
  /** params: { expected: 'string' | 'list' | 'object' | 'whole number' | 'number' | 'boolean', got?, hint? } */
  'wrong_type',
  /** A SpEL template that reached the service (or the analysis block, which never evaluates them). params: { value, hint? } */
  'unevaluated_expression',
  /** params: { key, known } */
  'unknown_field',
  /** params: { length, max } */
  'too_long',
  /** params: { value, hint } */
  'invalid_format',
  /** params: { got, min, max } */
  'out_of_range',
  /** params: { got, allowed } */
  'not_one_of',
  /** An empty list. params: { hint } */
  'empty',
  /** params: { count, max } */
  'too_many',
  /** params: { got, examples } */
  'not_a_duration',
  /** params: { maxSeconds } */
  'pause_too_long',
  /** params: { got, min, max } (seconds) */
  'duration_out_of_range',
  /** route.port on an HTTP route. params: {} */
  'port_on_http_route',
  /** route.name on a TLS or TCP route. params: { protocol } */
  'name_on_unnamed_route',
  /** Not exactly one way to select the route. params: { protocol, choices } */
  'route_selector',
  /** params: { index, first, key } */
  'duplicate_destination',
  /** params: { index, first, label } */
  'duplicate_label',
  /** params: { count, destinations } */
  'weight_count',
  /** params: { sum } */
  'weight_sum',
  /** executionId given without stageRef. params: {} */
  'stage_ref_required',
  /** stageRef given without executionId. params: {} */
  'execution_id_required',
  /**
   * A rule of the analysis block alone (analysis/validate.ts: presets, judges, groups, thresholds,
   * timing against the pause); its field names the place. params: {}. The analysis block's common
   * checks (required, types, ranges, unknown fields, durations) carry the codes above.
   */
  'analysis',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];
export type ProblemParams = Record<string, string | number | boolean | readonly string[]>;
