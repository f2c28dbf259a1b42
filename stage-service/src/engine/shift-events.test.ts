/**
 * Which Events a written change records (pure): analysis verdicts, a failed analysis' rollback,
 * a conflict with another writer, a supersede; nothing twice for a change already told.
 */
import { RouteSelection, StepEvidence, judgeStep, planShift, selectRoute } from '@istio-shift/core';
import { checkoutVirtualService } from '../kube/seed';
import { ShiftRecord } from './record';
import { eventsForChange } from './shift-events';
import { advance, judged, startShift, supersede } from './transitions';
import { checkoutSpec } from './test-spec';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const spec = checkoutSpec({
  steps: [{ weights: [80, 10, 10], pause: '10s' }, { weights: [100, 0, 0] }],
  executionId: 'exec-9',
  stageRef: '4',
  analysis: {
    source: 'mesh',
    scopes: { canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } },
    warmup: '2s',
    interval: '2s',
    metrics: [{ name: 'success', metric: 'success-rate', critical: true, judge: { type: 'threshold', min: 99 } }],
  },
});
const TRAFFIC: StepEvidence = {
  requests: { canary: { requests: [100, 100, 100], errors: [0, 0, 0] }, baseline: { requests: [100, 100, 100], errors: [0, 0, 0] } },
  weights: { canary: 10, baseline: 10 },
};
const verdict = (canary: number[]) => judgeStep(spec.analysis!, { success: { canary, baseline: [99.9, 99.9, 99.9] } }, { step: 0, evidence: TRAFFIC });

function started(): { record: ShiftRecord; selection: RouteSelection } {
  const vs = checkoutVirtualService('shop');
  const selection = selectRoute(vs.spec, spec.route, 'shop/checkout');
  if (!selection.ok) throw new Error(selection.problem.message);
  const plan = planShift(spec, selection.selected);
  if (!plan.ok) throw new Error('plan');
  const { record } = startShift('0123456789abcdef0123', spec, 'hash', { namespace: 'shop', name: 'checkout', uid: 'u1' }, selection.selected, plan.plan, T0);
  const live = JSON.parse(JSON.stringify(vs.spec));
  live.http.find((r: { name?: string }) => r.name === 'primary').route = record.lastWritten;
  return { record, selection: selectRoute(live, spec.route, 'shop/checkout') };
}

const told = (before: ShiftRecord | undefined, after: ShiftRecord) => eventsForChange(before, after).map((e) => `${e.type} ${e.reason}: ${e.message}`);
const suffix = '(execution exec-9 stage 4, shift 0123456789abcdef0123)';

describe('eventsForChange', () => {
  it('tells a passed verdict and the step it lets through', () => {
    const { record, selection } = started();
    const next = judged(record, selection, 'shop/checkout', at(11), 0, verdict([99.9, 99.9, 99.9]), { polledNow: true });
    if (next.kind !== 'write') throw new Error('no write');
    expect(told(record, next.record)).toEqual([
      expect.stringMatching(/^Normal AnalysisPassed: step 1 passed analysis: .*\(execution exec-9 stage 4/),
      `Normal StepApplied: step 2 of 2: release 100, baseline 0, canary 0 ${suffix}`,
      `Normal Completed: shift completed at step 2 of 2: release 100, baseline 0, canary 0 ${suffix}`,
    ]);
    // The same record written again (a renewal) tells nothing new.
    expect(told(next.record, { ...next.record })).toEqual([]);
  });

  it('tells a failed verdict and the rollback it made', () => {
    const { record, selection } = started();
    const next = judged(record, selection, 'shop/checkout', at(5), 0, verdict([90, 90, 90]));
    if (next.kind !== 'write') throw new Error('no write');
    expect(told(record, next.record)).toEqual([
      expect.stringMatching(/^Warning AnalysisFailed: step 1 failed analysis: /),
      `Warning RolledBack: weights restored to release 100, baseline 0, canary 0 ${suffix}`,
    ]);
  });

  it('tells a conflict with another writer, and a supersede', () => {
    const { record } = started();
    const vs = checkoutVirtualService('shop');
    const theirs = selectRoute(vs.spec, spec.route, 'shop/checkout');
    const stopped = advance(record, theirs, 'shop/checkout', at(1), { polledNow: true });
    if (stopped.kind !== 'write') throw new Error('no write');
    expect(told(record, stopped.record)).toEqual([expect.stringMatching(/^Warning Conflict: another writer changed HTTP route "primary" of shop\/checkout/)]);
    expect(told(record, supersede(record, 'fedcba', at(2)))).toEqual([`Normal Superseded: superseded by shift fedcba: the stage was restarted in Orca, and the new attempt took over the route ${suffix}`]);
  });
});
