/**
 * The "Istio Traffic Shift" stage as it is saved in a Spinnaker pipeline: its type and alias, the
 * payload drafts, how the payload is cleaned, the stage timeout rule, and `buildShiftStage`, which
 * yields exactly the stage JSON the Deck editor saves. The Deck plugin and the pipeline generator
 * (packages/pipelines) both use this, so a generated pipeline holds the same stage a person would
 * have saved by hand.
 */
import { formatDuration, parseDurationSeconds } from './duration';
import { LIMITS, RESTART_EXPRESSION } from './spec';
import { isExpression } from './validate';

export const STAGE_KEY = 'istioTrafficShift';
export const STAGE_LABEL = 'Istio Traffic Shift';
/** Orca runs the stage as the preconfigured webhook whose `type` is STAGE_KEY. */
export const STAGE_ALIAS = 'preconfiguredWebhook';
/** Orca evaluates this; `${id}` and `${refId}` it would not (see docs/deck-plugin.md). */
export const EXECUTION_ID_EXPRESSION = '${execution.id}';

/** A number, or text while it is SpEL (or not yet a valid number: the validator says why). */
export type NumberDraft = number | string;

export interface RouteDraft {
  protocol: string;
  name?: string;
  index?: NumberDraft;
  port?: NumberDraft;
}

export interface DestinationDraft {
  host: string;
  subset?: string;
  port?: NumberDraft;
  label?: string;
}

export interface StepDraft {
  weights: NumberDraft[];
  pause?: string;
  /** Per-step analysis timing (analysis/spec.ts StepAnalysisSpec). */
  analysis?: unknown;
}

/** The stage's `payload`: exactly the body of the service's `POST /v1/shifts`. */
export interface PayloadDraft {
  account: string;
  namespace: string;
  virtualService: string;
  route: RouteDraft;
  destinations: DestinationDraft[];
  steps: StepDraft[];
  onCancel: string;
  pruneUnlisted: boolean;
  executionId: string;
  stageRef: string;
  restartedAt?: number | string;
  abandonAfter?: string;
  /** The analysis block (analysis/spec.ts AnalysisSpec), passed through unchanged. */
  analysis?: unknown;
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Seconds a pause holds the stage, for the timeout: SpEL counts as the longest pause the service allows. */
export function pauseSecondsForTimeout(pause: unknown): number {
  if (pause === undefined || pause === null || pause === '') return 0;
  if (isExpression(pause)) return LIMITS.maxPauseSeconds;
  if (typeof pause !== 'string' && typeof pause !== 'number') return 0;
  return parseDurationSeconds(pause) ?? 0;
}

export const TIMEOUT_RULE = {
  /** Orca's own monitor timeout; the stage never gets less. */
  minimumSeconds: 3600,
  /** Per step: the service writes the weights and Orca notices (polls every 15 s). */
  perStepSeconds: 60,
  /** Slack for create retries (Orca retries for up to 5 minutes) and slow polls. */
  marginSeconds: 15 * 60,
} as const;

export interface TimeoutExplanation {
  stageTimeoutMs: number;
  pauseSeconds: number;
  expressionPauses: number;
  text: string;
}

/**
 * The stage timeout: all pauses + 1 minute per step + 15 minutes, and at least Orca's default
 * hour. A SpEL pause counts as the longest pause the service accepts (7 days), because its value
 * is only known when the pipeline runs.
 */
export function stageTimeout(payload: Pick<PayloadDraft, 'steps'> | undefined): TimeoutExplanation {
  const steps = Array.isArray(payload?.steps) ? payload!.steps : [];
  const pauseSeconds = steps.reduce((total, step) => total + pauseSecondsForTimeout(step?.pause), 0);
  const expressionPauses = steps.filter((step) => isExpression(step?.pause)).length;
  const needed = pauseSeconds + TIMEOUT_RULE.perStepSeconds * steps.length + TIMEOUT_RULE.marginSeconds;
  const seconds = Math.max(TIMEOUT_RULE.minimumSeconds, needed);
  const parts = [`pauses ${formatDuration(pauseSeconds)}`, `${steps.length} × 1m per step`, '15m margin'];
  let text = `${formatDuration(seconds)} (${parts.join(' + ')}`;
  text += needed < TIMEOUT_RULE.minimumSeconds ? ", raised to Orca's default 1h)" : ')';
  if (expressionPauses > 0) text += `; ${expressionPauses} SpEL pause(s) counted as the 7-day maximum`;
  return { stageTimeoutMs: seconds * 1000, pauseSeconds, expressionPauses, text };
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * The payload as saved: optional fields the author left empty are dropped (the service treats
 * them as absent anyway), so the stage JSON holds only what was chosen.
 */
export function cleanPayload(payload: PayloadDraft): PayloadDraft {
  const next = copy(payload);
  if (next.route && typeof next.route === 'object') {
    for (const key of ['name', 'index', 'port'] as const) if (isBlank(next.route[key])) delete next.route[key];
  }
  if (Array.isArray(next.destinations)) {
    next.destinations.forEach((destination) => {
      for (const key of ['subset', 'port', 'label'] as const) if (isBlank(destination[key])) delete destination[key];
    });
  }
  if (Array.isArray(next.steps)) {
    next.steps.forEach((step) => {
      if (isBlank(step.pause)) delete step.pause;
    });
  }
  if (isBlank(next.abandonAfter)) delete next.abandonAfter;
  return next;
}

/** The fields the stage editor owns: the cleaned payload (with this stage's identity) and the timeout. */
export function savedStageFields(draft: PayloadDraft, refId: string | number): { payload: PayloadDraft; stageTimeoutMs: number } {
  const payload = cleanPayload({
    ...draft,
    executionId: draft.executionId || EXECUTION_ID_EXPRESSION,
    stageRef: String(refId),
    restartedAt: draft.restartedAt ?? RESTART_EXPRESSION,
  });
  return { payload, stageTimeoutMs: stageTimeout(payload).stageTimeoutMs };
}

/** The stage JSON Deck saves for an "Istio Traffic Shift" stage (without its place in the DAG). */
export interface ShiftStageJson {
  refId: string;
  type: typeof STAGE_KEY;
  alias: typeof STAGE_ALIAS;
  name: string;
  payload: PayloadDraft;
  stageTimeoutMs: number;
}

/**
 * The stage exactly as the Deck editor saves it: type + alias (so Orca finds the preconfigured
 * webhook), the cleaned payload with `executionId`, `stageRef` = refId and `restartedAt`, and the
 * stage timeout derived from the pauses.
 */
export function buildShiftStage(draft: PayloadDraft, refId: string, name: string): ShiftStageJson {
  const { payload, stageTimeoutMs } = savedStageFields(draft, refId);
  return { refId, type: STAGE_KEY, alias: STAGE_ALIAS, name, payload, stageTimeoutMs };
}

/**
 * "Restart stage" is told apart from a retried create by a header of the preconfigured webhook, not
 * by the payload. Orca evaluates the stage's own fields once, when the stage first starts
 * (StartStageHandler.plan -> ExpressionAware.withMergedContext, stored as evaluated), so the
 * payload's RESTART_EXPRESSION is 0 there for good and a restart sends 0 again. The preconfigured
 * fields (customHeaders among them) are merged back as text on every plan
 * (PreconfiguredWebhookStage.taskGraph) and evaluated by each task run, after RestartStageHandler
 * added `restartDetails`: so this header carries the restart time of the attempt being created,
 * and a create retried within the attempt sends the same value. Facts and sources:
 * packages/pipelines/src/spinnaker-facts.json `orcaStageContract`; the YAML is in docs/orca.md.
 */
export const RESTART_TIME_HEADER = 'X-Stage-Restart-Time';
/**
 * The header's value as written in orca-local.yml. No `:` (Spring would read it as a placeholder
 * default) and never null (a null would leave the text and an expression error in every stage):
 * SpEL's String + null is "null" before any restart, the restart time's digits after one.
 */
export const RESTART_TIME_HEADER_EXPRESSION = "${'' + restartDetails?.restartTime}";

export type RestartTimeHeader = { ok: true; restartedAt?: number } | { ok: false; problem: string };

/**
 * The restart time a create's RESTART_TIME_HEADER says (epoch ms), or none: header absent (an
 * Orca configured without it), `null` (no restart yet) or still the unevaluated expression.
 */
export function restartTimeFromHeader(value: string | undefined): RestartTimeHeader {
  const text = value?.trim();
  if (text === undefined || text === '' || text === 'null' || text === RESTART_TIME_HEADER_EXPRESSION) return { ok: true };
  if (/^\d{1,16}$/.test(text) && Number(text) <= Number.MAX_SAFE_INTEGER) return { ok: true, restartedAt: Number(text) };
  return {
    ok: false,
    problem: `header ${RESTART_TIME_HEADER} must be Orca's restart time in epoch milliseconds or "null", got ${JSON.stringify(text.slice(0, 80))}: configure it in orca-local.yml exactly as docs/orca.md shows (${RESTART_TIME_HEADER_EXPRESSION})`,
  };
}
