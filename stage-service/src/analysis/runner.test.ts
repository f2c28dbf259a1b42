/**
 * The analysis runner on the embedded store with a fake clock, a fake Prometheus (answers computed
 * from per-scope traffic profiles, named and shaped as Istio's and cAdvisor's series) and a fake pod
 * reader: the looks every interval, a sequential stop mid-window, pod health stopping a step with the
 * pod, container and reason, and the wait for evidence that ends TERMINAL (or holds) when the canary
 * never gets enough traffic; the live progress of the looks in the status body this replica serves.
 */
import { NormalizedAnalysis, NormalizedShiftSpec, StepJudgement } from '@istio-shift/core';
import { ShiftEngine, ShiftRef } from '../engine/engine';
import { ShiftRecord } from '../engine/record';
import { statusJson, toStatus } from '../engine/view';
import { EmbeddedVirtualServiceApi } from '../kube/embedded-api';
import { checkoutVirtualService } from '../kube/seed';
import { ContainerState, MetricsProvider, PodReader, PodState, QueryWindow, RangeResult, Sample } from './provider';
import { AnalysisRunner } from './runner';
import { MetricsSources } from './sources';
import { checkoutSpec } from '../engine/test-spec';

const NS = 'shop';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const INTERVAL = 2;

/** What one scope serves from a moment on: requests and 5xx per interval, p99, CPU and memory. */
interface Profile {
  requests: number;
  errors?: number;
  /** null: no latency series at all (a workload Prometheus does not see). */
  latencyMs?: number | null;
}
type Scope = 'canary' | 'baseline';
/** A scope's profile at unix second `t` (seconds since T0 as `at`). */
type Traffic = (scope: Scope, at: number) => Profile;

const HEALTHY: Profile = { requests: 100, errors: 0, latencyMs: 20 };
const steady = (canary: Profile, baseline: Profile = HEALTHY): Traffic => (scope) => (scope === 'canary' ? canary : baseline);

/** Prometheus as the runner queries it: each point of a range query from the scope's profile at that time. */
class FakeMesh implements MetricsProvider {
  readonly source = 'mesh';
  readonly windows: QueryWindow[] = [];
  readonly queries: string[] = [];

  constructor(public traffic: Traffic) {}

  async rangeQuery(promql: string, window: QueryWindow): Promise<RangeResult> {
    this.windows.push(window);
    this.queries.push(promql);
    const scope: Scope = promql.includes('"checkout-canary"') ? 'canary' : 'baseline';
    const samples: Sample[] = [];
    for (let t = window.start.getTime() / 1000; t <= window.end.getTime() / 1000; t += window.stepSeconds) {
      const value = this.value(promql, this.traffic(scope, t - T0 / 1000));
      if (value !== undefined) samples.push({ time: t, value });
    }
    return samples.length > 0 ? { kind: 'series', labels: {}, samples } : { kind: 'nodata' };
  }

  private value(promql: string, p: Profile): number | undefined {
    // Istio creates a response code's series with its first such response: no 5xx, no error series.
    if (promql.startsWith('sum(increase(istio_requests_total')) return promql.includes('response_code=~"5.."') ? p.errors || undefined : p.requests || undefined;
    if (promql.startsWith('histogram_quantile')) return p.latencyMs === null ? undefined : p.requests > 0 ? (p.latencyMs ?? 20) : Number.NaN;
    if (promql.includes('container_cpu_usage_seconds_total')) return 0.25;
    if (promql.includes('container_memory_working_set_bytes')) return 200e6;
    throw new Error(`the fake mesh does not know ${promql}`);
  }
}

const container = (overrides: Partial<ContainerState> = {}): ContainerState => ({ name: 'checkout', restartCount: 0, ready: true, terminations: 0, ...overrides });
const pod = (name: string, overrides: Partial<PodState> = {}): PodState => ({ uid: name, name, ready: true, containers: [container()], terminating: false, ...overrides });

/** The scopes' pods, found by their podSelector's track label. */
class FakePods implements PodReader {
  pods: Record<Scope, PodState[]> = { canary: [pod('checkout-canary-7c9-a')], baseline: [pod('checkout-baseline-5d8-a')] };
  reads = 0;

  async listPods(_namespace: string, selector: Record<string, string>): Promise<PodState[]> {
    this.reads++;
    return structuredClone(this.pods[selector.track as Scope]);
  }

  async workloadSelector(): Promise<Record<string, string>> {
    throw new Error('the scopes have podSelectors');
  }
}

function shiftSpec(analysis: Record<string, unknown> = {}, pause = '10s'): NormalizedShiftSpec {
  return checkoutSpec({
    steps: [{ weights: [80, 10, 10], pause }, { weights: [100, 0, 0] }],
    analysis: {
      source: 'mesh',
      scopes: { canary: { workload: 'checkout-canary', podSelector: { app: 'checkout', track: 'canary' } }, baseline: { workload: 'checkout-baseline', podSelector: { app: 'checkout', track: 'baseline' } } },
      warmup: '2s',
      interval: `${INTERVAL}s`,
      ...analysis,
    },
  });
}

/** A shift on the embedded store, its runner, and a clock the test moves (seconds since T0). */
async function harness(spec: NormalizedShiftSpec, traffic: Traffic) {
  let now = T0;
  const store = new EmbeddedVirtualServiceApi([checkoutVirtualService(NS)]);
  const engine = new ShiftEngine({ apiFor: () => store, now: () => new Date(now) });
  const mesh = new FakeMesh(traffic);
  const pods = new FakePods();
  const runner = new AnalysisRunner({
    engine,
    sources: new MetricsSources([{ name: 'mesh', type: 'prometheus', url: 'http://unused', timeoutMs: 1000, accounts: ['*'] }], () => mesh),
    podReaderFor: () => pods,
    log: { warn: () => undefined },
    now: () => now,
  });
  const { record } = await engine.create(spec);
  const ref: ShiftRef = { account: 'prod', namespace: NS, virtualService: 'checkout', id: record.id };
  const read = async () => (await engine.read(ref)) as ShiftRecord;
  return {
    mesh,
    pods,
    runner,
    read,
    /** Runs the runner whenever the scheduler would, from now up to `until` seconds, stopping once the step is judged. */
    async runUntil(until: number): Promise<ShiftRecord> {
      for (;;) {
        const current = await read();
        const due = runner.nextCheck(current, now);
        if (current.judgements?.[0] || current.phase !== 'RUNNING' || due === undefined || due > T0 + until * 1000) return current;
        now = due + 5; // the scheduler's timers fire a few ms late
        await runner.check(ref);
      }
    },
    at: () => (now - T0) / 1000,
    /** One look at `at` seconds, as a replica started then would take it. */
    async checkAt(at: number): Promise<ShiftRecord> {
      now = T0 + at * 1000;
      await runner.check(ref);
      return read();
    },
  };
}

const judgementOf = (record: ShiftRecord): StepJudgement => record.judgements?.[0]?.judgement as StepJudgement;

describe('analysis runner', () => {
  it('passes a healthy canary at the window end: error counts, readiness at every look, an OOM kill from before the window not counted', async () => {
    const h = await harness(shiftSpec(), steady(HEALTHY));
    // OOM-killed (and restarted) before the window opened: not this step's doing.
    h.pods.pods.canary = [pod('checkout-canary-7c9-a', { containers: [container({ restartCount: 2, terminations: 2, lastTermination: 'OOMKilled' })] })];
    const record = await h.runUntil(60);
    const judgement = judgementOf(record);
    expect(h.at()).toBeCloseTo(10, 1);
    expect(judgement).toMatchObject({ result: 'Pass', passed: true, evidence: { passed: true, requests: { canary: 500, baseline: 500 }, trafficShare: 1 } });
    expect(judgement.stoppedEarly).toBeUndefined();
    const metric = (name: string) => judgement.metrics.find((m) => m.name === name);
    expect(metric('success-rate')).toMatchObject({ classification: 'Pass', counts: { canary: { requests: 500, errors: 0 }, baseline: { requests: 500, errors: 0 } } });
    expect(metric('oom-killed')).toMatchObject({ classification: 'Pass', canary: { mean: 0 } });
    // Looks at the window's start (2s), every interval (4, 6, 8s), and its end (10s): five readiness samples.
    expect(metric('readiness')?.canary.count).toBe(5);
    // One pod list read per scope and look.
    expect(h.pods.reads).toBe(10);
    // The end's queries cover exactly the window.
    expect(h.mesh.windows[h.mesh.windows.length - 1]).toEqual({ start: new Date(T0 + 2000), end: new Date(T0 + 10_000), stepSeconds: INTERVAL });
  });

  it('stops a regressed canary mid-window once its sequential test crosses, recording only the metric that stopped it', async () => {
    const h = await harness(shiftSpec({}, '62s'), steady({ ...HEALTHY, latencyMs: 100 }));
    const record = await h.runUntil(120);
    const judgement = judgementOf(record);
    expect(judgement).toMatchObject({ result: 'Fail', passed: false, stoppedEarly: true });
    expect(judgement.metrics.map((m) => [m.name, m.classification])).toEqual([['latency-p99', 'High']]);
    expect(judgement.metrics[0].sequential).toMatchObject({ crossed: true });
    expect(h.at()).toBeLessThan(62);
    expect(record).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' }, rollback: { result: 'restored' } });
    expect(record.failure?.message).toMatch(/^step 1 failed analysis[^:]*: canary p99 latency 100 ms vs baseline 20 ms \(\+400%\)/);
    // The stop takes the looks' progress away with the step.
    expect(h.runner.progressOf(record)).toBeUndefined();
  });

  it('in fixed mode judges the same regression only at the window end', async () => {
    const h = await harness(shiftSpec({ mode: 'fixed' }, '62s'), steady({ ...HEALTHY, latencyMs: 100 }));
    const record = await h.runUntil(120);
    expect(h.at()).toBeGreaterThanOrEqual(62);
    // Istio 50 (p99 High) x 0.6 + Kubernetes 100 x 0.4 = 70: Marginal, which fails the last analysed step.
    expect(judgementOf(record)).toMatchObject({ result: 'Marginal', score: 70, passed: false });
    expect(judgementOf(record).stoppedEarly).toBeUndefined();
    expect(record.failure?.reason).toBe('ANALYSIS_FAILED');
  });

  it('stops the step at the first look after a canary container restarts, naming the pod, container and reason', async () => {
    const h = await harness(shiftSpec({}, '30s'), steady(HEALTHY));
    await h.runUntil(6);
    h.pods.pods.canary = [pod('checkout-canary-7c9-a', { ready: false, containers: [container({ restartCount: 1, terminations: 1, ready: false, lastTermination: 'Error', waiting: 'CrashLoopBackOff' })] })];
    const record = await h.runUntil(60);
    expect(h.at()).toBeCloseTo(8, 1);
    const judgement = judgementOf(record);
    expect(judgement).toMatchObject({ result: 'Fail', stoppedEarly: true });
    const restarts = judgement.metrics.find((m) => m.name === 'restarts');
    expect(restarts?.events).toEqual([{ pod: 'checkout-canary-7c9-a', container: 'checkout', kind: 'restart', reason: 'Error', count: 1 }]);
    expect(judgement.metrics.find((m) => m.name === 'readiness')?.events).toEqual([{ pod: 'checkout-canary-7c9-a', container: 'checkout', kind: 'not-ready', reason: 'CrashLoopBackOff', count: 1 }]);
    expect(record.failure?.reason).toBe('ANALYSIS_FAILED');
  });

  it('waits for evidence past the window when the canary gets no traffic, then ends TERMINAL ANALYSIS_INSUFFICIENT_DATA and restores', async () => {
    const h = await harness(shiftSpec(), steady({ requests: 0 }));
    // The window (2..10s) and one more window of waiting: still running, looking every interval.
    const waiting = await h.runUntil(17);
    expect(waiting).toMatchObject({ phase: 'RUNNING', currentStep: 1 });
    expect(waiting.judgements).toBeUndefined();
    // While waiting, the window grows to now.
    expect(h.mesh.windows[h.mesh.windows.length - 1]).toMatchObject({ start: new Date(T0 + 2000), end: new Date(T0 + 16_000 + 5) });
    const record = await h.runUntil(60);
    expect(h.at()).toBeCloseTo(18, 1);
    expect(record).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ANALYSIS_INSUFFICIENT_DATA' }, rollback: { result: 'restored' } });
    expect(record.failure?.message).toMatch(/; weights restored to release 100, baseline 0, canary 0$/);
    const judgement = judgementOf(record);
    expect(judgement).toMatchObject({ result: 'InsufficientData', passed: false, evidence: { passed: false, requests: { canary: 0, baseline: 900 } } });
    expect(judgement.evidence?.problems[0]).toMatch(/the canary received 0 requests/);
  });

  it('holds the weights when evidence.onInsufficient is hold, after its own extendUpTo', async () => {
    const h = await harness(shiftSpec({ evidence: { extendUpTo: '4s', onInsufficient: 'hold' } }), steady({ requests: 0 }));
    const record = await h.runUntil(60);
    expect(h.at()).toBeCloseTo(14, 1);
    expect(record).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ANALYSIS_INSUFFICIENT_DATA' }, rollback: { result: 'held' } });
    expect(record.failure?.message).toMatch(/; weights held at release 80, baseline 10, canary 10 as the spec asks \(evidence.onInsufficient: hold\)$/);
  });

  it('retries a nodata: wait metric until the grace past the window end, then judges it (missing data fails)', async () => {
    const spec = shiftSpec({ metrics: [{ name: 'p99', metric: 'latency-p99', nodata: 'wait' }], evidence: { minRequests: 0, minTrafficShare: 0 } });
    const h = await harness(spec, steady({ ...HEALTHY, latencyMs: null }));
    const record = await h.runUntil(60);
    // Window end 10s + max(6s, 3 intervals).
    expect(h.at()).toBeCloseTo(16, 1);
    expect(judgementOf(record)).toMatchObject({ result: 'Fail', forcedZero: 'nodata', metrics: [{ name: 'p99', classification: 'NodataFail' }] });
  });

  it('judges all of the wait at once when its first look comes after the wait is over (a replica started late)', async () => {
    const trickle: Profile = { requests: 8, errors: 0, latencyMs: 20 };
    const h = await harness(shiftSpec({ evidence: { minRequests: 50 } }), steady(trickle, trickle));
    // The window alone (2..10s) holds 40 canary requests; 2..18s (the end of the wait) holds 72.
    const record = await h.checkAt(25);
    expect(judgementOf(record)).toMatchObject({ result: 'Pass', evidence: { requests: { canary: 72, baseline: 72 } } });
  });

  it('judges a shift started before the evidence gate as it was created: fixed mode, no gate, failAfterSamples ignored', async () => {
    const spec = shiftSpec({ metrics: [{ name: 'p99', metric: 'latency-p99', judge: { type: 'threshold', maxRatio: 1.5 }, failAfterSamples: 1 }] });
    const legacy = structuredClone(spec);
    const stored: Partial<NormalizedAnalysis> = legacy.analysis as NormalizedAnalysis;
    delete stored.mode;
    delete stored.alpha;
    delete stored.evidence;
    // A tenth of the baseline's requests at equal weights would shut today's gate: the old record never asked for it.
    const h = await harness(legacy, steady({ ...HEALTHY, requests: 10 }));
    const record = await h.runUntil(60);
    expect(h.at()).toBeCloseTo(10, 1);
    expect(judgementOf(record)).toMatchObject({ result: 'Pass', passed: true, evidence: { passed: true, requests: null } });
    expect(judgementOf(record).sequential).toBeUndefined();
    expect(h.mesh.queries.filter((q) => q.includes('increase(istio_requests_total'))).toEqual([]);
  });

  it('keeps the last look\'s progress in memory and the status body this replica serves shows it on the running step', async () => {
    const h = await harness(shiftSpec({}, '20s'), steady({ ...HEALTHY, errors: 1 }, { ...HEALTHY, errors: 1 }));
    const urls = { statusUrl: 'http://svc/s', cancelUrl: 'http://svc/c' };
    const progressOf = (record: ShiftRecord) => h.runner.progressOf(record);
    // The window opens at 2s: the look then only takes the pod lists; the looks at 4, 6 and 8s judge.
    await h.checkAt(2);
    expect(h.runner.progressOf(await h.read())).toBeUndefined();
    for (const at of [4, 6]) await h.checkAt(at);
    const before = await h.read();
    const twoLooks = JSON.parse(statusJson(before, urls, new Date(T0 + 7000), [before], undefined, progressOf));
    expect(twoLooks.steps[0].progress.looks).toBe(2);
    const record = await h.checkAt(8);
    expect(record).toMatchObject({ phase: 'RUNNING', currentStep: 1 });
    expect(record.judgements).toBeUndefined();
    // The same record object: the memo of its body is rebuilt for the new look.
    expect(record).toBe(before);
    const body = JSON.parse(statusJson(record, urls, new Date(T0 + 9000), [record], undefined, progressOf));
    expect(body).toEqual(JSON.parse(JSON.stringify(toStatus(record, urls, new Date(T0 + 9000), [record], undefined, progressOf))));
    const progress = body.steps[0].progress;
    expect(progress).toMatchObject({ at: new Date(T0 + 8000).toISOString(), looks: 3 });
    // The preset's four tested metrics, each with its e-process over the intervals so far (window 2..8s: 4 points).
    expect(progress.metrics.map((m: { name: string }) => m.name).sort()).toEqual(['cpu', 'latency-p99', 'memory', 'success-rate']);
    for (const m of progress.metrics) {
      expect(m).toMatchObject({ crossed: false, intervals: 4 });
      expect(m.eValue).toBeLessThan(m.threshold);
      expect(m.maxEValue).toBeGreaterThanOrEqual(m.eValue);
    }
    expect(progress.evidence).toEqual({ requests: { canary: 400, baseline: 400 }, errors: { canary: 4, baseline: 4 } });
    expect(body.steps[1].progress).toBeUndefined();
    // Without the lookup (another replica, a restart) there is none.
    expect(JSON.parse(statusJson(record, urls, new Date(T0 + 9000))).steps[0].progress).toBeUndefined();
    // Judged at the window's end: the progress goes with the step.
    const judged = await h.runUntil(60);
    expect(judged.judgements?.[0]?.judgement).toMatchObject({ result: 'Pass' });
    expect(h.runner.progressOf(judged)).toBeUndefined();
    expect(toStatus(judged, urls, new Date(), [judged], undefined, progressOf).steps.every((s) => s.progress === undefined)).toBe(true);
  });

  it('shows the progress while the step waits for evidence past its window', async () => {
    const h = await harness(shiftSpec(), steady({ requests: 0 }));
    const waiting = await h.runUntil(15);
    expect(waiting.judgements).toBeUndefined();
    const progress = toStatus(waiting, { statusUrl: '', cancelUrl: '' }, new Date(T0 + 15_000), [waiting], undefined, (r) => h.runner.progressOf(r)).steps[0].progress;
    expect(progress).toMatchObject({ at: new Date(T0 + 14_000 + 5).toISOString(), evidence: { requests: { canary: 0, baseline: 700 } } });
    // Mid-window at 4, 6 and 8s, then at 10, 12 and 14s while waiting.
    expect(progress?.looks).toBe(6);
  });

  it('passes once enough requests arrived while waiting for evidence', async () => {
    const trickle: Profile = { requests: 8, errors: 0, latencyMs: 20 };
    const h = await harness(shiftSpec({ evidence: { minRequests: 50 } }), steady(trickle, trickle));
    const record = await h.runUntil(60);
    // 5 points of 8 requests by the window's end (40 < 50); 7 points (56) two intervals later.
    expect(h.at()).toBeCloseTo(14, 1);
    expect(judgementOf(record)).toMatchObject({ result: 'Pass', passed: true, evidence: { passed: true, requests: { canary: 56, baseline: 56 } } });
    expect(record.phase).toBe('RUNNING');
  });
});
