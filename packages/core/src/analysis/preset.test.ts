/**
 * The reference preset, as validated, judged on simulated canaries (bench/canary-sim.js: Poisson
 * requests, binomial 5xx, p99 read from Istio's latency buckets, CPU and memory per pod with noise,
 * pod events) through the service's look schedule: a look every interval with `midWindow`, the
 * window's end, then the evidence extension. Both modes, the same table.
 * Rows marked `it.failing` are known limits of the preset (see their comments): they state the
 * expected behaviour, which the preset does not meet; remove `.failing` once it does.
 */
import * as core from '../index';

const { createSim, SCENARIOS } = require('../../../../bench/canary-sim');

interface SimResult {
  verdict: 'promote' | 'rollback' | 'insufficient';
  atSeconds: number;
  phase: 'mid-window' | 'window-end' | 'extension';
  judgement: core.StepJudgement;
  enoughEvidence: boolean;
}

interface Sim {
  referenceStepAnalysis(options?: { mode?: 'fixed' | 'sequential'; windowMinutes?: number }): core.NormalizedAnalysis;
  simulateStep(analysis: core.NormalizedAnalysis, scenario: Record<string, unknown>, options?: { extend?: boolean }): SimResult;
  message(result: SimResult): string;
}

const sim: Sim = createSim(core);
const SEEDS = [1, 2, 3, 4, 5];

interface Row {
  name: string;
  scenario: Record<string, unknown>;
  verdict: SimResult['verdict'];
  /** What the message must say (the cause). */
  cause: RegExp[];
  windowMinutes?: number;
  /** Rolled back no later than this (seconds from the window's start), per mode. */
  by?: { fixed: number; sequential: number };
  /** Rolled back no earlier than this (a late regression cannot be seen before it starts). */
  notBefore?: number;
}

const ROWS: Row[] = [
  {
    name: "the talk's incident (CPU +190%, memory +35%, Istio normal)",
    scenario: SCENARIOS.incident(),
    verdict: 'rollback',
    cause: [/canary CPU [\d.]+ cores vs baseline [\d.]+ cores \(\+\d+%\)/, /\(critical\)/],
    // Within one window; the sequential test stops it before the window's end.
    by: { fixed: 600, sequential: 570 },
  },
  {
    name: '3 restarts of one canary container',
    scenario: SCENARIOS.restarts(61),
    verdict: 'rollback',
    cause: [/canary pod checkout-canary-[a-z0-9]+-[a-z0-9]+ container app restarted 3 times \(Error\) \(critical\)/],
    by: { fixed: 90, sequential: 90 },
  },
  {
    name: '3 restarts + 1 OOM kill + one pod not ready',
    scenario: SCENARIOS.crashLoop(61),
    verdict: 'rollback',
    cause: [/container app restarted 3 times \(OOMKilled\)/, /container app OOM-killed once \(OOMKilled\)/, /container app not ready \(CrashLoopBackOff\)/],
    by: { fixed: 90, sequential: 90 },
  },
  {
    name: '5xx 0.1% -> 0.9% over the whole window at 10 req/s',
    scenario: { ...SCENARIOS.errorRate(0.009), canaryRate: 10 },
    verdict: 'rollback',
    cause: [/canary 5xx \d+ of [\d,]+ requests \([\d.]+%\) vs baseline \d+ of [\d,]+ \([\d.]+%\)/, /\(critical\)/],
    by: { fixed: 600, sequential: 600 },
  },
  {
    name: '5% extra 5xx in the last 4 of 21 minutes',
    scenario: SCENARIOS.lateErrors(0.05, 240),
    windowMinutes: 21,
    verdict: 'rollback',
    cause: [/canary 5xx \d+ of [\d,]+ requests/, /\(critical\)/],
    notBefore: 21 * 60 - 240,
    by: { fixed: 21 * 60, sequential: 21 * 60 },
  },
  {
    // The judge on the p99 itself (exact quantiles, e.g. finer buckets); Istio's default buckets: below.
    name: 'p99 +40% (exact p99)',
    scenario: { ...SCENARIOS.latency(0.4), latency: { model: 'exact' } },
    verdict: 'rollback',
    cause: [/canary p99 latency \d+ ms vs baseline \d+ ms \(\+\d+%\)/],
    by: { fixed: 600, sequential: 600 },
  },
  {
    name: '59 canary requests vs 12,001 baseline (a broken route)',
    scenario: SCENARIOS.starved(59, 12001),
    verdict: 'insufficient',
    cause: [/too little evidence/, /the canary received [\d,]+ requests while the baseline received [\d,]+ at weights 10\/10/, /broken route or selector/],
  },
  {
    name: 'no canary series at all (Prometheus)',
    scenario: SCENARIOS.noCanarySeries(),
    verdict: 'insufficient',
    cause: [/too little evidence/, /the canary received 0 requests/],
  },
  {
    name: 'no canary series and no canary pods',
    scenario: SCENARIOS.noCanary(),
    verdict: 'insufficient',
    cause: [/too little evidence/, /the canary received 0 requests/],
  },
];

describe.each(['sequential', 'fixed'] as const)('the reference preset on simulated canaries, mode %s', (mode) => {
  const analysis = sim.referenceStepAnalysis({ mode });

  it('is the validated reference preset in this mode, on one final analysed step of 10 min', () => {
    expect(analysis.mode).toBe(mode);
    expect(analysis.metrics.map((m) => m.name)).toEqual(['success-rate', 'latency-p99', 'cpu', 'memory', 'restarts', 'readiness', 'oom-killed']);
    expect(analysis.steps[0]).toEqual({ analysed: true, warmupSeconds: 60, intervalSeconds: 30, windowSeconds: 600 });
    expect(analysis.steps[1].analysed).toBe(false);
  });

  it('promotes 50 healthy canaries with realistic noise (10 req/s), each with the evidence it needs', () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 50; seed++) {
      const result = sim.simulateStep(analysis, { seed });
      if (result.verdict !== 'promote') failures.push(`seed ${seed}: ${result.verdict} at ${result.atSeconds}s: ${sim.message(result)}`);
      else {
        expect(result).toMatchObject({ atSeconds: 600, phase: 'window-end', enoughEvidence: true });
        expect(sim.message(result)).toBe('step 1 passed analysis: score 100/75');
      }
    }
    expect(failures).toEqual([]);
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    const step = row.windowMinutes ? sim.referenceStepAnalysis({ mode, windowMinutes: row.windowMinutes }) : analysis;
    for (const seed of SEEDS) {
      const result = sim.simulateStep(step, { ...row.scenario, seed });
      const message = sim.message(result);
      expect({ seed, verdict: result.verdict, message }).toEqual({ seed, verdict: row.verdict, message: expect.any(String) });
      for (const cause of row.cause) expect(message).toMatch(cause);
      if (row.by) expect(result.atSeconds).toBeLessThanOrEqual(row.by[mode]);
      if (row.notBefore !== undefined) expect(result.atSeconds).toBeGreaterThan(row.notBefore);
      if (row.verdict === 'insufficient') {
        // Waited one more window for evidence, then failed: never promoted.
        expect(result).toMatchObject({ atSeconds: 1200, phase: 'extension' });
        expect(result.judgement).toMatchObject({ result: 'InsufficientData', passed: false });
      }
    }
  });

  it('says how much traffic the starved canary got at the window end: 59 vs 12,001', () => {
    const result = sim.simulateStep(analysis, { ...SCENARIOS.starved(59, 12001), seed: 1 }, { extend: false });
    expect(result.verdict).toBe('insufficient');
    expect(sim.message(result)).toBe(
      'step 1 has too little evidence to judge: the canary received 59 requests while the baseline received 12,001 at weights 10/10: 0.49% of its expected share, at least 50% is needed (a broken route or selector?)',
    );
  });

  if (mode === 'sequential') {
    it("stops the talk's incident and a 5xx rise before the window's end", () => {
      const incident = sim.simulateStep(analysis, { ...SCENARIOS.incident(), seed: 1 });
      expect(incident).toMatchObject({ verdict: 'rollback', phase: 'mid-window' });
      expect(sim.message(incident)).toMatch(/^step 1 failed analysis before its window ended: canary CPU .* \(e-value [\d.e+]+ >= 900 after \d+ intervals\) \(critical\); score 0\/75$/);
      const errors = sim.simulateStep(analysis, { ...SCENARIOS.errorRate(0.01), seed: 1 });
      expect(errors).toMatchObject({ verdict: 'rollback', phase: 'mid-window' });
      expect(errors.atSeconds).toBeLessThanOrEqual(300);
    });
  }

  // KNOWN PROBLEM (preset, not arithmetic): the service reads p99 through Istio's default buckets
  // (..., 100, 250, 500 ms) with histogram_quantile's linear interpolation. A p99 of 180 ms reads as
  // ~235 ms; +40% (252 ms) reads as ~255-290 ms, i.e. +10..25%, around the preset's allowedIncrease 1.2,
  // so about half of these canaries are promoted (bench/power.js: 50% at 10 req/s, 38% at 100 req/s).
  it.failing("rolls back p99 +40% read through Istio's default latency buckets (10 req/s)", () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const result = sim.simulateStep(analysis, { ...SCENARIOS.latency(0.4), seed });
      expect({ seed, verdict: result.verdict }).toEqual({ seed, verdict: 'rollback' });
    }
  });

  // Found by bench/power.js: the rank-sum port reproduces R's uniroot error for some tiny tied samples
  // (RankSumError 'f() values at end points not of opposite sign'), which judgeStep used to throw. Here a
  // canary at 0.03 req/s (about 1 request a minute): at look 3 its p99 has one point (two intervals
  // without requests are NaN) against the baseline's [24.85, 24.85, 49.75]. Now: too few points.
  it('answers every look of a canary with almost no traffic (judgeStep must not throw)', () => {
    const samples = { 'latency-p99': { canary: [Number.NaN, Number.NaN, 49.75], baseline: [24.85, 24.85, 49.75] } };
    const evidence = { requests: { canary: { requests: [0, 0, 1], errors: [0, 0, 0] }, baseline: { requests: [1, 2, 1], errors: [0, 0, 0] } }, weights: { canary: 10, baseline: 10 } };
    expect(() => core.judgeStep(analysis, samples, { step: 0, evidence, midWindow: true })).not.toThrow();
    expect(sim.simulateStep(analysis, { canaryRate: 0.03, seed: 197976 }).verdict).toBe('insufficient');
  });

  // Found by bench/power.js: readiness was an absolute `min 100` on the canary alone, so a node drain
  // (one canary and one baseline pod restarted and unready for a minute) rolled every canary back.
  // Readiness is compared with the baseline's looks now (maxDecrease 0), like restarts.
  it('promotes a healthy canary through a node drain that restarts a canary and a baseline pod alike', () => {
    const drain = {
      podTrouble: { restarts: [200], restartReason: 'Error', notReady: [{ from: 200, to: 260 }], notReadyReason: 'ContainersNotReady' },
      baselinePodTrouble: { restarts: [200], notReady: [{ from: 200, to: 260 }] },
    };
    const result = sim.simulateStep(analysis, { ...drain, seed: 1 });
    expect({ verdict: result.verdict, message: sim.message(result) }).toEqual({ verdict: 'promote', message: 'step 1 passed analysis: score 100/75' });
  });
});
