/**
 * The generated JSON Schema and the validator agree: every spec fixture of the repository (the
 * example pipelines' stage payloads, the Deck plugin's saved stage and Orca stage contexts, the
 * README's example) and thousands of mutants of them go through both, in the service's variant and
 * in the Deck editor's (SpEL allowed). The schema never rejects what the validator accepts, and it
 * accepts what the validator rejects only for the rules it lists as validator-only.
 */
import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';
import { parseDurationSeconds } from './duration';
import { DURATION_PATTERN, JsonSchema, shiftSpecJsonSchema } from './spec-schema';
import { Problem, validateShiftSpec } from './validate';
import { ProblemCode } from './contract';

// ------------------------------------------------------------------------------------------------
// A small JSON Schema checker: exactly the keywords the generator uses, and it refuses any other,
// so the schema cannot grow a keyword this test silently ignores.
// ------------------------------------------------------------------------------------------------

const ANNOTATIONS = new Set(['description', 'default', 'example']);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function schemaErrors(schema: JsonSchema, value: unknown, path = ''): string[] {
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${path || '(root)'}: ${why}`);
  for (const [keyword, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword) || keyword.startsWith('x-')) continue;
    const r = rule as never;
    switch (keyword) {
      case 'type': {
        const actual = typeOf(value);
        if (!(actual === r || (r === 'number' && actual === 'integer'))) fail(`is ${actual}, not ${r}`);
        break;
      }
      case 'enum':
        if (!(r as unknown[]).some((v) => v === value)) fail(`is not one of ${JSON.stringify(r)}`);
        break;
      case 'const':
        if (value !== r) fail(`is not ${JSON.stringify(r)}`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(r, 'u').test(value)) fail(`does not match ${r}`);
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < r) fail(`is shorter than ${r}`);
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > r) fail(`is longer than ${r}`);
        break;
      case 'minimum':
        if (typeof value === 'number' && value < r) fail(`is below ${r}`);
        break;
      case 'maximum':
        if (typeof value === 'number' && value > r) fail(`is above ${r}`);
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < r) fail(`has fewer than ${r} items`);
        break;
      case 'maxItems':
        if (Array.isArray(value) && value.length > r) fail(`has more than ${r} items`);
        break;
      case 'items':
        if (Array.isArray(value)) value.forEach((item, i) => errors.push(...schemaErrors(r, item, `${path}[${i}]`)));
        break;
      case 'properties':
        if (typeOf(value) === 'object') {
          for (const [key, child] of Object.entries(r as Record<string, JsonSchema>)) {
            if (Object.prototype.hasOwnProperty.call(value, key)) errors.push(...schemaErrors(child, (value as Record<string, unknown>)[key], path ? `${path}.${key}` : key));
          }
        }
        break;
      case 'required':
        if (typeOf(value) === 'object') for (const key of r as string[]) if (!Object.prototype.hasOwnProperty.call(value, key)) fail(`lacks ${key}`);
        break;
      case 'additionalProperties':
        if (r !== false) throw new Error('only additionalProperties: false is supported');
        if (typeOf(value) === 'object') {
          const known = Object.keys((schema.properties ?? {}) as object);
          for (const key of Object.keys(value as object)) if (!known.includes(key)) fail(`has unknown ${key}`);
        }
        break;
      case 'anyOf':
        if (!(r as JsonSchema[]).some((option) => schemaErrors(option, value, path).length === 0)) fail('matches none of anyOf');
        break;
      case 'not':
        if (schemaErrors(r, value, path).length === 0) fail('matches not');
        break;
      default:
        throw new Error(`the schema uses ${keyword}, which this checker does not know`);
    }
  }
  return errors;
}

// ------------------------------------------------------------------------------------------------
// The fixtures
// ------------------------------------------------------------------------------------------------

const ROOT = join(__dirname, '..', '..', '..');

/** validate.test.ts's example (the README's first one), not imported: that would run its tests here too. */
function exampleSpec(): Record<string, unknown> {
  return {
    account: 'prod',
    namespace: 'shop',
    virtualService: 'checkout',
    route: { protocol: 'http', name: 'primary' },
    destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
    steps: [{ weights: [80, 10, 10], pause: '10m' }, { weights: [34, 33, 33], pause: '20m' }, { weights: [100, 0, 0] }],
    executionId: '01HXYZEXEC',
    stageRef: '3',
  };
}

/** Every object in the file that is a shift spec (a stage's payload); status bodies have an id. */
function specsIn(file: string): Array<{ name: string; spec: Record<string, unknown> }> {
  const found: Array<{ name: string; spec: Record<string, unknown> }> = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value !== 'object' || value === null) return;
    const object = value as Record<string, unknown>;
    if (!Array.isArray(value) && object.route && object.destinations && object.steps && object.id === undefined) found.push({ name: `${file}${path}`, spec: object });
    for (const [key, child] of Object.entries(object)) walk(child, `${path}.${key}`);
  };
  walk(JSON.parse(readFileSync(join(ROOT, file), 'utf8')), '');
  return found;
}

const jsonFiles = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.json')).map((f) => `${dir}/${f}`);
const README_EXAMPLE = (() => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /```json\n([\s\S]*?)```/.exec(readme);
  return block ? [{ name: 'README.md analysis example', spec: JSON.parse(block[1]) as Record<string, unknown> }] : [];
})();

const FIXTURES = [
  ...jsonFiles('examples/checkout/pipelines').flatMap(specsIn),
  ...jsonFiles('deck-plugin/test/fixtures').flatMap(specsIn),
  ...README_EXAMPLE,
  { name: 'validate.test exampleSpec', spec: exampleSpec() },
];

// ------------------------------------------------------------------------------------------------
// Mutants: every scalar replaced by wrong values, every object given an unknown key and stripped
// of each key, every list emptied and overfilled.
// ------------------------------------------------------------------------------------------------

const BAD_SCALARS: unknown[] = ['', null, {}, [], true, 'true', -1, 0, 1, 7, 101, 70000, 1.5, '42', '0042', 'Bad_Name', 'a'.repeat(300), '${trigger.parameters.x}', ' 10m ', '10m', '1h30m', 'ten minutes', '9999h', 'release', 'rollback', 'tcp'];

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function* mutants(spec: Record<string, unknown>): Generator<{ what: string; spec: unknown }> {
  const paths: Array<Array<string | number>> = [];
  const walk = (value: unknown, path: Array<string | number>) => {
    paths.push(path);
    if (typeof value === 'object' && value !== null) for (const [key, child] of Object.entries(value)) walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
  };
  walk(spec, []);
  const at = (root: unknown, path: Array<string | number>) => path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root);
  for (const path of paths) {
    if (path.length === 0) continue;
    // The analysis block is the analysis validator's; the schema says only "object".
    if (path.some((key) => key === 'analysis') && path[path.length - 1] !== 'analysis') continue;
    const parentPath = path.slice(0, -1);
    const key = path[path.length - 1];
    for (const bad of BAD_SCALARS) {
      const copy = clone(spec);
      (at(copy, parentPath) as Record<string | number, unknown>)[key] = bad;
      yield { what: `${path.join('.')} = ${JSON.stringify(bad)}`, spec: copy };
    }
    const original = at(spec, path);
    if (Array.isArray(original)) {
      const longer = clone(spec);
      const list = at(longer, path) as unknown[];
      while (list.length <= 50) list.push(clone(list[0]));
      yield { what: `${path.join('.')} overfilled`, spec: longer };
    }
    if (typeof at(spec, parentPath) === 'object' && !Array.isArray(at(spec, parentPath))) {
      const without = clone(spec);
      delete (at(without, parentPath) as Record<string | number, unknown>)[key];
      yield { what: `${path.join('.')} removed`, spec: without };
    }
    if (typeof original === 'object' && original !== null && !Array.isArray(original)) {
      const extra = clone(spec);
      (at(extra, path) as Record<string, unknown>).extra = 1;
      yield { what: `${path.join('.')}.extra added`, spec: extra };
    }
  }
  yield { what: 'not an object', spec: [spec] };
}

/** What the schema may leave to the validator (the schema's x-validator-only, as problem codes). */
const VALIDATOR_ONLY: ReadonlySet<ProblemCode> = new Set<ProblemCode>([
  'weight_sum',
  'weight_count',
  'route_selector',
  'port_on_http_route',
  'name_on_unnamed_route',
  'duplicate_destination',
  'duplicate_label',
  'stage_ref_required',
  'execution_id_required',
  'pause_too_long',
  'duration_out_of_range',
  'analysis',
]);

function validatorOnly(problem: Problem, spec: unknown): boolean {
  if (problem.code && VALIDATOR_ONLY.has(problem.code)) return true;
  // Inside the analysis block the schema says only "object"; analysis/validate.ts checks the rest.
  if (/^(steps\[\d+\]\.)?analysis[.[]/.test(problem.field)) return true;
  // Digit strings are range-checked by the validator only.
  if (problem.code === 'out_of_range') {
    const value = problem.field.split(/\.|\[|\]\.?/).filter(Boolean).reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], spec);
    return typeof value === 'string';
  }
  return false;
}

describe.each([
  ['the service', false],
  ['the Deck editor (SpEL allowed)', true],
])('the spec schema and the validator agree, as %s reads a spec', (_who, allowExpressions) => {
  const schema = shiftSpecJsonSchema({ allowExpressions });

  it('finds the repository\'s spec fixtures', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(9);
    expect(FIXTURES.map((f) => f.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^examples\/checkout\/pipelines\/checkout-canary.json/), expect.stringMatching(/^deck-plugin\/test\/fixtures\/saved-stage.json/)]));
  });

  it.each(FIXTURES.map((f) => [f.name, f.spec] as const))('%s: accepted by both, or rejected by both', (_name, spec) => {
    const result = validateShiftSpec(spec, { allowExpressions });
    const errors = schemaErrors(schema, spec);
    if (result.ok) expect(errors).toEqual([]);
    else expect(errors.length > 0 || result.problems.every((p) => validatorOnly(p, spec))).toBe(true);
  });

  it('every mutant of every fixture: the schema rejects it exactly when the validator does, but for validator-only rules', () => {
    let both = 0;
    let validatorOnlyRejections = 0;
    let accepted = 0;
    for (const fixture of FIXTURES) {
      for (const mutant of mutants(fixture.spec)) {
        const result = validateShiftSpec(mutant.spec, { allowExpressions });
        const schemaOk = schemaErrors(schema, mutant.spec).length === 0;
        const where = `${fixture.name}: ${mutant.what}`;
        if (result.ok) {
          expect({ where, schema: schemaErrors(schema, mutant.spec) }).toEqual({ where, schema: [] });
          accepted += 1;
        } else if (schemaOk) {
          expect({ where, problems: result.problems.filter((p) => !validatorOnly(p, mutant.spec)) }).toEqual({ where, problems: [] });
          validatorOnlyRejections += 1;
        } else both += 1;
      }
    }
    expect(both).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThan(100);
    expect(validatorOnlyRejections).toBeGreaterThan(0);
  });
});

describe('the schema is made from the validator\'s rules', () => {
  it('its duration pattern reads exactly what parseDurationSeconds reads', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    const samples = ['0', '90', '90s', '10m', '1h', '1h30m', '1h30m15s', '2h15s', '5m30s', ' 10m ', '', 'h', 'm', '1.5m', '10 m', '1m1h', '1s1m', '-5s', 'ten', '1d', '1h1h', '01m', '${x}'];
    for (const sample of samples) expect([sample, pattern.test(sample)]).toEqual([sample, parseDurationSeconds(sample) !== undefined]);
  });

  it('lists every field the validator knows, and no other', () => {
    const schema = shiftSpecJsonSchema();
    const result = validateShiftSpec({ ...exampleSpec(), surprise: 1 });
    expect(result.ok).toBe(false);
    expect(Object.keys(schema.properties as object)).toEqual(
      (result.ok ? [] : result.problems.find((p) => p.code === 'unknown_field')!.params!.known) as string[],
    );
  });
});
