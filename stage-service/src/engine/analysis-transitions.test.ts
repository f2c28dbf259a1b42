/**
 * The pure analysis transitions and the stored judgement schema: a step is judged once, a pass
 * moves on only when watched, a fail restores (or holds) in the same write, and a record carrying
 * judgements survives the schema check while a tampered one does not.
 */
import { NormalizedShiftSpec, RouteSelection, StepJudgement, judgeStep, planShift, selectRoute, validateShiftSpec } from '@istio-shift/core';
import { checkoutVirtualService } from '../kube/seed';
import { ShiftRecord } from './record';
import { recordProblem } from './record-schema';
import { advance, analysisUnavailable, judged, startShift } from './transitions';
import { AnalysisWindow, nextAnalysisCheck, pendingWindow } from '../analysis/runner';

const NS = 'shop';
const VS_NAME = `${NS}/checkout`;
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const WATCHED = { polledNow: true };

const SUCCESS_METRIC = { name: 'success', metric: 'success-rate', critical: true, judge: { type: 'threshold', min: 99 } };

function spec(onFailure: 'rollback' | 'hold' = 'rollback', metrics: Array<Record<string, unknown>> = [SUCCESS_METRIC]): NormalizedShiftSpec {
  const result = validateShiftSpec({
    account: 'prod',
    namespace: NS,
    virtualService: 'checkout',
    route: { protocol: 'http', name: 'primary' },
    destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
    steps: [{ weights: [80, 10, 10], pause: '10s' }, { weights: [100, 0, 0] }],
    analysis: {
      source: 'mesh',
      scopes: { canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } },
      warmup: '2s',
      interval: '2s',
      onFailure,
      metrics,
    },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
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

const judgement = (s: NormalizedShiftSpec, canary: number[]): StepJudgement =>
  judgeStep(s.analysis!, { success: { canary, baseline: [99.9, 99.9, 99.9] } }, { step: 0 });

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

  it('times the runner: fail-fast checks from two intervals into the window, then the end, then retries until the grace', () => {
    const { record } = started();
    const window = pendingWindow(record) as AnalysisWindow;
    expect(window).toEqual({ stepIndex: 0, start: at(2).getTime(), end: at(10).getTime(), intervalSeconds: 2, giveUpAt: at(16).getTime() });
    expect(nextAnalysisCheck(record, at(0).getTime())).toBe(at(6).getTime());
    expect(nextAnalysisCheck(record, at(7).getTime())).toBe(at(9).getTime());
    expect(nextAnalysisCheck(record, at(9.5).getTime())).toBe(at(10).getTime());
    expect(nextAnalysisCheck(record, at(11).getTime())).toBe(at(13).getTime());
  });

  it('looks in when the window opens if a pod status metric needs its pod list from then (restarts count from the window start)', () => {
    const { record } = started(spec('rollback', [{ name: 'restarts', metric: 'restarts', judge: { type: 'threshold', max: 0 } }]));
    expect(nextAnalysisCheck(record, at(0).getTime())).toBe(at(2).getTime());
    // No critical metric: nothing more until the window's end.
    expect(nextAnalysisCheck(record, at(2).getTime())).toBe(at(10).getTime());
    const critical = started(spec('rollback', [SUCCESS_METRIC, { name: 'restarts', metric: 'restarts', critical: true, judge: { type: 'threshold', max: 0 } }])).record;
    expect(nextAnalysisCheck(critical, at(0).getTime())).toBe(at(2).getTime());
    expect(nextAnalysisCheck(critical, at(2).getTime())).toBe(at(6).getTime());
  });
});
