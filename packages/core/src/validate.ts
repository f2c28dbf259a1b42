/**
 * Validation of a shift spec. One function serves the Deck editor (which shows each problem next
 * to its field) and the stage service (which answers 422 with all of them), so both always agree.
 *
 * The validator takes raw JSON (`unknown`), reports every problem at once, and returns a
 * normalized spec: weights as integers, pauses in seconds, labels and defaults filled in.
 */
import { parseDurationSeconds } from './duration';
import { NormalizedAnalysis } from './analysis/normalized';
import { validateAnalysis } from './analysis/validate';
import { destinationKey, defaultLabel } from './destinations';
import {
  ABANDON_AFTER_DEFAULT,
  CancelBehaviour,
  DestinationSpec,
  LIMITS,
  RESTART_EXPRESSION,
  RouteProtocol,
  RouteSelector,
  ShiftSpec,
} from './spec';
import { absent, Checker, IntegerRule, isExpression, isPlainObject, Problem, StringRule } from './checker';

export { isExpression };
export type { IntegerRule, Problem, StringRule };

export interface NormalizedDestination extends DestinationSpec {
  label: string;
}

export interface NormalizedStep {
  weights: number[];
  pauseSeconds: number;
}

export interface NormalizedShiftSpec {
  account: string;
  namespace: string;
  virtualService: string;
  route: RouteSelector;
  destinations: NormalizedDestination[];
  steps: NormalizedStep[];
  pruneUnlisted: boolean;
  onCancel: CancelBehaviour;
  executionId?: string;
  stageRef?: string;
  /** 0 for the first attempt of a stage, else Orca's restart time (epoch ms). */
  restartedAt: number;
  abandonAfterSeconds: number;
  /** Present when the shift judges its steps (see analysis/normalized.ts). */
  analysis?: NormalizedAnalysis;
}

export type ValidationResult =
  | { ok: true; spec: NormalizedShiftSpec; problems: [] }
  | { ok: false; problems: Problem[] };

export interface ValidateOptions {
  /**
   * Deck stores SpEL such as `${trigger.parameters.weight}` that Orca evaluates only at run time:
   * with this flag such values pass; the service (which receives evaluated payloads) leaves it off.
   */
  allowExpressions?: boolean;
}

const KNOWN_FIELDS: ReadonlyArray<keyof ShiftSpec> = [
  'account',
  'namespace',
  'virtualService',
  'route',
  'destinations',
  'steps',
  'pruneUnlisted',
  'onCancel',
  'executionId',
  'stageRef',
  'restartedAt',
  'abandonAfter',
  'analysis',
];
const ROUTE_FIELDS = ['protocol', 'name', 'index', 'port'] as const;
const DESTINATION_FIELDS = ['host', 'subset', 'port', 'label'] as const;
const STEP_FIELDS = ['weights', 'pause', 'analysis'] as const;
const PROTOCOLS: readonly RouteProtocol[] = ['http', 'tls', 'tcp'];
const CANCEL_BEHAVIOURS: readonly CancelBehaviour[] = ['rollback', 'hold'];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Istio requires subset names to be DNS-1123 labels (lower case, digits, '-'). */
const SUBSET_NAME = DNS_LABEL;
/** Shift ids are 20 lower-case hex characters (see the engine's shiftIdFor). */
const SHIFT_ID = /^[0-9a-f]{20}$/;
const IDENTIFIER = /^[A-Za-z0-9][-A-Za-z0-9_.:]*$/;

/**
 * Every scalar rule of the shift spec, by field. The validator below checks with these, and
 * spec-schema.ts generates the JSON Schema (served in the OpenAPI document) from these same
 * objects, so the two cannot disagree on a pattern, a length or a bound.
 */
export const SPEC_RULES = {
  account: { required: true, maxLength: LIMITS.maxNameLength, describe: 'the Spinnaker Kubernetes account that owns the cluster' },
  namespace: { required: true, pattern: DNS_LABEL, maxLength: 63, describe: 'a Kubernetes namespace name (lower case letters, digits and -)' },
  virtualService: { required: true, pattern: DNS_SUBDOMAIN, maxLength: LIMITS.maxNameLength, describe: 'the name of the VirtualService (lower case letters, digits, - and .)' },
  routeName: { required: true, maxLength: LIMITS.maxNameLength, describe: 'the name of the HTTP route in the VirtualService' },
  host: { required: true, pattern: DNS_SUBDOMAIN, maxLength: LIMITS.maxNameLength, describe: 'a service host name such as checkout or checkout.shop.svc.cluster.local (lower case)' },
  subset: { required: false, pattern: SUBSET_NAME, maxLength: 63, describe: 'a subset name from the DestinationRule: lower case letters, digits and -, e.g. canary' },
  label: { required: false, maxLength: 63, describe: 'a short display name such as canary' },
  executionId: { required: false, pattern: IDENTIFIER, maxLength: LIMITS.maxIdLength, describe: "Orca's ${execution.id}" },
  stageRef: { required: false, pattern: IDENTIFIER, maxLength: LIMITS.maxIdLength, describe: "the stage's refId, which the Deck editor writes" },
  shiftId: { required: true, pattern: SHIFT_ID, maxLength: 20, describe: 'the shift id from the create response (20 hex characters)' },
} as const satisfies Record<string, StringRule>;

export const SPEC_INTEGER_RULES = {
  routeIndex: { min: 0, max: 999, describe: 'the zero-based position of the route' },
  routePort: { min: 1, max: 65535, describe: "the port of one of the route's match blocks" },
  destinationPort: { min: 1, max: 65535, describe: 'the service port number' },
  weight: { min: 0, max: 100, describe: 'a whole number from 0 to 100' },
  restartedAt: { min: 0, max: Number.MAX_SAFE_INTEGER, describe: `Orca's restart time in epoch milliseconds; the Deck editor writes ${RESTART_EXPRESSION}` },
} as const satisfies Record<string, IntegerRule>;

/** The spec's objects and their fields (anything else is an unknown field), and its enumerations. */
export const SPEC_SHAPE = {
  fields: KNOWN_FIELDS,
  routeFields: ROUTE_FIELDS,
  destinationFields: DESTINATION_FIELDS,
  stepFields: STEP_FIELDS,
  protocols: PROTOCOLS,
  cancelBehaviours: CANCEL_BEHAVIOURS,
  /** Free-form durations that are SpEL: checked for length only. */
  expressionMaxLength: 200,
} as const;

const ROUTE_HINT = 'an object such as {"protocol": "http", "name": "primary"}';
const STEP_HINT = 'such as {"weights": [80, 10, 10], "pause": "10m"}';

function checkRoute(check: Checker, value: unknown): RouteSelector | undefined {
  if (!isPlainObject(value)) {
    check.add('route', 'required', { hint: ROUTE_HINT });
    return undefined;
  }
  check.unknownFields('route', value, ROUTE_FIELDS);
  const protocol = check.oneOf('route.protocol', value.protocol, PROTOCOLS, 'http');
  const has = (key: string) => !absent(value[key]);
  // HTTP routes have names; Istio's TLS and TCP routes are told apart by port.
  const [other, wrong] = protocol === 'http' ? (['name', 'port'] as const) : (['port', 'name'] as const);
  if (has(wrong)) check.add(`route.${wrong}`, protocol === 'http' ? 'port_on_http_route' : 'name_on_unnamed_route', protocol === 'http' ? {} : { protocol });
  if (has(other) === has('index')) {
    check.add('route', 'route_selector', { protocol, choices: [other, 'index'] });
    return undefined;
  }
  const route: RouteSelector = { protocol };
  if (has('name')) {
    const name = check.string('route.name', value.name, SPEC_RULES.routeName);
    if (name === undefined) return undefined;
    route.name = name;
  }
  for (const key of ['index', 'port'] as const) {
    if (!has(key)) continue;
    const number = check.integer(`route.${key}`, value[key], key === 'index' ? SPEC_INTEGER_RULES.routeIndex : SPEC_INTEGER_RULES.routePort);
    if (number === undefined) return undefined;
    route[key] = number;
  }
  return route;
}

function checkDestinations(check: Checker, value: unknown): NormalizedDestination[] | undefined {
  const list = check.array('destinations', value, 1, LIMITS.maxDestinations, 'the destinations to weigh, e.g. [{"host": "checkout", "subset": "release"}]');
  if (!list) return undefined;
  const destinations: NormalizedDestination[] = [];
  let complete = true;
  list.forEach((entry, i) => {
    const field = `destinations[${i}]`;
    if (!isPlainObject(entry)) {
      check.add(field, 'wrong_type', { expected: 'object', hint: 'with a host and optionally a subset and port' });
      complete = false;
      return;
    }
    check.unknownFields(field, entry, DESTINATION_FIELDS);
    const host = check.string(`${field}.host`, entry.host, SPEC_RULES.host);
    const subset = check.string(`${field}.subset`, entry.subset, SPEC_RULES.subset);
    const port = absent(entry.port) ? undefined : check.integer(`${field}.port`, entry.port, SPEC_INTEGER_RULES.destinationPort);
    const label = check.string(`${field}.label`, entry.label, SPEC_RULES.label);
    // A rejected subset or port leaves the identity unknown: no duplicate check on a guess.
    if (host === undefined || (!absent(entry.subset) && subset === undefined) || (!absent(entry.port) && port === undefined)) {
      complete = false;
      return;
    }
    const identity: DestinationSpec = { host };
    if (subset !== undefined) identity.subset = subset;
    if (port !== undefined && !Number.isNaN(port)) identity.port = port;
    destinations.push({ ...identity, label: label ?? defaultLabel(identity) });
  });
  if (!complete) return undefined;
  const seenKeys = new Map<string, number>();
  const seenLabels = new Map<string, number>();
  destinations.forEach((destination, i) => {
    if (isExpression(destination.host) || isExpression(destination.subset)) return;
    const key = destinationKey(destination);
    const first = seenKeys.get(key);
    if (first !== undefined) check.add(`destinations[${i}]`, 'duplicate_destination', { index: i, first, key });
    else seenKeys.set(key, i);
    const firstLabel = seenLabels.get(destination.label);
    if (firstLabel !== undefined && first === undefined) check.add(`destinations[${i}].label`, 'duplicate_label', { index: i, first: firstLabel, label: destination.label });
    else seenLabels.set(destination.label, i);
  });
  return destinations;
}

function checkSteps(check: Checker, value: unknown, destinationCount: number | undefined): NormalizedStep[] | undefined {
  const list = check.array('steps', value, 1, LIMITS.maxSteps, 'at least one step, e.g. [{"weights": [80, 10, 10], "pause": "10m"}]');
  if (!list) return undefined;
  const steps: NormalizedStep[] = [];
  let complete = true;
  list.forEach((entry, i) => {
    const field = `steps[${i}]`;
    if (!isPlainObject(entry)) {
      check.add(field, 'wrong_type', { expected: 'object', hint: STEP_HINT });
      complete = false;
      return;
    }
    check.unknownFields(field, entry, STEP_FIELDS);
    const weights = check.array(`${field}.weights`, entry.weights, 1, LIMITS.maxDestinations, 'one weight per destination, summing to 100');
    const pauseSeconds = absent(entry.pause) ? 0 : checkPause(check, `${field}.pause`, entry.pause);
    if (!weights) {
      complete = false;
      return;
    }
    if (destinationCount !== undefined && weights.length !== destinationCount) {
      check.add(`${field}.weights`, 'weight_count', { count: weights.length, destinations: destinationCount });
      complete = false;
    }
    const numbers = weights.map((weight, j) => check.integer(`${field}.weights[${j}]`, weight, SPEC_INTEGER_RULES.weight));
    if (numbers.some((n) => n === undefined)) {
      complete = false;
      return;
    }
    const definite = numbers as number[];
    // A SpEL weight (NaN, Deck only) makes the sum unknowable until Orca evaluates it.
    const sum = definite.reduce((a, b) => a + b, 0);
    if (sum !== 100 && !Number.isNaN(sum)) {
      check.add(`${field}.weights`, 'weight_sum', { sum });
      complete = false;
      return;
    }
    // Checked after the sum, so a row with a bad pause still reports its weights too.
    if (pauseSeconds === undefined) {
      complete = false;
      return;
    }
    steps.push({ weights: definite, pauseSeconds });
  });
  return complete ? steps : undefined;
}

function checkPause(check: Checker, field: string, value: unknown): number | undefined {
  if (isExpression(value)) {
    return check.string(field, value, { required: false, maxLength: SPEC_SHAPE.expressionMaxLength, describe: 'a duration' }) === undefined ? undefined : 0;
  }
  // -1: not a duration (reported); the upper bound has its own code.
  const seconds = check.duration(field, value, -1, 0, Infinity, ['90s', '10m', '1h30m']);
  if (seconds < 0) return undefined;
  if (seconds > LIMITS.maxPauseSeconds) {
    check.add(field, 'pause_too_long', { got: seconds, maxSeconds: LIMITS.maxPauseSeconds });
    return undefined;
  }
  return seconds;
}

/** Orca's restart time, 0 before any restart (also when Orca left RESTART_EXPRESSION unevaluated). */
function checkRestartedAt(check: Checker, value: unknown): number {
  if (absent(value) || value === RESTART_EXPRESSION) return 0;
  const parsed = check.integer('restartedAt', value, SPEC_INTEGER_RULES.restartedAt);
  return parsed === undefined || Number.isNaN(parsed) ? 0 : parsed;
}

function checkAbandonAfter(check: Checker, value: unknown): number {
  const fallback = parseDurationSeconds(ABANDON_AFTER_DEFAULT) as number;
  if (isExpression(value)) {
    check.string('abandonAfter', value, { required: false, maxLength: SPEC_SHAPE.expressionMaxLength, describe: 'a duration such as 2m' });
    return fallback;
  }
  return check.duration('abandonAfter', value, fallback, LIMITS.minAbandonAfterSeconds, LIMITS.maxAbandonAfterSeconds, ['90s', '5m']);
}

export function validateShiftSpec(input: unknown, options: ValidateOptions = {}): ValidationResult {
  const check = new Checker(options.allowExpressions ? 'allowed' : 'rejected');
  if (!isPlainObject(input)) {
    check.add('', 'spec_not_object');
    return { ok: false, problems: check.problems };
  }
  check.unknownFields('', input, KNOWN_FIELDS);
  const account = check.string('account', input.account, SPEC_RULES.account);
  const namespace = check.string('namespace', input.namespace, SPEC_RULES.namespace);
  const virtualService = check.string('virtualService', input.virtualService, SPEC_RULES.virtualService);
  const route = checkRoute(check, input.route);
  const destinations = checkDestinations(check, input.destinations);
  const steps = checkSteps(check, input.steps, destinations?.length);
  const pruneUnlisted = check.boolean('pruneUnlisted', input.pruneUnlisted, false);
  const onCancel = check.oneOf('onCancel', input.onCancel, CANCEL_BEHAVIOURS, 'rollback');
  const executionId = check.string('executionId', input.executionId, SPEC_RULES.executionId);
  const stageRef = check.string('stageRef', input.stageRef, SPEC_RULES.stageRef);
  // One names the shift only with the other; a field already reported is not reported twice.
  const reported = (field: string) => check.problems.some((p) => p.field === field);
  if (executionId !== undefined && stageRef === undefined && !reported('stageRef')) check.add('stageRef', 'stage_ref_required');
  if (stageRef !== undefined && executionId === undefined && !reported('executionId')) check.add('executionId', 'execution_id_required');
  const restartedAt = checkRestartedAt(check, input.restartedAt);
  const abandonAfterSeconds = checkAbandonAfter(check, input.abandonAfter);
  const analysis = validateAnalysis(input.analysis, { namespace, steps: input.steps });
  check.problems.push(...analysis.problems);
  if (check.problems.length > 0 || !account || !namespace || !virtualService || !route || !destinations || !steps) {
    return { ok: false, problems: check.problems };
  }
  const spec: NormalizedShiftSpec = { account, namespace, virtualService, route, destinations, steps, pruneUnlisted, onCancel, restartedAt, abandonAfterSeconds };
  if (executionId !== undefined) spec.executionId = executionId;
  if (stageRef !== undefined) spec.stageRef = stageRef;
  if (analysis.analysis) spec.analysis = analysis.analysis;
  return { ok: true, spec, problems: [] };
}
