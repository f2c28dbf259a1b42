/**
 * The editor's data model, free of React and of @spinnaker/core: the stage payload as the form
 * holds it, the operations the buttons perform (presets, adding and removing destinations and
 * steps), the stage timeout rule, and the mapping of validator problems to form errors.
 */
import { LIMITS, Problem, RESTART_EXPRESSION, defaultLabel, formatDuration, isExpression, parseDurationSeconds } from '@istio-shift/core';
import { inFormLanguage } from './formLanguage';

export const STAGE_KEY = 'istioTrafficShift';
export const STAGE_LABEL = 'Istio Traffic Shift';
/** Orca runs the stage as the preconfigured webhook whose `type` is STAGE_KEY. */
export const STAGE_ALIAS = 'preconfiguredWebhook';
/** Orca evaluates this; `${id}` and `${refId}` it would not (see docs/deck-plugin.md). */
export const EXECUTION_ID_EXPRESSION = '${execution.id}';
/** Orca's restart time (0 before a restart): "Restart stage" then runs a new attempt of the shift. */
export { RESTART_EXPRESSION };

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
  restartedAt: string;
  /** How long the shift may go without a status poll before the service stops it (default 2m). */
  abandonAfter?: string;
}

export function newPayload(stageRef: string): PayloadDraft {
  return {
    account: '',
    namespace: '',
    virtualService: '',
    route: { protocol: 'http', name: '' },
    destinations: [{ host: '' }],
    steps: [{ weights: [100] }],
    onCancel: 'rollback',
    pruneUnlisted: false,
    executionId: EXECUTION_ID_EXPRESSION,
    stageRef,
    restartedAt: RESTART_EXPRESSION,
  };
}

/** What a typed number becomes: a number when it is one, else the text as typed (SpEL stays text). */
export function parseNumberInput(text: string): NumberDraft {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : text;
}

export interface StepSum {
  /** The sum, or undefined when a weight is SpEL (only Orca knows it). */
  sum?: number;
  hasExpression: boolean;
  /** A weight that is neither a whole number nor SpEL (the validator names it). */
  invalid: boolean;
}

export function sumWeights(weights: NumberDraft[]): StepSum {
  let sum = 0;
  let hasExpression = false;
  let invalid = false;
  for (const weight of weights as unknown[]) {
    if (isExpression(weight)) hasExpression = true;
    else if (typeof weight === 'number' && Number.isInteger(weight)) sum += weight;
    else if (typeof weight === 'string' && /^\d+$/.test(weight.trim())) sum += Number(weight);
    else invalid = true;
  }
  return { sum: hasExpression || invalid ? undefined : sum, hasExpression, invalid };
}

/** What the editor calls a destination: its label, else host/subset, else its position. */
export function destinationTitle(destination: { host?: string; subset?: string; label?: string }, index: number): string {
  if (destination.label) return destination.label;
  if (destination.subset || destination.host) return defaultLabel({ host: destination.host ?? '', subset: destination.subset });
  return `#${index + 1}`;
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Appends a destination (same host and port as the last one) with weight 0 in every step. */
export function addDestination(payload: PayloadDraft): PayloadDraft {
  const next = copy(payload);
  const last = next.destinations[next.destinations.length - 1];
  const added: DestinationDraft = { host: last && !isExpression(last.host) ? last.host : '' };
  if (last && !isBlank(last.port) && !isExpression(last.port)) added.port = last.port;
  next.destinations.push(added);
  next.steps.forEach((step) => step.weights.push(0));
  return next;
}

/** Removes destination `index` and its weight from every step. */
export function removeDestination(payload: PayloadDraft, index: number): PayloadDraft {
  const next = copy(payload);
  next.destinations.splice(index, 1);
  next.steps.forEach((step) => step.weights.splice(index, 1));
  return next;
}

/** Appends a step that starts as a copy of the last one (or all traffic to the first destination). */
export function addStep(payload: PayloadDraft): PayloadDraft {
  const next = copy(payload);
  const last = next.steps[next.steps.length - 1];
  const weights = last ? [...last.weights] : next.destinations.map((_, i) => (i === 0 ? 100 : 0));
  next.steps.push({ weights });
  return next;
}

export function removeStep(payload: PayloadDraft, index: number): PayloadDraft {
  const next = copy(payload);
  next.steps.splice(index, 1);
  return next;
}

export interface Preset {
  id: string;
  label: string;
  description: string;
  apply(payload: PayloadDraft): PayloadDraft;
}

/** The host a preset gives new destinations: the first destination's, else the VirtualService's name. */
function presetHost(payload: PayloadDraft): string {
  const first = payload.destinations[0]?.host;
  if (first) return first;
  return payload.virtualService && !isExpression(payload.virtualService) ? payload.virtualService : '';
}

/**
 * Destinations for a preset: the current ones when there are already `subsets.length` of them
 * (the author's own names are kept), else one per subset on the preset host.
 */
function presetDestinations(payload: PayloadDraft, subsets: string[]): DestinationDraft[] {
  if (payload.destinations.length === subsets.length && payload.destinations.every((d) => d.host)) {
    return copy(payload.destinations);
  }
  const host = presetHost(payload);
  const port = payload.destinations[0]?.port;
  return subsets.map((subset) => (port === undefined || port === '' ? { host, subset } : { host, subset, port }));
}

export const PRESETS: Preset[] = [
  {
    id: 'canary-baseline',
    label: 'Canary with baseline: 80/10/10 -> 34/33/33 -> 100/0/0',
    description: 'release/baseline/canary: 80/10/10 for 10m, 34/33/33 for 20m, then all traffic back to release',
    apply(payload) {
      return {
        ...copy(payload),
        destinations: presetDestinations(payload, ['release', 'baseline', 'canary']),
        steps: [
          { weights: [80, 10, 10], pause: '10m' },
          { weights: [34, 33, 33], pause: '20m' },
          { weights: [100, 0, 0] },
        ],
      };
    },
  },
  {
    id: 'linear',
    label: 'Linear: 10% steps to 100%',
    description: 'release/canary: the canary gains 10% every 5 minutes until it has all traffic',
    apply(payload) {
      const steps: StepDraft[] = [];
      for (let canary = 10; canary <= 100; canary += 10) {
        steps.push(canary < 100 ? { weights: [100 - canary, canary], pause: '5m' } : { weights: [0, 100] });
      }
      return { ...copy(payload), destinations: presetDestinations(payload, ['release', 'canary']), steps };
    },
  },
];

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

/**
 * The payload without empty strings anywhere. A new stage starts from this, so that Deck's
 * SpinFormik, which marks every initial value as touched, shows no "is required" messages before
 * the author has typed anything.
 */
export function withoutBlanks<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => withoutBlanks(item)) as unknown as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, child]) => child !== '')
        .map(([key, child]) => [key, withoutBlanks(child)]),
    ) as T;
  }
  return value;
}

/** Problems about a whole object or list rather than one input. */
const CONTAINER_FIELDS = [/^$/, /^route$/, /^destinations$/, /^destinations\[\d+\]$/, /^steps$/, /^steps\[\d+\]$/, /^steps\[\d+\]\.weights$/];

/** Where a container's own message lives in the errors object (it cannot sit on the container itself). */
export const CONTAINER_MESSAGE_KEY = 'message';

export function isContainerField(field: string): boolean {
  return CONTAINER_FIELDS.some((pattern) => pattern.test(field));
}

/** The errors-object path of a validator problem: `payload.<field>`, or `<…>.message` for a container. */
export function errorPath(field: string, prefix = 'payload'): string {
  const base = field ? `${prefix}.${field}` : prefix;
  return isContainerField(field) ? `${base}.${CONTAINER_MESSAGE_KEY}` : base;
}

type ErrorTree = { [key: string]: string | ErrorTree };

function setPath(target: ErrorTree, path: string, message: string): void {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let node: ErrorTree = target;
  keys.slice(0, -1).forEach((key) => {
    const child = node[key];
    if (typeof child !== 'object') node[key] = {};
    node = node[key] as ErrorTree;
  });
  const last = keys[keys.length - 1];
  const existing = node[last];
  node[last] = typeof existing === 'string' ? `${existing}; ${message}` : message;
}

/**
 * Formik errors from validator problems: the service's own rule and words, with its JSON paths
 * put in the form's language ("Step 2, weight 3").
 */
export function problemsToErrors(problems: Problem[], prefix = 'payload'): ErrorTree {
  const errors: ErrorTree = {};
  problems.forEach((problem) => setPath(errors, errorPath(problem.field, prefix), inFormLanguage(problem.message)));
  return errors;
}

/** Inputs the editor shows; problems elsewhere (e.g. unknown fields from a JSON edit) are listed below the form. */
const SHOWN_FIELDS = [
  /^(account|namespace|virtualService|onCancel|pruneUnlisted|abandonAfter)$/,
  /^route(\.(protocol|name|index|port))?$/,
  /^destinations(\[\d+\](\.(host|subset|port|label))?)?$/,
  /^steps(\[\d+\](\.(pause|weights(\[\d+\])?))?)?$/,
];

export function isShownField(field: string): boolean {
  return SHOWN_FIELDS.some((pattern) => pattern.test(field));
}
