/**
 * The persisted state of a shift. Records live in one annotation on the VirtualService they
 * shift, so the state is in the cluster (a restarted service or a second replica reads it back),
 * and every step writes weights and state in one atomic, guarded JSON Patch.
 */
import { IstioRouteDestination, NormalizedShiftSpec, ShiftPhase } from '@istio-shift/core';
import { VirtualServiceObject } from '../kube/types';

export const STATE_ANNOTATION = 'traffic-shift.spinnaker.io/shifts';
const STATE_FORMAT = 1;
/** Ended shifts kept per VirtualService, so retried creates and late status polls still find them. */
const ENDED_RECORDS_KEPT = 20;

export interface StepTimes {
  appliedAt?: string;
  pauseUntil?: string;
}

export interface ShiftRecord {
  id: string;
  spec: NormalizedShiftSpec;
  /** Fingerprint of the spec: a retried create must carry the same one. */
  specHash: string;
  phase: ShiftPhase;
  /** 1-based step whose weights are live; 0 before the first step. */
  currentStep: number;
  stepTimes: StepTimes[];
  /** The route's destinations before the shift, verbatim (what a rollback restores). */
  original: IstioRouteDestination[];
  originalWeights: number[];
  /** What this shift last wrote: anything else found in the route means another writer. */
  lastWritten: IstioRouteDestination[];
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  failure?: { reason: string; message: string };
  rollback?: { result: 'restored' | 'held' | 'conflict'; message: string };
}

export interface ShiftState {
  format: number;
  shifts: Record<string, ShiftRecord>;
}

/** Thrown when the annotation exists but is not ours to read: never overwrite what we cannot parse. */
export class CorruptStateError extends Error {}

export function readState(object: VirtualServiceObject): { state: ShiftState; raw: string | undefined } {
  const raw = object.metadata.annotations?.[STATE_ANNOTATION];
  if (raw === undefined) return { state: { format: STATE_FORMAT, shifts: {} }, raw };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new CorruptStateError(`annotation ${STATE_ANNOTATION} on ${object.metadata.namespace}/${object.metadata.name} is not valid JSON; remove it if no shift is running`);
  }
  const state = parsed as Partial<ShiftState>;
  if (state.format !== STATE_FORMAT || typeof state.shifts !== 'object' || state.shifts === null) {
    throw new CorruptStateError(`annotation ${STATE_ANNOTATION} on ${object.metadata.namespace}/${object.metadata.name} has an unknown format; remove it if no shift is running`);
  }
  return { state: state as ShiftState, raw };
}

/** Serializes the state with `record` written in, dropping the oldest ended records beyond the limit. */
export function writeState(state: ShiftState, record: ShiftRecord): string {
  const shifts = { ...state.shifts, [record.id]: record };
  const ended = Object.values(shifts)
    .filter((r) => r.phase !== 'RUNNING')
    .sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
  for (const old of ended.slice(ENDED_RECORDS_KEPT)) delete shifts[old.id];
  return JSON.stringify({ format: STATE_FORMAT, shifts });
}
