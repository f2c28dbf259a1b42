/**
 * Checks and wording only the stage service uses (its URLs and its CLI's error line). They sit apart
 * from validate.ts so the Deck plugin, which imports the spec validator, does not bundle them.
 */
import { Checker, Problem } from './checker';
import { SPEC_RULES } from './validate';

/** The segments of a shift's URL: /v1/shifts/{account}/{namespace}/{virtualService}/{id}. */
export interface ShiftPathSegments {
  account: unknown;
  namespace: unknown;
  virtualService: unknown;
  id: unknown;
}

/**
 * Checks a shift's URL segments with the same rules as the create body, so a segment can never
 * address anything but a VirtualService (e.g. "checkout/status" would reach the status subresource).
 */
export function validateShiftPath(segments: ShiftPathSegments): Problem[] {
  const check = new Checker('rejected');
  check.string('account', segments.account, { ...SPEC_RULES.account, describe: 'the Spinnaker account of the shift' });
  check.string('namespace', segments.namespace, SPEC_RULES.namespace);
  check.string('virtualService', segments.virtualService, SPEC_RULES.virtualService);
  check.string('id', segments.id, SPEC_RULES.shiftId);
  return check.problems;
}

/** "field: message; field: message" for logs and CLI output. */
export function describeProblems(problems: Problem[]): string {
  return problems.map((p) => p.message).join('; ');
}
