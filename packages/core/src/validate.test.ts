import { RESTART_EXPRESSION } from './spec';
import { validateShiftSpec } from './validate';
import { validateShiftPath } from './service-checks';

/** The README's example: release/baseline/canary subsets, 80/10/10 -> 34/33/33 -> 100/0/0. */
export function exampleSpec(): Record<string, unknown> {
  return {
    account: 'prod',
    namespace: 'shop',
    virtualService: 'checkout',
    route: { protocol: 'http', name: 'primary' },
    destinations: [
      { host: 'checkout', subset: 'release' },
      { host: 'checkout', subset: 'baseline' },
      { host: 'checkout', subset: 'canary' },
    ],
    steps: [
      { weights: [80, 10, 10], pause: '10m' },
      { weights: [34, 33, 33], pause: '20m' },
      { weights: [100, 0, 0] },
    ],
    executionId: '01HXYZEXEC',
    stageRef: '3',
  };
}

function withChange(change: (spec: Record<string, any>) => void): Record<string, unknown> {
  const spec = exampleSpec() as Record<string, any>;
  change(spec);
  return spec;
}

describe('validateShiftSpec', () => {
  it('accepts the example and normalizes it', () => {
    const result = validateShiftSpec(exampleSpec());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.destinations.map((d) => d.label)).toEqual(['release', 'baseline', 'canary']);
    expect(result.spec.steps.map((s) => s.pauseSeconds)).toEqual([600, 1200, 0]);
    expect(result.spec.onCancel).toBe('rollback');
    expect(result.spec.pruneUnlisted).toBe(false);
  });

  it('accepts weights, ports and indexes that SpEL turned into strings of digits', () => {
    const result = validateShiftSpec(withChange((s) => {
      s.steps[0].weights = ['80', '10', '10'];
      s.steps[0].pause = '600';
      s.route = { protocol: 'tcp', port: '5432' };
      s.pruneUnlisted = 'true';
    }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.steps[0]).toEqual({ weights: [80, 10, 10], pauseSeconds: 600 });
    expect(result.spec.route).toEqual({ protocol: 'tcp', port: 5432 });
    expect(result.spec.pruneUnlisted).toBe(true);
  });

  it('defaults the protocol to http and labels hosts by their first DNS label', () => {
    const result = validateShiftSpec(withChange((s) => {
      s.route = { name: 'primary' };
      s.destinations = [{ host: 'payments-release.payments.svc.cluster.local', port: 8000 }, { host: 'payments-canary.payments.svc.cluster.local', port: 8000 }];
      s.steps = [{ weights: [90, 10] }];
    }));
    expect(result.ok && result.spec.route.protocol).toBe('http');
    expect(result.ok && result.spec.destinations.map((d) => d.label)).toEqual(['payments-release', 'payments-canary']);
  });

  it('reports every problem at once, each naming its field', () => {
    const result = validateShiftSpec({ namespace: 'Shop!', route: {}, destinations: [], steps: [{ weights: [50] }] });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.field)).toEqual(expect.arrayContaining(['account', 'virtualService', 'namespace', 'route', 'destinations']));
    for (const problem of result.problems) expect(problem.message).toContain(problem.field);
  });

  it('reports a step\'s bad pause and its bad weight sum together', () => {
    const result = validateShiftSpec(withChange((s) => {
      s.steps[0] = { weights: [80, 10, 15], pause: 'ten minutes' };
    }));
    expect(result.problems.map((p) => p.field)).toEqual(['steps[0].pause', 'steps[0].weights']);
  });

  it('lets Deck keep SpEL expressions but makes the service reject unevaluated ones', () => {
    const spec = withChange((s) => {
      s.namespace = '${trigger.parameters.namespace}';
      s.steps[0].weights = ['${trigger.parameters.release}', 10, 10];
    });
    expect(validateShiftSpec(spec, { allowExpressions: true }).ok).toBe(true);
    const rejected = validateShiftSpec(spec);
    expect(rejected.problems.map((p) => p.field)).toEqual(['namespace', 'steps[0].weights[0]']);
    expect(rejected.problems[0].message).toMatch(/SpEL expression Orca did not evaluate/);
  });

  // Each invalid spec: the field that must be named and words the message must contain.
  const invalid: Array<[string, unknown, string, RegExp]> = [
    ['not an object', [1, 2], '', /must be a JSON object/],
    ['null body', null, '', /must be a JSON object/],
    ['missing account', withChange((s) => delete s.account), 'account', /account is required/],
    ['account not a string', withChange((s) => { s.account = 7; }), 'account', /must be a string/],
    ['namespace with capitals', withChange((s) => { s.namespace = 'Shop'; }), 'namespace', /not valid: give a Kubernetes namespace name/],
    ['namespace too long', withChange((s) => { s.namespace = 'a'.repeat(64); }), 'namespace', /at most 63/],
    ['virtualService with a slash', withChange((s) => { s.virtualService = 'shop/checkout'; }), 'virtualService', /not valid/],
    ['missing route', withChange((s) => delete s.route), 'route', /route is required/],
    ['route with both name and index', withChange((s) => { s.route = { name: 'primary', index: 0 }; }), 'route', /exactly one of name or index/],
    ['http route by port', withChange((s) => { s.route = { protocol: 'http', port: 80 }; }), 'route.port', /TLS and TCP routes only/],
    ['tcp route by name', withChange((s) => { s.route = { protocol: 'tcp', name: 'db', port: 5432 }; }), 'route.name', /have no name/],
    ['unknown protocol', withChange((s) => { s.route = { protocol: 'grpc', name: 'x' }; }), 'route.protocol', /one of http, tls, tcp/],
    ['negative route index', withChange((s) => { s.route = { index: -1 }; }), 'route.index', /between 0 and 999/],
    ['port out of range', withChange((s) => { s.route = { protocol: 'tls', port: 70000 }; }), 'route.port', /between 1 and 65535/],
    ['destinations not a list', withChange((s) => { s.destinations = { host: 'x' }; }), 'destinations', /must be a list/],
    ['no destinations', withChange((s) => { s.destinations = []; }), 'destinations', /is empty/],
    ['too many destinations', withChange((s) => { s.destinations = Array.from({ length: 11 }, (_, i) => ({ host: `h${i}` })); }), 'destinations', /at most 10/],
    ['destination without host', withChange((s) => { delete s.destinations[1].host; }), 'destinations[1].host', /host is required/],
    ['destination host with capitals', withChange((s) => { s.destinations[0].host = 'Checkout'; }), 'destinations[0].host', /lower case/],
    ['destination port zero', withChange((s) => { s.destinations[2].port = 0; }), 'destinations[2].port', /between 1 and 65535/],
    ['destination subset with spaces', withChange((s) => { s.destinations[2].subset = 'can ary'; }), 'destinations[2].subset', /subset name/],
    ['subset with upper case (not a DNS-1123 label)', withChange((s) => { s.destinations[2].subset = 'Canary'; }), 'destinations[2].subset', /lower case letters, digits and -/],
    ['subset with _ and .', withChange((s) => { s.destinations[1].subset = 'base_line.v2'; }), 'destinations[1].subset', /subset name/],
    ['duplicate destination', withChange((s) => { s.destinations[2] = { host: 'checkout', subset: 'release' }; }), 'destinations[2]', /repeats destinations\[0\]/],
    ['duplicate label', withChange((s) => { s.destinations[2].label = 'release'; }), 'destinations[2].label', /same label/],
    ['unknown destination field', withChange((s) => { s.destinations[0].weight = 80; }), 'destinations[0].weight', /not a known field/],
    ['missing steps', withChange((s) => delete s.steps), 'steps', /steps is required/],
    ['empty steps', withChange((s) => { s.steps = []; }), 'steps', /is empty/],
    ['weights not summing to 100', withChange((s) => { s.steps[1].weights = [34, 33, 32]; }), 'steps[1].weights', /sum to 99; they must sum to 100 \(add 1\)/],
    ['weights over 100 in total', withChange((s) => { s.steps[0].weights = [90, 10, 10]; }), 'steps[0].weights', /sum to 110.*remove 10/],
    ['weight above 100', withChange((s) => { s.steps[2].weights = [101, 0, -1]; }), 'steps[2].weights[0]', /between 0 and 100/],
    ['fractional weight', withChange((s) => { s.steps[0].weights = [80.5, 9.5, 10]; }), 'steps[0].weights[0]', /whole number/],
    ['weight as words', withChange((s) => { s.steps[0].weights = ['eighty', 10, 10]; }), 'steps[0].weights[0]', /whole number \(got "eighty"\)/],
    ['weight as decimal string', withChange((s) => { s.steps[0].weights = ['80.0', 10, 10]; }), 'steps[0].weights[0]', /whole number/],
    ['wrong number of weights', withChange((s) => { s.steps[1].weights = [50, 50]; }), 'steps[1].weights', /has 2 weights but there are 3 destinations/],
    ['step without weights', withChange((s) => { s.steps[1] = { pause: '1m' }; }), 'steps[1].weights', /weights is required/],
    ['bad pause', withChange((s) => { s.steps[0].pause = 'ten minutes'; }), 'steps[0].pause', /not a duration: write it like 90s, 10m or 1h30m/],
    ['pause too long', withChange((s) => { s.steps[0].pause = '200h'; }), 'steps[0].pause', /longer than 7 days/],
    ['negative pause', withChange((s) => { s.steps[0].pause = -5; }), 'steps[0].pause', /not a duration/],
    ['unknown top-level field', withChange((s) => { s.destination = []; }), 'destination', /not a known field: remove it/],
    ['bad onCancel', withChange((s) => { s.onCancel = 'undo'; }), 'onCancel', /one of rollback, hold/],
    ['bad pruneUnlisted', withChange((s) => { s.pruneUnlisted = 'yes'; }), 'pruneUnlisted', /true or false/],
    ['executionId without stageRef', withChange((s) => delete s.stageRef), 'stageRef', /stageRef is required with executionId/],
    ['stageRef without executionId', withChange((s) => delete s.executionId), 'executionId', /executionId is required with stageRef/],
    ['unevaluated executionId', withChange((s) => { s.executionId = '${execution.id}'; }), 'executionId', /SpEL expression Orca did not evaluate/],
    ['abandonAfter too short for Orca polls', withChange((s) => { s.abandonAfter = '10s'; }), 'abandonAfter', /between 30s .* and 60m/],
    ['abandonAfter not a duration', withChange((s) => { s.abandonAfter = 'soon'; }), 'abandonAfter', /not a duration/],
    ['restartedAt not a number', withChange((s) => { s.restartedAt = 'yesterday'; }), 'restartedAt', /whole number/],
    ['literal ${id} from Orca', withChange((s) => { s.stageRef = '${id}'; }), 'stageRef', /SpEL expression Orca did not evaluate/],
  ];

  it.each(invalid)('rejects %s', (_name, input, field, message) => {
    const result = validateShiftSpec(input);
    expect(result.ok).toBe(false);
    const problem = result.problems.find((p) => p.field === field);
    expect(problem).toBeDefined();
    expect(problem?.message).toMatch(message);
  });
});

const example = exampleSpec();

describe('subset problems and duplicates', () => {
  it('reports a rejected subset once, without a false duplicate of another destination', () => {
    const input = JSON.parse(JSON.stringify(example));
    input.destinations[1].subset = 'Baseline';
    input.destinations[2].subset = 'Canary';
    const result = validateShiftSpec(input);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.field).sort()).toEqual(['destinations[1].subset', 'destinations[2].subset']);
    expect(result.problems.some((p) => /repeats/.test(p.message))).toBe(false);
  });
});

describe('restart marker and watch lease', () => {
  it('reads the unevaluated restart expression (no restart yet) as the first attempt', () => {
    const result = validateShiftSpec({ ...example, restartedAt: RESTART_EXPRESSION });
    expect(result.ok && result.spec.restartedAt).toBe(0);
  });
  it('keeps the restart time Orca evaluated, as a number or digits', () => {
    const asNumber = validateShiftSpec({ ...example, restartedAt: 1764500000123 });
    const asText = validateShiftSpec({ ...example, restartedAt: '1764500000123' });
    expect(asNumber.ok && asNumber.spec.restartedAt).toBe(1764500000123);
    expect(asText.ok && asText.spec.restartedAt).toBe(1764500000123);
  });
  it('defaults abandonAfter to 2 minutes and accepts durations within bounds', () => {
    const defaulted = validateShiftSpec(example);
    const five = validateShiftSpec({ ...example, abandonAfter: '5m' });
    expect(defaulted.ok && defaulted.spec.abandonAfterSeconds).toBe(120);
    expect(five.ok && five.spec.abandonAfterSeconds).toBe(300);
  });
});

describe('validateShiftPath', () => {
  const good = { account: 'prod', namespace: 'shop', virtualService: 'checkout', id: '0123456789abcdef0123' };
  it('accepts the segments of a status URL', () => {
    expect(validateShiftPath(good)).toEqual([]);
  });
  it.each([
    ['a VirtualService segment that addresses a subresource', { virtualService: 'checkout/status' }, 'virtualService'],
    ['a namespace with upper case', { namespace: 'Shop' }, 'namespace'],
    ['a built-in property name as the id', { id: 'constructor' }, 'id'],
    ['__proto__ as the id', { id: '__proto__' }, 'id'],
    ['an empty account', { account: '' }, 'account'],
  ])('rejects %s', (_name, change, field) => {
    const problems = validateShiftPath({ ...good, ...change });
    expect(problems.map((p) => p.field)).toEqual([field]);
    expect(problems[0].message).toMatch(new RegExp(`^${field}`));
  });
});

describe('problems carry a stable code and params', () => {
  it('names what is wrong by code, with the numbers in params', () => {
    const result = validateShiftSpec(withChange((s) => {
      s.steps[1].weights = [34, 33, 120];
      s.namespace = 'Shop';
      s.surprise = 1;
    }));
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ field: 'steps[1].weights[2]', code: 'out_of_range', params: { got: 120, min: 0, max: 100 } }),
      expect.objectContaining({ field: 'namespace', code: 'invalid_format', params: expect.objectContaining({ value: 'Shop' }) }),
      expect.objectContaining({ field: 'surprise', code: 'unknown_field', params: expect.objectContaining({ key: 'surprise' }) }),
    ]));
  });

  it('gives every problem a code, the analysis block\'s included', () => {
    const result = validateShiftSpec(withChange((s) => {
      s.steps[0].weights = [80, 10];
      s.analysis = { source: 'http://prom' };
    }));
    expect(result.ok).toBe(false);
    if (!result.ok) result.problems.forEach((p) => expect(p.code).toEqual(expect.any(String)));
    expect(result.ok ? [] : result.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['weight_count', 'analysis']));
  });

  it('the analysis block\'s common checks carry the same codes', () => {
    const result = validateShiftSpec(withChange((s) => {
      s.analysis = { source: 'prometheus', scopes: { canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }, alpha: 'x', surprise: 1, interval: 'soon' };
    }));
    expect(result.ok ? [] : result.problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ field: 'analysis.surprise', code: 'unknown_field', params: expect.objectContaining({ key: 'surprise' }) }),
      expect.objectContaining({ field: 'analysis.alpha', code: 'wrong_type', params: expect.objectContaining({ expected: 'number', got: '"x"' }) }),
      expect.objectContaining({ field: 'analysis.interval', code: 'not_a_duration', params: expect.objectContaining({ got: '"soon"' }) }),
    ]));
  });
});
