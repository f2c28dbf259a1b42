/**
 * The editor's data model, free of React and of @spinnaker/core: the stage payload as the form
 * holds it, the operations the buttons perform (presets, adding and removing destinations and
 * steps), the stage timeout rule, and the mapping of validator problems to form errors.
 */
import { EXECUTION_ID_EXPRESSION, RESTART_EXPRESSION, defaultLabel, isExpression } from '@istio-shift/core';
import type { Problem } from '@istio-shift/core';
import type { DestinationDraft, NumberDraft, PayloadDraft, StepDraft } from '@istio-shift/core';

// The stage's identity, payload drafts, cleaning and timeout rule live in core (packages/core/src/stage.ts),
// shared with the pipeline generator; re-exported here so the editor's imports stay as they were.
export {
  STAGE_KEY,
  STAGE_LABEL,
  STAGE_ALIAS,
  EXECUTION_ID_EXPRESSION,
  cleanPayload,
  stageTimeout,
} from '@istio-shift/core';
export type { NumberDraft, RouteDraft, DestinationDraft, StepDraft, PayloadDraft, TimeoutExplanation } from '@istio-shift/core';
import { problemText } from './formLanguage';

/** Orca's restart time (0 before a restart): "Restart stage" then runs a new attempt of the shift. */
export { RESTART_EXPRESSION };

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
  if (destination.subset || destination.host) return defaultLabel({ host: destination.host || '', subset: destination.subset });
  return `#${index + 1}`;
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const isBlank = (value: unknown): boolean => value === undefined || value === null || value === '';

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
  const [first] = payload.destinations;
  if (first && first.host) return first.host;
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
  const [first] = payload.destinations;
  const port = first && first.port;
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

/** The errors-object path of a validator problem: `payload.<field>`, or `<…>.message` for a container. */
export function errorPath(field: string, prefix = 'payload'): string {
  const base = field ? `${prefix}.${field}` : prefix;
  return CONTAINER_FIELDS.some((pattern) => pattern.test(field)) ? `${base}.${CONTAINER_MESSAGE_KEY}` : base;
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
 * Formik errors from validator problems: the service's own rules, worded by the form from each
 * problem's code and params ("Step 2, weight 3 is 120; ..."), never from the service's English.
 */
export function problemsToErrors(problems: Problem[], prefix = 'payload', payload?: unknown): ErrorTree {
  const errors: ErrorTree = {};
  problems.forEach((problem) => setPath(errors, errorPath(problem.field, prefix), problemText(problem, payload)));
  return errors;
}

/** Inputs the editor shows; problems elsewhere (e.g. unknown fields from a JSON edit) are listed below the form. */
const SHOWN_FIELDS = [
  /^(account|namespace|virtualService|onCancel|pruneUnlisted|abandonAfter)$/,
  /^route(\.(protocol|name|index|port))?$/,
  /^destinations(\[\d+\](\.(host|subset|port|label))?)?$/,
  /^steps(\[\d+\](\.(pause|weights(\[\d+\])?))?)?$/,
  /^(steps\[\d+\]\.)?analysis\b/, // shown by the analysis section (analysis-model.ts)
];

export function isShownField(field: string): boolean {
  return SHOWN_FIELDS.some((pattern) => pattern.test(field));
}

const isPlain = (value: unknown): value is Record<string, unknown> => Boolean(value) && typeof value === 'object' && !Array.isArray(value);

/**
 * `value` with its keys in the order of `stored` (recursively; list items by position), keys that
 * `stored` lacks after them in their own order. Deck compares a pipeline's JSON as text, so a stage
 * saved with its keys reordered would read as changed; with this, an unedited stage saves
 * byte-identical and an edit changes only what was edited.
 */
export function inKeyOrderOf<T>(stored: unknown, value: T): T {
  if (Array.isArray(value)) return value.map((item, i) => inKeyOrderOf(Array.isArray(stored) ? stored[i] : undefined, item)) as unknown as T;
  if (!isPlain(value) || !isPlain(stored)) return value;
  const keys = [...Object.keys(stored).filter((key) => key in value), ...Object.keys(value).filter((key) => !(key in stored))];
  return Object.fromEntries(keys.map((key) => [key, inKeyOrderOf(stored[key], value[key])])) as T;
}
