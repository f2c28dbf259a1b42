import { Classification } from './classify';
import { classifyScore, scoreMetrics } from './score';

const m = (group: string, classification: Classification, critical = false) => ({ group, classification, critical });
const thresholds = { pass: 75, marginal: 50 };

describe('scoreMetrics', () => {
  it("scores Descartes' failed canary 60 (Marginal): CPU and memory High, Istio passing", () => {
    const outcome = scoreMetrics([m('istio', 'Pass', true), m('istio', 'Pass'), m('kubernetes', 'High'), m('kubernetes', 'High')], { istio: 60, kubernetes: 40 }, thresholds);
    expect(outcome).toEqual({
      score: 60,
      result: 'Marginal',
      groups: [
        { name: 'istio', weight: 60, score: 100, counted: 2, passed: 2 },
        { name: 'kubernetes', weight: 40, score: 0, counted: 2, passed: 0 },
      ],
    });
  });

  it('gives groups without a weight equal shares of the rest', () => {
    const outcome = scoreMetrics([m('istio', 'Pass'), m('kubernetes', 'High'), m('custom', 'Pass')], { istio: 60 }, thresholds);
    expect(outcome.groups.map((g) => g.weight)).toEqual([60, 20, 20]);
    expect(outcome.score).toBe(80);
    expect(scoreMetrics([m('a', 'Pass'), m('b', 'Low'), m('b', 'Pass')], {}, thresholds).score).toBe(75);
  });

  it('forces 0 when a critical metric fails, whatever the rest', () => {
    const outcome = scoreMetrics([m('istio', 'Low', true), m('kubernetes', 'Pass'), m('kubernetes', 'Pass')], { istio: 60, kubernetes: 40 }, thresholds);
    expect(outcome).toMatchObject({ score: 0, result: 'Fail', forcedZero: 'critical' });
  });

  it('forces 0 when half or more of the metrics have no data', () => {
    const outcome = scoreMetrics([m('istio', 'Nodata'), m('istio', 'NodataFail'), m('kubernetes', 'Pass'), m('kubernetes', 'Pass')], { istio: 60, kubernetes: 40 }, thresholds);
    expect(outcome).toMatchObject({ score: 0, forcedZero: 'nodata' });
  });

  it('leaves Nodata under policy "pass" out of its group, and a group with nothing counted scores 100', () => {
    const outcome = scoreMetrics([m('istio', 'Nodata'), m('kubernetes', 'Pass'), m('kubernetes', 'High'), m('kubernetes', 'Pass')], { istio: 60, kubernetes: 40 }, thresholds);
    expect(outcome.groups[0]).toEqual({ name: 'istio', weight: 60, score: 100, counted: 0, passed: 0 });
    expect(outcome.score).toBeCloseTo(60 + 40 * (2 / 3), 10);
    expect(outcome.forcedZero).toBeUndefined();
  });

  it('counts NodataFail as a failure of its group', () => {
    expect(scoreMetrics([m('a', 'NodataFail'), m('a', 'Pass'), m('a', 'Pass')], {}, thresholds).groups[0].score).toBeCloseTo(200 / 3, 10);
  });

  it('classifies the score against pass and marginal (inclusive)', () => {
    expect([75, 74.9, 50, 49.9].map((s) => classifyScore(s, thresholds))).toEqual(['Pass', 'Marginal', 'Marginal', 'Fail']);
  });
});
