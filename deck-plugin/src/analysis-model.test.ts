/** The analysis model: scope defaults, the preset, metric rows, problems in the form's words, judgement rows. */
import { referenceAnalysis, validateShiftSpec } from '@istio-shift/core';
import {
  addMetric,
  analysisProblems,
  applyReferencePreset,
  changeMetricKind,
  defaultScopes,
  fieldLabel,
  formMessage,
  removeAnalysis,
  removeMetric,
  setStepSkip,
  stepAnalysisState,
  workloadOf,
  changeDirection,
  directionOf,
  queryCheckMessages,
  shownBounds,
} from './analysis-model';
import type { AnalysisDraft, MetricDraft } from './analysis-model';
import { analysisView } from './execution/analysis-view';
import { newPayload } from './model';
import type { PayloadDraft } from './model';
import { analysisFailedStage, judgements } from '../test/fixtures/analysis';

function shift(destinations: PayloadDraft['destinations']): PayloadDraft {
  return {
    ...newPayload('2'),
    account: 'prod-k8s',
    namespace: 'shop',
    virtualService: 'checkout',
    route: { protocol: 'http', name: 'primary' },
    destinations,
    steps: [
      { weights: [80, 10, 10], pause: '10m' },
      { weights: [34, 33, 33], pause: '20m' },
      { weights: [100, 0, 0] },
    ],
  };
}
const CANARY_BASELINE = [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }];
const analysis = (payload: PayloadDraft) => payload.analysis as AnalysisDraft;

describe('scopes from the destinations', () => {
  it('names workloads <host>-<subset>, or the host alone, from the first DNS label', () => {
    expect(workloadOf({ host: 'checkout.shop.svc.cluster.local', subset: 'canary' })).toBe('checkout-canary');
    expect(workloadOf({ host: 'checkout-v2' })).toBe('checkout-v2');
    expect(workloadOf({ host: '${trigger.parameters.host}', subset: 'canary' })).toBe('');
  });

  it('picks the destinations named canary and baseline, else the last and the first', () => {
    expect(defaultScopes({ destinations: CANARY_BASELINE })).toEqual({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } });
    expect(defaultScopes({ destinations: [{ host: 'checkout', subset: 'v1' }, { host: 'checkout-next' }] })).toEqual({ canary: { workload: 'checkout-next' }, baseline: { workload: 'checkout-v1' } });
    expect(defaultScopes({ destinations: [{ host: 'a', subset: 'canary', label: 'x' }, { host: 'b', label: 'Baseline' }] })).toEqual({ canary: { workload: 'a-canary' }, baseline: { workload: 'b' } });
  });
});

describe('the section\'s operations', () => {
  it('the reference preset is core\'s referenceAnalysis with the default scopes, and validates', () => {
    const payload = applyReferencePreset(shift(CANARY_BASELINE));
    expect(payload.analysis).toEqual(referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }));
    expect(validateShiftSpec(payload, { allowExpressions: true }).problems).toEqual([]);
  });

  it('the preset keeps a source and workloads the author typed', () => {
    const start = shift(CANARY_BASELINE);
    start.analysis = { source: 'thanos', scopes: { canary: { workload: 'web-next' }, baseline: { workload: '' } }, metrics: [] };
    expect(analysis(applyReferencePreset(start))).toMatchObject({ source: 'thanos', scopes: { canary: { workload: 'web-next' }, baseline: { workload: 'checkout-baseline' } }, thresholds: { pass: 75, marginal: 50 } });
  });

  it('adds the first built-in the analysis lacks, and removing a group\'s last metric drops its weight', () => {
    const payload = addMetric(applyReferencePreset(shift(CANARY_BASELINE)));
    expect(analysis(payload).metrics[7]).toEqual({ name: 'latency-p50', metric: 'latency-p50', judge: { type: 'statistical' } });
    let next = removeMetric(payload, 7);
    // Without success-rate and latency-p99 the istio group is empty; readiness (now index 3) goes too.
    next = removeMetric(removeMetric(removeMetric(next, 0), 0), 3);
    expect(analysis(next).metrics.map((m) => m.name)).toEqual(['cpu', 'memory', 'restarts', 'oom-killed']);
    expect(analysis(next).groups).toEqual({ kubernetes: 40 });
  });

  it('changing a row to custom asks for a query and resets the judge; the name follows an unrenamed kind', () => {
    const metric = { name: 'restarts', metric: 'restarts' as const, judge: { type: 'threshold', maxIncrease: 0 } };
    expect(changeMetricKind(metric, 'custom', ['restarts'])).toEqual({ name: 'custom', metric: 'custom', query: '', judge: { type: 'statistical' } });
    expect(changeMetricKind({ ...metric, name: 'pod-restarts' }, 'oom-killed', [])).toMatchObject({ name: 'pod-restarts', judge: { type: 'threshold', maxIncrease: 0 } });
    // success-rate gets the error-count judge; a deprecated failAfterSamples is left as it was.
    expect(changeMetricKind({ ...metric, failAfterSamples: 3 }, 'success-rate', [])).toEqual({ name: 'success-rate', metric: 'success-rate', judge: { type: 'errors' }, failAfterSamples: 3 });
  });

  it('skips a paused step; steps without a pause are not analysed; turning analysis off clears both', () => {
    const payload = setStepSkip(applyReferencePreset(shift(CANARY_BASELINE)), 0, true);
    expect(payload.steps.map(stepAnalysisState)).toEqual(['skipped', 'analysed', 'no-pause']);
    expect(payload.steps[0].analysis).toEqual({ skip: true });
    expect(setStepSkip(payload, 0, false).steps[0]).not.toHaveProperty('analysis');
    const off = removeAnalysis(payload);
    expect(off).not.toHaveProperty('analysis');
    expect(off.steps[0]).not.toHaveProperty('analysis');
  });
});

describe('validator problems in the form\'s words', () => {
  it('labels fields as the form shows them', () => {
    expect(fieldLabel('analysis.metrics[1].judge.max')).toBe('Metric 2, threshold max');
    expect(fieldLabel('analysis.metrics[0].nodata')).toBe('Metric 1, no-data policy');
    expect(fieldLabel('analysis.groups.istio')).toBe('Weight of group istio');
    expect(fieldLabel('steps[2].analysis.skip')).toBe('Step 3, skip analysis');
    expect(formMessage('analysis.metrics[3].judge.min (5) is above analysis.metrics[3].judge.max (0): swap them')).toBe('Metric 4, threshold min (5) is above Metric 4, threshold max (0): swap them');
  });

  it('places each problem on its input, its metric row, or the section', () => {
    const payload = applyReferencePreset(shift(CANARY_BASELINE));
    const block = analysis(payload);
    block.source = 'http://prometheus:9090';
    block.metrics[1].judge = { type: 'threshold', max: 'lots' };
    block.metrics[2].failAfterSamples = 1.5;
    block.thresholds = { pass: 40, marginal: 60 };
    const problems = analysisProblems(payload);
    expect(problems.map((p) => [p.place, p.message])).toEqual([
      ['analysis.source', expect.stringMatching(/^Metrics source "http:\/\/prometheus:9090" looks like an address: give the name of a metrics source/)],
      ['analysis.metrics[1].judge.max', 'Metric 2, threshold max must be a number (got "lots"): give an absolute bound on the canary\'s mean value'],
      ['analysis.metrics[2]', 'Metric 3, fail after samples (deprecated, ignored) must be a whole number (got 1.5); it is deprecated and ignored: remove it'],
      ['analysis', 'Marginal score (60) is above pass (40): marginal must be at most pass'],
    ]);
  });
});

describe('judgement rows from the status body', () => {
  it('builds one row per metric from core\'s judgeStep output, with units and group scores', () => {
    const { failed } = judgements();
    const stage = analysisFailedStage();
    const view = analysisView(stage.context.webhook.monitor.body as never, stage.context.payload)!;
    expect(view.overall).toEqual({ score: 0, result: 'Fail', text: 'Fail, score 0' });
    expect(view.failure).toMatch(/^step 2 failed analysis: canary 5xx .*\(critical\), canary p99 latency 4\d\d ms vs baseline 1\d\d ms \(\+1\d\d%\).*; score 0\/75; weights restored/);
    expect(view.steps.map((s) => [s.step, s.state, s.judgement?.result])).toEqual([[1, 'judged', 'Pass'], [2, 'judged', 'Fail'], [3, 'not-analysed', undefined]]);
    const rows = view.steps[1].rows;
    expect(rows.map((r) => r.name)).toEqual(failed.metrics.map((m) => m.name));
    expect(rows[0]).toMatchObject({ name: 'success-rate', critical: true, classification: 'Low', failed: true, canary: expect.stringMatching(/^91\.\d%$/), baseline: expect.stringMatching(/^99\.\d%$/) });
    expect(rows[0].counts).toEqual({ canary: '523 of 6,075 failed', baseline: '11 of 5,980 failed' });
    expect(rows[1]).toMatchObject({ name: 'latency-p99', classification: 'High', canary: expect.stringMatching(/^4\d\d ms$/), change: expect.stringMatching(/^\+1\d\d%$/) });
    expect(rows[3]).toMatchObject({ name: 'memory', classification: 'Pass', canary: expect.stringMatching(/^23\d MiB$/) });
    expect(rows[0].groupScore).toBe('0 (0/2, weight 60)');
  });

  it('shows nothing for a shift without analysis', () => {
    expect(analysisView(undefined)).toBeUndefined();
    const stage = analysisFailedStage();
    const body = stage.context.webhook.monitor.body as unknown as Record<string, unknown> & { steps: Array<Record<string, unknown>> };
    body.steps.forEach((s) => delete s.analysis);
    delete body.analysis;
    body.failure = { reason: 'ROUTE_CHANGED', message: 'x' };
    expect(analysisView(body as never)).toBeUndefined();
  });
});

describe('direction, bounds shown and the PromQL check of a metric row (issue 16, item 5)', () => {
  const [successRate, latency, , , restarts] = referenceAnalysis({ canary: { workload: 'c' }, baseline: { workload: 'b' } }).metrics as unknown as MetricDraft[];
  const keys = (metric: Pick<MetricDraft, 'metric' | 'direction' | 'judge'>, added?: string[]) => shownBounds(metric, added).map((b) => b.key);

  it('a row without a direction fails the way core defaults its kind to', () => {
    expect([directionOf({ metric: 'custom' }), directionOf({ metric: 'readiness' }), directionOf({ metric: 'cpu', direction: 'either' })]).toEqual(['either', 'decrease', 'either']);
  });

  it('shows the allowed change of a statistical row\'s direction, both errors bounds, and only the threshold bounds in use or added', () => {
    expect(keys(latency)).toEqual(['allowedIncrease']);
    expect(keys({ ...latency, direction: 'either' })).toEqual(['allowedIncrease', 'allowedDecrease']);
    expect(keys({ metric: 'custom', judge: { type: 'statistical', allowedIncrease: 2 }, direction: 'decrease' })).toEqual(['allowedIncrease', 'allowedDecrease']);
    expect(keys(successRate)).toEqual(['maxRatio', 'maxIncrease']);
    expect(keys(restarts)).toEqual(['maxIncrease']);
    expect(keys(restarts, ['min'])).toEqual(['min', 'maxIncrease']);
    expect(keys({ metric: 'cpu', judge: { type: 'threshold' } })).toEqual([]);
  });

  it('a new direction drops the allowed change it cannot use', () => {
    const either = { ...latency, direction: 'either', judge: { type: 'statistical', allowedIncrease: 1.2, allowedDecrease: 0.8 } };
    expect(changeDirection(either, 'increase')).toEqual({ ...latency, direction: 'increase', judge: { type: 'statistical', allowedIncrease: 1.2 } });
    expect(changeDirection(either, 'decrease').judge).toEqual({ type: 'statistical', allowedDecrease: 0.8 });
    expect(changeDirection(restarts, 'either')).toEqual({ ...restarts, direction: 'either' });
  });

  it('words the PromQL check with the row and the place', () => {
    expect(queryCheckMessages(7, 'sum(rate(x[5m])')).toEqual(['Metric 8, query, column 4: the ( opened here is never closed: add a )']);
    expect(queryCheckMessages(0, 'sum(\n  rat(x)\n)')).toEqual(['Metric 1, query, line 2, column 3: rat is not a PromQL function or aggregation (did you mean rate?)']);
    expect(queryCheckMessages(0, undefined)).toEqual([]);
  });
});
