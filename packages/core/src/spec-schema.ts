/**
 * The shift spec's JSON Schema, generated from the validator's own rules (validate.ts SPEC_RULES,
 * SPEC_INTEGER_RULES, SPEC_SHAPE and spec.ts LIMITS): the OpenAPI document serves it as the create
 * body's schema, so a pattern, a length, a bound or a field changed in the validator changes the
 * published schema with it. spec-schema.test.ts runs every spec fixture through both.
 *
 * What JSON Schema cannot say stays with the validator alone and is listed in the schema's
 * `x-validator-only`: the weights of a step sum to 100 and there is one per destination; an HTTP
 * route gives exactly one of name or index (TLS and TCP: port or index); destinations and labels
 * are distinct; executionId and stageRef come together; a pause is at most 7 days and
 * abandonAfter within its bounds when written as text; numbers written as digit strings are in
 * range; and the analysis block (analysis/validate.ts).
 */
import { LIMITS, RESTART_EXPRESSION, ABANDON_AFTER_DEFAULT } from './spec';
import { IntegerRule, SPEC_INTEGER_RULES, SPEC_RULES, SPEC_SHAPE, StringRule } from './validate';

export type JsonSchema = { [key: string]: unknown };

export interface SpecSchemaOptions {
  /**
   * The Deck editor's variant: SpEL templates (`${...}`) pass wherever the validator lets them
   * through with `allowExpressions`. The service's variant (the default) rejects them.
   */
  allowExpressions?: boolean;
}

/** What the validator recognises as SpEL (validate.ts isExpression). */
export const EXPRESSION_PATTERN = '\\$\\{';
/**
 * A duration as duration.ts parseDurationSeconds reads it: whole seconds, or hours, minutes and
 * seconds in that order with at least one of them ("90s", "10m", "1h30m"), blanks around allowed.
 */
export const DURATION_PATTERN = '^\\s*(?:\\d+|\\d+h(?:\\d+m)?(?:\\d+s)?|\\d+m(?:\\d+s)?|\\d+s)\\s*$';
const DIGITS = '^\\d+$';
/** The validator reads an empty string or null in an optional field as "not given". */
const ABSENT: JsonSchema = { enum: ['', null] };

const VALIDATOR_ONLY = [
  'steps[i].weights sum to 100 and hold one weight per destination',
  'an HTTP route gives exactly one of name or index; a TLS or TCP route exactly one of port or index, and no name',
  'destinations are distinct (host, subset, port) and so are their labels',
  'executionId and stageRef are given together',
  'a pause written as text is at most 7 days; abandonAfter written as text is within its bounds',
  'whole numbers written as digit strings are within their field\'s bounds',
  'the analysis block and steps[i].analysis (analysis/validate.ts)',
];

function anyOf(options: JsonSchema[], description?: string): JsonSchema {
  const flat = options.flatMap((o) => (Array.isArray(o.anyOf) && Object.keys(o).length === 1 ? (o.anyOf as JsonSchema[]) : [o]));
  const schema: JsonSchema = flat.length === 1 ? flat[0] : { anyOf: flat };
  return description === undefined ? schema : { ...schema, description };
}

class Generator {
  constructor(private readonly allowExpressions: boolean) {}

  /** A scalar: its rule, or (Deck) SpEL, or (optional fields) absent. */
  private scalar(options: JsonSchema[], optional: boolean, description?: string): JsonSchema {
    const all = [...options];
    if (this.allowExpressions) all.push({ type: 'string', pattern: EXPRESSION_PATTERN });
    if (optional) all.push(ABSENT);
    return anyOf(all, description);
  }

  string(rule: StringRule, optional = !rule.required): JsonSchema {
    const schema: JsonSchema = { type: 'string', minLength: 1, maxLength: rule.maxLength };
    // Patterns have no room for "${"; a rule without one rejects SpEL explicitly (the service's variant).
    if (rule.pattern) schema.pattern = rule.pattern.source;
    else if (!this.allowExpressions) schema.not = { pattern: EXPRESSION_PATTERN };
    return this.scalar([schema], optional, rule.describe);
  }

  integer(rule: IntegerRule, optional: boolean, extra: JsonSchema[] = []): JsonSchema {
    return this.scalar([{ type: 'integer', minimum: rule.min, maximum: rule.max }, { type: 'string', pattern: DIGITS }, ...extra], optional, rule.describe);
  }

  enumeration(values: readonly string[], fallback: string): JsonSchema {
    return { ...this.scalar([{ type: 'string', enum: [...values] }], true), default: fallback };
  }

  boolean(fallback: boolean): JsonSchema {
    return { ...this.scalar([{ type: 'boolean' }, { enum: ['true', 'false'] }], true), default: fallback };
  }

  duration(maxSeconds: number, minSeconds: number, description: string): JsonSchema {
    return this.scalar([{ type: 'string', pattern: DURATION_PATTERN }, { type: 'integer', minimum: minSeconds, maximum: maxSeconds }], true, description);
  }

  object(fields: readonly string[], properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
    const missing = fields.filter((f) => !(f in properties));
    if (missing.length > 0) throw new Error(`spec schema: no schema for ${missing.join(', ')}`);
    const schema: JsonSchema = { type: 'object', additionalProperties: false, properties };
    if (required.length > 0) schema.required = required;
    return schema;
  }

  spec(): JsonSchema {
    const route = this.object(SPEC_SHAPE.routeFields, {
      protocol: this.enumeration(SPEC_SHAPE.protocols, 'http'),
      name: this.string(SPEC_RULES.routeName, true),
      index: this.integer(SPEC_INTEGER_RULES.routeIndex, true),
      port: this.integer(SPEC_INTEGER_RULES.routePort, true),
    });
    const destination = this.object(
      SPEC_SHAPE.destinationFields,
      {
        host: this.string(SPEC_RULES.host),
        subset: this.string(SPEC_RULES.subset),
        port: this.integer(SPEC_INTEGER_RULES.destinationPort, true),
        label: this.string(SPEC_RULES.label),
      },
      ['host'],
    );
    const step = this.object(
      SPEC_SHAPE.stepFields,
      {
        weights: { type: 'array', minItems: 1, maxItems: LIMITS.maxDestinations, items: this.integer(SPEC_INTEGER_RULES.weight, false), description: 'one weight per destination, in their order, summing to 100' },
        pause: this.duration(LIMITS.maxPauseSeconds, 0, `how long to hold the step: 90s, 10m, 1h30m or whole seconds; at most ${LIMITS.maxPauseSeconds} s (7 days)`),
        analysis: anyOf([{ type: 'object' }, ABSENT], 'per-step analysis timing ({"warmup": "1m"} or {"skip": true}); see docs/analysis.md'),
      },
      ['weights'],
    );
    const restartExpression: JsonSchema = { const: RESTART_EXPRESSION };
    const spec = this.object(
      SPEC_SHAPE.fields,
      {
        account: this.string(SPEC_RULES.account),
        namespace: this.string(SPEC_RULES.namespace),
        virtualService: this.string(SPEC_RULES.virtualService),
        route: { ...route, description: 'the route to shift: an HTTP route by name (preferred) or index, a TLS or TCP route by port or index' },
        destinations: { type: 'array', minItems: 1, maxItems: LIMITS.maxDestinations, items: destination },
        steps: { type: 'array', minItems: 1, maxItems: LIMITS.maxSteps, items: step },
        pruneUnlisted: this.boolean(false),
        onCancel: this.enumeration(SPEC_SHAPE.cancelBehaviours, 'rollback'),
        executionId: this.string(SPEC_RULES.executionId),
        stageRef: this.string(SPEC_RULES.stageRef),
        restartedAt: this.integer(SPEC_INTEGER_RULES.restartedAt, true, [restartExpression]),
        abandonAfter: {
          ...this.duration(LIMITS.maxAbandonAfterSeconds, LIMITS.minAbandonAfterSeconds, `without a status poll for this long the shift is abandoned: weights restored (or held), TERMINAL; ${LIMITS.minAbandonAfterSeconds} s to ${LIMITS.maxAbandonAfterSeconds} s`),
          default: ABANDON_AFTER_DEFAULT,
        },
        analysis: anyOf([{ type: 'object' }, ABSENT], "canary analysis during each step's pause; see docs/analysis.md"),
      },
      ['account', 'namespace', 'virtualService', 'route', 'destinations', 'steps'],
    );
    return { ...spec, 'x-validator-only': VALIDATOR_ONLY };
  }
}

/** The create body's JSON Schema (draft 2020-12 keywords; also an OpenAPI 3.1 schema object). */
export function shiftSpecJsonSchema(options: SpecSchemaOptions = {}): JsonSchema {
  return new Generator(options.allowExpressions ?? false).spec();
}
