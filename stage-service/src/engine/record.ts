/**
 * The persisted state of a shift. Records live in one annotation on the VirtualService they
 * shift, so the state is in the cluster (a restarted service or a second replica reads it back),
 * and every step writes weights and state in one atomic, guarded JSON Patch.
 *
 * The annotation is not trusted: anyone who can edit the VirtualService can edit it, and a
 * `kubectl get -o yaml | apply` or a backup restore copies it onto another object. So every record
 * is checked against a schema when read (recordProblem), and carries the identity of the object it
 * was written on (boundTo: namespace, name and uid, which a copy cannot carry). A record that fails
 * either check is reported and never acted on, and it is written back verbatim, never "repaired".
 */
import { FailureReason, IstioRouteDestination, NormalizedShiftSpec, RollbackResult, ShiftPhase, StepJudgement, weightsOf } from '@istio-shift/core';
import { VirtualServiceObject } from '../kube/types';
import { recordProblem } from './record-schema';

// The failure reasons are part of the wire contract, defined once in core (contract.ts).
export { FAILURE_REASONS, FAILURE_REASON } from '@istio-shift/core';
export type { FailureReason } from '@istio-shift/core';

export const STATE_ANNOTATION = 'traffic-shift.spinnaker.io/shifts';
const STATE_FORMAT = 1;
/** Ended shifts kept per VirtualService, so retried creates and late status polls still find them. */
const ENDED_RECORDS_KEPT = 20;
/**
 * The annotation's size bound: the oldest ended records go first when it would be larger. Every
 * poll of every replica's watch carries the whole object, so its size is paid on each change.
 */
export const STATE_MAX_BYTES = 32 * 1024;
/** Fields an ended record no longer needs (nothing is rolled back or advanced any more). */
const COMPACTED_AWAY = ['original', 'lastWritten', 'stepTimes'] as const;

export interface StepTimes {
  appliedAt?: string;
  pauseUntil?: string;
}

/** The object a record was written on: a record found on any other object is foreign. */
export interface ObjectBinding {
  namespace: string;
  name: string;
  uid: string;
}

/** A step's analysis judgement as persisted: taken once, never re-taken (it is the guard). */
export interface StepVerdict {
  at: string;
  judgement: StepJudgement;
}

export interface ShiftRecord {
  id: string;
  spec: NormalizedShiftSpec;
  /** Fingerprint of the spec: a retried create must carry the same one. */
  specHash: string;
  boundTo: ObjectBinding;
  phase: ShiftPhase;
  /** 1-based step whose weights are live; 0 before the first step. */
  currentStep: number;
  stepTimes: StepTimes[];
  /** The route's destinations before the shift, verbatim (what a rollback restores). */
  original: IstioRouteDestination[];
  originalWeights: number[];
  /** What this shift last wrote: anything else found in the route means another writer. */
  lastWritten: IstioRouteDestination[];
  /**
   * The watch lease: when a caller (Orca's status poll, the Run Job CLI) last showed it is following
   * the shift, as persisted. Renewed lazily (see LEASE_RENEW_FRACTION), so it may lag by up to a quarter
   * of abandonAfter; replicas also remember the polls they served themselves.
   */
  polledAt: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  failure?: { reason: FailureReason; message: string };
  rollback?: { result: RollbackResult; message: string };
  /** Index-aligned with the steps (null: not judged); present once a step with analysis was judged. */
  judgements?: Array<StepVerdict | null>;
  /**
   * Only on compacted ended records: the weights the shift left in the route (aligned with
   * spec.destinations). Compacted records are stored without original, lastWritten and stepTimes
   * (read back as empty lists): what a status, Orca's cancel and a retried create need remains.
   */
  endedWeights?: number[];
}

/** A record the service will not act on, and why; its raw value is written back untouched. */
export interface UnusableRecord {
  id: string;
  raw: unknown;
  problem: string;
}

export interface ShiftState {
  /** Records that passed the schema and belong to this object. */
  shifts: Map<string, ShiftRecord>;
  /** Records that failed the schema or were copied from another object. */
  unusable: Map<string, UnusableRecord>;
}

/** Thrown when the annotation exists but is not ours to read: never overwrite what we cannot parse. */
export class CorruptStateError extends Error {}

export function emptyState(): ShiftState {
  return { shifts: new Map(), unusable: new Map() };
}

export function bindingOf(object: VirtualServiceObject): ObjectBinding {
  return { namespace: object.metadata.namespace, name: object.metadata.name, uid: object.metadata.uid ?? '' };
}

function foreignProblem(record: ShiftRecord, object: VirtualServiceObject): string | undefined {
  const here = bindingOf(object);
  const there = record.boundTo;
  if (there.namespace === here.namespace && there.name === here.name && there.uid === here.uid) return undefined;
  const where = there.namespace === here.namespace && there.name === here.name ? `an earlier object with the same name (uid ${there.uid}; this one is ${here.uid})` : `${there.namespace}/${there.name}`;
  return `shift ${record.id} was written on ${where} and copied here (by an apply of a saved copy or a backup restore); the service does not drive copied shifts: remove it from annotation ${STATE_ANNOTATION}`;
}

/**
 * Records written before records were bound to their object (0.1.0) lack boundTo, polledAt and two
 * spec fields. One that names this object is adopted with its updatedAt as the last poll, so a shift
 * that was running during the upgrade is either polled again or abandoned (restored), never stuck.
 */
function upgradeLegacy(value: unknown, object: VirtualServiceObject): unknown {
  const record = value as Partial<ShiftRecord> | null;
  if (typeof record !== 'object' || record === null || record.boundTo !== undefined || typeof record.spec !== 'object' || record.spec === null) return value;
  if (record.spec.namespace !== object.metadata.namespace || record.spec.virtualService !== object.metadata.name) return value;
  return {
    ...record,
    spec: { ...record.spec, restartedAt: record.spec.restartedAt ?? 0, abandonAfterSeconds: record.spec.abandonAfterSeconds ?? 120 },
    boundTo: bindingOf(object),
    polledAt: record.updatedAt,
  };
}

/**
 * Parsed states by object: a watch cache hands out the same object until it changes, so a status
 * poll re-validates nothing (schema checks re-run the spec validator per record). Callers never
 * mutate the state they get (the engine copies its Maps before writing).
 */
const parsedStates = new WeakMap<VirtualServiceObject, { state: ShiftState; raw: string | undefined }>();
/**
 * Parsed states by what parsing depends on (the object's identity and the annotation's text): a
 * write's answer and the watch event it causes are two objects with the same annotation, and so is
 * any change of the object that leaves the shifts alone. Bounded, oldest first out.
 */
const parsedByText = new Map<string, { state: ShiftState; raw: string | undefined }>();
const PARSED_BY_TEXT_KEPT = 1024;

export function readState(object: VirtualServiceObject): { state: ShiftState; raw: string | undefined } {
  const parsed = parsedStates.get(object);
  if (parsed) return parsed;
  const raw = object.metadata.annotations?.[STATE_ANNOTATION];
  const key = raw === undefined ? undefined : `${object.metadata.namespace}\0${object.metadata.name}\0${object.metadata.uid ?? ''}\0${raw}`;
  const result = (key !== undefined && parsedByText.get(key)) || parseState(object);
  parsedStates.set(object, result);
  if (key !== undefined && !parsedByText.has(key)) {
    if (parsedByText.size >= PARSED_BY_TEXT_KEPT) parsedByText.delete(parsedByText.keys().next().value as string);
    parsedByText.set(key, result);
  }
  return result;
}

function parseState(object: VirtualServiceObject): { state: ShiftState; raw: string | undefined } {
  const raw = object.metadata.annotations?.[STATE_ANNOTATION];
  const state = emptyState();
  if (raw === undefined) return { state, raw };
  const where = `annotation ${STATE_ANNOTATION} on ${object.metadata.namespace}/${object.metadata.name}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new CorruptStateError(`${where} is not valid JSON; remove it if no shift is running`);
  }
  const document = parsed as { format?: unknown; shifts?: unknown } | null;
  if (typeof document !== 'object' || document === null || document.format !== STATE_FORMAT || typeof document.shifts !== 'object' || document.shifts === null || Array.isArray(document.shifts)) {
    throw new CorruptStateError(`${where} has an unknown format; remove it if no shift is running`);
  }
  // Own keys only, into Maps: an id such as "__proto__" or "constructor" is just a string here.
  for (const [id, stored] of Object.entries(document.shifts as Record<string, unknown>)) {
    const value = upgradeLegacy(stored, object);
    const problem = recordProblem(id, value) ?? foreignProblem(value as ShiftRecord, object);
    if (problem) state.unusable.set(id, { id, raw: value, problem });
    else state.shifts.set(id, expandCompacted(value as ShiftRecord));
  }
  return { state, raw };
}

/**
 * Serializes the state with `records` written in, dropping the oldest ended records beyond the
 * limit. Unusable records go back exactly as they were read.
 */
export function writeState(state: ShiftState, records: ShiftRecord[]): string {
  const shifts = new Map(state.shifts);
  for (const record of records) shifts.set(record.id, record);
  const written = new Set(records.map((r) => r.id));
  // Records ended by an earlier write are compacted; one ending now stays whole until the next
  // write, so its last polls still show the step times.
  for (const [id, record] of shifts) if (record.phase !== 'RUNNING' && !written.has(id)) shifts.set(id, compactRecord(record));
  const ended = [...shifts.values()]
    .filter((r) => r.phase !== 'RUNNING')
    .sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
  for (const old of ended.slice(ENDED_RECORDS_KEPT)) shifts.delete(old.id);
  let kept = ended.slice(0, ENDED_RECORDS_KEPT);
  let text = serialize(state, shifts);
  // Bounded in bytes, too: drop the oldest ended records while over the bound.
  while (Buffer.byteLength(text) > STATE_MAX_BYTES && kept.length > 0) {
    shifts.delete(kept[kept.length - 1].id);
    kept = kept.slice(0, -1);
    text = serialize(state, shifts);
  }
  return text;
}

function serialize(state: ShiftState, shifts: Map<string, ShiftRecord>): string {
  // A null-prototype object: an unusable record's id (e.g. "__proto__") stays an ordinary key.
  const out: Record<string, unknown> = Object.create(null);
  for (const [id, unusable] of state.unusable) if (!shifts.has(id)) out[id] = unusable.raw;
  for (const [id, record] of shifts) out[id] = record.endedWeights ? storedCompact(record) : record;
  return JSON.stringify({ format: STATE_FORMAT, shifts: out });
}

/** An ended record without what only a running shift needs (see ShiftRecord.endedWeights). */
export function compactRecord(record: ShiftRecord): ShiftRecord {
  if (record.phase === 'RUNNING' || record.endedWeights) return record;
  return { ...record, original: [], lastWritten: [], stepTimes: [], endedWeights: weightsOf(record.spec, record.lastWritten) };
}

function storedCompact(record: ShiftRecord): Record<string, unknown> {
  const stored: Record<string, unknown> = { ...record };
  for (const field of COMPACTED_AWAY) delete stored[field];
  return stored;
}

/** A compacted record as the engine handles it: the dropped lists read back empty. */
function expandCompacted(record: ShiftRecord): ShiftRecord {
  return record.endedWeights ? { ...record, original: [], lastWritten: [], stepTimes: [] } : record;
}
