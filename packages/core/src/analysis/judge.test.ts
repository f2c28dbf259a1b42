import { validateShiftSpec } from '../validate';
import { describeJudgement } from './describe';
import { judgeStep, MetricSamples } from './judge';
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

describe('judgeStep and describeJudgement', () => {
  it('passes a healthy canary with 100', () => {
    const judgement = judgeStep(analysis(), healthy(), { step: 0 });
    expect(judgement).toMatchObject({ score: 100, result: 'Pass', passed: true, final: false });
    expect(judgement.metrics.map((m) => m.classification)).toEqual(Array(7).fill('Pass'));
    expect(describeJudgement(judgement, 1)).toBe('step 1 passed analysis: score 100/75');
  });

  it('fails at once on a critical 5xx rise and says so in one line', () => {
    const samples = healthy();
    samples['success-rate'] = { canary: Array.from({ length: 20 }, (_, i) => (i % 2 ? 92.2 : 92.0)), baseline: Array.from({ length: 20 }, (_, i) => (i % 2 ? 99.9 : 99.7)) };
    const judgement = judgeStep(analysis(), samples, { step: 0 });
    expect(judgement).toMatchObject({ score: 0, result: 'Fail', passed: false, forcedZero: 'critical' });
    expect(judgement.metrics[0]).toMatchObject({ name: 'success-rate', group: 'istio', classification: 'Low', critical: true, failed: true });
    expect(describeJudgement(judgement, 1)).toBe('step 1 failed analysis: canary 5xx rate 7.9% vs baseline 0.2% (critical); score 0/75');
  });

  it('tells a mid-window streak longer than one check beside the metric, and not a single check', () => {
    const samples = healthy();
    samples['success-rate'] = { canary: Array.from({ length: 20 }, (_, i) => (i % 2 ? 92.2 : 92.0)), baseline: Array.from({ length: 20 }, (_, i) => (i % 2 ? 99.9 : 99.7)) };
    const judgement = judgeStep(analysis(), samples, { step: 0 });
    expect(describeJudgement({ ...judgement, failedChecks: { 'success-rate': 3 } }, 1)).toBe('step 1 failed analysis: canary 5xx rate 7.9% vs baseline 0.2% (critical) (failed 3 checks in a row); score 0/75');
    expect(describeJudgement({ ...judgement, failedChecks: { 'success-rate': 1 } }, 1)).toBe('step 1 failed analysis: canary 5xx rate 7.9% vs baseline 0.2% (critical); score 0/75');
  });

  it("fails Descartes' canary on the last analysed step: CPU +192% and memory +34% High, Istio passing: 60 Marginal", () => {
    const descartes = (a: Record<string, any>) => {
      a.metrics = [
        { name: 'healthy-responses', metric: 'success-rate', group: 'istio', judge: { type: 'statistical' } },
        { name: 'latency-p95', metric: 'latency-p95', group: 'istio', judge: { type: 'statistical' } },
        { name: 'cpu', metric: 'cpu', group: 'kubernetes', judge: { type: 'statistical' } },
        { name: 'memory', metric: 'memory', group: 'kubernetes', judge: { type: 'statistical' } },
      ];
    };
    const samples = healthy();
    samples['healthy-responses'] = samples['success-rate'];
    samples.cpu = { canary: series(13, 7, 0.438, 0.03), baseline: series(14, 7, 0.15, 0.02) };
    samples.memory = { canary: series(15, 7, 335e6, 5e6), baseline: series(16, 7, 250e6, 5e6) };
    const last = judgeStep(analysis(descartes), samples, { step: 1 });
    expect(last).toMatchObject({ score: 60, result: 'Marginal', passed: false, final: true });
    expect(last.metrics.map((m) => m.classification)).toEqual(['Pass', 'Pass', 'High', 'High']);
    expect(describeJudgement(last, 2)).toMatch(
      /^step 2 failed analysis: canary CPU 0\.4\d+ cores vs baseline 0\.1\d* cores \(\+\d+%\), canary memory 3\d\d MiB vs baseline 2\d\d MiB \(\+3\d%\); score 60\/75 \(the last analysed step must reach 75\)$/,
    );
    const first = judgeStep(analysis(descartes), samples, { step: 0 });
    expect(first).toMatchObject({ result: 'Marginal', passed: true, final: false });
    expect(describeJudgement(first, 1)).toMatch(/^step 1 analysis marginal: .*; score 60\/75 \(at least 50 continues; the last analysed step must reach 75\)$/);
  });

  it('fails a canary that loses 10% of requests in half its intervals (the rank test alone would pass it)', () => {
    const samples = healthy();
    samples['success-rate'] = { canary: Array.from({ length: 20 }, (_, i) => (i % 2 ? 90 : 100)), baseline: Array(20).fill(100) };
    const judgement = judgeStep(analysis(), samples);
    expect(judgement.metrics[0]).toMatchObject({ classification: 'Low', reason: 'canary/baseline 0.950 is below minRatio 0.99' });
    expect(describeJudgement(judgement, 1)).toBe('step 1 failed analysis: canary 5xx rate 5% vs baseline 0% (critical); score 0/75');
    const statistical = analysis((a) => { a.metrics[0].judge = { type: 'statistical' }; });
    expect(judgeStep(statistical, samples).metrics[0].classification).toBe('Pass');
  });

  it('forces 0 when half the metrics have no data, and names the missing ones', () => {
    const samples = healthy();
    for (const name of ['success-rate', 'latency-p99', 'cpu', 'memory']) samples[name] = { canary: [], baseline: [] };
    const judgement = judgeStep(analysis((a) => { for (const m of a.metrics) m.critical = false; }), samples);
    expect(judgement).toMatchObject({ score: 0, result: 'Fail', forcedZero: 'nodata', final: true });
    expect(describeJudgement(judgement, 3)).toBe(
      'step 3 failed analysis: no data for canary success-rate, no data for canary latency-p99, no data for canary cpu, and 1 more, half or more of the metrics have no data; score 0/75',
    );
  });

  it('returns plain JSON: no NaN, no Infinity, nothing lost in a round trip', () => {
    const samples = healthy();
    samples.cpu = { canary: [], baseline: [0.1] };
    const judgement = judgeStep(analysis(), samples);
    expect(JSON.parse(JSON.stringify(judgement))).toEqual(judgement);
    expect(judgement.metrics[2]).toMatchObject({ classification: 'NodataFail', ratio: null, canary: { count: 0, mean: null } });
  });
});
