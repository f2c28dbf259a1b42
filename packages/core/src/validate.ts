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
import { ProblemCode, ProblemParams } from './contract';

/**
 * A problem with one field; `field` is a lodash-style path such as `steps[1].weights[2]`.
 * `message` is English for the API's error bodies and logs (it may be reworded); `code` and `params`
 * are the stable part, from which a client words the problem itself (the spec validator always sets
 * them; problems of other checks, e.g. route selection, may carry only a message).
 */
export interface Problem {
  field: string;
  message: string;
  code?: ProblemCode;
  params?: ProblemParams;
}

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
const EXPRESSION = /\$\{/;

export interface StringRule {
  required: boolean;
  pattern?: RegExp;
  maxLength: number;
  describe: string;
}
export interface IntegerRule {
  min: number;
  max: number;
  describe: string;
}

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

/** True when a value is a SpEL template that Orca evaluates before it calls the service. */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && EXPRESSION.test(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects problems; each check either returns a clean value or records why not. */
class Checker {
  readonly problems: Problem[] = [];
  constructor(private readonly allowExpressions: boolean) {}

  add(field: string, message: string, code: ProblemCode, params: ProblemParams = {}): void {
    this.problems.push({ field, message, code, params });
  }

  /** Returns 'expression' when the value is SpEL that Deck may keep; reports it in the service. */
  private expression(field: string, value: unknown): 'expression' | 'rejected' | undefined {
    if (!isExpression(value)) return undefined;
    if (this.allowExpressions) return 'expression';
    this.add(
      field,
      `${field} is "${value}", which looks like a SpEL expression Orca did not evaluate; ` +
        'check the expression in the pipeline, or send a literal value',
      'unevaluated_expression',
      { value },
    );
    return 'rejected';
  }

  unknownFields(field: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const where = field ? `${field}.${key}` : key;
        this.add(where, `${where} is not a known field: remove it (known fields: ${known.join(', ')})`, 'unknown_field', { key, known: [...known] });
      }
    }
  }

  string(
    field: string,
    value: unknown,
    rule: StringRule,
  ): string | undefined {
    if (value === undefined || value === null || value === '') {
      if (rule.required) this.add(field, `${field} is required: give ${rule.describe}`, 'required', { hint: rule.describe });
      return undefined;
    }
    if (typeof value !== 'string') {
      this.add(field, `${field} must be a string: give ${rule.describe}`, 'wrong_type', { expected: 'string', hint: rule.describe });
      return undefined;
    }
    const expression = this.expression(field, value);
    if (expression === 'expression') return value;
    if (expression === 'rejected') return undefined;
    if (value.length > rule.maxLength) {
      this.add(field, `${field} is ${value.length} characters long; shorten it to at most ${rule.maxLength}`, 'too_long', { length: value.length, max: rule.maxLength });
      return undefined;
    }
    if (rule.pattern && !rule.pattern.test(value)) {
      this.add(field, `${field} "${value}" is not valid: give ${rule.describe}`, 'invalid_format', { value, hint: rule.describe });
      return undefined;
    }
    return value;
  }

  /**
   * An integer, or a string of digits (Orca's SpEL turns numbers into strings).
   * Returns NaN for a SpEL expression that Deck keeps, so later arithmetic can skip it.
   */
  integer(field: string, value: unknown, rule: IntegerRule): number | undefined {
    const { min, max, describe } = rule;
    if (value === undefined || value === null || value === '') {
      this.add(field, `${field} is required: give ${describe}`, 'required', { hint: describe });
      return undefined;
    }
    const expression = this.expression(field, value);
    if (expression === 'expression') return Number.NaN;
    if (expression === 'rejected') return undefined;
    let number: number | undefined;
    if (typeof value === 'number' && Number.isInteger(value)) number = value;
    if (typeof value === 'string' && /^\d+$/.test(value)) number = Number(value);
    if (number === undefined) {
      this.add(field, `${field} must be a whole number (got ${JSON.stringify(value)}): give ${describe}`, 'wrong_type', { expected: 'whole number', got: JSON.stringify(value) ?? String(value), hint: describe });
      return undefined;
    }
    if (number < min || number > max) {
      this.add(field, `${field} is ${number}; it must be between ${min} and ${max}`, 'out_of_range', { got: number, min, max });
      return undefined;
    }
    return number;
  }

  boolean(field: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined || value === null || value === '') return fallback;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    if (this.expression(field, value) === 'expression') return fallback;
    this.add(field, `${field} must be true or false (got ${JSON.stringify(value)})`, 'wrong_type', { expected: 'boolean', got: JSON.stringify(value) ?? String(value) });
    return fallback;
  }

  oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
    if (value === undefined || value === null || value === '') return fallback;
    if ((allowed as readonly unknown[]).includes(value)) return value as T;
    if (this.expression(field, value) === 'expression') return fallback;
    this.add(field, `${field} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`, 'not_one_of', { allowed: [...allowed], got: JSON.stringify(value) ?? String(value) });
    return fallback;
  }

  array(field: string, value: unknown, min: number, max: number, describe: string): unknown[] | undefined {
    if (value === undefined || value === null) {
      this.add(field, `${field} is required: give ${describe}`, 'required', { hint: describe });
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.add(field, `${field} must be a list: give ${describe}`, 'wrong_type', { expected: 'list', hint: describe });
      return undefined;
    }
    if (value.length < min) {
      this.add(field, `${field} is empty: give ${describe}`, 'empty', { hint: describe });
      return undefined;
    }
    if (value.length > max) {
      this.add(field, `${field} has ${value.length} entries; at most ${max} are allowed`, 'too_many', { count: value.length, max });
      return undefined;
    }
    return value;
  }
}

const ROUTE_HINT = 'an object such as {"protocol": "http", "name": "primary"}';

function checkRoute(check: Checker, value: unknown): RouteSelector | undefined {
  if (!isPlainObject(value)) {
    check.add('route', `route is required: give ${ROUTE_HINT}`, 'required', { hint: ROUTE_HINT });
    return undefined;
  }
  check.unknownFields('route', value, ROUTE_FIELDS);
  const protocol = check.oneOf('route.protocol', value.protocol, PROTOCOLS, 'http');
  const has = (key: string) => value[key] !== undefined && value[key] !== null && value[key] !== '';
  const route: RouteSelector = { protocol };
  if (protocol === 'http') {
    if (has('port')) check.add('route.port', 'route.port applies to TLS and TCP routes only: select an HTTP route by name or index', 'port_on_http_route');
    if (has('name') === has('index')) {
      check.add('route', 'route must give exactly one of name or index for an HTTP route (prefer the name: it survives reordering)', 'route_selector', { protocol, choices: ['name', 'index'] });
      return undefined;
    }
  } else {
    if (has('name')) check.add('route.name', `Istio ${protocol.toUpperCase()} routes have no name: select the route by port or index`, 'name_on_unnamed_route', { protocol });
    if (has('port') === has('index')) {
      check.add('route', `route must give exactly one of port or index for a ${protocol.toUpperCase()} route`, 'route_selector', { protocol, choices: ['port', 'index'] });
      return undefined;
    }
  }
  if (has('name')) {
    const name = check.string('route.name', value.name, SPEC_RULES.routeName);
    if (name === undefined) return undefined;
    route.name = name;
  }
  if (has('index')) {
    const index = check.integer('route.index', value.index, SPEC_INTEGER_RULES.routeIndex);
    if (index === undefined) return undefined;
    route.index = index;
  }
  if (has('port')) {
    const port = check.integer('route.port', value.port, SPEC_INTEGER_RULES.routePort);
    if (port === undefined) return undefined;
    route.port = port;
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
      check.add(field, `${field} must be an object with a host and optionally a subset and port`, 'wrong_type', { expected: 'object', hint: 'with a host and optionally a subset and port' });
      complete = false;
      return;
    }
    check.unknownFields(field, entry, DESTINATION_FIELDS);
    const host = check.string(`${field}.host`, entry.host, SPEC_RULES.host);
    const subset = check.string(`${field}.subset`, entry.subset, SPEC_RULES.subset);
    const port = entry.port === undefined || entry.port === null || entry.port === ''
      ? undefined
      : check.integer(`${field}.port`, entry.port, SPEC_INTEGER_RULES.destinationPort);
    const label = check.string(`${field}.label`, entry.label, SPEC_RULES.label);
    const given = (v: unknown) => v !== undefined && v !== null && v !== '';
    // A rejected subset or port leaves the identity unknown: no duplicate check on a guess.
    if (host === undefined || (given(entry.subset) && subset === undefined) || (given(entry.port) && port === undefined)) {
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
    if (first !== undefined) {
      check.add(`destinations[${i}]`, `destinations[${i}] repeats destinations[${first}] (${key}): list each destination once`, 'duplicate_destination', { index: i, first, key });
    } else seenKeys.set(key, i);
    const firstLabel = seenLabels.get(destination.label);
    if (firstLabel !== undefined && first === undefined) {
      check.add(`destinations[${i}].label`, `destinations[${i}] has the same label "${destination.label}" as destinations[${firstLabel}]: give each a distinct label`, 'duplicate_label', { index: i, first: firstLabel, label: destination.label });
    } else seenLabels.set(destination.label, i);
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
      check.add(field, `${field} must be an object such as {"weights": [80, 10, 10], "pause": "10m"}`, 'wrong_type', { expected: 'object', hint: 'such as {"weights": [80, 10, 10], "pause": "10m"}' });
      complete = false;
      return;
    }
    check.unknownFields(field, entry, STEP_FIELDS);
    const weights = check.array(`${field}.weights`, entry.weights, 1, LIMITS.maxDestinations, 'one weight per destination, summing to 100');
    let pauseSeconds: number | undefined = 0;
    if (entry.pause !== undefined && entry.pause !== null && entry.pause !== '') {
      pauseSeconds = checkPause(check, `${field}.pause`, entry.pause);
    }
    if (!weights) {
      complete = false;
      return;
    }
    if (destinationCount !== undefined && weights.length !== destinationCount) {
      check.add(`${field}.weights`, `${field}.weights has ${weights.length} weights but there are ${destinationCount} destinations: give one weight per destination, in the same order`, 'weight_count', { count: weights.length, destinations: destinationCount });
      complete = false;
    }
    const numbers = weights.map((weight, j) => check.integer(`${field}.weights[${j}]`, weight, SPEC_INTEGER_RULES.weight));
    if (numbers.some((n) => n === undefined)) {
      complete = false;
      return;
    }
    const definite = numbers as number[];
    // A SpEL weight (NaN, Deck only) makes the sum unknowable until Orca evaluates it.
    if (!definite.some(Number.isNaN)) {
      const sum = definite.reduce((a, b) => a + b, 0);
      if (sum !== 100) {
        const fix = sum < 100 ? `add ${100 - sum}` : `remove ${sum - 100}`;
        check.add(`${field}.weights`, `${field}.weights sum to ${sum}; they must sum to 100 (${fix})`, 'weight_sum', { sum });
        complete = false;
        return;
      }
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
  const seconds = typeof value === 'string' || typeof value === 'number' ? parseDurationSeconds(value) : undefined;
  if (seconds === undefined) {
    check.add(field, `${field} ${JSON.stringify(value)} is not a duration: write it like 90s, 10m or 1h30m, or as whole seconds`, 'not_a_duration', { got: JSON.stringify(value) ?? String(value), examples: ['90s', '10m', '1h30m'] });
    return undefined;
  }
  if (seconds > LIMITS.maxPauseSeconds) {
    check.add(field, `${field} is longer than 7 days; shorten it (a long bake belongs in a separate stage)`, 'pause_too_long', { got: seconds, maxSeconds: LIMITS.maxPauseSeconds });
    return undefined;
  }
  return seconds;
}

/** Orca's restart time, 0 before any restart (also when Orca left RESTART_EXPRESSION unevaluated). */
function checkRestartedAt(check: Checker, value: unknown): number {
  if (value === undefined || value === null || value === '' || value === RESTART_EXPRESSION) return 0;
  const parsed = check.integer('restartedAt', value, SPEC_INTEGER_RULES.restartedAt);
  return parsed === undefined || Number.isNaN(parsed) ? 0 : parsed;
}

function checkAbandonAfter(check: Checker, value: unknown): number {
  const fallback = parseDurationSeconds(ABANDON_AFTER_DEFAULT) as number;
  if (value === undefined || value === null || value === '') return fallback;
  if (isExpression(value)) {
    check.string('abandonAfter', value, { required: false, maxLength: SPEC_SHAPE.expressionMaxLength, describe: 'a duration such as 2m' });
    return fallback;
  }
  const seconds = typeof value === 'string' || typeof value === 'number' ? parseDurationSeconds(value) : undefined;
  if (seconds === undefined) {
    check.add('abandonAfter', `abandonAfter ${JSON.stringify(value)} is not a duration: write it like 90s or 5m`, 'not_a_duration', { got: JSON.stringify(value) ?? String(value), examples: ['90s', '5m'] });
    return fallback;
  }
  if (seconds < LIMITS.minAbandonAfterSeconds || seconds > LIMITS.maxAbandonAfterSeconds) {
    check.add('abandonAfter', `abandonAfter is ${seconds}s; it must be between ${LIMITS.minAbandonAfterSeconds}s (longer than Orca's 15 s poll interval, with room for a service restart) and ${LIMITS.maxAbandonAfterSeconds / 60}m`, 'duration_out_of_range', { got: seconds, min: LIMITS.minAbandonAfterSeconds, max: LIMITS.maxAbandonAfterSeconds });
    return fallback;
  }
  return seconds;
}

export function validateShiftSpec(input: unknown, options: ValidateOptions = {}): ValidationResult {
  const check = new Checker(options.allowExpressions ?? false);
  if (!isPlainObject(input)) {
    check.add('', 'the shift spec must be a JSON object with account, namespace, virtualService, route, destinations and steps', 'spec_not_object');
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
  if (executionId !== undefined && stageRef === undefined && !check.problems.some((p) => p.field === 'stageRef')) {
    check.add('stageRef', 'stageRef is required with executionId: one execution can run several shift stages, so name the stage (the Deck editor writes its refId)', 'stage_ref_required');
  }
  if (stageRef !== undefined && executionId === undefined && !check.problems.some((p) => p.field === 'executionId')) {
    check.add('executionId', 'executionId is required with stageRef: in Orca set it to ${execution.id}', 'execution_id_required');
  }
  const restartedAt = checkRestartedAt(check, input.restartedAt);
  const abandonAfterSeconds = checkAbandonAfter(check, input.abandonAfter);
  const analysis = validateAnalysis(input.analysis, { namespace, steps: input.steps });
  analysis.problems.forEach((p) => check.add(p.field, p.message, p.code ?? 'analysis', p.params ?? {}));
  if (check.problems.length > 0 || !account || !namespace || !virtualService || !route || !destinations || !steps) {
    return { ok: false, problems: check.problems };
  }
  const spec: NormalizedShiftSpec = { account, namespace, virtualService, route, destinations, steps, pruneUnlisted, onCancel, restartedAt, abandonAfterSeconds };
  if (executionId !== undefined) spec.executionId = executionId;
  if (stageRef !== undefined) spec.stageRef = stageRef;
  if (analysis.analysis) spec.analysis = analysis.analysis;
  return { ok: true, spec, problems: [] };
}

/** The segments of a shift's URL: /v1/shifts/{account}/{namespace}/{virtualService}/{id}. */
export interface ShiftPathSegments {
  account: unknown;
  namespace: unknown;
  virtualService: unknown;
  id: unknown;
}

/**
 * Checks a shift's URL segments with the same rules as the create body, so a segment can never
 * address anything but a VirtualService (e.g. "checkout/status" would reach the status subresource).
 */
export function validateShiftPath(segments: ShiftPathSegments): Problem[] {
  const check = new Checker(false);
  check.string('account', segments.account, { ...SPEC_RULES.account, describe: 'the Spinnaker account of the shift' });
  check.string('namespace', segments.namespace, SPEC_RULES.namespace);
  check.string('virtualService', segments.virtualService, SPEC_RULES.virtualService);
  check.string('id', segments.id, SPEC_RULES.shiftId);
  return check.problems;
}

/** "field: message; field: message" for logs and CLI output. */
export function describeProblems(problems: Problem[]): string {
  return problems.map((p) => p.message).join('; ');
}
