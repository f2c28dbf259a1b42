/** The editor's model without React or Deck: presets, table operations, timeout rule, error mapping. */
import { RESTART_EXPRESSION, validateShiftSpec } from '@istio-shift/core';
import {
  PRESETS,
  addDestination,
  addStep,
  cleanPayload,
  errorPath,
  newPayload,
  parseNumberInput,
  problemsToErrors,
  removeDestination,
  removeStep,
  stageTimeout,
  sumWeights,
} from './model';
import { validateIstioTrafficShiftStage } from './validate';
import { inFormLanguage } from './formLanguage';
import savedStage from '../test/fixtures/saved-stage.json';

const preset = (id: string) => PRESETS.find((p) => p.id === id)!;

describe('presets', () => {
  it('canary with baseline: release/baseline/canary on the VirtualService host, 80/10/10 -> 34/33/33 -> 100/0/0', () => {
    const payload = { ...newPayload('3'), virtualService: 'checkout' };
    const next = preset('canary-baseline').apply(payload);
    expect(next.destinations).toEqual([
      { host: 'checkout', subset: 'release' },
      { host: 'checkout', subset: 'baseline' },
      { host: 'checkout', subset: 'canary' },
    ]);
    expect(next.steps).toEqual([
      { weights: [80, 10, 10], pause: '10m' },
      { weights: [34, 33, 33], pause: '20m' },
      { weights: [100, 0, 0] },
    ]);
    expect(next.stageRef).toBe('3');
    expect(payload.steps).toEqual([{ weights: [100] }]); // the input is not mutated
  });

  it('linear: 10% steps until the canary has everything, keeping two existing destinations', () => {
    const payload = { ...newPayload('1'), destinations: [{ host: 'reviews', subset: 'v1' }, { host: 'reviews', subset: 'v2' }] };
    const next = preset('linear').apply(payload);
    expect(next.destinations).toEqual(payload.destinations);
    expect(next.steps.map((s) => s.weights)).toEqual([
      [90, 10], [80, 20], [70, 30], [60, 40], [50, 50], [40, 60], [30, 70], [20, 80], [10, 90], [0, 100],
    ]);
    expect(next.steps.slice(0, 9).every((s) => s.pause === '5m')).toBe(true);
    expect(next.steps[9].pause).toBeUndefined();
    next.steps.forEach((step) => expect(sumWeights(step.weights).sum).toBe(100));
  });

  it('labels say what the issue asks for', () => {
    expect(PRESETS.map((p) => p.label)).toEqual(['Canary with baseline: 80/10/10 -> 34/33/33 -> 100/0/0', 'Linear: 10% steps to 100%']);
  });
});

describe('destinations and steps', () => {
  const base = preset('canary-baseline').apply({ ...newPayload('1'), virtualService: 'checkout' });

  it('adding a destination adds a 0 weight to every step; removing one removes its weight everywhere', () => {
    const added = addDestination(base);
    expect(added.destinations[3]).toEqual({ host: 'checkout' });
    expect(added.steps.map((s) => s.weights)).toEqual([[80, 10, 10, 0], [34, 33, 33, 0], [100, 0, 0, 0]]);
    const removed = removeDestination(added, 1);
    expect(removed.destinations.map((d) => d.subset)).toEqual(['release', 'canary', undefined]);
    expect(removed.steps.map((s) => s.weights)).toEqual([[80, 10, 0], [34, 33, 0], [100, 0, 0]]);
  });

  it('a new destination copies the last one\'s host and port (not a SpEL port)', () => {
    const withPort = { ...base, destinations: base.destinations.map((d) => ({ ...d, port: 8080 })) };
    expect(addDestination(withPort).destinations[3]).toEqual({ host: 'checkout', port: 8080 });
    const spelPort = { ...base, destinations: [{ host: 'checkout', port: '${trigger.parameters.port}' }] };
    expect(addDestination(spelPort).destinations[1]).toEqual({ host: 'checkout' });
  });

  it('a new step starts as a copy of the last one; steps can be removed', () => {
    const added = addStep(base);
    expect(added.steps[3]).toEqual({ weights: [100, 0, 0] });
    expect(removeStep(added, 0).steps.map((s) => s.weights[0])).toEqual([34, 100, 100]);
  });

  it('numbers typed become numbers; SpEL and other text stay as typed', () => {
    expect(parseNumberInput('25')).toBe(25);
    expect(parseNumberInput(' 7 ')).toBe(7);
    expect(parseNumberInput('${trigger.parameters.canaryWeight}')).toBe('${trigger.parameters.canaryWeight}');
    expect(parseNumberInput('12.5')).toBe('12.5');
    expect(parseNumberInput('')).toBe('');
  });

  it('sums: exact when all are numbers, unknown with SpEL or junk', () => {
    expect(sumWeights([34, 33, 33])).toEqual({ sum: 100, hasExpression: false, invalid: false });
    expect(sumWeights([90, '${x}'])).toEqual({ sum: undefined, hasExpression: true, invalid: false });
    expect(sumWeights([90, 'ten'])).toEqual({ sum: undefined, hasExpression: false, invalid: true });
  });

  it('a new payload carries Orca\'s execution id and restart marker', () => {
    expect(newPayload('4')).toMatchObject({ executionId: '${execution.id}', stageRef: '4', restartedAt: RESTART_EXPRESSION });
    expect(RESTART_EXPRESSION).toBe('${restartDetails?.restartTime ?: 0}');
  });

  it('the saved payload drops optional fields left empty', () => {
    const draft = { ...newPayload('2'), route: { protocol: 'http', name: 'primary', index: '' }, destinations: [{ host: 'a', subset: '', port: '', label: '' }], steps: [{ weights: [100], pause: '' }], abandonAfter: '' };
    expect(cleanPayload(draft)).toEqual({ ...newPayload('2'), route: { protocol: 'http', name: 'primary' }, destinations: [{ host: 'a' }], steps: [{ weights: [100] }] });
  });
});

describe('stageTimeoutMs', () => {
  it("is all pauses + 1m per step + 15m, and never below Orca's 1h", () => {
    expect(stageTimeout({ steps: [{ weights: [100] }] }).stageTimeoutMs).toBe(3_600_000);
    expect(stageTimeout({ steps: [{ weights: [90, 5, 5], pause: '30m' }, { weights: [34, 33, 33], pause: '1h' }, { weights: [100, 0, 0] }] }).stageTimeoutMs).toBe(
      (1800 + 3600 + 3 * 60 + 900) * 1000,
    );
    const linear = preset('linear').apply(newPayload('1'));
    expect(stageTimeout(linear).stageTimeoutMs).toBe((9 * 300 + 10 * 60 + 900) * 1000);
  });

  it('counts a SpEL pause as the 7-day maximum the service accepts', () => {
    const timeout = stageTimeout({ steps: [{ weights: [50, 50], pause: '${trigger.parameters.bake}' }, { weights: [0, 100] }] });
    expect(timeout.stageTimeoutMs).toBe((7 * 24 * 3600 + 2 * 60 + 900) * 1000);
    expect(timeout.text).toContain('1 SpEL pause(s) counted as the 7-day maximum');
  });

  it('matches the saved-stage fixture', () => {
    expect(stageTimeout(savedStage.payload).stageTimeoutMs).toBe(savedStage.stageTimeoutMs);
  });
});

describe('validation messages map to fields', () => {
  it('puts leaf problems at payload.<field> and group problems under .message, in the form\'s words', () => {
    const spec = {
      ...newPayload('2'),
      account: 'prod',
      namespace: 'Shop',
      virtualService: 'checkout',
      route: { protocol: 'http', name: 'primary', port: 80 },
      destinations: [{ host: 'checkout', subset: 'a' }, { host: 'checkout', subset: 'a' }],
      steps: [{ weights: [90, 5] }, { weights: [50, 'x'] }],
    };
    const { problems } = validateShiftSpec(spec, { allowExpressions: true });
    const errors = problemsToErrors(problems) as Record<string, any>;
    const namespace = problems.find((p) => p.field === 'namespace')!;
    expect(errors.payload.namespace).toBe(inFormLanguage(namespace.message));
    expect(errors.payload.route.port).toBe('Route port applies to TLS and TCP routes only: select an HTTP route by name or index');
    expect(errors.payload.steps[1].weights[1]).toBe('Step 2, weight 2 must be a whole number (got "x"): give a whole number from 0 to 100');
    expect(errors.payload.destinations[1].message).toBe('Destination 2 repeats destination 1 (checkout/a): list each destination once');
    expect(errorPath('steps[0].weights')).toBe('payload.steps[0].weights.message');
    expect(errorPath('')).toBe('payload.message');
    expect(errorPath('destinations[1].host')).toBe('payload.destinations[1].host');
  });

  it('validateFn: the shared validator with expressions allowed, plus stageRef and stageTimeoutMs checks', () => {
    expect(validateIstioTrafficShiftStage(savedStage as never)).toEqual({});
    const spel = JSON.parse(JSON.stringify(savedStage));
    spel.payload.account = '${trigger.parameters.account}';
    spel.payload.steps[0].weights = ['${trigger.parameters.release}', 5, 5];
    expect(validateIstioTrafficShiftStage(spel)).toEqual({});
    const copied = { ...JSON.parse(JSON.stringify(savedStage)), refId: '7', stageTimeoutMs: 1000 };
    const errors = validateIstioTrafficShiftStage(copied) as Record<string, any>;
    expect(errors.payload.stageRef).toMatch(/^payload.stageRef is "2" but this stage's refId is "7"/);
    expect(errors.stageTimeoutMs).toMatch(/^stageTimeoutMs is 1000, shorter than the 6480000 ms/);
    expect(validateIstioTrafficShiftStage({ type: 'istioTrafficShift', refId: '1' } as never)).toMatchObject({
      payload: { message: 'The shift spec must be a JSON object with account, namespace, VirtualService, route, destinations and steps' },
    });
  });
});

describe('messages in the form\'s language', () => {
  it.each([
    ['steps[1].weights[2] is 120; it must be between 0 and 100', 'Step 2, weight 3 is 120; it must be between 0 and 100'],
    ['steps[0].weights sum to 105; they must sum to 100 (remove 5)', 'Step 1 weights sum to 105; they must sum to 100 (remove 5)'],
    ['steps[0].weights has 2 weights but there are 3 destinations: give one weight per destination, in the same order', 'Step 1 has 2 weights but there are 3 destinations: give one weight per destination, in the same order'],
    ['steps[3].pause "ten minutes" is not a duration: write it like 90s, 10m or 1h30m, or as whole seconds', 'Step 4 pause "ten minutes" is not a duration: write it like 90s, 10m or 1h30m, or as whole seconds'],
    ['destinations[0].host "Checkout" is not valid: give a service host name', 'Destination 1 host "Checkout" is not valid: give a service host name'],
    ['destinations[2] has the same label "release" as destinations[0]: give each a distinct label', 'Destination 3 has the same label "release" as destination 1: give each a distinct label'],
    ['route.name is required: give the name', 'Route name is required: give the name'],
    ['virtualService is required: give the name of the VirtualService', 'VirtualService is required: give the name of the VirtualService'],
    ['abandonAfter "soon" is not a duration: write it like 90s or 5m', 'Abandon after "soon" is not a duration: write it like 90s or 5m'],
    ['namespace is required', 'Namespace is required'],
    ['steps[1].analysis.skip must be true or false (got "yes")', 'Step 2, skip analysis must be true or false (got "yes")'],
    ['steps[0].analysis.window is not a known field: remove it (known fields: skip)', 'Step 1, analysis window is not a known field: remove it (known fields: skip)'],
    ['analysis.metrics[1].judge.max must be a number (got "x"): give a bound', 'Metric 2, threshold max must be a number (got "x"): give a bound'],
    ['analysis.scopes.canary.podSelector.app must be a label value: at most 63 letters', 'Canary pod selector label app must be a label value: at most 63 letters'],
    ['analysis.scopes.canary.extra is not a known field: remove it', 'Canary scope, extra is not a known field: remove it'],
    ['steps[1].analysis is given but there is no analysis block', 'Step 2 analysis is given but there is no analysis block'],
  ])('%s', (message, expected) => {
    expect(inFormLanguage(message)).toBe(expected);
  });

  it('every message the validator gives a bad payload loses its JSON paths', () => {
    const { problems } = validateShiftSpec({ ...newPayload('1'), steps: [{ weights: [50, 'x'], pause: 'soon' }], destinations: [{ host: 'A' }] });
    expect(problems.length).toBeGreaterThan(2);
    problems.forEach((problem) => expect(inFormLanguage(problem.message)).not.toMatch(/(steps|destinations)\[\d+\]/));
  });

  it('every message the validator gives a bad analysis block loses its JSON paths', () => {
    const payload = {
      ...newPayload('1'),
      destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'canary' }],
      steps: [{ weights: [50, 50], pause: '10m', analysis: { skip: 'yes', window: 1 } }, { weights: [100, 0] }],
      analysis: { source: 'http://prom', scopes: { canary: { workload: 'Checkout', podSelector: { 'a/b/c': 'x' } }, baseline: {} }, metrics: [{ name: 'p99', metric: 'latency-p99', judge: { type: 'threshold', max: 'x' } }], thresholds: { pass: 900 } },
    };
    const { problems } = validateShiftSpec(payload);
    expect(problems.filter((p) => /analysis/.test(p.field)).length).toBeGreaterThan(4);
    problems.forEach((problem) => expect(inFormLanguage(problem.message)).not.toMatch(/\banalysis[.[]|steps\[\d+\]|\.analysis\b/));
  });
});
