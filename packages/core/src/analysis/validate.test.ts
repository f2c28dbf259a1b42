import { validateShiftSpec } from '../validate';
import { referenceAnalysis, REFERENCE_METRICS } from './preset';

/** Descartes' rollout: 80/10/10 with 1 min warm-up + 10 min analysis, then 34/33/33 for 20 min, then 100/0/0. */
function spec(change: (s: Record<string, any>) => void = () => undefined): Record<string, any> {
  const s: Record<string, any> = {
    account: 'prod',
    namespace: 'shop',
    virtualService: 'checkout',
    route: { protocol: 'http', name: 'primary' },
    destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
    steps: [
      { weights: [80, 10, 10], pause: '11m' },
      { weights: [34, 33, 33], pause: '20m', analysis: { warmup: '0s' } },
      { weights: [100, 0, 0] },
    ],
    analysis: referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }),
  };
  change(s);
  return s;
}

function problems(s: Record<string, any>): Array<{ field: string; message: string }> {
  const result = validateShiftSpec(s);
  expect(result.ok).toBe(false);
  return result.problems;
}

describe('analysis validation', () => {
  it('accepts the reference preset and normalizes it (seconds, defaults, per-step windows)', () => {
    const result = validateShiftSpec(spec());
    expect(result.problems).toEqual([]);
    if (!result.ok) return;
    const a = result.spec.analysis!;
    expect(a.source).toBe('prometheus');
    expect(a.scopes.canary).toEqual({ namespace: 'shop', workload: 'checkout-canary' });
    expect([a.warmupSeconds, a.intervalSeconds]).toEqual([60, 30]);
    expect(a.groups).toEqual({ istio: 60, kubernetes: 40 });
    expect(a.thresholds).toEqual({ pass: 75, marginal: 50 });
    expect(a.steps).toEqual([
      { analysed: true, warmupSeconds: 60, intervalSeconds: 30, windowSeconds: 600 },
      { analysed: true, warmupSeconds: 0, intervalSeconds: 30, windowSeconds: 1200 },
      { analysed: false, warmupSeconds: 60, intervalSeconds: 30, windowSeconds: 0 },
    ]);
    expect(a.metrics.map((m) => [m.name, m.group, m.direction, m.critical, m.judge.type])).toEqual([
      ['success-rate', 'istio', 'decrease', true, 'errors'],
      ['latency-p99', 'istio', 'increase', false, 'statistical'],
      ['cpu', 'kubernetes', 'increase', true, 'statistical'],
      ['memory', 'kubernetes', 'increase', true, 'statistical'],
      ['restarts', 'kubernetes', 'increase', true, 'threshold'],
      ['readiness', 'kubernetes', 'decrease', true, 'threshold'],
      ['oom-killed', 'kubernetes', 'increase', true, 'threshold'],
    ]);
    expect(a.metrics[1]).toMatchObject({ nodata: 'fail' });
    expect(a.metrics[1].failAfterSamples).toBeUndefined();
    expect([a.mode, a.alpha]).toEqual(['sequential', 0.01]);
    expect(a.evidence).toEqual({ minRequests: 50, minTrafficShare: 0.5, minPoints: 3, onInsufficient: 'fail' });
  });

  it('fills the reference metrics and groups when metrics are left out', () => {
    const result = validateShiftSpec(spec((s) => {
      s.analysis = { source: 'prometheus', scopes: { canary: { workload: 'checkout-canary', namespace: 'shop-canary' }, baseline: { workload: 'checkout-baseline' } } };
    }));
    expect(result.problems).toEqual([]);
    if (!result.ok) return;
    expect(result.spec.analysis!.metrics.map((m) => m.name)).toEqual(REFERENCE_METRICS.map((m) => m.name));
    expect(result.spec.analysis!.groups).toEqual({ istio: 60, kubernetes: 40 });
    expect(result.spec.analysis!.scopes.canary.namespace).toBe('shop-canary');
  });

  it('gives metrics their defaults: group by kind, direction, judge', () => {
    const result = validateShiftSpec(spec((s) => {
      s.analysis.metrics = [
        { name: 'p95', metric: 'latency-p95' },
        { name: 'restarts', metric: 'restarts' },
        { name: 'errors', metric: 'custom', query: 'sum(rate(errors_total{namespace="{{namespace}}",app="{{ workload }}"}[{{interval}}]))' },
      ];
      delete s.analysis.groups;
    }));
    expect(result.problems).toEqual([]);
    if (!result.ok) return;
    expect(result.spec.analysis!.metrics.map((m) => [m.group, m.direction, m.judge])).toEqual([
      ['istio', 'increase', { type: 'statistical' }],
      ['kubernetes', 'increase', { type: 'threshold', maxIncrease: 0 }],
      ['custom', 'either', { type: 'statistical' }],
    ]);
    expect(result.spec.analysis!.groups).toEqual({});
  });

  const bad: Array<[string, (s: Record<string, any>) => void, string, RegExp]> = [
    ['an unknown field', (s) => { s.analysis.lookback = '5m'; }, 'analysis.lookback', /is not a known field: remove it/],
    ['an unknown metric field', (s) => { s.analysis.metrics[1].percentile = 99; }, 'analysis.metrics[1].percentile', /not a known field/],
    ['an unknown built-in metric', (s) => { s.analysis.metrics[1].metric = 'latency-p999'; }, 'analysis.metrics[1].metric', /"latency-p999" is not a built-in metric: use one of success-rate, latency-p50/],
    ['a custom metric without a query', (s) => { s.analysis.metrics[1] = { name: 'errors', metric: 'custom' }; }, 'analysis.metrics[1].query', /is required for a custom metric: give a PromQL template/],
    ['a query with an unknown variable', (s) => { s.analysis.metrics[1] = { name: 'errors', metric: 'custom', query: 'up{job="{{job}}",ns="{{namespace}}"}' }; }, 'analysis.metrics[1].query', /uses \{\{job\}\}, which the service does not replace: use only \{\{namespace\}\}, \{\{workload\}\}, \{\{interval\}\}, \{\{scope\}\}/],
    ['a query on a built-in metric', (s) => { s.analysis.metrics[1].query = 'up'; }, 'analysis.metrics[1].query', /applies to custom metrics only/],
    ['duplicate metric names', (s) => { s.analysis.metrics[2].name = 'latency-p99'; }, 'analysis.metrics[2].name', /"latency-p99" repeats analysis.metrics\[1\]: give each metric a unique name/],
    ['allowedIncrease below 1', (s) => { s.analysis.metrics[1].judge.allowedIncrease = 0.8; }, 'analysis.metrics[1].judge.allowedIncrease', /is 0.8; it must be between 1 and 100/],
    ['allowedDecrease above 1', (s) => { s.analysis.metrics[0].judge = { type: 'statistical', allowedDecrease: 1.5 }; }, 'analysis.metrics[0].judge.allowedDecrease', /is 1.5; it must be between 0 and 1/],
    ['allowedIncrease on a decrease metric', (s) => { s.analysis.metrics[0].judge = { type: 'statistical', allowedIncrease: 1.1 }; }, 'analysis.metrics[0].judge.allowedIncrease', /has no effect with direction decrease/],
    ['a statistical field on a threshold judge', (s) => { s.analysis.metrics[4].judge.allowedDecrease = 0.9; }, 'analysis.metrics[4].judge.allowedDecrease', /is not a known field: remove it \(known fields: type, min, max, minRatio, maxRatio, maxIncrease, maxDecrease\)/],
    ['a statistical field on an errors judge', (s) => { s.analysis.metrics[0].judge.allowedDecrease = 0.9; }, 'analysis.metrics[0].judge.allowedDecrease', /is not a known field: remove it \(known fields: type, maxRatio, maxIncrease\)/],
    ['an errors judge on a metric without request counts', (s) => { s.analysis.metrics[1].judge = { type: 'errors' }; }, 'analysis.metrics[1].judge.type', /only the success-rate metric has/],
    ['an errors maxRatio below 1', (s) => { s.analysis.metrics[0].judge.maxRatio = 0.5; }, 'analysis.metrics[0].judge.maxRatio', /is 0.5; it must be between 1 and 1000/],
    ['an unknown mode', (s) => { s.analysis.mode = 'bayesian'; }, 'analysis.mode', /must be one of sequential, fixed/],
    ['an alpha above 0.2', (s) => { s.analysis.alpha = 0.5; }, 'analysis.alpha', /is 0.5; it must be between 0.000001 and 0.2/],
    ['a fractional minRequests', (s) => { s.analysis.evidence = { minRequests: 2.5 }; }, 'analysis.evidence.minRequests', /must be a whole number/],
    ['a traffic share above 1', (s) => { s.analysis.evidence = { minTrafficShare: 2 }; }, 'analysis.evidence.minTrafficShare', /is 2; it must be between 0 and 1/],
    ['an unknown evidence field', (s) => { s.analysis.evidence = { minCanaryRequests: 5 }; }, 'analysis.evidence.minCanaryRequests', /not a known field/],
    ['an unknown onInsufficient', (s) => { s.analysis.evidence = { onInsufficient: 'pass' }; }, 'analysis.evidence.onInsufficient', /must be one of fail, hold/],
    ['a threshold judge without bounds', (s) => { s.analysis.metrics[4].judge = { type: 'threshold' }; }, 'analysis.metrics[4].judge', /without bounds: give at least one of min, max, minRatio, maxRatio, maxIncrease, maxDecrease/],
    ['min above max', (s) => { s.analysis.metrics[4].judge = { type: 'threshold', min: 5, max: 1 }; }, 'analysis.metrics[4].judge.min', /is above .*max \(1\): swap them/],
    ['an unknown judge type', (s) => { s.analysis.metrics[4].judge = { type: 'bayesian' }; }, 'analysis.metrics[4].judge.type', /must be statistical, threshold or errors/],
    ['pass below marginal', (s) => { s.analysis.thresholds = { pass: 40, marginal: 50 }; }, 'analysis.thresholds', /marginal \(50\) is above pass \(40\)/],
    ['a threshold above 100', (s) => { s.analysis.thresholds = { pass: 120, marginal: 50 }; }, 'analysis.thresholds.pass', /is 120; it must be between 0 and 100/],
    ['group weights above 100', (s) => { s.analysis.groups = { istio: 70, kubernetes: 40 }; }, 'analysis.groups', /^analysis.groups sum to 110; the weights must sum to at most 100 \(remove 10\)$/],
    ['a custom metric added beside the preset\'s groups (it gets no weight)', (s) => { s.analysis.metrics.push({ name: 'queue-depth', metric: 'custom', query: 'sum(queue_depth{namespace="{{namespace}}"})' }); }, 'analysis.groups', /^analysis.groups: group "custom" gets no weight \(the other groups' weights already sum to 100\), so queue-depth can never change the score: give "custom" a weight \(lower the others\), or make the metric critical$/],
    ['a group with weight 0', (s) => { s.analysis.groups = { istio: 100, kubernetes: 0 }; for (const m of s.analysis.metrics) m.critical = false; }, 'analysis.groups', /group "kubernetes" has weight 0, so cpu, memory, restarts, readiness, oom-killed can never change the score/],
    ['a group weight out of range', (s) => { s.analysis.groups = { istio: -5 }; }, 'analysis.groups.istio', /is -5; it must be between 0 and 100/],
    ['a weight for a group without metrics', (s) => { s.analysis.groups.latency = 0; }, 'analysis.groups.latency', /no metric is in group "latency"/],
    ['weights that cap the score', (s) => { s.analysis.groups = { istio: 30, kubernetes: 40 }; }, 'analysis.groups', /sum to 70 and every group has a weight, so the score can never exceed 70/],
    ['a window shorter than two intervals', (s) => { s.steps[0].pause = '90s'; }, 'steps[0].pause', /leaves an analysis window of 30s \(pause 1m30s - warm-up 1m\), shorter than two 30s intervals: lengthen the pause to at least 2m/],
    ['a pause shorter than its warm-up', (s) => { s.steps[0].pause = '45s'; }, 'steps[0].pause', /\(45s\) is shorter than its analysis warm-up \(1m\)/],
    ['a per-step warm-up longer than the pause', (s) => { s.steps[1].analysis = { warmup: '30m' }; }, 'steps[1].pause', /\(20m\) is shorter than its analysis warm-up \(30m\)/],
    ['an unknown per-step field', (s) => { s.steps[1].analysis = { window: '5m' }; }, 'steps[1].analysis.window', /not a known field: remove it \(known fields: skip, warmup, interval\)/],
    ['a per-step interval that is not a duration', (s) => { s.steps[1].analysis = { interval: 'often' }; }, 'steps[1].analysis.interval', /"often" is not a duration/],
    ['an interval below 2s', (s) => { s.analysis.interval = '1s'; }, 'analysis.interval', /is 1s; it must be between 2s and 1h/],
    ['per-step analysis without an analysis block', (s) => { delete s.analysis; }, 'steps[1].analysis', /the shift has no analysis block: add analysis, or remove steps\[1\].analysis/],
    ['a URL as source', (s) => { s.analysis.source = 'http://prometheus:9090'; }, 'analysis.source', /looks like an address: give the name of a metrics source configured in the stage service/],
    ['a path as source', (s) => { s.analysis.source = 'monitoring/prometheus'; }, 'analysis.source', /looks like an address/],
    ['a missing source', (s) => { delete s.analysis.source; }, 'analysis.source', /is required: give the name of a metrics source/],
    ['an expression as source', (s) => { s.analysis.source = '${trigger.parameters.source}'; }, 'analysis.source', /expressions are not supported in the analysis block/],
    ['an invalid workload name', (s) => { s.analysis.scopes.canary.workload = 'Checkout_Canary'; }, 'analysis.scopes.canary.workload', /"Checkout_Canary" is not valid: give the Deployment name/],
    ['a missing baseline', (s) => { delete s.analysis.scopes.baseline; }, 'analysis.scopes.baseline', /is required: give the workload/],
    ['the same workload twice', (s) => { s.analysis.scopes.baseline.workload = 'checkout-canary'; }, 'analysis.scopes.baseline', /same workload as the canary \(shop\/checkout-canary\)/],
    ['an invalid scope namespace', (s) => { s.analysis.scopes.canary.namespace = 'Shop'; }, 'analysis.scopes.canary.namespace', /"Shop" is not valid: give a Kubernetes namespace name/],
    ['a bad label key', (s) => { s.analysis.scopes.canary.podSelector = { 'app/x/y': 'checkout' }; }, 'analysis.scopes.canary.podSelector.app/x/y', /not a Kubernetes label key/],
    ['a bad label value', (s) => { s.analysis.scopes.canary.podSelector = { app: 'check out' }; }, 'analysis.scopes.canary.podSelector.app', /must be a label value/],
    ['an empty pod selector', (s) => { s.analysis.scopes.canary.podSelector = {}; }, 'analysis.scopes.canary.podSelector', /must be an object of pod labels/],
    ['an empty metrics list', (s) => { s.analysis.metrics = []; }, 'analysis.metrics', /must be a list of 1 to 30 metrics \(or leave it out for the reference preset\)/],
    ['no step with a pause', (s) => { s.steps = [{ weights: [0, 0, 100] }]; }, 'steps', /no step has a pause to analyse/],
    ['an unknown nodata policy', (s) => { s.analysis.metrics[1].nodata = 'ignore'; }, 'analysis.metrics[1].nodata', /must be one of fail, pass, wait/],
    ['a fractional failAfterSamples', (s) => { s.analysis.metrics[1].failAfterSamples = 1.5; }, 'analysis.metrics[1].failAfterSamples', /must be a whole number/],
  ];
  for (const [what, change, field, message] of bad) {
    it(`rejects ${what}, naming ${field}`, () => {
      const found = problems(spec(change));
      expect(found).toContainEqual(expect.objectContaining({ field, message: expect.stringMatching(message) }));
    });
  }

  it('skips a step with skip: true and does not check its window', () => {
    const result = validateShiftSpec(spec((s) => { s.steps[0].pause = '30s'; s.steps[0].analysis = { skip: true }; }));
    expect(result.problems).toEqual([]);
    if (result.ok) expect(result.spec.analysis!.steps[0].analysed).toBe(false);
  });

  it('lets the Deck editor keep a SpEL pause on an analysed step (the service checks it once evaluated)', () => {
    const s = spec((x) => { x.steps = [{ weights: [80, 10, 10], pause: '${trigger.parameters.bake}' }, { weights: [100, 0, 0] }]; });
    const result = validateShiftSpec(s, { allowExpressions: true });
    expect(result.problems).toEqual([]);
    if (result.ok) expect(result.spec.analysis!.steps[0]).toMatchObject({ analysed: true, windowSeconds: 0 });
  });

  it('leaves specs without analysis unchanged', () => {
    const result = validateShiftSpec(spec((s) => { delete s.analysis; delete s.steps[1].analysis; }));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.spec.analysis).toBeUndefined();
  });
});

describe('group weights the score can feel', () => {
  it('accepts a critical metric in a group without weight: failing it still forces 0', () => {
    const result = validateShiftSpec(spec((s) => {
      s.analysis.metrics.push({ name: 'queue-depth', metric: 'custom', critical: true, query: 'sum(queue_depth{namespace="{{namespace}}"})' });
    }));
    expect(result.problems).toEqual([]);
  });
});
