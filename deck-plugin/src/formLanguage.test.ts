/**
 * The form words the validator's problems from their code and params, never from the English
 * message: a core message can be reworded without changing what the editor shows.
 */
import { PROBLEM_CODES, validateShiftSpec } from '@istio-shift/core';
import type { Problem } from '@istio-shift/core';
import { fieldWords, inFormLanguage, problemText } from './formLanguage';
import { newPayload, problemsToErrors } from './model';
import { formMessage, toAnalysisProblems } from './analysis-model';
import savedStage from '../test/fixtures/saved-stage.json';

/** Payloads that between them make the validator give every code the form words. */
const BAD_PAYLOADS: unknown[] = [
  null,
  {
    ...newPayload('2'),
    account: 'prod',
    namespace: 'Shop',
    virtualService: 'x'.repeat(300),
    route: { protocol: 'http', name: 'primary', port: 80 },
    destinations: [{ host: 'checkout', subset: 'a' }, { host: 'checkout', subset: 'a' }, { host: 'checkout', subset: 'b', label: 'a', colour: 'red' }],
    steps: [{ weights: [90, 5] }, { weights: [50, 'x', 120] }, { weights: [50, 40, 5], pause: 'ten minutes' }, { weights: [100, 0, 0], pause: '200h' }, 'step'],
    onCancel: 'later',
    pruneUnlisted: 'maybe',
    abandonAfter: '5s',
    executionId: '',
    surprise: true,
  },
  {
    ...newPayload('1'),
    account: 7,
    route: { protocol: 'tcp', name: 'primary' },
    destinations: [],
    steps: 'none',
    abandonAfter: 'soon',
    stageRef: '',
    executionId: 'exec-1',
  },
  { ...newPayload('1'), executionId: '', route: { protocol: 'tls' }, destinations: ['checkout'], steps: [] },
  { ...newPayload('1'), route: { protocol: 'http' }, destinations: Array.from({ length: 11 }, (_, i) => ({ host: `h${i}` })) },
  { ...savedStage.payload, executionId: '${execution.id}' },
];

function problemsOf(payload: unknown): Problem[] {
  return [false, true].flatMap((allowExpressions) => validateShiftSpec(payload, { allowExpressions }).problems);
}

const ALL = BAD_PAYLOADS.flatMap(problemsOf);
const reworded = (problems: Problem[]) => problems.map((p) => ({ ...p, message: `REWORDED IN CORE: ${p.message.toUpperCase()}` }));

describe('the form words problems from their code', () => {
  it('every problem of the spec validator carries a known code and its params', () => {
    expect(ALL.length).toBeGreaterThan(30);
    ALL.forEach((p) => {
      expect(PROBLEM_CODES).toContain(p.code);
      expect(p.params).toBeDefined();
    });
    const codes = new Set(ALL.map((p) => p.code));
    // Every code but the analysis block's (worded by its own section) appears above.
    expect(PROBLEM_CODES.filter((c) => c !== 'analysis' && !codes.has(c))).toEqual([]);
  });

  it('rewording a core message does not change the form text', () => {
    const original = problemsToErrors(ALL);
    expect(problemsToErrors(reworded(ALL))).toEqual(original);
    expect(JSON.stringify(original)).not.toMatch(/REWORDED/);
    reworded(ALL).forEach((p) => expect(problemText(p)).not.toMatch(/REWORDED/));
  });

  it('says what the service says, in the form\'s words (the same text the message gave)', () => {
    // One improvement on the regex: an unknown field of a row reads "Destination 3 colour", not "Destination 3.colour".
    const before = (p: Problem) => inFormLanguage(p.message).replace(/^((?:Step|Destination) \d+)\.(\w+ is not a known field)/, '$1 $2');
    ALL.forEach((p) => expect({ field: p.field, text: problemText(p) }).toEqual({ field: p.field, text: before(p) }));
  });

  it.each([
    [{ field: 'steps[1].weights[2]', code: 'out_of_range', params: { got: 120, min: 0, max: 100 } }, 'Step 2, weight 3 is 120; it must be between 0 and 100'],
    [{ field: 'steps[0].weights', code: 'weight_sum', params: { sum: 95 } }, 'Step 1 weights sum to 95; they must sum to 100 (add 5)'],
    [{ field: 'steps[0].weights', code: 'weight_count', params: { count: 2, destinations: 3 } }, 'Step 1 has 2 weights but there are 3 destinations: give one weight per destination, in the same order'],
    [{ field: 'destinations[2].label', code: 'duplicate_label', params: { index: 2, first: 0, label: 'release' } }, 'Destination 3 has the same label "release" as destination 1: give each a distinct label'],
    [{ field: 'virtualService', code: 'required', params: { hint: 'the name of the VirtualService' } }, 'VirtualService is required: give the name of the VirtualService'],
    [{ field: 'route.port', code: 'port_on_http_route', params: {} }, 'Route port applies to TLS and TCP routes only: select an HTTP route by name or index'],
  ] as Array<[Problem, string]>)('%j', (problem, expected) => {
    expect(problemText({ ...problem, message: 'whatever the service says today' })).toBe(expected);
  });

  it('names fields as the form does', () => {
    expect(fieldWords('steps[1].weights[2]')).toBe('step 2, weight 3');
    expect(fieldWords('destinations[0].host')).toBe('destination 1 host');
    expect(fieldWords('abandonAfter')).toBe('abandon after');
    expect(fieldWords('route.name')).toBe('route name');
    expect(fieldWords('')).toBe('the shift spec');
  });

  it('a problem without a code (route matching, the analysis block) keeps its message, in the form\'s words', () => {
    expect(problemText({ field: 'route', message: 'route.name "primary" is not in checkout' })).toBe('Route name "primary" is not in checkout');
  });
});

describe("the analysis section words the block's common checks from their code too", () => {
  const payload = {
    ...newPayload('2'),
    analysis: {
      source: 'prometheus',
      scopes: { canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } },
      alpha: 0.5,
      mode: 'bayesian',
      interval: 'often',
      evidence: { minTrafficShare: 2, surprise: 1 },
      metrics: [{ name: 'p99', metric: 'latency-p99', judge: { type: 'statistical', allowedIncrease: 0.5 } }],
    },
  };
  const problems = validateShiftSpec(payload, { allowExpressions: true }).problems.filter((p) => p.field.startsWith('analysis'));

  it('rewording a common check in core leaves the section text unchanged; only the block\'s own rules show their message', () => {
    const coded = problems.filter((p) => p.code !== 'analysis');
    expect(coded.map((p) => p.code)).toEqual(expect.arrayContaining(['out_of_range', 'not_one_of', 'not_a_duration', 'unknown_field']));
    const original = toAnalysisProblems(coded, payload).map((p) => p.message);
    expect(toAnalysisProblems(reworded(coded), payload).map((p) => p.message)).toEqual(original);
    expect(original.join(' ')).not.toMatch(/analysis\.|REWORDED/);
  });

  it('says what the service says, in the form\'s words (the same text the message gives)', () => {
    // Core words each code once (problem-text.ts): an analysis interval out of range is not worded
    // as abandonAfter's, SpEL in the block is "not supported", and a range keeps its hint.
    const timing = { ...payload, analysis: { ...payload.analysis, interval: '1s', source: '${source}', evidence: { minRequests: 'many' } } };
    const all = [...problems, ...validateShiftSpec(timing, { allowExpressions: true }).problems.filter((p) => p.field.startsWith('analysis'))];
    const coded = all.filter((p) => p.code !== 'analysis');
    expect(coded.map((p) => p.code)).toEqual(expect.arrayContaining(['duration_out_of_range', 'unevaluated_expression', 'out_of_range', 'wrong_type']));
    const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
    coded.forEach((p) => expect({ field: p.field, text: problemText(p, timing) }).toEqual({ field: p.field, text: capitalized(formMessage(p.message, timing)) }));
  });
});
