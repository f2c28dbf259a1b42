/**
 * The shift's state machine as pure functions of (record, live route, time). Each returns the
 * record to persist and, when traffic must move, the destination list to write; the engine turns
 * that into one guarded patch. Keeping this pure makes every rule testable without a cluster.
 */
import {
  FAILURE_REASON,
  IstioRouteDestination,
  NormalizedShiftSpec,
  RouteSelection,
  SelectedRoute,
  ShiftPlan,
  StepJudgement,
  describeDrift,
  describeJudgement,
  describeWeights,
  destinationsForWeights,
  formatDuration,
} from '@istio-shift/core';
import { FailureReason, ObjectBinding, ShiftRecord, StepTimes } from './record';

export type Transition =
  | { kind: 'none' }
  | { kind: 'write'; record: ShiftRecord; target?: IstioRouteDestination[] };

const iso = (date: Date) => date.toISOString();

/**
 * A shift moves traffic only while a caller is demonstrably following it. Orca polls every 1 s for
 * a minute and then every 15 s, so a poll within this many seconds means "watched now" (two missed
 * polls mean nobody is looking right now; the next poll moves the shift on).
 */
export const WATCHED_WITHIN_SECONDS = 35;
/**
 * The persisted lease is renewed when it is older than this share of abandonAfter (lazy writes).
 * Every replica keeps every running shift (keeper.ts), and one that serves no polls knows only the
 * stored lease: it may lag the last poll by this share plus one poll period. A quarter keeps that
 * under abandonAfter for Orca's 15 s polls down to the 30 s minimum (7.5 + 15 < 30); a half did not
 * (15 + 15), so a keeper could abandon a shift another replica was still serving.
 */
export const LEASE_RENEW_FRACTION = 0.25;

/** What the engine knows about who is following a shift when it decides. */
export interface WatchContext {
  /** This call is a status poll (Orca's, or the Run Job CLI's loop). */
  polledNow: boolean;
  /** When this replica last served a poll for the shift (ms since epoch), if it remembers one. */
  lastPollSeenHere?: number;
}

export const NOT_POLLED: WatchContext = { polledNow: false };

/**
 * A stored lease (polledAt) later than the reader's now by more than this (a hand edit, a replica
 * whose clock runs ahead) is written back as the reader's now by the next decision, so it cannot
 * keep a shift alive past abandonAfter. Below it, the clamp in lastPollAt bounds the extension.
 */
export const FUTURE_LEASE_TOLERANCE_MS = 1000;

/** The latest evidence that a caller follows the shift (ms since epoch); a stored lease from the future counts as now. */
export function lastPollAt(record: ShiftRecord, watch: WatchContext, now: Date): number {
  return Math.max(Math.min(Date.parse(record.polledAt), now.getTime()), watch.lastPollSeenHere ?? 0, watch.polledNow ? now.getTime() : 0);
}

/** When the shift counts as abandoned unless a poll arrives first (ms since epoch). */
export function abandonAt(record: ShiftRecord, watch: WatchContext, now: Date): number {
  return lastPollAt(record, watch, now) + record.spec.abandonAfterSeconds * 1000;
}

function stepTimes(spec: NormalizedShiftSpec, stepIndex: number, now: Date): StepTimes {
  const pause = spec.steps[stepIndex].pauseSeconds;
  return { appliedAt: iso(now), pauseUntil: iso(new Date(now.getTime() + pause * 1000)) };
}

/** A step with no pause that is the last one ends the shift in the same write. */
function finishedAfter(spec: NormalizedShiftSpec, stepNumber: number): boolean {
  return stepNumber === spec.steps.length && spec.steps[stepNumber - 1].pauseSeconds === 0;
}

export function startShift(
  id: string,
  spec: NormalizedShiftSpec,
  specHash: string,
  boundTo: ObjectBinding,
  selected: SelectedRoute,
  plan: ShiftPlan,
  now: Date,
): { record: ShiftRecord; target: IstioRouteDestination[] } {
  const target = destinationsForWeights(spec, selected.destinations, spec.steps[0].weights);
  const done = finishedAfter(spec, 1);
  const record: ShiftRecord = {
    id,
    spec,
    specHash,
    boundTo,
    phase: done ? 'SUCCEEDED' : 'RUNNING',
    currentStep: 1,
    stepTimes: [stepTimes(spec, 0, now)],
    original: plan.originalDestinations,
    originalWeights: plan.originalWeights,
    lastWritten: target,
    // The create itself is the caller showing it follows the shift.
    polledAt: iso(now),
    createdAt: iso(now),
    updatedAt: iso(now),
  };
  if (done) record.finishedAt = iso(now);
  return { record, target };
}

/**
 * Ends an earlier attempt of the same stage that is still RUNNING when Orca restarts the stage:
 * the new attempt takes over the route (and its record of the weights from before the first
 * attempt), so nothing is rolled back twice and nothing is left running unwatched.
 */
export function supersede(record: ShiftRecord, byId: string, now: Date): ShiftRecord {
  return ended(record, now, {
    phase: 'TERMINAL',
    failure: { reason: FAILURE_REASON.SUPERSEDED, message: `superseded by shift ${byId}: the stage was restarted in Orca, and the new attempt took over the route` },
  });
}

function ended(record: ShiftRecord, now: Date, changes: Partial<ShiftRecord>): ShiftRecord {
  return { ...record, ...changes, updatedAt: iso(now), finishedAt: iso(now) };
}

/**
 * Why the shift cannot go on with this route, if it cannot: the route is gone, or another
 * writer changed its destinations or weights since our last write. We stop without touching it.
 */
function interference(record: ShiftRecord, selection: RouteSelection, vsName: string): ShiftRecord['failure'] {
  if (!selection.ok) {
    return { reason: FAILURE_REASON.ROUTE_MISSING, message: `the route this shift was moving is gone from ${vsName}: ${selection.problem.message}` };
  }
  const drift = describeDrift(record.lastWritten, selection.selected.destinations);
  if (drift) {
    return {
      reason: FAILURE_REASON.ROUTE_CHANGED,
      message: `another writer changed ${selection.selected.description} of ${vsName} during the shift (${drift}); the shift stopped and left the route as that writer set it`,
    };
  }
  return undefined;
}

/**
 * Brings a running shift up to date:
 * - another writer changed the route: TERMINAL, route left alone;
 * - no poll for abandonAfter: abandoned (restore, or hold with onCancel: hold), TERMINAL;
 * - pause over and a caller is watching: the next step (or SUCCEEDED after the last);
 * - a poll and a persisted lease older than LEASE_RENEW_FRACTION of abandonAfter: renew it;
 * - a persisted lease later than now (beyond FUTURE_LEASE_TOLERANCE_MS): write it back as now.
 * A pause that is over while nobody watches waits for the next poll: traffic never moves for a
 * pipeline that stopped following the shift.
 */
export function advance(record: ShiftRecord, selection: RouteSelection, vsName: string, now: Date, watch: WatchContext = NOT_POLLED): Transition {
  if (record.phase !== 'RUNNING') return { kind: 'none' };
  const problem = interference(record, selection, vsName);
  if (problem) return { kind: 'write', record: ended(record, now, { phase: 'TERMINAL', failure: problem }) };
  const lastPoll = lastPollAt(record, watch, now);
  if (now.getTime() > abandonAt(record, watch, now)) return abandon(record, selection, vsName, now, lastPoll);
  const polledAt = iso(new Date(lastPoll));
  const current = record.stepTimes[record.currentStep - 1];
  const pauseOver = !(current?.pauseUntil && Date.parse(current.pauseUntil) > now.getTime());
  // Only a poll seen now or by this replica counts as "watched": the persisted lease also carries the
  // create's own time, and a create whose answer was lost is not a caller following the shift.
  const seenHere = watch.polledNow ? now.getTime() : watch.lastPollSeenHere ?? 0;
  const watched = now.getTime() - seenHere <= WATCHED_WITHIN_SECONDS * 1000;
  // A step with analysis moves on only once its judgement passed (the runner records it; see judged()).
  if (!pauseOver || !watched || awaitingJudgement(record)) {
    const renewDue = (watch.polledNow && now.getTime() - Date.parse(record.polledAt) >= record.spec.abandonAfterSeconds * 1000 * LEASE_RENEW_FRACTION)
      || Date.parse(record.polledAt) - now.getTime() > FUTURE_LEASE_TOLERANCE_MS;
    return renewDue ? { kind: 'write', record: { ...record, polledAt, updatedAt: iso(now) } } : { kind: 'none' };
  }
  if (record.currentStep >= record.spec.steps.length) {
    return { kind: 'write', record: ended(record, now, { phase: 'SUCCEEDED', polledAt }) };
  }
  const selected = (selection as { ok: true; selected: SelectedRoute }).selected;
  const next = record.currentStep + 1;
  const target = destinationsForWeights(record.spec, selected.destinations, record.spec.steps[next - 1].weights);
  const updated: ShiftRecord = {
    ...record,
    currentStep: next,
    stepTimes: [...record.stepTimes, stepTimes(record.spec, next - 1, now)],
    lastWritten: target,
    polledAt,
    updatedAt: iso(now),
  };
  if (finishedAfter(record.spec, next)) {
    updated.phase = 'SUCCEEDED';
    updated.finishedAt = iso(now);
  }
  return { kind: 'write', record: updated, target };
}

/** The current step is analysed and has no judgement yet. */
export function awaitingJudgement(record: ShiftRecord): boolean {
  const index = record.currentStep - 1;
  return record.spec.analysis?.steps[index]?.analysed === true && !record.judgements?.[index];
}

/**
 * Records the judgement of step `stepIndex` (0-based), taken once: a judgement for a step that is
 * no longer current, or already judged (by another replica), is dropped. A pass moves the shift on
 * in the same write when the pause is over and a caller watches (else the next poll does); a fail
 * ends it TERMINAL and restores (or, with onFailure: hold, holds) the weights from before the shift.
 * InsufficientData (recorded once the wait for evidence is over) ends it the same way, as
 * ANALYSIS_INSUFFICIENT_DATA, and holds the weights with evidence.onInsufficient: hold.
 */
export function judged(record: ShiftRecord, selection: RouteSelection, vsName: string, now: Date, stepIndex: number, judgement: StepJudgement, watch: WatchContext = NOT_POLLED): Transition {
  if (record.phase !== 'RUNNING' || record.currentStep - 1 !== stepIndex || !awaitingJudgement(record)) return { kind: 'none' };
  const judgements = Array.from({ length: Math.max(stepIndex + 1, record.judgements?.length ?? 0) }, (_, i) => record.judgements?.[i] ?? null);
  judgements[stepIndex] = { at: iso(now), judgement };
  const withVerdict: ShiftRecord = { ...record, judgements, updatedAt: iso(now) };
  if (judgement.passed) {
    const next = advance(withVerdict, selection, vsName, now, watch);
    return next.kind === 'write' ? next : { kind: 'write', record: withVerdict };
  }
  if (judgement.result === 'InsufficientData') {
    // Too little to judge is not a verdict on the canary: onInsufficient may hold where onFailure would restore.
    const hold = record.spec.analysis?.evidence?.onInsufficient === 'hold' ? 'evidence.onInsufficient: hold' : undefined;
    return analysisStop(withVerdict, selection, vsName, now, FAILURE_REASON.ANALYSIS_INSUFFICIENT_DATA, describeJudgement(judgement, stepIndex + 1), hold);
  }
  return analysisStop(withVerdict, selection, vsName, now, FAILURE_REASON.ANALYSIS_FAILED, describeJudgement(judgement, stepIndex + 1));
}

/**
 * The analysis of the current step could not run (metrics source down past the grace, query
 * rejected, data missing under nodata: wait): never promote on missing data, so the shift ends as
 * a failed judgement does.
 */
export function analysisUnavailable(record: ShiftRecord, selection: RouteSelection, vsName: string, now: Date, stepIndex: number, why: string): Transition {
  if (record.phase !== 'RUNNING' || record.currentStep - 1 !== stepIndex || !awaitingJudgement(record)) return { kind: 'none' };
  return analysisStop(record, selection, vsName, now, FAILURE_REASON.ANALYSIS_UNAVAILABLE, `step ${stepIndex + 1} analysis could not run: ${why}`);
}

/** Ends the shift TERMINAL for its analysis: weights restored, or held as `holdBy` or onFailure: hold asks. */
function analysisStop(record: ShiftRecord, selection: RouteSelection, vsName: string, now: Date, reason: FailureReason, why: string, holdBy?: string): Transition {
  const hold = holdBy ?? (record.spec.analysis?.onFailure === 'hold' ? 'onFailure: hold' : false);
  const transition = stop(record, selection, vsName, now, { phase: 'TERMINAL', why, hold });
  if (transition.kind !== 'write') return transition;
  return { ...transition, record: { ...transition.record, failure: { reason, message: transition.record.rollback?.message ?? why } } };
}

/**
 * Stops a running shift without success: restores the route as it was before the first step (or
 * holds, if the spec says so), unless another writer changed it, which is never overwritten.
 * `hold` overrides onCancel: the setting that asks to hold, or false to restore.
 */
function stop(
  record: ShiftRecord,
  selection: RouteSelection,
  vsName: string,
  now: Date,
  outcome: { phase: 'CANCELED' | 'TERMINAL'; failure?: ShiftRecord['failure']; why: string; hold?: string | false },
): Transition {
  const weightsNow = describeWeights(record.spec.destinations, record.spec.steps[record.currentStep - 1]?.weights ?? []);
  const close = (changes: Partial<ShiftRecord>) => ended(record, now, { phase: outcome.phase, ...(outcome.failure ? { failure: outcome.failure } : {}), ...changes });
  const holdBy = outcome.hold !== undefined ? outcome.hold : record.spec.onCancel === 'hold' ? 'onCancel: hold' : false;
  if (holdBy) {
    return { kind: 'write', record: close({ rollback: { result: 'held', message: `${outcome.why}; weights held at ${weightsNow} as the spec asks (${holdBy})` } }) };
  }
  const problem = interference(record, selection, vsName);
  if (problem) {
    return { kind: 'write', record: close({ rollback: { result: 'conflict', message: `${outcome.why}, but weights were NOT restored: ${problem.message}` } }) };
  }
  return {
    kind: 'write',
    record: close({
      lastWritten: record.original,
      rollback: { result: 'restored', message: `${outcome.why}; weights restored to ${describeWeights(record.spec.destinations, record.originalWeights)}` },
    }),
    target: record.original,
  };
}

/**
 * Cancels a running shift (Orca's cancel call). Ended shifts are left alone, so a cancel after
 * success never undoes it.
 */
export function cancel(record: ShiftRecord, selection: RouteSelection, vsName: string, now: Date): Transition {
  if (record.phase !== 'RUNNING') return { kind: 'none' };
  return stop(record, selection, vsName, now, { phase: 'CANCELED', why: 'cancelled' });
}

/** Nobody polled for abandonAfter: the pipeline stopped watching, so traffic goes back. */
function abandon(record: ShiftRecord, selection: RouteSelection, vsName: string, now: Date, lastPoll: number): Transition {
  const silence = formatDuration((now.getTime() - lastPoll) / 1000);
  const why = `abandoned: no status poll for ${silence} (abandonAfter ${formatDuration(record.spec.abandonAfterSeconds)})`;
  const transition = stop(record, selection, vsName, now, { phase: 'TERMINAL', why });
  if (transition.kind !== 'write') return transition;
  const message = transition.record.rollback?.message ?? why;
  return { ...transition, record: { ...transition.record, failure: { reason: FAILURE_REASON.ABANDONED, message } } };
}
