/**
 * Failures the engine reports to its callers (HTTP layer or CLI) in their own terms; the HTTP
 * layer maps each kind to a status code, the CLI to an exit message.
 */
import { Problem } from '@istio-shift/core';

export type ShiftErrorKind = 'invalid' | 'not-found' | 'conflict' | 'forbidden' | 'unavailable';

export class ShiftError extends Error {
  constructor(
    readonly kind: ShiftErrorKind,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = 'ShiftError';
  }
}
