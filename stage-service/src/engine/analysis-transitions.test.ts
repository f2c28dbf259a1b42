/**
 * The pure analysis transitions and the stored judgement schema: a step is judged once, a pass
 * moves on only when watched, a fail restores (or holds) in the same write, and a record carrying
 * judgements survives the schema check while a tampered one does not.
 */
import { NormalizedShiftSpec, RouteSelection, StepEvidence, StepJudgement, judgeStep, planShift, selectRoute } from '@istio-shift/core';
import { checkoutVirtualService } from '../kube/seed';
import { ShiftRecord } from './record';
import { recordProblem } from './record-schema';
import { advance, analysisUnavailable, judged, startShift } from './transitions';
import { AnalysisWindow, nextAnalysisCheck, pendingWindow } from '../analysis/runner';
import { checkoutSpec } from './test-spec';

const NS = 'shop';
const VS_NAME = `${NS}/checkout`;
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const WATCHED = { polledNow: true };

const SUCCESS_METRIC = { name: 'success', metric: 'success-rate', critical: true, judge: { type: 'threshold', min: 99 } };

function spec(onFailure: 'rollback' | 'hold' = 'rollback', metrics: Array<Record<string, unknown>> = [SUCCESS_METRIC], more: Record<string, unknown> = {}): NormalizedShiftSpec {
  return checkoutSpec({
    steps: [{ weights: [80, 10, 10], pause: '10s' }, { weights: [100, 0, 0] }],
    analysis: {
      source: 'mesh',
      scopes: { canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } },
      warmup: '2s',
      interval: '2s',
      onFailure,
      metrics,
      ...more,
    },
  });
}

function started(s = spec()): { record: ShiftRecord; selection: RouteSelection } {
  const vs = checkoutVirtualService(NS);
  const selection = selectRoute(vs.spec, s.route, VS_NAME);
  if (!selection.ok) throw new Error(selection.problem.message);
  const plan = planShift(s, selection.selected);
  if (!plan.ok) throw new Error('plan');
  const { record } = startShift('0123456789abcdef0123', s, 'hash', { namespace: NS, name: 'checkout', uid: 'u1' }, selection.selected, plan.plan, T0);
  // The route as the first step left it, so nothing looks like another writer.
  const live = JSON.parse(JSON.stringify(vs.spec));
  live.http.find((r: any) => r.name === 'primary').route = record.lastWritten;
  return { record, selection: selectRoute(live, s.route, VS_NAME) };
}

/** Three intervals of 100 requests to each of canary and baseline (weights 10/10): enough evidence. */
const TRAFFIC: StepEvidence = {
  requests: { canary: { requests: [100, 100, 100], errors: [0, 0, 0] }, baseline: { requests: [100, 100, 100], errors: [0, 0, 0] } },
  weights: { canary: 10, baseline: 10 },
};

const judgement = (s: NormalizedShiftSpec, canary: number[], evidence: StepEvidence = TRAFFIC): StepJudgement =>
  judgeStep(s.analysis!, { success: { canary, baseline: [99.9, 99.9, 99.9] } }, { step: 0, evidence });

/** The canary got no requests: the step cannot be judged. */
const insufficient = (s: NormalizedShiftSpec): StepJudgement =>
  judgement(s, [], { ...TRAFFIC, requests: { canary: { requests: [], errors: [] }, baseline: TRAFFIC.requests!.baseline } });

describe('analysis transitions', () => {
  it('does not advance an analysed step past its pause until it is judged', () => {
    const { record, selection } = started();
    expect(advance(record, selection, VS_NAME, at(11), WATCHED)).toEqual({ kind: 'none' });
  });

  it('records a pass and moves on in the same write when watched; a second judgement is dropped', () => {
    const s = spec();
    const { record, selection } = started(s);
    const pass = judgement(s, [99.9, 99.8, 99.9]);
    const next = judged(record, selection, VS_NAME, at(10.01), 0, pass, WATCHED);
    if (next.kind !== 'write') throw new Error('expected a write');
    expect(next.record).toMatchObject({ phase: 'SUCCEEDED', currentStep: 2 });
    expect(next.record.judgements).toEqual([{ at: at(10.01).toISOString(), judgement: pass }]);
    expect(next.target?.map((d) => d.weight)).toEqual([100, 0, 0]);
    expect(recordProblem(next.record.id, JSON.parse(JSON.stringify(next.record)))).toBeUndefined();
    expect(judged(next.record, selection, VS_NAME, at(11), 0, pass, WATCHED)).toEqual({ kind: 'none' });
  });

  it('records a pass without moving traffic when nobody watches; the next poll moves it', () => {
    const s = spec();
    const { record, selection } = started(s);
    const next = judged(record, selection, VS_NAME, at(40), 0, judgement(s, [99.9, 99.9]), { polledNow: false });
    if (next.kind !== 'write') throw new Error('expected a write');
    expect(next.target).toBeUndefined();
    expect(next.record).toMatchObject({ phase: 'RUNNING', currentStep: 1 });
    expect(advance(next.record, selection, VS_NAME, at(41), WATCHED)).toMatchObject({ kind: 'write', record: { phase: 'SUCCEEDED' } });
  });

  it('restores the weights from before the shift on a failed judgement', () => {
    const s = spec();
    const { record, selection } = started(s);
    const next = judged(record, selection, VS_NAME, at(6), 0, judgement(s, [92, 91, 90]), { polledNow: false });
    if (next.kind !== 'write') throw new Error('expected a write');
    expect(next.target).toEqual(record.original);
    expect(next.record.phase).toBe('TERMINAL');
    expect(next.record.failure).toEqual({
      reason: 'ANALYSIS_FAILED',
      message: 'step 1 failed analysis: canary 5xx rate 9% vs baseline 0.1% (critical); score 0/75; weights restored to release 100, baseline 0, canary 0',
    });
    expect(recordProblem(next.record.id, JSON.parse(JSON.stringify(next.record)))).toBeUndefined();
  });

  it('holds with onFailure: hold, and ends an unrunnable analysis the same way', () => {
    const s = spec('hold');
    const { record, selection } = started(s);
    const failed = judged(record, selection, VS_NAME, at(6), 0, judgement(s, [92]), { polledNow: false });
    expect(failed).toMatchObject({ kind: 'write', record: { rollback: { result: 'held' } } });
    expect((failed as { target?: unknown }).target).toBeUndefined();
    const down = analysisUnavailable(started().record, selection, VS_NAME, at(20), 0, 'metrics source "mesh" did not answer');
    expect(down).toMatchObject({
      kind: 'write',
      record: { phase: 'TERMINAL', failure: { reason: 'ANALYSIS_UNAVAILABLE', message: 'step 1 analysis could not run: metrics source "mesh" did not answer; weights restored to release 100, baseline 0, canary 0' } },
    });
  });

  it('refuses a stored record whose judgement was tampered with or names an unanalysed step', () => {
    const s = spec();
    const { record } = started(s);
    const base = JSON.parse(JSON.stringify({ ...record, judgements: [{ at: T0.toISOString(), judgement: judgement(s, [99.9]) }] }));
    expect(recordProblem(record.id, base)).toBeUndefined();
    const badScore = JSON.parse(JSON.stringify(base));
    badScore.judgements[0].judgement.score = 'high';
    expect(recordProblem(record.id, badScore)).toMatch(/judgements\[0\]\.judgement must carry a score from 0 to 100/);
    const wrongStep = JSON.parse(JSON.stringify(base));
    wrongStep.judgements = [null, base.judgements[0]];
    expect(recordProblem(record.id, wrongStep)).toMatch(/judgements\[1\] judges a step the spec does not analyse/);
  });

  it.each([
    ['restores by default', {}, 'rollback', '; weights restored to release 100, baseline 0, canary 0'],
    ['holds with onFailure: hold', {}, 'hold', '; weights held at release 80, baseline 10, canary 10 as the spec asks (onFailure: hold)'],
    ['holds with evidence.onInsufficient: hold', { evidence: { onInsufficient: 'hold' } }, 'rollback', '; weights held at release 80, baseline 10, canary 10 as the spec asks (evidence.onInsufficient: hold)'],
  ] as const)('ends TERMINAL ANALYSIS_INSUFFICIENT_DATA when the wait for evidence was in vain: %s', (_case, more, onFailure, ending) => {
    const s = spec(onFailure, [SUCCESS_METRIC], more);
    const { record, selection } = started(s);
    const verdict = insufficient(s);
    expect(verdict.result).toBe('InsufficientData');
    const next = judged(record, selection, VS_NAME, at(20), 0, verdict, WATCHED);
    if (next.kind !== 'write') throw new Error('expected a write');
    expect(next.record).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ANALYSIS_INSUFFICIENT_DATA' } });
    expect(next.record.failure?.message.endsWith(ending)).toBe(true);
    expect(next.target).toEqual(ending.includes('restored') ? record.original : undefined);
    expect(recordProblem(next.record.id, JSON.parse(JSON.stringify(next.record)))).toBeUndefined();
  });

  it('still reads a record written before sequential testing: failAfterSamples numbers, no mode, alpha or evidence', () => {
    const { record } = started(spec('rollback', [SUCCESS_METRIC, { name: 'p99', metric: 'latency-p99' }]));
    const legacy = JSON.parse(JSON.stringify(record));
    delete legacy.spec.analysis.mode;
    delete legacy.spec.analysis.alpha;
    delete legacy.spec.analysis.evidence;
    // The previous version wrote failAfterSamples on every metric: 1 for critical ones, else 0.
    legacy.spec.analysis.metrics[0].failAfterSamples = 1;
    legacy.spec.analysis.metrics[1].failAfterSamples = 0;
    legacy.judgements = [{ at: T0.toISOString(), judgement: { ...judgement(spec(), [92]), evidence: undefined, failedChecks: { success: 1 } } }];
    expect(recordProblem(record.id, JSON.parse(JSON.stringify(legacy)))).toBeUndefined();
    // Only all three missing is the older form; one missing is a record the service never wrote.
    const partial = JSON.parse(JSON.stringify(record));
    delete partial.spec.analysis.evidence;
    expect(recordProblem(record.id, partial)).toMatch(/spec is not in the form the service writes/);
    // A record written now, with a deprecated failAfterSamples a pipeline still carries, round-trips too.
    const withOld = started(spec('rollback', [{ ...SUCCESS_METRIC, failAfterSamples: 0 }], { evidence: { extendUpTo: '30s', minRequests: 10 } })).record;
    expect(recordProblem(withOld.id, JSON.parse(JSON.stringify(withOld)))).toBeUndefined();
  });

  it('times the runner: a look every interval from one interval into the window, the end, then every interval until the wait for evidence ends', () => {
    const { record } = started();
    const window = pendingWindow(record) as AnalysisWindow;
    // Window 2..10s; the wait for evidence defaults to one more window (8s).
    expect(window).toEqual({ stepIndex: 0, start: at(2).getTime(), end: at(10).getTime(), intervalSeconds: 2, graceMs: 6000, extendUntil: at(18).getTime() });
    expect(nextAnalysisCheck(record, at(0).getTime())).toBe(at(4).getTime());
    expect(nextAnalysisCheck(record, at(4.005).getTime())).toBe(at(6).getTime());
    expect(nextAnalysisCheck(record, at(7).getTime())).toBe(at(8).getTime());
    expect(nextAnalysisCheck(record, at(9.5).getTime())).toBe(at(10).getTime());
    expect(nextAnalysisCheck(record, at(11).getTime())).toBe(at(12).getTime());
    const odd = started(spec('rollback', [SUCCESS_METRIC], { evidence: { extendUpTo: '3s' } })).record;
    expect(nextAnalysisCheck(odd, at(12.5).getTime())).toBe(at(13).getTime());
    expect(nextAnalysisCheck(odd, at(13.005).getTime())).toBe(at(14).getTime());
  });

  it('looks in when the window opens if a pod status metric needs its pod list from then, and not mid-window when nothing could stop the step', () => {
    const { record } = started(spec('rollback', [{ name: 'restarts', metric: 'restarts', critical: false, judge: { type: 'threshold', max: 0 } }]));
    expect(nextAnalysisCheck(record, at(0).getTime())).toBe(at(2).getTime());
    // Pod metrics are sampled at every look.
    expect(nextAnalysisCheck(record, at(2).getTime())).toBe(at(4).getTime());
    const fixed = started(spec('rollback', [{ name: 'p99', metric: 'latency-p99' }], { mode: 'fixed' })).record;
    expect(nextAnalysisCheck(fixed, at(0).getTime())).toBe(at(10).getTime());
    const sequential = started(spec('rollback', [{ name: 'p99', metric: 'latency-p99' }])).record;
    expect(nextAnalysisCheck(sequential, at(0).getTime())).toBe(at(4).getTime());
  });
});
