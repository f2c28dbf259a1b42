/**
 * The state machine's rules as tables (transitions.ts, pure: no store, no clock, no cluster):
 * phase x pause over x polled now x last poll seen here x persisted lease x drift x onCancel x
 * analysis verdict for advance(), phase x drift x onCancel for cancel(). Every row asserts the
 * kind of transition, the record's phase/step/reason and the weights written (or that none are).
 *
 * Two layers: hand-written rows that name each safety rule, then the whole product of the
 * dimensions checked against the rules as docs/reliability.md states them.
 */
import { IstioRouteDestination, NormalizedShiftSpec, RouteSelection, StepJudgement, judgeStep, planShift, selectRoute } from '@istio-shift/core';
import { checkoutVirtualService } from '../kube/seed';
import { ShiftRecord } from './record';
import { Transition, WATCHED_WITHIN_SECONDS, advance, cancel, judged, startShift } from './transitions';
import { checkoutSpec } from './test-spec';

const NS = 'shop';
const VS_NAME = `${NS}/checkout`;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
/** Every row decides at this instant; the record's times are set relative to it. */
const NOW = T0 + 1000_000;
const ABANDON_AFTER_S = 120;
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

const ORIGINAL = [100, 0, 0];
const STEP1 = [80, 10, 10];
const STEP2 = [34, 33, 33];
const DRIFTED = [50, 25, 25];

type Phase = ShiftRecord['phase'];
type Verdict = 'none' | 'awaiting' | 'passed';
type OnCancel = 'rollback' | 'hold';

const specs = new Map<string, NormalizedShiftSpec>();

function spec(onCancel: OnCancel, analysed: boolean): NormalizedShiftSpec {
  const key = `${onCancel}/${analysed}`;
  const known = specs.get(key);
  if (known) return known;
  const spec = checkoutSpec({
    steps: [{ weights: STEP1, pause: '60s' }, { weights: STEP2, pause: '60s' }, { weights: [100, 0, 0] }],
    abandonAfter: `${ABANDON_AFTER_S}s`,
    onCancel,
    ...(analysed
      ? {
          analysis: {
            source: 'mesh',
            scopes: { canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } },
            warmup: '2s',
            interval: '2s',
            metrics: [{ name: 'success', metric: 'success-rate', critical: true, judge: { type: 'threshold', min: 99 } }],
          },
        }
      : {}),
  });
  specs.set(key, spec);
  return spec;
}

function verdictOf(s: NormalizedShiftSpec, canary: number[]): StepJudgement {
  const evidence = {
    requests: { canary: { requests: [100, 100, 100], errors: [0, 0, 0] }, baseline: { requests: [100, 100, 100], errors: [0, 0, 0] } },
    weights: { canary: 10, baseline: 10 },
  };
  return judgeStep(s.analysis!, { success: { canary, baseline: [99.9, 99.9, 99.9] } }, { step: 0, evidence });
}

const weightsOf = (destinations: IstioRouteDestination[] | undefined) => destinations?.map((d) => d.weight ?? 0);

interface Situation {
  phase: Phase;
  /** The current step's pause has ended. */
  pauseOver: boolean;
  /** This call is a status poll. */
  polledNow: boolean;
  /** When this replica last served a poll, seconds before now (undefined: it remembers none). */
  seenHereAgo?: number;
  /** The persisted lease (record.polledAt, which the create also set), seconds before now. */
  leaseAgo: number;
  /** Another writer set the route to other weights since the shift's last write. */
  drift: boolean;
  onCancel: OnCancel;
  verdict: Verdict;
}

/** A shift at step 1 of 3 (80/10/10) in the given situation, and the live route. */
const builds = new Map<string, { started: ShiftRecord; selection: RouteSelection; spec: NormalizedShiftSpec }>();

function build(s: Situation): { record: ShiftRecord; selection: RouteSelection; spec: NormalizedShiftSpec } {
  const key = `${s.onCancel}/${s.verdict}/${s.drift}`;
  const known = builds.get(key) ?? buildOnce(s);
  builds.set(key, known);
  const record: ShiftRecord = {
    ...known.started,
    phase: s.phase,
    polledAt: ago(s.leaseAgo),
    stepTimes: [{ appliedAt: ago(90), pauseUntil: s.pauseOver ? ago(1) : ago(-30) }],
  };
  if (s.phase !== 'RUNNING') record.finishedAt = ago(5);
  if (s.verdict === 'passed') record.judgements = [{ at: ago(2), judgement: verdictOf(known.spec, [99.9, 99.8, 99.9]) }];
  return { record, selection: known.selection, spec: known.spec };
}

function buildOnce(s: Situation): { started: ShiftRecord; selection: RouteSelection; spec: NormalizedShiftSpec } {
  const shiftSpec = spec(s.onCancel, s.verdict !== 'none');
  const vs = checkoutVirtualService(NS);
  const original = selectRoute(vs.spec, shiftSpec.route, VS_NAME);
  if (!original.ok) throw new Error(original.problem.message);
  const plan = planShift(shiftSpec, original.selected);
  if (!plan.ok) throw new Error('plan');
  const started = startShift('0123456789abcdef0123', shiftSpec, 'hash', { namespace: NS, name: 'checkout', uid: 'u1' }, original.selected, plan.plan, new Date(T0));
  const live = JSON.parse(JSON.stringify(vs.spec));
  const route = live.http.find((r: { name: string }) => r.name === 'primary');
  route.route = started.record.lastWritten.map((d, i) => ({ ...d, weight: s.drift ? DRIFTED[i] : d.weight }));
  return { started: started.record, selection: selectRoute(live, shiftSpec.route, VS_NAME), spec: shiftSpec };
}

function advanceIn(s: Situation): Outcome {
  const { record, selection } = build(s);
  const lastPollSeenHere = s.seenHereAgo === undefined ? undefined : NOW - s.seenHereAgo * 1000;
  return outcome(advance(record, selection, VS_NAME, new Date(NOW), { polledNow: s.polledNow, lastPollSeenHere }), record);
}

function cancelIn(s: Situation): Outcome {
  const { record, selection } = build(s);
  return outcome(cancel(record, selection, VS_NAME, new Date(NOW)), record);
}

/** What a transition did, in the terms the table states. */
interface Outcome {
  kind: 'none' | 'write';
  phase?: Phase;
  step?: number;
  reason?: string;
  rollback?: string;
  /** The weights written to the route; undefined when the write leaves the route alone. */
  weights?: number[];
  /** The lease written (seconds before now), when the record's polledAt changed. */
  leaseAgo?: number;
}

function outcome(t: Transition, before: ShiftRecord): Outcome {
  if (t.kind === 'none') return { kind: 'none' };
  const out: Outcome = { kind: 'write', phase: t.record.phase, step: t.record.currentStep };
  if (t.record.failure) out.reason = t.record.failure.reason;
  if (t.record.rollback) out.rollback = t.record.rollback.result;
  if (t.target) out.weights = weightsOf(t.target);
  if (t.record.polledAt !== before.polledAt) out.leaseAgo = (NOW - Date.parse(t.record.polledAt)) / 1000;
  return out;
}

const base: Situation = { phase: 'RUNNING', pauseOver: true, polledNow: true, leaseAgo: 10, drift: false, onCancel: 'rollback', verdict: 'none' };

describe('advance(): the rows that name a safety rule', () => {
  const rows: Array<[string, Partial<Situation>, Outcome]> = [
    ['pause over, polled now: the next step', {}, { kind: 'write', phase: 'RUNNING', step: 2, weights: STEP2, leaseAgo: 0 }],
    ['pause over, polled here 20 s ago (timer): the next step, lease moved to that poll', { polledNow: false, seenHereAgo: 20, leaseAgo: 30 }, { kind: 'write', phase: 'RUNNING', step: 2, weights: STEP2, leaseAgo: 20 }],
    [`pause over, last poll here ${WATCHED_WITHIN_SECONDS + 5} s ago: waits for a poll`, { polledNow: false, seenHereAgo: WATCHED_WITHIN_SECONDS + 5 }, { kind: 'none' }],
    // The persisted lease carries the create's own time: a create whose answer was lost is not a watcher.
    ['pause over, only the create (persisted lease 10 s ago), no poll here: waits', { polledNow: false, seenHereAgo: undefined, leaseAgo: 10 }, { kind: 'none' }],
    ['pause not over, polled now: nothing (lease fresh)', { pauseOver: false }, { kind: 'none' }],
    ['pause not over, polled now, lease half expired: renews the lease only', { pauseOver: false, leaseAgo: 70 }, { kind: 'write', phase: 'RUNNING', step: 1, leaseAgo: 0 }],
    ['no poll for abandonAfter: abandoned, weights restored', { polledNow: false, leaseAgo: ABANDON_AFTER_S + 1 }, { kind: 'write', phase: 'TERMINAL', step: 1, reason: 'ABANDONED', rollback: 'restored', weights: ORIGINAL }],
    ['no poll for abandonAfter, onCancel hold: abandoned, weights held', { polledNow: false, leaseAgo: ABANDON_AFTER_S + 1, onCancel: 'hold' }, { kind: 'write', phase: 'TERMINAL', step: 1, reason: 'ABANDONED', rollback: 'held' }],
    ['a poll seen here keeps an old persisted lease alive', { polledNow: false, seenHereAgo: 100, leaseAgo: ABANDON_AFTER_S + 60 }, { kind: 'none' }],
    ['another writer changed the route: TERMINAL, route left as they set it', { drift: true }, { kind: 'write', phase: 'TERMINAL', step: 1, reason: 'ROUTE_CHANGED' }],
    ['drift wins over abandonment: nothing is restored over another writer', { drift: true, polledNow: false, leaseAgo: ABANDON_AFTER_S + 1 }, { kind: 'write', phase: 'TERMINAL', step: 1, reason: 'ROUTE_CHANGED' }],
    ['analysed step not judged yet: waits, even watched', { verdict: 'awaiting' }, { kind: 'none' }],
    ['analysed step judged (pass): the next step', { verdict: 'passed' }, { kind: 'write', phase: 'RUNNING', step: 2, weights: STEP2, leaseAgo: 0 }],
    ['SUCCEEDED: nothing', { phase: 'SUCCEEDED' }, { kind: 'none' }],
    ['CANCELED, even drifted and abandoned: nothing', { phase: 'CANCELED', drift: true, leaseAgo: 999 }, { kind: 'none' }],
  ];
  it.each(rows)('%s', (_name, change, expected) => {
    expect(advanceIn({ ...base, ...change })).toEqual(expected);
  });
});

describe('cancel(): restores, holds, never undoes an ended shift, never overwrites another writer', () => {
  const rows: Array<[string, Partial<Situation>, Outcome]> = [
    ['running: CANCELED, weights restored', {}, { kind: 'write', phase: 'CANCELED', step: 1, rollback: 'restored', weights: ORIGINAL }],
    ['running, onCancel hold: CANCELED, weights held', { onCancel: 'hold' }, { kind: 'write', phase: 'CANCELED', step: 1, rollback: 'held' }],
    ['running, drifted: CANCELED, route NOT restored (conflict)', { drift: true }, { kind: 'write', phase: 'CANCELED', step: 1, rollback: 'conflict' }],
    ['SUCCEEDED: nothing (a cancel after success never undoes it)', { phase: 'SUCCEEDED' }, { kind: 'none' }],
    ['TERMINAL: nothing', { phase: 'TERMINAL' }, { kind: 'none' }],
    ['CANCELED: nothing (a second cancel)', { phase: 'CANCELED' }, { kind: 'none' }],
  ];
  it.each(rows)('%s', (_name, change, expected) => {
    expect(cancelIn({ ...base, ...change })).toEqual(expected);
  });
});

describe('judged(): a verdict is taken once, a pass moves on when watched, a fail restores or holds', () => {
  it.each([
    ['pass, watched, pause over: next step in the same write', true, true, { kind: 'write', phase: 'RUNNING', step: 2, weights: STEP2, leaseAgo: 0 }],
    ['pass, not watched: only the verdict is written', true, false, { kind: 'write', phase: 'RUNNING', step: 1 }],
    ['fail: TERMINAL, weights restored', false, true, { kind: 'write', phase: 'TERMINAL', step: 1, reason: 'ANALYSIS_FAILED', rollback: 'restored', weights: ORIGINAL }],
  ] as Array<[string, boolean, boolean, Outcome]>)('%s', (_name, pass, watched, expected) => {
    const s: Situation = { ...base, verdict: 'awaiting', polledNow: watched };
    const { record, selection, spec: shiftSpec } = build(s);
    const verdict = verdictOf(shiftSpec, pass ? [99.9, 99.8, 99.9] : [80, 70, 60]);
    const t = judged(record, selection, VS_NAME, new Date(NOW), 0, verdict, { polledNow: watched });
    expect(outcome(t, record)).toEqual(expected);
    // Judged once: the same verdict on the written record changes nothing.
    if (t.kind === 'write') expect(judged(t.record, selection, VS_NAME, new Date(NOW), 0, verdict, { polledNow: watched })).toEqual({ kind: 'none' });
  });
});

/** The rules as docs/reliability.md states them, in the order they take precedence. */
function expectedAdvance(s: Situation): Outcome {
  if (s.phase !== 'RUNNING') return { kind: 'none' };
  if (s.drift) return { kind: 'write', phase: 'TERMINAL', step: 1, reason: 'ROUTE_CHANGED' };
  const lastPollAgo = Math.min(s.leaseAgo, s.seenHereAgo ?? Infinity, s.polledNow ? 0 : Infinity);
  if (lastPollAgo > ABANDON_AFTER_S) {
    return s.onCancel === 'hold'
      ? { kind: 'write', phase: 'TERMINAL', step: 1, reason: 'ABANDONED', rollback: 'held' }
      : { kind: 'write', phase: 'TERMINAL', step: 1, reason: 'ABANDONED', rollback: 'restored', weights: ORIGINAL };
  }
  // Watched: polled now, or a poll this replica served lately; never the persisted lease alone.
  const watched = s.polledNow || (s.seenHereAgo !== undefined && s.seenHereAgo <= WATCHED_WITHIN_SECONDS);
  const newLease = lastPollAgo === s.leaseAgo ? undefined : lastPollAgo;
  if (s.pauseOver && watched && s.verdict !== 'awaiting') {
    return { kind: 'write', phase: 'RUNNING', step: 2, weights: STEP2, ...(newLease === undefined ? {} : { leaseAgo: newLease }) };
  }
  if (s.polledNow && s.leaseAgo >= ABANDON_AFTER_S / 2) return { kind: 'write', phase: 'RUNNING', step: 1, leaseAgo: 0 };
  return { kind: 'none' };
}

function* product(): Generator<Situation> {
  for (const phase of ['RUNNING', 'SUCCEEDED', 'CANCELED', 'TERMINAL'] as Phase[])
    for (const pauseOver of [true, false])
      for (const polledNow of [true, false])
        for (const seenHereAgo of [undefined, 5, WATCHED_WITHIN_SECONDS + 5, ABANDON_AFTER_S + 5])
          for (const leaseAgo of [5, ABANDON_AFTER_S * 0.75, ABANDON_AFTER_S + 5])
            for (const drift of [false, true])
              for (const onCancel of ['rollback', 'hold'] as OnCancel[])
                for (const verdict of ['none', 'awaiting', 'passed'] as Verdict[]) yield { phase, pauseOver, polledNow, seenHereAgo, leaseAgo, drift, onCancel, verdict };
}

describe('every combination of the dimensions', () => {
  it('advance() follows the stated rules in all of them', () => {
    const wrong: string[] = [];
    let rows = 0;
    for (const s of product()) {
      rows++;
      const got = advanceIn(s);
      const want = expectedAdvance(s);
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${JSON.stringify(s)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    expect(rows).toBe(4 * 2 * 2 * 4 * 3 * 2 * 2 * 3);
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('cancel() restores unless held or drifted, and touches no ended shift, in all of them', () => {
    const wrong: string[] = [];
    for (const s of product()) {
      const got = cancelIn(s);
      const want: Outcome =
        s.phase !== 'RUNNING'
          ? { kind: 'none' }
          : s.onCancel === 'hold'
            ? { kind: 'write', phase: 'CANCELED', step: 1, rollback: 'held' }
            : s.drift
              ? { kind: 'write', phase: 'CANCELED', step: 1, rollback: 'conflict' }
              : { kind: 'write', phase: 'CANCELED', step: 1, rollback: 'restored', weights: ORIGINAL };
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${JSON.stringify(s)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
