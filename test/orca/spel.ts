/**
 * The subset of Orca's pipeline-expression (SpEL) evaluation the webhook stage needs, with Orca's
 * failure behaviour:
 *
 * - Only `${...}` templates are recognised (Orca's TemplateParserContext).
 * - Inside `${...}` only a property path is supported: `a.b`, `a['b']`, `a["b"]`, `a[0]`, and
 *   one null-safe form with a default, `a?.b ?: 0` (what the Deck editor writes as `restartedAt`).
 *   Anything else (method calls, operators, `#stage(...)` helpers) throws
 *   {@link UnsupportedExpressionError}: the driver refuses to guess what Orca would answer.
 * - A path that cannot be resolved (unknown root key, property of null, null result) leaves the
 *   WHOLE string unchanged, as Orca's ExpressionTransform does, and is reported as an error
 *   (Orca records it in the stage's `expressionEvaluationSummary`).
 * - A string that is exactly one expression evaluates to the raw value (a number stays a number,
 *   an object stays an object); a string mixing text and expressions is concatenated.
 *
 * The root is what Orca gives a running stage: the stage context keys (so `parameterValues`,
 * `webhook`, `payload`, `name`, `type`...), plus `execution`, `trigger` and `parameters`
 * (= `trigger.parameters`). The stage's `id` is never a context key and `refId` is removed from the
 * context, so `${id}` and `${refId}` stay literal.
 */

export type PathSegment = string | number;

export interface ExpressionError {
  /** The whole `${...}` text. */
  expression: string;
  description: string;
}

export interface Evaluated<T = unknown> {
  value: T;
  errors: ExpressionError[];
}

export class UnsupportedExpressionError extends Error {
  constructor(expression: string, detail: string) {
    super(`the Orca driver's SpEL subset cannot evaluate ${expression}: ${detail}`);
    this.name = 'UnsupportedExpressionError';
  }
}

class EvaluationFailure extends Error {}

interface TemplatePart {
  literal?: string;
  expression?: string; // without ${ }
  source?: string; // with ${ }
}

/** Splits a string into literal text and `${...}` expressions; returns null on an unterminated `${`. */
function splitTemplate(s: string): TemplatePart[] | null {
  const parts: TemplatePart[] = [];
  let i = 0;
  let literalStart = 0;
  while (i < s.length) {
    if (s[i] === '$' && s[i + 1] === '{') {
      // Find the matching `}`, skipping nested braces and quoted strings (as Spring's parser does).
      let depth = 1;
      let j = i + 2;
      let quote: string | null = null;
      while (j < s.length && depth > 0) {
        const c = s[j];
        if (quote) {
          if (c === quote) quote = null;
        } else if (c === "'" || c === '"') {
          quote = c;
        } else if (c === '{') {
          depth++;
        } else if (c === '}') {
          depth--;
        }
        j++;
      }
      if (depth !== 0) return null;
      if (i > literalStart) parts.push({ literal: s.slice(literalStart, i) });
      parts.push({ expression: s.slice(i + 2, j - 1), source: s.slice(i, j) });
      i = j;
      literalStart = j;
    } else {
      i++;
    }
  }
  if (literalStart < s.length) parts.push({ literal: s.slice(literalStart) });
  return parts;
}

/** Parses `ident(.ident | ['x'] | ["x"] | [n])*`; returns null if the text is not such a path. */
export function parsePropertyPath(expression: string): PathSegment[] | null {
  const s = expression.trim();
  const segments: PathSegment[] = [];
  let i = 0;
  const ident = /[A-Za-z_$][A-Za-z0-9_$]*/y;
  const readIdent = (): string | null => {
    ident.lastIndex = i;
    const m = ident.exec(s);
    if (!m) return null;
    i = ident.lastIndex;
    return m[0];
  };
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const first = readIdent();
  if (first === null) return null;
  segments.push(first);
  for (;;) {
    skipWs();
    if (i >= s.length) return segments;
    if (s[i] === '.') {
      i++;
      skipWs();
      const name = readIdent();
      if (name === null) return null;
      segments.push(name);
    } else if (s[i] === '[') {
      i++;
      skipWs();
      const q = s[i];
      if (q === "'" || q === '"') {
        // SpEL escapes a quote inside a string literal by doubling it.
        let value = '';
        i++;
        for (;;) {
          if (i >= s.length) return null;
          if (s[i] === q) {
            if (s[i + 1] === q) {
              value += q;
              i += 2;
              continue;
            }
            i++;
            break;
          }
          value += s[i++];
        }
        segments.push(value);
      } else {
        const m = /^\d+/.exec(s.slice(i));
        if (!m) return null;
        segments.push(Number(m[0]));
        i += m[0].length;
      }
      skipWs();
      if (s[i] !== ']') return null;
      i++;
    } else {
      return null;
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resolvePath(root: Record<string, unknown>, segments: PathSegment[]): unknown {
  let current: unknown = root;
  let walked = '';
  for (const seg of segments) {
    if (current === null || current === undefined) {
      throw new EvaluationFailure(
        `EL1007E: Property or field '${String(seg)}' cannot be found on null${walked ? ` (${walked} is null)` : ''}`,
      );
    }
    if (Array.isArray(current)) {
      if (typeof seg !== 'number') throw new EvaluationFailure(`EL1008E: Property or field '${seg}' cannot be found on a list`);
      if (seg >= current.length) {
        throw new EvaluationFailure(`EL1025E: The collection has '${current.length}' elements, index '${seg}' is invalid`);
      }
      current = current[seg];
    } else if (isPlainObject(current)) {
      const key = String(seg);
      if (!Object.prototype.hasOwnProperty.call(current, key)) {
        throw new EvaluationFailure(`${walked ? `${walked}.` : ''}${key} not found`);
      }
      current = current[key];
    } else {
      throw new EvaluationFailure(`EL1008E: Property or field '${String(seg)}' cannot be found on a ${typeof current}`);
    }
    walked += walked ? `.${String(seg)}` : String(seg);
  }
  if (current === null || current === undefined) throw new EvaluationFailure(`${walked} is null`);
  return current;
}

/** Java's String.valueOf for JSON-ish values, used when an expression is part of a longer string. */
function javaToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(javaToString).join(', ')}]`;
  if (isPlainObject(v)) return `{${Object.entries(v).map(([k, x]) => `${k}=${javaToString(x)}`).join(', ')}}`;
  return String(v);
}

/**
 * `path?.key ?: literal`: SpEL's safe navigation (`?.` yields null instead of failing on a null
 * value) and Elvis (`?:` replaces null). The root key must still exist: an unknown root key fails
 * the whole expression as above, which is how an Orca that requires known keys treats it.
 */
function evaluateElvis(expression: string, root: Record<string, unknown>): { handled: false } | { handled: true; value: unknown } {
  const match = /^(.+?)\s*\?:\s*(-?\d+|'[^']*')\s*$/.exec(expression.trim());
  if (!match) return { handled: false };
  const fallback = match[2].startsWith("'") ? match[2].slice(1, -1) : Number(match[2]);
  const segments = parsePropertyPath(match[1].replace(/\?\./g, '.'));
  if (segments === null) return { handled: false };
  const [first, ...rest] = segments;
  if (!Object.prototype.hasOwnProperty.call(root, String(first))) throw new EvaluationFailure(`${String(first)} not found`);
  let current: unknown = root[String(first)];
  for (const seg of rest) {
    if (current === null || current === undefined) return { handled: true, value: fallback };
    current = isPlainObject(current) || Array.isArray(current) ? (current as Record<string, unknown>)[String(seg)] : undefined;
  }
  return { handled: true, value: current ?? fallback };
}

/** Evaluates the `${...}` templates of one string. */
export function evaluateString(s: string, root: Record<string, unknown>): Evaluated {
  if (!s.includes('${')) return { value: s, errors: [] };
  const parts = splitTemplate(s);
  if (parts === null) {
    return { value: s, errors: [{ expression: s, description: `Failed to parse ${s}: unterminated \${ expression` }] };
  }
  const values: unknown[] = [];
  for (const part of parts) {
    if (part.literal !== undefined) {
      values.push(part.literal);
      continue;
    }
    const expression = part.expression as string;
    const source = part.source as string;
    try {
      const elvis = evaluateElvis(expression, root);
      if (elvis.handled) {
        values.push(elvis.value);
        continue;
      }
      const segments = parsePropertyPath(expression);
      if (segments === null) throw new UnsupportedExpressionError(source, 'only property paths and `a?.b ?: literal` are supported');
      values.push(resolvePath(root, segments));
    } catch (e) {
      if (!(e instanceof EvaluationFailure)) throw e;
      // One failing expression leaves the whole string as it was (Orca's behaviour).
      return { value: s, errors: [{ expression: source, description: `Failed to evaluate [${expression.trim()}] ${e.message}` }] };
    }
  }
  if (parts.length === 1) return { value: values[0], errors: [] };
  return { value: values.map((v) => (typeof v === 'string' ? v : javaToString(v))).join(''), errors: [] };
}

/** Evaluates every string inside a value (objects and arrays recursively; keys are left alone). */
export function evaluateValue(value: unknown, root: Record<string, unknown>): Evaluated {
  const errors: ExpressionError[] = [];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const r = evaluateString(v, root);
      errors.push(...r.errors);
      return r.value;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  const result = walk(value);
  return { value: result, errors };
}
