/**
 * JSON as Orca (Jackson + Jayway JsonPath) sees it, for the parts that change outcomes:
 *
 * - Jackson reads `100` as an Integer and `100.0` / `1e2` as a Double; MonitorWebhookTask only
 *   completes on `result.equals(100)`, i.e. the Integer. `JSON.parse` cannot tell them apart, so
 *   {@link parseJson} also records the paths whose number token was written as a floating point.
 * - {@link readJsonPath} implements the definite JsonPath subset Orca configs use (`$`, `$.a.b`,
 *   `$['a']`, `$["a"]`, `$.a[0]`), failing like Jayway's PathNotFoundException when a property is
 *   missing or the document is not an object (e.g. a body Spring read as a String).
 */
import type { PathSegment } from './spel';

export interface ParsedJson {
  value: unknown;
  /** Paths (as JSON arrays of segments) whose number was written with a fraction or exponent. */
  doublePaths: Set<string>;
}

export const pathKey = (path: PathSegment[]): string => JSON.stringify(path);

/** Parses JSON (throws SyntaxError like JSON.parse) and records which numbers Jackson reads as Double. */
export function parseJson(text: string): ParsedJson {
  const value: unknown = JSON.parse(text);
  const doublePaths = new Set<string>();
  // The text is valid JSON from here on, so the scanner can be simple.
  let i = 0;
  const path: PathSegment[] = [];
  const number = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const readString = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const readValue = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = readString();
        ws();
        i++; // ':'
        path.push(key);
        readValue();
        path.pop();
        ws();
        if (text[i++] === ',') continue;
        return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let index = 0; ; index++) {
        path.push(index);
        readValue();
        path.pop();
        ws();
        if (text[i++] === ',') continue;
        return;
      }
    }
    if (c === '"') {
      readString();
      return;
    }
    number.lastIndex = i;
    const m = number.exec(text);
    if (m) {
      i = number.lastIndex;
      const key = pathKey(path);
      // A duplicated key keeps the last value (as JSON.parse and Jackson do).
      if (m[1] !== undefined || m[2] !== undefined) doublePaths.add(key);
      else doublePaths.delete(key);
      return;
    }
    // true / false / null
    while (i < text.length && /[a-z]/.test(text[i])) i++;
  };
  readValue();
  return { value, doublePaths };
}

export class JsonPathSyntaxError extends Error {}

/** Parses the supported JsonPath subset into segments; throws JsonPathSyntaxError otherwise. */
export function compileJsonPath(jsonPath: string): PathSegment[] {
  const s = jsonPath.trim();
  if (!s.startsWith('$')) throw new JsonPathSyntaxError(`unsupported JsonPath (must start with $): ${jsonPath}`);
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < s.length) {
    if (s[i] === '.') {
      if (s[i + 1] === '.') throw new JsonPathSyntaxError(`deep scan is not supported by the driver: ${jsonPath}`);
      const m = /^[^.[\]\s*?()@]+/.exec(s.slice(i + 1));
      if (!m) throw new JsonPathSyntaxError(`unsupported JsonPath: ${jsonPath}`);
      segments.push(m[0]);
      i += 1 + m[0].length;
    } else if (s[i] === '[') {
      const quoted = /^\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]/.exec(s.slice(i));
      const index = /^\[\s*(\d+)\s*\]/.exec(s.slice(i));
      if (quoted) {
        segments.push((quoted[1] ?? quoted[2]).replace(/\\(.)/g, '$1'));
        i += quoted[0].length;
      } else if (index) {
        segments.push(Number(index[1]));
        i += index[0].length;
      } else {
        throw new JsonPathSyntaxError(`unsupported JsonPath (filters, slices and wildcards are not supported): ${jsonPath}`);
      }
    } else {
      throw new JsonPathSyntaxError(`unsupported JsonPath: ${jsonPath}`);
    }
  }
  return segments;
}

export type JsonPathResult = { found: true; value: unknown; path: PathSegment[] } | { found: false; message: string };

const javaTypeName = (v: unknown): string =>
  typeof v === 'string'
    ? 'java.lang.String'
    : typeof v === 'number'
      ? 'java.lang.Number'
      : typeof v === 'boolean'
        ? 'java.lang.Boolean'
        : Array.isArray(v)
          ? 'net.minidev.json.JSONArray'
          : v === null || v === undefined
            ? 'null'
            : 'java.util.LinkedHashMap';

/**
 * Reads a definite JsonPath like Jayway with its default configuration: a missing property or a
 * non-object on the way is "not found" (PathNotFoundException); a present null is found as null.
 */
export function readJsonPath(document: unknown, jsonPath: string): JsonPathResult {
  const segments = compileJsonPath(jsonPath);
  let current: unknown = document;
  const walked: PathSegment[] = [];
  for (const seg of segments) {
    const where = `$${walked.map((p) => `[${typeof p === 'number' ? p : `'${p}'`}]`).join('')}`;
    if (typeof seg === 'number') {
      if (!Array.isArray(current)) {
        return { found: false, message: `Filter: [${seg}] can only be applied to arrays. Current context is: ${JSON.stringify(current)}` };
      }
      if (seg >= current.length) return { found: false, message: `Index out of bounds when evaluating path ${where}[${seg}]` };
      current = current[seg];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) {
        return {
          found: false,
          message: `Expected to find an object with property ['${seg}'] in path ${where} but found '${javaTypeName(current)}'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.`,
        };
      }
      if (!Object.prototype.hasOwnProperty.call(current, seg)) {
        return { found: false, message: `No results for path: ${where}['${seg}']` };
      }
      current = (current as Record<string, unknown>)[seg];
    }
    walked.push(seg);
  }
  return { found: true, value: current, path: segments };
}
