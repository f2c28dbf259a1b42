/**
 * The stage's validateFn: the shared validator (the one the service runs) plus the two things only
 * the stage JSON can get wrong (the stage identity and the timeout).
 */
import type { FormikErrors } from 'formik';
import type { IStage, ITrigger } from '@spinnaker/core';
import { validateShiftSpec } from '@istio-shift/core';
import { problemsToErrors, stageTimeout } from './model';

export function stageRefProblem(stage: Partial<IStage>): string | undefined {
  const stageRef = stage.payload?.stageRef;
  if (stage.refId === undefined || stage.refId === null || stageRef === String(stage.refId)) return undefined;
  return (
    `payload.stageRef is ${JSON.stringify(stageRef)} but this stage's refId is "${stage.refId}": ` +
    'open the stage in the editor, which writes it (it names the shift, so a retried create is not a second shift)'
  );
}

export function timeoutProblem(stage: Partial<IStage>): string | undefined {
  const needed = stageTimeout(stage.payload).stageTimeoutMs;
  const actual = stage.stageTimeoutMs;
  if (typeof actual === 'number' && actual >= needed) return undefined;
  if (typeof actual === 'string' && actual.includes('${')) return undefined;
  return (
    `stageTimeoutMs is ${JSON.stringify(actual ?? null)}, shorter than the ${needed} ms the pauses need: ` +
    'open the stage in the editor, which sets it (Orca would otherwise stop watching the shift after 1 hour)'
  );
}

export function validateIstioTrafficShiftStage(values: IStage | ITrigger): FormikErrors<IStage> {
  const stage = values as IStage;
  const result = validateShiftSpec(stage.payload, { allowExpressions: true });
  const errors = problemsToErrors(result.problems, 'payload', stage.payload) as FormikErrors<IStage>;
  const refProblem = stageRefProblem(stage);
  if (refProblem && typeof errors.payload !== 'string') {
    errors.payload = { ...(errors.payload as object), stageRef: refProblem } as FormikErrors<IStage>['payload'];
  }
  const timeout = timeoutProblem(stage);
  if (timeout) (errors as Record<string, unknown>).stageTimeoutMs = timeout;
  return errors;
}
