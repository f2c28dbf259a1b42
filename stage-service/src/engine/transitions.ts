/**
 * The shift's state machine as pure functions of (record, live route, time). Each returns the
 * record to persist and, when traffic must move, the destination list to write; the engine turns
 * that into one guarded patch. Keeping this pure makes every rule testable without a cluster.
 */
import {
  IstioRouteDestination,
  NormalizedShiftSpec,
  RouteSelection,
  SelectedRoute,
  ShiftPlan,
  describeDrift,
  describeWeights,
  destinationsForWeights,
} from '@istio-shift/core';
import { ShiftRecord, StepTimes } from './record';

export type Transition =
  | { kind: 'none' }
  | { kind: 'write'; record: ShiftRecord; target?: IstioRouteDestination[] };

const iso = (date: Date) => date.toISOString();

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
    phase: done ? 'SUCCEEDED' : 'RUNNING',
    currentStep: 1,
    stepTimes: [stepTimes(spec, 0, now)],
    original: plan.originalDestinations,
    originalWeights: plan.originalWeights,
    lastWritten: target,
    createdAt: iso(now),
    updatedAt: iso(now),
  };
  if (done) record.finishedAt = iso(now);
  return { record, target };
}

function ended(record: ShiftRecord, now: Date, changes: Partial<ShiftRecord>): ShiftRecord {
  return { ...record, ...changes, updatedAt: iso(now), finishedAt: iso(now) };
}

/**
 * Why the shift cannot go on with this route, if it cannot: the route is gone, or another
 * writer changed its destinations or weights since our last write. We stop without touching it.
 */
function interference(record: ShiftRecord, selection: RouteSelection, vsName: string): { reason: string; message: string } | undefined {
  if (!selection.ok) {
    return { reason: 'ROUTE_MISSING', message: `the route this shift was moving is gone from ${vsName}: ${selection.problem.message}` };
  }
  const drift = describeDrift(record.lastWritten, selection.selected.destinations);
  if (drift) {
    return {
      reason: 'ROUTE_CHANGED',
      message: `another writer changed ${selection.selected.description} of ${vsName} during the shift (${drift}); the shift stopped and left the route as that writer set it`,
    };
  }
  return undefined;
}

/** Applies the next step when the current step's pause is over; ends the shift after the last. */
export function advance(record: ShiftRecord, selection: RouteSelection, vsName: string, now: Date): Transition {
  if (record.phase !== 'RUNNING') return { kind: 'none' };
  const problem = interference(record, selection, vsName);
  if (problem) return { kind: 'write', record: ended(record, now, { phase: 'TERMINAL', failure: problem }) };
  const current = record.stepTimes[record.currentStep - 1];
  if (current?.pauseUntil && Date.parse(current.pauseUntil) > now.getTime()) return { kind: 'none' };
  if (record.currentStep >= record.spec.steps.length) {
    return { kind: 'write', record: ended(record, now, { phase: 'SUCCEEDED' }) };
  }
  const selected = (selection as { ok: true; selected: SelectedRoute }).selected;
  const next = record.currentStep + 1;
  const target = destinationsForWeights(record.spec, selected.destinations, record.spec.steps[next - 1].weights);
  const updated: ShiftRecord = {
    ...record,
    currentStep: next,
    stepTimes: [...record.stepTimes, stepTimes(record.spec, next - 1, now)],
    lastWritten: target,
    updatedAt: iso(now),
  };
  if (finishedAfter(record.spec, next)) {
    updated.phase = 'SUCCEEDED';
    updated.finishedAt = iso(now);
  }
  return { kind: 'write', record: updated, target };
}

/**
 * Cancels a running shift: restores the route as it was before the first step (or holds, if the
 * spec says so). Ended shifts are left alone, so a cancel after success never undoes it, and a
 * route someone else changed is never overwritten.
 */
export function cancel(record: ShiftRecord, selection: RouteSelection, vsName: string, now: Date): Transition {
  if (record.phase !== 'RUNNING') return { kind: 'none' };
  const weightsNow = describeWeights(record.spec.destinations, record.spec.steps[record.currentStep - 1]?.weights ?? []);
  if (record.spec.onCancel === 'hold') {
    return {
      kind: 'write',
      record: ended(record, now, { phase: 'CANCELED', rollback: { result: 'held', message: `cancelled; weights held at ${weightsNow} as the spec asks (onCancel: hold)` } }),
    };
  }
  const problem = interference(record, selection, vsName);
  if (problem) {
    return {
      kind: 'write',
      record: ended(record, now, { phase: 'CANCELED', rollback: { result: 'conflict', message: `cancelled, but weights were NOT restored: ${problem.message}` } }),
    };
  }
  return {
    kind: 'write',
    record: ended(record, now, {
      phase: 'CANCELED',
      lastWritten: record.original,
      rollback: { result: 'restored', message: `cancelled; weights restored to ${describeWeights(record.spec.destinations, record.originalWeights)}` },
    }),
    target: record.original,
  };
}
