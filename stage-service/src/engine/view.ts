/** The status document for a shift record: what Orca polls and Deck displays. */
import { AttemptSummary, ShiftStatus, StepRecord, describeRunning, describeWeights, percentComplete, weightsOf } from '@istio-shift/core';
import { ShiftRecord } from './record';

export interface ShiftUrls {
  statusUrl: string;
  cancelUrl: string;
}

function message(record: ShiftRecord, steps: StepRecord[], now: Date): string {
  const { spec } = record;
  switch (record.phase) {
    case 'RUNNING':
      return describeRunning(spec.destinations, steps[record.currentStep - 1], spec.steps.length, now);
    case 'SUCCEEDED':
      return `completed ${spec.steps.length} of ${spec.steps.length} steps: ${describeWeights(spec.destinations, spec.steps[spec.steps.length - 1].weights)}`;
    case 'TERMINAL':
      return record.failure?.message ?? 'the shift failed';
    case 'CANCELED':
      return record.rollback?.message ?? 'cancelled';
  }
}

function attemptSummary(record: ShiftRecord, now: Date): AttemptSummary {
  const steps = record.spec.steps.map((step, i) => ({ index: i + 1, weights: step.weights, pauseSeconds: step.pauseSeconds, ...record.stepTimes[i] }));
  const summary: AttemptSummary = { id: record.id, restartedAt: record.spec.restartedAt, status: record.phase, message: message(record, steps, now), createdAt: record.createdAt };
  if (record.finishedAt) summary.finishedAt = record.finishedAt;
  return summary;
}

/**
 * The status body. `lastPollSeen` is this replica's own memory of polls (ms), which may be newer
 * than the lazily persisted lease.
 */
export function toStatus(record: ShiftRecord, urls: ShiftUrls, now: Date, attempts: ShiftRecord[] = [record], lastPollSeen?: number): ShiftStatus {
  const { spec } = record;
  const steps: StepRecord[] = spec.steps.map((step, i) => ({
    index: i + 1,
    weights: step.weights,
    pauseSeconds: step.pauseSeconds,
    ...record.stepTimes[i],
  }));
  const status: ShiftStatus = {
    id: record.id,
    status: record.phase,
    message: message(record, steps, now),
    percentComplete: record.phase === 'SUCCEEDED' ? 100 : percentComplete(steps, now),
    ...urls,
    account: spec.account,
    namespace: spec.namespace,
    virtualService: spec.virtualService,
    route: spec.route,
    destinations: spec.destinations,
    currentStep: record.currentStep,
    totalSteps: spec.steps.length,
    currentWeights: record.endedWeights ?? weightsOf(spec, record.lastWritten),
    originalWeights: record.originalWeights,
    steps,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.finishedAt) status.finishedAt = record.finishedAt;
  if (record.failure) status.failure = record.failure;
  if (record.rollback) status.rollback = record.rollback;
  if (spec.executionId) status.executionId = spec.executionId;
  if (spec.stageRef) status.stageRef = spec.stageRef;
  status.restartedAt = spec.restartedAt;
  if (attempts.length > 1) status.attempts = attempts.map((attempt) => attemptSummary(attempt, now));
  const lastPolled = Math.max(Date.parse(record.polledAt), lastPollSeen ?? 0);
  status.watch = { abandonAfterSeconds: spec.abandonAfterSeconds, lastPolledAt: new Date(lastPolled).toISOString() };
  return status;
}
