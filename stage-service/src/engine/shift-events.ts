/**
 * What a written change of a shift record means for `kubectl describe virtualservice`: the
 * Kubernetes Events (reason, type, message) to record. Pure: derived only from the record as it was
 * before the write and as written, so every replica, timer and poll says the same thing, and only
 * for writes the API server accepted.
 */
import { FAILURE_REASON, describeJudgement, describeWeights, formatDuration } from '@istio-shift/core';
import type { ShiftEvent } from '../kube/event-types';
import { ShiftRecord } from './record';

/** The Event reasons a shift records (core/v1 Event.reason: UpperCamelCase, at most 128 characters). */
export const SHIFT_EVENT_REASON = {
  STEP_APPLIED: 'StepApplied',
  ANALYSIS_PASSED: 'AnalysisPassed',
  ANALYSIS_FAILED: 'AnalysisFailed',
  ANALYSIS_UNAVAILABLE: 'AnalysisUnavailable',
  COMPLETED: 'Completed',
  CANCELLED: 'Cancelled',
  ROLLED_BACK: 'RolledBack',
  ABANDONED: 'Abandoned',
  CONFLICT: 'Conflict',
  SUPERSEDED: 'Superseded',
} as const;

/** Which pipeline run the event is about: Orca's execution id (and stage), or the shift id alone. */
function whose(record: ShiftRecord): string {
  const spec = record.spec;
  return spec.executionId ? `execution ${spec.executionId} stage ${spec.stageRef}, shift ${record.id}` : `shift ${record.id}`;
}

function weightsOfStep(record: ShiftRecord, stepNumber: number): string {
  return describeWeights(record.spec.destinations, record.spec.steps[stepNumber - 1]?.weights ?? []);
}

/** The events for `after` as written over `before` (undefined: the create that started it). */
export function eventsForChange(before: ShiftRecord | undefined, after: ShiftRecord): ShiftEvent[] {
  const events: ShiftEvent[] = [];
  const say = (type: ShiftEvent['type'], reason: string, message: string) => events.push({ type, reason, message: `${message} (${whose(after)})` });
  const total = after.spec.steps.length;
  // A verdict first: it is what let the step through (or stopped the shift).
  (after.judgements ?? []).forEach((verdict, index) => {
    if (!verdict || before?.judgements?.[index]) return;
    const passed = verdict.judgement.passed;
    say(passed ? 'Normal' : 'Warning', passed ? SHIFT_EVENT_REASON.ANALYSIS_PASSED : SHIFT_EVENT_REASON.ANALYSIS_FAILED, describeJudgement(verdict.judgement, index + 1));
  });
  for (let step = (before?.currentStep ?? 0) + 1; step <= after.currentStep; step++) {
    const pause = after.spec.steps[step - 1].pauseSeconds;
    say('Normal', SHIFT_EVENT_REASON.STEP_APPLIED, `step ${step} of ${total}: ${weightsOfStep(after, step)}${pause > 0 ? `, pause ${formatDuration(pause)}` : ''}`);
  }
  const ended = after.phase !== 'RUNNING' && (before === undefined || before.phase === 'RUNNING');
  if (!ended) return events;
  if (after.phase === 'SUCCEEDED') {
    say('Normal', SHIFT_EVENT_REASON.COMPLETED, `shift completed at step ${after.currentStep} of ${total}: ${weightsOfStep(after, after.currentStep)}`);
    return events;
  }
  if (after.phase === 'CANCELED') {
    say('Normal', SHIFT_EVENT_REASON.CANCELLED, after.rollback?.message ?? 'cancelled');
  } else {
    const reason = after.failure?.reason;
    const message = after.failure?.message ?? after.rollback?.message ?? 'stopped';
    if (reason === FAILURE_REASON.ROUTE_CHANGED || reason === FAILURE_REASON.ROUTE_MISSING) say('Warning', SHIFT_EVENT_REASON.CONFLICT, message);
    else if (reason === FAILURE_REASON.ABANDONED) say('Warning', SHIFT_EVENT_REASON.ABANDONED, message);
    else if (reason === FAILURE_REASON.SUPERSEDED) say('Normal', SHIFT_EVENT_REASON.SUPERSEDED, message);
    else if (reason === FAILURE_REASON.ANALYSIS_UNAVAILABLE) say('Warning', SHIFT_EVENT_REASON.ANALYSIS_UNAVAILABLE, message);
  }
  // A stop that could not restore because another writer changed the route is a conflict too.
  if (after.rollback?.result === 'conflict' && after.failure?.reason !== FAILURE_REASON.ROUTE_CHANGED && after.failure?.reason !== FAILURE_REASON.ROUTE_MISSING) {
    say('Warning', SHIFT_EVENT_REASON.CONFLICT, after.rollback.message);
  }
  if (after.rollback?.result === 'restored') {
    say('Warning', SHIFT_EVENT_REASON.ROLLED_BACK, `weights restored to ${describeWeights(after.spec.destinations, after.originalWeights)}`);
  }
  return events;
}
