/** The status document for a shift record: what Orca polls and Deck displays. */
import { ShiftStatus, StepRecord, describeRunning, describeWeights, percentComplete, weightsOf } from '@istio-shift/core';
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

export function toStatus(record: ShiftRecord, urls: ShiftUrls, now: Date): ShiftStatus {
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
    currentWeights: weightsOf(spec, record.lastWritten),
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
  return status;
}
