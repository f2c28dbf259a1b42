/**
 * The checks the shift spec and its analysis block have in common (types, lengths, patterns,
 * ranges, durations, unknown fields). Each either returns a clean value or records a problem whose
 * message is worded from its code and params (problem-text.ts), as the Deck form words it too.
 */
import type { ProblemCode, ProblemParams } from './contract';
import { parseDurationSeconds } from './duration';
import { problemMessage } from './problem-text';

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

const EXPRESSION = /\$\{/;

/** True when a value is a SpEL template that Orca evaluates before it calls the service. */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && EXPRESSION.test(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const absent = (value: unknown): boolean => value === undefined || value === null || value === '';

const shown = (value: unknown) => JSON.stringify(value) ?? String(value);

/**
 * What a SpEL value gets: `allowed` in Deck (Orca evaluates it later), `rejected` by the service
 * (it should have been evaluated), `unsupported` in the analysis block (never evaluated).
 */
export type Expressions = 'allowed' | 'rejected' | 'unsupported';

export class Checker {
  readonly problems: Problem[] = [];
  constructor(private readonly expressions: Expressions) {}

  /** A problem worded from its code; `message` only for the analysis block's own rules (code `analysis`). */
  add(field: string, code: ProblemCode, params: ProblemParams = {}, message = problemMessage(field, code, params) as string): void {
    this.problems.push({ field, message, code, params });
  }

  /** A rule of the analysis block alone: its message is its only wording. */
  rule(field: string, message: string): void {
    this.add(field, 'analysis', {}, message);
  }

  /** 'kept' for SpEL that Deck may keep, 'reported' once reported, undefined for a literal value. */
  private expression(field: string, value: unknown, hint?: string): 'kept' | 'reported' | undefined {
    if (!isExpression(value)) return undefined;
    if (this.expressions === 'allowed') return 'kept';
    this.add(field, 'unevaluated_expression', hint === undefined ? { value } : { value, hint });
    return 'reported';
  }

  /** For enumerations and booleans: the analysis block treats SpEL as just a wrong value. */
  private keepsExpression(field: string, value: unknown): boolean {
    return this.expressions !== 'unsupported' && this.expression(field, value) === 'kept';
  }

  unknownFields(field: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.add(field ? `${field}.${key}` : key, 'unknown_field', { key, known: [...known] });
    }
  }

  string(field: string, value: unknown, rule: StringRule): string | undefined {
    const { required, pattern, maxLength, describe: hint } = rule;
    if (absent(value)) {
      if (required) this.add(field, 'required', { hint });
      return undefined;
    }
    if (typeof value !== 'string') {
      this.add(field, 'wrong_type', { expected: 'string', hint });
      return undefined;
    }
    const unsupported = this.expressions === 'unsupported';
    const expression = this.expression(field, value, unsupported ? hint : undefined);
    if (expression) return expression === 'kept' ? value : undefined;
    // The analysis block reports length and pattern as one problem.
    if (unsupported && (value.length > maxLength || (pattern && !pattern.test(value)))) {
      this.add(field, 'invalid_format', { value, hint, maxLength });
      return undefined;
    }
    if (value.length > maxLength) {
      this.add(field, 'too_long', { length: value.length, max: maxLength });
      return undefined;
    }
    if (pattern && !pattern.test(value)) {
      this.add(field, 'invalid_format', { value, hint });
      return undefined;
    }
    return value;
  }

  /**
   * An integer, or a string of digits (Orca's SpEL turns numbers into strings).
   * Returns NaN for a SpEL expression that Deck keeps, so later arithmetic can skip it.
   */
  integer(field: string, value: unknown, { min, max, describe: hint }: IntegerRule): number | undefined {
    if (absent(value)) {
      this.add(field, 'required', { hint });
      return undefined;
    }
    const expression = this.expression(field, value);
    if (expression) return expression === 'kept' ? Number.NaN : undefined;
    const number = typeof value === 'number' && Number.isInteger(value) ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
    if (number === undefined) {
      this.add(field, 'wrong_type', { expected: 'whole number', got: shown(value), hint });
      return undefined;
    }
    if (number < min || number > max) {
      this.add(field, 'out_of_range', { got: number, min, max });
      return undefined;
    }
    return number;
  }

  /** A finite number (or a numeric string, as SpEL sends them) within [min, max]: the analysis block's. */
  number(field: string, value: unknown, min: number, max: number, hint: string): number | undefined {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      this.add(field, 'wrong_type', { expected: 'number', got: shown(value), hint });
      return undefined;
    }
    if (n < min || n > max) {
      this.add(field, 'out_of_range', { got: n, min, max, hint });
      return undefined;
    }
    return n;
  }

  boolean(field: string, value: unknown, fallback: boolean): boolean {
    if (absent(value)) return fallback;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    if (this.keepsExpression(field, value)) return fallback;
    this.add(field, 'wrong_type', { expected: 'boolean', got: shown(value) });
    return fallback;
  }

  oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
    if (absent(value)) return fallback;
    if ((allowed as readonly unknown[]).includes(value)) return value as T;
    if (this.keepsExpression(field, value)) return fallback;
    this.add(field, 'not_one_of', { allowed: [...allowed], got: shown(value) });
    return fallback;
  }

  array(field: string, value: unknown, min: number, max: number, hint: string): unknown[] | undefined {
    if (value === undefined || value === null) this.add(field, 'required', { hint });
    else if (!Array.isArray(value)) this.add(field, 'wrong_type', { expected: 'list', hint });
    else if (value.length < min) this.add(field, 'empty', { hint });
    else if (value.length > max) this.add(field, 'too_many', { count: value.length, max });
    else return value;
    return undefined;
  }

  /** Seconds of a duration (90s, 1m30s or whole seconds) within [min, max]; `fallback` when absent or wrong. */
  duration(field: string, value: unknown, fallback: number, min: number, max: number, examples: string[]): number {
    if (absent(value)) return fallback;
    const seconds = typeof value === 'string' || typeof value === 'number' ? parseDurationSeconds(value) : undefined;
    if (seconds === undefined) {
      this.add(field, 'not_a_duration', { got: shown(value), examples });
    } else if (seconds < min || seconds > max) {
      this.add(field, 'duration_out_of_range', { got: seconds, min, max });
    } else return seconds;
    return fallback;
  }
}
