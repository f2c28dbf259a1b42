/**
 * Property: the analysis part of the execution view never throws, and never prints NaN or
 * "undefined", for any status body the service could write. The bodies are random but follow core's
 * types (StepJudgement, MetricJudgement, EvidenceGate, SequentialResult, PodEvent, StepProgress, ShiftStatus):
 * optional fields present or not, nullable fields null, counts of 0, huge and tiny numbers, every
 * result and classification, with and without evidence, sequential tests and pod events; some
 * summaries are cut to `{"count": 0}` as the service writes them for a metric without data, and
 * some judgements come from older versions (failedChecks, no evidence); some steps carry the live
 * progress of the replica that answered (tested metrics, request counts or null). Each body is also passed
 * through JSON, as Orca stores it (NaN and Infinity become null).
 *
 * A small seeded PRNG instead of a property-testing library (none is installed): the cases are the
 * same on every run; PROPERTY_SEED=<n> tries other ones, and a failure prints its seed and case.
 */
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { render } from '@testing-library/react';
import type { Application, IExecutionStage } from '@spinnaker/core';
import type { Classification, EvidenceGate, GroupScore, MetricJudgement, PodEvent, SequentialResult, ShiftStatus, StepJudgement, StepProgress, StepRecord } from '@istio-shift/core';
import { FAILURE_REASONS } from '@istio-shift/core';
import { AnalysisJudgements } from './AnalysisJudgements';
import { analysisView } from './analysis-view';
import { IstioTrafficShiftExecutionDetails } from './IstioTrafficShiftExecutionDetails';
import terminal from '../../test/fixtures/orca-stage-context-terminal.json';

const SEED = Number(process.env.PROPERTY_SEED ?? 20261206);
const CASES = 400;
const FULL_VIEW_CASES = 40;

/** mulberry32: a seeded PRNG with uniform floats in [0, 1). */
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly random: () => number) {}
  bool(p = 0.5): boolean {
    return this.random() < p;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }
  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)];
  }
  /** Present with probability p, else undefined. */
  maybe<T>(make: () => T, p = 0.5): T | undefined {
    return this.bool(p) ? make() : undefined;
  }
  list<T>(make: (i: number) => T, max: number): T[] {
    return Array.from({ length: this.int(0, max) }, (_, i) => make(i));
  }
  /** Any number the schema allows, edge cases often. */
  number(): number {
    return this.pick<() => number>([
      () => 0,
      () => -0,
      () => 1,
      () => -1,
      () => this.random(),
      () => this.random() * 100,
      () => (this.random() - 0.5) * 1e6,
      () => 10 ** this.int(-320, 308),
      () => -(10 ** this.int(-30, 308)),
      () => Number.MAX_VALUE,
      () => Number.MIN_VALUE,
      () => Number.EPSILON,
      () => 99.99999999,
      () => 1e21,
      () => NaN,
      () => Infinity,
      () => -Infinity,
    ])();
  }
  count(): number {
    return this.pick([0, 0, 1, 3, 50, this.int(0, 10_000), 1e9, 2 ** 53, this.random() * 1000]);
  }
  nullableNumber(): number | null {
    return this.bool(0.25) ? null : this.number();
  }
  text(): string {
    return this.pick(['', 'x', 'latency-p99', 'success-rate', 'cpu', 'naïve-metric', '名前', 'a'.repeat(300), '<b>not html</b>', '${expression}', 'checkout-canary-7d9f8-x2kq']);
  }
}

const CLASSIFICATIONS: Classification[] = ['Pass', 'High', 'Low', 'Nodata', 'NodataFail'];
const RESULTS: StepJudgement['result'][] = ['Pass', 'Marginal', 'Fail', 'InsufficientData'];
const METRICS: MetricJudgement['metric'][] = ['success-rate', 'latency-p50', 'latency-p95', 'latency-p99', 'cpu', 'memory', 'restarts', 'readiness', 'oom-killed', 'custom'];
const KINDS: PodEvent['kind'][] = ['restart', 'oom-kill', 'not-ready'];
const REASONS = [...FAILURE_REASONS];

function summary(g: Gen): MetricJudgement['canary'] {
  // What the service writes for a metric without data: only the count.
  if (g.bool(0.1)) return { count: 0 } as unknown as MetricJudgement['canary'];
  return { count: g.count(), mean: g.nullableNumber(), median: g.nullableNumber(), min: g.nullableNumber(), max: g.nullableNumber() };
}

function sequential(g: Gen): SequentialResult {
  const result: SequentialResult = { eValue: g.number(), maxEValue: g.number(), threshold: g.pick([400, 100, 1, 0, 1e6, g.number()]), crossed: g.bool(), looks: g.count() };
  if (g.bool()) result.crossedAt = g.count();
  return result;
}

function podEvent(g: Gen): PodEvent {
  const event: PodEvent = { pod: g.text(), kind: g.pick(KINDS), count: g.count() };
  if (g.bool()) event.container = g.text();
  if (g.bool()) event.reason = g.pick(['OOMKilled', 'Error', 'CrashLoopBackOff', 'Evicted', '']);
  return event;
}

function metric(g: Gen, names: string[]): MetricJudgement {
  const m: MetricJudgement = {
    name: g.bool(0.8) ? g.pick(names) : g.text(),
    metric: g.pick(METRICS),
    group: g.pick(['istio', 'kubernetes', 'custom', '']),
    critical: g.bool(),
    failed: g.bool(),
    classification: g.pick(CLASSIFICATIONS),
    reason: g.text(),
    canary: summary(g),
    baseline: summary(g),
    ratio: g.nullableNumber(),
  };
  if (g.bool(0.1)) delete (m as Partial<MetricJudgement>).ratio;
  if (g.bool(0.2)) m.test = { pValue: g.number(), confInt: [g.number(), g.number()], estimate: g.number() };
  if (g.bool(0.3)) m.counts = { canary: { requests: g.count(), errors: g.count() }, baseline: { requests: g.count(), errors: g.count() } };
  if (g.bool(0.5)) m.sequential = sequential(g);
  if (g.bool(0.25)) m.events = g.list(() => podEvent(g), 4);
  return m;
}

function group(g: Gen): GroupScore {
  return { name: g.pick(['istio', 'kubernetes', 'custom', '']), weight: g.number(), score: g.number(), counted: g.count(), passed: g.count() };
}

function gate(g: Gen, names: string[]): EvidenceGate {
  return {
    passed: g.bool(),
    requests: g.bool(0.8) ? { canary: g.count(), baseline: g.count() } : null,
    errors: g.bool(0.8) ? { canary: g.count(), baseline: g.count() } : null,
    expectedRatio: g.nullableNumber(),
    trafficShare: g.nullableNumber(),
    minRequests: g.count(),
    minTrafficShare: g.pick([0, 0.5, 1, g.number()]),
    minPoints: g.count(),
    shortMetrics: g.list(() => ({ name: g.bool(0.7) ? g.pick(names) : g.text(), canary: g.count(), baseline: g.count() }), 3),
    problems: g.list(() => g.text(), 4),
  };
}

function judgement(g: Gen, names: string[]): StepJudgement {
  const j: StepJudgement = {
    score: g.number(),
    result: g.pick(RESULTS),
    passed: g.bool(),
    final: g.bool(),
    thresholds: { pass: g.number(), marginal: g.number() },
    groups: g.list(() => group(g), 4),
    metrics: g.list(() => metric(g, names), 9),
  };
  if (g.bool(0.3)) j.forcedZero = g.pick(['critical', 'nodata'] as const);
  if (g.bool(0.7)) j.evidence = gate(g, names);
  if (g.bool(0.6)) {
    // The weighted split (shares by name), or a judgement stored before it (one metricAlpha).
    j.sequential = g.bool()
      ? { alpha: g.number(), shares: Object.fromEntries(g.list(() => [g.pick(names), g.number()], 4)), tested: g.count() }
      : ({ alpha: g.number(), metricAlpha: g.number(), tested: g.count() } as unknown as StepJudgement['sequential']);
  }
  if (g.bool(0.3)) j.stoppedEarly = g.bool(0.8);
  if (g.bool(0.1)) j.failedChecks = { [g.pick(names)]: g.count() };
  return j;
}

/** A running step's live progress: tested metrics (or none, fixed mode), counts or null, any numbers. */
function progress(g: Gen, names: string[]): StepProgress {
  const metrics = g.list(() => ({ name: g.bool(0.8) ? g.pick(names) : g.text(), eValue: g.number(), maxEValue: g.number(), threshold: g.pick([150, 900, 1, 0, g.number()]), crossed: g.bool(0.2), intervals: g.count() }), 5);
  const p: StepProgress = {
    at: g.pick(['2026-11-26T10:04:12.345Z', 'not a date', '']),
    looks: g.pick([0, 1, g.count(), g.number()]),
    metrics,
    evidence: g.bool(0.7) ? { requests: { canary: g.count(), baseline: g.count() }, errors: { canary: g.count(), baseline: g.count() } } : null,
  };
  // From a newer or older service: fields missing.
  if (g.bool(0.1)) delete (p as Partial<StepProgress>).metrics;
  if (g.bool(0.1)) delete (p as Partial<StepProgress>).evidence;
  return p;
}

function status(g: Gen, names: string[]): ShiftStatus {
  const total = g.int(0, 5);
  const steps: StepRecord[] = Array.from({ length: total }, (_, i) => {
    const step: StepRecord = { index: i + 1, weights: [g.int(0, 100), g.int(0, 100), g.int(0, 100)], pauseSeconds: g.pick([0, 30, 600, g.count()]) };
    if (g.bool(0.7)) step.appliedAt = g.pick(['2026-11-26T10:00:03.412Z', 'not a date']);
    if (g.bool(0.5)) step.pauseUntil = '2026-11-26T10:30:03.412Z';
    if (g.bool(0.6)) step.analysis = judgement(g, names);
    if (g.bool(0.3)) step.judgedAt = '2026-11-26T10:10:03.412Z';
    if (g.bool(0.3)) step.progress = progress(g, names);
    return step;
  });
  const body: ShiftStatus = {
    id: 'shift-1',
    status: g.pick(['RUNNING', 'SUCCEEDED', 'TERMINAL', 'CANCELED'] as const),
    message: g.text(),
    percentComplete: g.int(0, 100),
    statusUrl: 'https://ts/v1/shifts/prod/shop/checkout/shift-1',
    cancelUrl: 'https://ts/v1/shifts/prod/shop/checkout/shift-1/cancel',
    account: 'prod-k8s',
    namespace: 'shop',
    virtualService: 'checkout',
    route: g.pick([{ protocol: 'http', name: 'primary' }, { protocol: 'tcp', port: 9000 }, { protocol: 'tls', index: 1 }] as ShiftStatus['route'][]),
    destinations: [
      { host: 'checkout', subset: 'release', label: 'release' },
      { host: 'checkout', subset: 'baseline', label: 'baseline' },
      { host: 'checkout', subset: 'canary', label: 'canary' },
    ],
    currentStep: g.int(0, total + 1),
    totalSteps: total,
    currentWeights: [g.int(0, 100), g.int(0, 100), g.int(0, 100)],
    originalWeights: [100, 0, 0],
    steps,
    createdAt: '2026-11-26T10:00:00.000Z',
    updatedAt: '2026-11-26T10:05:00.000Z',
  };
  if (g.bool(0.5)) body.analysis = { score: g.number(), result: g.pick(RESULTS), step: g.int(0, 5) };
  if (g.bool(0.4)) body.failure = { reason: g.pick(REASONS), message: g.text() };
  if (g.bool(0.3)) body.rollback = { result: g.pick(['restored', 'held', 'conflict'] as const), message: g.text() };
  return body;
}

function payload(g: Gen, names: string[]): unknown {
  if (g.bool(0.2)) return undefined;
  const steps = g.list(() => {
    const step: Record<string, unknown> = { weights: [80, 10, 10], pause: g.pick(['10m', '0s', '', undefined, '${pause}', 0]) };
    if (g.bool(0.3)) step.analysis = { skip: g.pick([true, false, 'true']) };
    return step;
  }, 5);
  const p: Record<string, unknown> = { steps };
  if (g.bool(0.8)) p.analysis = { source: 'prometheus', metrics: g.pick([names.map((name) => ({ name })), [], 'not a list', [null, { name: 3 }]]) };
  return p;
}

const BAD_TEXT = /NaN|undefined/;

// React's warnings (duplicate keys, bad props) count as failures here.
let consoleError: jest.SpyInstance;
beforeEach(() => {
  consoleError = jest.spyOn(console, 'error');
});
afterEach(() => {
  const calls = consoleError.mock.calls.map((call) => String(call[0]).slice(0, 300));
  consoleError.mockRestore();
  expect(calls).toEqual([]);
});

describe(`the analysis view on ${CASES} random status bodies (seed ${SEED})`, () => {
  const g = new Gen(prng(SEED));
  const names = ['success-rate', 'latency-p99', 'cpu', 'memory', 'restarts', 'readiness', 'oom-killed'];
  const cases = Array.from({ length: CASES }, () => ({ body: status(g, names), payload: payload(g, names) }));

  it('never throws and never prints NaN or undefined, as written and after a trip through JSON', () => {
    let judged = 0;
    let live = 0;
    cases.forEach(({ body, payload: p }, i) => {
      for (const [how, input] of [
        ['as written', body],
        ['through JSON', JSON.parse(JSON.stringify(body)) as ShiftStatus],
      ] as const) {
        let html = '';
        try {
          analysisView(input, p);
          html = renderToStaticMarkup(<AnalysisJudgements status={input} payload={p} />);
        } catch (error) {
          throw new Error(`case ${i} (seed ${SEED}, ${how}) threw ${(error as Error).stack}\nbody: ${JSON.stringify(input)}\npayload: ${JSON.stringify(p)}`);
        }
        const shown = html.replace(/<[^>]*>/g, ' ');
        if (BAD_TEXT.test(shown)) throw new Error(`case ${i} (seed ${SEED}, ${how}) shows ${shown.match(BAD_TEXT)![0]}: ${shown}`);
        if (html.includes('data-testid="judgement-')) judged++;
        if (html.includes('data-testid="live-')) live++;
      }
    });
    // The generator does reach the tables and the live panels (not only empty views).
    expect(judged).toBeGreaterThan(CASES / 2);
    expect(live).toBeGreaterThan(CASES / 10);
  });

  it(`the whole execution tab renders ${FULL_VIEW_CASES} of them inside core's section`, () => {
    cases.slice(0, FULL_VIEW_CASES).forEach(({ body, payload: p }, i) => {
      const stage = JSON.parse(JSON.stringify(terminal));
      stage.status = body.status;
      stage.context.webhook.monitor.body = JSON.parse(JSON.stringify(body));
      if (p !== undefined) stage.context.payload = { ...stage.context.payload, ...(p as object) };
      try {
        const { unmount } = render(
          <IstioTrafficShiftExecutionDetails stage={stage as IExecutionStage} name="istioTrafficShift" current="istioTrafficShift" application={{} as Application} execution={{} as never} provider="" detailsSections={[]} config={{} as never} />,
        );
        unmount();
      } catch (error) {
        throw new Error(`case ${i} (seed ${SEED}) threw in the execution tab ${(error as Error).stack}\nbody: ${JSON.stringify(body)}`);
      }
    });
  });
});
