import { classifyMetric } from './classify';
import { NormalizedMetric } from './normalized';
import { series } from './test-data';

const metric = (change: Partial<NormalizedMetric> = {}): NormalizedMetric => ({
  name: 'latency-p99', metric: 'latency-p99', group: 'istio', direction: 'increase', critical: false, nodata: 'fail', judge: { type: 'statistical' }, failAfterSamples: 0, ...change,
});

describe('classifyMetric (statistical, Kayenta-like)', () => {
  it('passes identical samples without running the test', () => {
    const r = classifyMetric(metric(), [3, 1, 2], [1, 2, 3]);
    expect(r).toMatchObject({ classification: 'Pass', reason: 'canary and baseline samples are identical', ratio: 1 });
    expect(r.test).toBeUndefined();
  });

  it('classifies a canary 20% slower as High, with the interval and ratio', () => {
    const r = classifyMetric(metric(), series(1, 60, 240, 20), series(2, 60, 200, 20));
    expect(r.classification).toBe('High');
    expect(r.test!.confInt[0]).toBeGreaterThan(0.25 * Math.abs(r.test!.estimate));
    expect(r.ratio).toBeCloseTo(1.2, 1);
    expect(r.reason).toMatch(/^canary is higher than baseline \(mean \+\d+\.\d%\): 98% interval of the shift \[/);
  });

  it('passes samples from the same distribution', () => {
    expect(classifyMetric(metric(), series(3, 60, 200, 20), series(4, 60, 200, 20)).classification).toBe('Pass');
  });

  it('passes an increase within allowedIncrease (the effect-size gate)', () => {
    const r = classifyMetric(metric({ judge: { type: 'statistical', allowedIncrease: 1.5 } }), series(1, 60, 240, 20), series(2, 60, 200, 20));
    expect(r).toMatchObject({ classification: 'Pass', reason: expect.stringMatching(/within allowedIncrease 1.5/) });
  });

  it('passes a change in the direction that does not fail', () => {
    const r = classifyMetric(metric({ direction: 'increase' }), series(1, 60, 160, 20), series(2, 60, 200, 20));
    expect(r).toMatchObject({ classification: 'Pass', reason: expect.stringMatching(/lower .* which direction increase allows/) });
    expect(classifyMetric(metric({ direction: 'either' }), series(1, 60, 160, 20), series(2, 60, 200, 20)).classification).toBe('Low');
  });

  it('classifies a success-rate drop as Low', () => {
    const canary = series(5, 40, 92, 1.5).map((v) => Math.min(100, v));
    const baseline = series(6, 40, 99.8, 0.1).map((v) => Math.min(100, v));
    expect(classifyMetric(metric({ metric: 'success-rate', direction: 'decrease' }), canary, baseline).classification).toBe('Low');
  });

  it('compares two constant series by value, deterministically (Kayenta adds noise instead)', () => {
    expect(classifyMetric(metric(), [5, 5, 5], [3, 3, 3])).toMatchObject({ classification: 'High', reason: expect.stringMatching(/both constant \(5 vs 3\)/) });
    expect(classifyMetric(metric({ direction: 'decrease' }), [5, 5, 5], [3, 3, 3]).classification).toBe('Pass');
    expect(classifyMetric(metric({ direction: 'either' }), [2, 2], [3, 3, 3]).classification).toBe('Low');
    expect(classifyMetric(metric(), [4, 4], [4, 4, 4]).classification).toBe('Pass');
    expect(classifyMetric(metric(), [5], [3]).classification).toBe('High'); // n = 1 each: R cannot compute an interval
  });

  it('judges metrics in small units as well as large ones (scaled before the test)', () => {
    const scale = 1e-6;
    const r = classifyMetric(metric(), series(7, 30, 2, 0.3).map((v) => v * scale), series(8, 30, 1, 0.3).map((v) => v * scale));
    expect(r.classification).toBe('High');
    expect(r.test!.confInt[1] - r.test!.confInt[0]).toBeLessThan(1e-6);
  });

  it('removes NaN and infinities before judging', () => {
    const r = classifyMetric(metric(), [NaN, 1, 2, Infinity], [1, 2, NaN]);
    expect(r).toMatchObject({ classification: 'Pass', canary: { count: 2 }, baseline: { count: 2 } });
  });

  it('reports missing data by the nodata policy', () => {
    expect(classifyMetric(metric(), [], [1, 2])).toMatchObject({ classification: 'NodataFail', reason: 'no data for the canary (nodata: fail)', ratio: null });
    expect(classifyMetric(metric({ nodata: 'pass' }), [1], [NaN])).toMatchObject({ classification: 'Nodata', reason: 'no data for the baseline (nodata: pass)' });
    expect(classifyMetric(metric({ nodata: 'wait' }), [NaN], [1]).classification).toBe('NodataFail');
  });
});

describe('classifyMetric (threshold)', () => {
  const restarts = metric({ name: 'restarts', metric: 'restarts', judge: { type: 'threshold', max: 0 } });
  it('checks absolute bounds on the canary mean without needing a baseline', () => {
    expect(classifyMetric(restarts, [0, 0, 1], [])).toMatchObject({ classification: 'High', reason: 'canary mean 0.3333 is above max 0' });
    expect(classifyMetric(restarts, [0, 0, 0], []).classification).toBe('Pass');
    const readiness = metric({ metric: 'readiness', direction: 'decrease', judge: { type: 'threshold', min: 100 } });
    expect(classifyMetric(readiness, [100, 50], [100]).classification).toBe('Low');
  });

  it('checks ratios to the baseline mean, and needs the baseline for them', () => {
    const ratio = metric({ judge: { type: 'threshold', maxRatio: 1.2, minRatio: 0.5 } });
    expect(classifyMetric(ratio, [130, 130], [100, 100])).toMatchObject({ classification: 'High', reason: 'canary/baseline 1.30 is above maxRatio 1.2' });
    expect(classifyMetric(ratio, [40], [100])).toMatchObject({ classification: 'Low' });
    expect(classifyMetric(ratio, [110], [100]).classification).toBe('Pass');
    expect(classifyMetric(ratio, [110], []).classification).toBe('NodataFail');
  });
});
