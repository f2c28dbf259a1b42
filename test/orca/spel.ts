/**
 * The subset of Orca's pipeline-expression (SpEL) evaluation the webhook stage needs, with Orca's
 * behaviour for missing values and failures (kork-expressions ExpressionTransform.transform and
 * MapPropertyAccessor, read at spinnaker/kork a7b6fdea; Orca evaluates stage contexts with
 * allowUnknownKeys = true: ExpressionAware.processEntries, spinnaker/orca 2fdb327a):
 *
 * - Only `${...}` templates are recognised (Orca's TemplateParserContext).
 * - Inside `${...}`: property paths (`a.b`, `a?.b`, `a['b']`, `a["b"]`, `a[0]`), string and number
 *   literals, `+` (SpEL OpPlus: a String plus anything concatenates, null reads "null"; numbers
 *   add) and Elvis `x ?: literal` (null -> the literal). Anything else (method calls, other
 *   operators, `#stage(...)` helpers) throws {@link UnsupportedExpressionError}: the driver refuses
 *   to guess what Orca would answer.
 * - A map key that does not exist reads as null (MapPropertyAccessor with allowUnknownKeys), so
 *   `${restartDetails?.restartTime ?: 0}` is 0 before any restart. A property of null without
 *   `?.` throws (EL1007E): the WHOLE string is left as it was and an error is recorded.
 * - A string that is exactly one expression evaluates to the raw value (a number stays a number,
 *   an object stays an object); one that evaluates to null leaves the string as it was (recorded,
 *   "not found"). In a string mixing text and expressions each null part is put back as `${...}`
 *   and the rest is evaluated (CompositeStringExpression branch of ExpressionTransform.transform).
 *
 * The root is what Orca gives a running stage: the stage context keys (so `parameterValues`,
 * `webhook`, `payload`, `restartDetails`, ...), plus `execution`, `trigger` and `parameters`
 * (= `trigger.parameters`). The stage's `id` and `refId` are not context keys, so `${id}` and
 * `${refId}` stay literal.
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

type Node =
  | { kind: 'literal'; value: string | number }
  | { kind: 'path'; root: string; steps: Array<{ key: PathSegment; safe: boolean }> }
  | { kind: 'plus'; left: Node; right: Node }
  | { kind: 'elvis'; left: Node; fallback: Node };

/** Parses the supported subset of one `${...}` body; null if the text is outside it. */
export function parseExpression(expression: string): Node | null {
  const s = expression;
  let i = 0;
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const ident = /[A-Za-z_$][A-Za-z0-9_$]*/y;
  const readIdent = (): string | null => {
    ident.lastIndex = i;
    const m = ident.exec(s);
    if (!m) return null;
    i = ident.lastIndex;
    return m[0];
  };
  /** A quoted literal; SpEL escapes a quote inside it by doubling it. */
  const readQuoted = (): string | null => {
    const q = s[i];
    if (q !== "'" && q !== '"') return null;
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
        return value;
      }
      value += s[i++];
    }
  };
  const readNumber = (): number | null => {
    const m = /^-?\d+/.exec(s.slice(i));
    if (!m) return null;
    i += m[0].length;
    return Number(m[0]);
  };
  const primary = (): Node | null => {
    skipWs();
    const quoted = readQuoted();
    if (quoted !== null) return { kind: 'literal', value: quoted };
    const number = readNumber();
    if (number !== null) return { kind: 'literal', value: number };
    const root = readIdent();
    if (root === null) return null;
    const steps: Array<{ key: PathSegment; safe: boolean }> = [];
    for (;;) {
      skipWs();
      const safe = s.startsWith('?.', i);
      if (safe || s[i] === '.') {
        i += safe ? 2 : 1;
        skipWs();
        const name = readIdent();
        if (name === null) return null;
        steps.push({ key: name, safe });
      } else if (s[i] === '[') {
        i++;
        skipWs();
        const key = readQuoted() ?? readNumber();
        if (key === null) return null;
        skipWs();
        if (s[i] !== ']') return null;
        i++;
        steps.push({ key, safe: false });
      } else {
        return { kind: 'path', root, steps };
      }
    }
  };
  const sum = (): Node | null => {
    let left = primary();
    for (;;) {
      if (left === null) return null;
      skipWs();
      if (s[i] !== '+') return left;
      i++;
      const right = primary();
      if (right === null) return null;
      left = { kind: 'plus', left, right };
    }
  };
  const left = sum();
  if (left === null) return null;
  skipWs();
  let node: Node = left;
  if (s.startsWith('?:', i)) {
    i += 2;
    const fallback = primary();
    if (fallback === null || fallback.kind !== 'literal') return null;
    node = { kind: 'elvis', left, fallback };
  }
  skipWs();
  return i === s.length ? node : null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Java's String.valueOf for JSON-ish values, used when a value is turned into text. */
function javaToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(javaToString).join(', ')}]`;
  if (isPlainObject(v)) return `{${Object.entries(v).map(([k, x]) => `${k}=${javaToString(x)}`).join(', ')}}`;
  return String(v);
}

/** One step of a path: a missing map key is null (allowUnknownKeys); null without `?.` throws. */
function readStep(current: unknown, key: PathSegment, safe: boolean, walked: string): unknown {
  if (current === null || current === undefined) {
    if (safe) return null;
    throw new EvaluationFailure(`EL1007E: Property or field '${String(key)}' cannot be found on null${walked ? ` (${walked} is null)` : ''}`);
  }
  if (Array.isArray(current)) {
    if (typeof key !== 'number') throw new EvaluationFailure(`EL1008E: Property or field '${key}' cannot be found on a list`);
    if (key >= current.length) throw new EvaluationFailure(`EL1025E: The collection has '${current.length}' elements, index '${key}' is invalid`);
    return current[key];
  }
  if (isPlainObject(current)) {
    const name = String(key);
    return Object.prototype.hasOwnProperty.call(current, name) ? current[name] : null;
  }
  throw new EvaluationFailure(`EL1008E: Property or field '${String(key)}' cannot be found on a ${typeof current}`);
}

function evaluateNode(node: Node, root: Record<string, unknown>): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'path': {
      let current: unknown = readStep(root, node.root, false, '');
      let walked = node.root;
      for (const step of node.steps) {
        current = readStep(current, step.key, step.safe, walked);
        walked += `.${String(step.key)}`;
      }
      return current ?? null;
    }
    case 'plus': {
      const left = evaluateNode(node.left, root);
      const right = evaluateNode(node.right, root);
      if (typeof left === 'number' && typeof right === 'number') return left + right;
      if (typeof left === 'string' || typeof right === 'string') return javaToString(left) + javaToString(right);
      throw new UnsupportedExpressionError('+', `operands ${javaToString(left)} and ${javaToString(right)}`);
    }
    case 'elvis': {
      const value = evaluateNode(node.left, root);
      return value === null || value === undefined ? evaluateNode(node.fallback, root) : value;
    }
  }
}

/** Evaluates the `${...}` templates of one string. */
export function evaluateString(s: string, root: Record<string, unknown>): Evaluated {
  if (!s.includes('${')) return { value: s, errors: [] };
  const parts = splitTemplate(s);
  if (parts === null) {
    return { value: s, errors: [{ expression: s, description: `Failed to parse ${s}: unterminated \${ expression` }] };
  }
  const values: unknown[] = [];
  const errors: ExpressionError[] = [];
  for (const part of parts) {
    if (part.literal !== undefined) {
      values.push(part.literal);
      continue;
    }
    const expression = part.expression as string;
    const source = part.source as string;
    const node = parseExpression(expression);
    if (node === null) throw new UnsupportedExpressionError(source, 'only property paths, literals, `+` and `x ?: literal` are supported');
    try {
      const value = evaluateNode(node, root);
      if (value === null) errors.push({ expression: source, description: `Failed to evaluate [${expression.trim()}] ${expression.trim()} not found` });
      values.push(value);
    } catch (e) {
      if (!(e instanceof EvaluationFailure)) throw e;
      // An exception leaves the whole string as it was (ExpressionTransform returns the source).
      return { value: s, errors: [{ expression: source, description: `Failed to evaluate [${expression.trim()}] ${e.message}` }] };
    }
  }
  if (parts.length === 1) return { value: values[0] === null ? s : values[0], errors };
  // A null part is put back as its `${...}` text; the others are turned into text.
  const text = parts.map((part, index) => (part.literal !== undefined ? part.literal : values[index] === null ? part.source : javaToString(values[index]))).join('');
  return { value: text, errors };
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
