import { validateShiftSpec } from '../validate';
import { describeJudgement } from './describe';
import { judgeStep, MetricSamples } from './judge';
import { StepEvidence } from './evidence';
import { NormalizedAnalysis } from './normalized';
import { referenceAnalysis } from './preset';
import { series } from './test-data';

function analysis(change: (a: Record<string, any>) => void = () => undefined): NormalizedAnalysis {
  const block: Record<string, any> = referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } });
  change(block);
  const result = validateShiftSpec({
    account: 'prod', namespace: 'shop', virtualService: 'checkout', route: { protocol: 'http', name: 'primary' },
    destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
    steps: [{ weights: [80, 10, 10], pause: '11m' }, { weights: [34, 33, 33], pause: '21m' }, { weights: [100, 0, 0] }],
    analysis: block,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec.analysis!;
}

/** Healthy samples for every reference metric: canary and baseline alike. */
function healthy(): Record<string, MetricSamples> {
  return {
    'success-rate': { canary: series(1, 20, 99.8, 0.05), baseline: series(2, 20, 99.8, 0.05) },
    'latency-p99': { canary: series(3, 20, 180, 15), baseline: series(4, 20, 180, 15) },
    'latency-p95': { canary: series(5, 20, 120, 10), baseline: series(6, 20, 120, 10) },
    cpu: { canary: series(7, 20, 0.15, 0.02), baseline: series(8, 20, 0.15, 0.02) },
    memory: { canary: series(9, 20, 250e6, 5e6), baseline: series(10, 20, 250e6, 5e6) },
    restarts: { canary: Array(20).fill(0), baseline: Array(20).fill(0) },
    readiness: { canary: Array(20).fill(100), baseline: Array(20).fill(100) },
    'oom-killed': { canary: Array(20).fill(0), baseline: Array(20).fill(0) },
  };
}

/** `total` errors spread over 20 intervals as evenly as whole numbers allow. */
const spread = (total: number) => Array.from({ length: 20 }, (_, i) => Math.floor(((i + 1) * total) / 20) - Math.floor((i * total) / 20));

/** Requests at 10 req/s over 20 intervals of 30s (6,000 per scope) with the given 5xx totals. */
function traffic(canaryErrors = 6, baselineErrors = 6, canaryRequests = 300, baselineRequests = 300): StepEvidence {
  const fill = (v: number) => Array(20).fill(v);
  return {
    requests: { canary: { requests: fill(canaryRequests), errors: spread(canaryErrors) }, baseline: { requests: fill(baselineRequests), errors: spread(baselineErrors) } },
    weights: { canary: 10, baseline: 10 },
  };
}

describe('judgeStep and describeJudgement', () => {
  it('passes a healthy canary with 100 and says what it saw', () => {
    const judgement = judgeStep(analysis(), healthy(), { step: 0, evidence: traffic() });
    expect(judgement).toMatchObject({ score: 100, result: 'Pass', passed: true, final: false });
    expect(judgement.metrics.map((m) => m.classification)).toEqual(Array(7).fill('Pass'));
    expect(judgement.evidence).toMatchObject({ passed: true, requests: { canary: 6000, baseline: 6000 }, trafficShare: 1, problems: [] });
    expect(judgement.sequential).toEqual({ alpha: 0.01, shares: { 'success-rate': 0.01 * (6 / 9), 'latency-p99': 0.01 / 9, cpu: 0.01 / 9, memory: 0.01 / 9 }, tested: 4 });
    expect(judgement.metrics[0].counts).toEqual({ canary: { requests: 6000, errors: 6 }, baseline: { requests: 6000, errors: 6 } });
    expect(describeJudgement(judgement, 1)).toBe('step 1 passed analysis: score 100/75');
  });

  it('fails on error counts: 0.1% -> 0.9% of 6,000 requests is 9x, and names the counts', () => {
    const judgement = judgeStep(analysis(), healthy(), { step: 0, evidence: traffic(54, 6) });
    expect(judgement).toMatchObject({ score: 0, result: 'Fail', passed: false, forcedZero: 'critical' });
    expect(judgement.metrics[0]).toMatchObject({ name: 'success-rate', classification: 'Low', critical: true, failed: true });
    expect(describeJudgement(judgement, 1)).toMatch(/^step 1 failed analysis: canary 5xx 54 of 6,000 requests \(0\.9%\) vs baseline 6 of 6,000 \(0\.1%\) \(e-value \S+ >= 150 after \d+ intervals\) \(critical\); score 0\/75$/);
  });

  it('never promotes without evidence: 59 canary requests beside 12,001 is InsufficientData, with the counts', () => {
    const evidence = traffic(0, 0, 3, 600);
    const judgement = judgeStep(analysis(), healthy(), { step: 0, evidence });
    expect(judgement).toMatchObject({ result: 'InsufficientData', passed: false });
    expect(judgement.evidence?.problems.join(' ')).toMatch(/the canary received 60 requests while the baseline received 12,000 at weights 10\/10: 0\.5% of its expected share, at least 50% is needed/);
    expect(describeJudgement(judgement, 1)).toMatch(/^step 1 has too little evidence to judge: /);
  });

  it('never promotes when the request counts were not read', () => {
    const judgement = judgeStep(analysis(), healthy(), { step: 0 });
    expect(judgement).toMatchObject({ result: 'InsufficientData', passed: false });
    expect(judgement.evidence?.problems).toEqual(['the request counts were not read, so the canary cannot be shown to have received traffic']);
  });

  it('counts too few points per statistical metric as too little evidence', () => {
    const samples = healthy();
    samples.cpu = { canary: [0.1, 0.1], baseline: [0.1, 0.11] };
    const judgement = judgeStep(analysis(), samples, { step: 0, evidence: traffic() });
    expect(judgement.result).toBe('InsufficientData');
    expect(judgement.evidence?.shortMetrics).toEqual([{ name: 'cpu', canary: 2, baseline: 2 }]);
  });

  it("fails the talk's incident (CPU +190%, memory +35%, Istio normal): CPU and memory are critical in the preset", () => {
    const samples = healthy();
    samples.cpu = { canary: series(13, 20, 0.435, 0.03), baseline: series(14, 20, 0.15, 0.02) };
    samples.memory = { canary: series(15, 20, 337e6, 5e6), baseline: series(16, 20, 250e6, 5e6) };
    const judgement = judgeStep(analysis(), samples, { step: 0, evidence: traffic() });
    expect(judgement).toMatchObject({ score: 0, result: 'Fail', passed: false, forcedZero: 'critical' });
    expect(judgement.metrics.filter((m) => m.failed).map((m) => [m.name, m.classification, m.sequential?.crossed])).toEqual([
      ['cpu', 'High', true],
      ['memory', 'High', false], // +35% is judged High by the window's rank-sum test, too small to stop early
    ]);
  });

  it('stops a step mid-window only on a crossed sequential test or failing pod health, with only those metrics', () => {
    const samples = healthy();
    samples.cpu = { canary: series(13, 20, 0.435, 0.03), baseline: series(14, 20, 0.15, 0.02) };
    const mid = judgeStep(analysis(), samples, { step: 0, evidence: traffic(), midWindow: true });
    expect(mid).toMatchObject({ result: 'Fail', passed: false, stoppedEarly: true });
    expect(mid.metrics.map((m) => m.name)).toEqual(['cpu']);
    expect(describeJudgement(mid, 1)).toMatch(/^step 1 failed analysis before its window ended: canary CPU .* \(e-value \S+ >= 900 after \d+ intervals\) \(critical\); score 0\/75$/);
    const quiet = judgeStep(analysis(), healthy(), { step: 0, evidence: traffic(), midWindow: true });
    expect(quiet).toMatchObject({ passed: true, metrics: [] });
  });

  it('fails restarts beyond the baseline at once and names pod, container, reason and count', () => {
    const samples = healthy();
    samples.restarts = { canary: [3], baseline: [0] };
    const evidence = { ...traffic(), podEvents: { canary: [{ pod: 'checkout-canary-6f7d9-x2x', container: 'app', kind: 'restart' as const, reason: 'CrashLoopBackOff', count: 3 }], baseline: [] } };
    const mid = judgeStep(analysis(), samples, { step: 0, evidence, midWindow: true });
    expect(mid).toMatchObject({ passed: false, stoppedEarly: true });
    expect(describeJudgement(mid, 1)).toBe('step 1 failed analysis before its window ended: canary pod checkout-canary-6f7d9-x2x container app restarted 3 times (CrashLoopBackOff) (critical); score 0/75');
    samples.restarts = { canary: [1], baseline: [1] };
    expect(judgeStep(analysis(), samples, { step: 0, evidence: traffic() }).passed).toBe(true);
  });

  it("in fixed mode (Kayenta's), judges the window once: the statistical metrics by the rank-sum test, errors by the exact count test", () => {
    const fixed = analysis((a) => { a.mode = 'fixed'; });
    const samples = healthy();
    samples.cpu = { canary: series(13, 20, 0.435, 0.03), baseline: series(14, 20, 0.15, 0.02) };
    expect(judgeStep(fixed, samples, { step: 0, evidence: traffic(), midWindow: true })).toMatchObject({ passed: true });
    const end = judgeStep(fixed, samples, { step: 0, evidence: traffic(54, 6) });
    expect(end.sequential).toBeUndefined();
    expect(end.metrics.filter((m) => m.failed).map((m) => [m.name, m.classification, m.test !== undefined])).toEqual([
      ['success-rate', 'Low', false],
      ['cpu', 'High', true],
    ]);
    expect(end.metrics[0].reason).toMatch(/^error rate significantly above the baseline's over the window \(p = \S+ < 0\.01; canary 54\/6000 5xx, baseline 6\/6000\)$/);
  });

  it("scores Descartes' own metrics (none critical) as Kayenta does: CPU and memory High, Istio passing: 60 Marginal", () => {
    const descartes = (a: Record<string, any>) => {
      a.mode = 'fixed';
      a.metrics = [
        { name: 'latency-p95', metric: 'latency-p95', group: 'istio', judge: { type: 'statistical' } },
        { name: 'cpu', metric: 'cpu', group: 'kubernetes', critical: false, judge: { type: 'statistical' } },
        { name: 'memory', metric: 'memory', group: 'kubernetes', critical: false, judge: { type: 'statistical' } },
      ];
    };
    const samples = healthy();
    samples.cpu = { canary: series(13, 7, 0.438, 0.03), baseline: series(14, 7, 0.15, 0.02) };
    samples.memory = { canary: series(15, 7, 335e6, 5e6), baseline: series(16, 7, 250e6, 5e6) };
    const last = judgeStep(analysis(descartes), samples, { step: 1, evidence: traffic() });
    expect(last).toMatchObject({ score: 60, result: 'Marginal', passed: false, final: true });
    expect(describeJudgement(last, 2)).toMatch(/; score 60\/75 \(the last analysed step must reach 75\)$/);
    const first = judgeStep(analysis(descartes), samples, { step: 0, evidence: traffic() });
    expect(first).toMatchObject({ result: 'Marginal', passed: true, final: false });
  });

  it('forces 0 when half the metrics have no data, and names the missing ones', () => {
    const samples = healthy();
    for (const name of ['latency-p99', 'cpu', 'memory', 'restarts']) samples[name] = { canary: [], baseline: [] };
    const judgement = judgeStep(analysis((a) => { for (const m of a.metrics) m.critical = false; }), samples, { step: 2, evidence: traffic() });
    expect(judgement).toMatchObject({ score: 0, result: 'Fail', forcedZero: 'nodata', final: true });
    expect(describeJudgement(judgement, 3)).toBe(
      'step 3 failed analysis: no data for canary latency-p99, no data for canary cpu, no data for canary memory, and 1 more, half or more of the metrics have no data; score 0/75',
    );
  });

  it('returns plain JSON: no NaN, no Infinity, nothing lost in a round trip', () => {
    const samples = healthy();
    samples.cpu = { canary: [], baseline: [0.1] };
    const judgement = judgeStep(analysis(), samples, { evidence: traffic() });
    expect(JSON.parse(JSON.stringify(judgement))).toEqual(judgement);
    expect(judgement.metrics[2]).toMatchObject({ classification: 'NodataFail', ratio: null, canary: { count: 0, mean: null } });
  });
});

describe('request counts by time', () => {
  it('counts every interval either scope has: an idle canary still shows the baseline its traffic went to', () => {
    const judgement = judgeStep(analysis(), healthy(), {
      step: 0,
      evidence: {
        requests: { canary: { requests: [2], errors: [0], times: [90] }, baseline: { requests: [300, 300, 300], errors: [0, 1, 0], times: [30, 60, 90] } },
        weights: { canary: 10, baseline: 10 },
      },
    });
    expect(judgement.evidence).toMatchObject({ requests: { canary: 2, baseline: 900 }, errors: { canary: 0, baseline: 1 } });
    expect(judgement.result).toBe('InsufficientData');
  });
});
