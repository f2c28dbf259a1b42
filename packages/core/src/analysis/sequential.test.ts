import { bettingPath, meanOfExp, pairedPath, pairOutcome, pairSamples } from './sequential';
import { seededNormal } from './test-data';

describe('sequential e-processes', () => {
  it('bets a unit on a canary at twice the allowed level and nothing on one exactly at it', () => {
    expect(pairOutcome({ canary: 2.4, baseline: 1 }, 'increase', 1.2)).toBeCloseTo(1, 12);
    expect(pairOutcome({ canary: 1.2, baseline: 1 }, 'increase', 1.2)).toBeCloseTo(0, 12);
    expect(pairOutcome({ canary: 10, baseline: 1 }, 'increase', 1)).toBe(1);
    expect(pairOutcome({ canary: 0.5, baseline: 1 }, 'decrease', 1)).toBeCloseTo(1, 12);
    expect(pairOutcome({ canary: 0, baseline: 1 }, 'increase', 1)).toBe(-1);
    expect(pairOutcome({ canary: 1, baseline: 0 }, 'increase', 1)).toBe(1);
  });

  it('is the average of the bets: prod(1 + lambda y) by hand for two looks', () => {
    const path = bettingPath([1, 0.5], 1e9);
    const byHand = [0.1, 0.25, 0.5, 0.75, 0.9].map((l) => (1 + l) * (1 + 0.5 * l)).reduce((a, b) => a + b) / 5;
    expect(path.value).toBeCloseTo(byHand, 12);
    expect(path).toMatchObject({ looks: 2, max: path.value });
    expect(meanOfExp([-Infinity, -Infinity])).toBe(0);
  });

  it('crosses 1/alpha on the talk\'s CPU +190% within thirteen 30s intervals (6.5 minutes) at the preset\'s CPU share of alpha (0.01 / 9)', () => {
    const normal = seededNormal(3);
    const pairs = Array.from({ length: 20 }, () => ({ canary: normal(0.435, 0.03), baseline: normal(0.15, 0.02) }));
    const path = pairedPath(pairs, 'increase', 1.2, 1, 900);
    expect(path.crossedAt).toBeLessThanOrEqual(13);
  });

  it('remembers a crossing even when the process falls back later (Ville bounds the maximum)', () => {
    const path = bettingPath([...Array(12).fill(1), ...Array(12).fill(-1)], 400);
    expect(path.crossedAt).toBe(12);
    expect(path.value).toBeLessThan(400);
    expect(path.max).toBeGreaterThanOrEqual(400);
  });

  it.each(['increase', 'decrease', 'either'] as const)(
    'direction %s: for a canary exactly like its baseline (lognormal noise, 60 looks) it crosses in at most alpha of runs',
    (direction) => {
      const normal = seededNormal(11);
      const alpha = 0.05;
      const runs = 2000;
      let crossed = 0;
      for (let run = 0; run < runs; run++) {
        const pairs = Array.from({ length: 60 }, () => ({ canary: Math.exp(normal(0, 0.3)), baseline: Math.exp(normal(0, 0.3)) }));
        if (pairedPath(pairs, direction, 1, 1, 1 / alpha).crossedAt !== undefined) crossed++;
      }
      expect(crossed / runs).toBeLessThanOrEqual(alpha + 0.015);
    },
  );

  it('pairs by time when both scopes carry times, leaving out points only one scope has', () => {
    expect(pairSamples([1, 2, 3], [10, 30], { canary: [30, 60, 90], baseline: [30, 90] })).toEqual([
      { canary: 1, baseline: 10 },
      { canary: 3, baseline: 30 },
    ]);
    expect(pairSamples([1, Number.NaN, 3], [4, 5])).toEqual([{ canary: 1, baseline: 4 }]);
  });
});
