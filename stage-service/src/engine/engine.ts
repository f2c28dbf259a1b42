/**
 * The shift engine: create, advance and cancel shifts against a VirtualServiceApi. It knows
 * nothing of HTTP (the same engine runs inside the express service and the Run Job CLI).
 *
 * Every operation is a read-decide-write transaction on one VirtualService: read the object,
 * decide with the pure transitions, write weights and state in one guarded JSON Patch, and start
 * over when a guard fails because someone (another replica, another writer) wrote in between.
 */
import { createHash, randomBytes } from 'crypto';
import {
  FAILURE_REASON,
  NormalizedShiftSpec,
  RouteWrite,
  StepJudgement,
  buildShiftPatch,
  describeDrift,
  planShift,
  selectRoute,
} from '@istio-shift/core';
import type { EventSink } from '../kube/event-types';
import { describeRouteWriters } from '../kube/managed-fields';
import { PreconditionFailedError, VirtualServiceApi, VirtualServiceObject } from '../kube/types';
import { Clock, realClock } from './clock';
import { ShiftError } from './errors';
import { KeyedMutex } from './mutex';
import { eventsForChange } from './shift-events';
import { CorruptStateError, STATE_ANNOTATION, ShiftRecord, ShiftState, bindingOf, emptyState, readState, writeState } from './record';
import { Transition, WatchContext, advance, analysisUnavailable, cancel, judged, startShift, supersede } from './transitions';

export interface ShiftRef {
  account: string;
  namespace: string;
  virtualService: string;
  id: string;
}

/** A shift and the other attempts of the same Orca stage (restarts), oldest first. */
export interface ShiftSnapshot {
  record: ShiftRecord;
  attempts: ShiftRecord[];
}

export interface EngineObserver {
  /** A patch that moved traffic was accepted by the API server after `seconds`. */
  stepApplied?(seconds: number): void;
  shiftEnded?(record: ShiftRecord): void;
  /** A status poll found a write of its VirtualService queued or running and did not wait for it. */
  pollAnsweredDuringWrite?(): void;
  /** Telling what happened (Kubernetes Events, naming another writer) failed; the shift went on. */
  reportingFailed?(what: string, error: Error): void;
}

export interface EngineOptions {
  /** The VirtualService API for a Spinnaker account (throws ShiftError for unknown accounts). */
  apiFor(account: string): VirtualServiceApi;
  /** The time and timers of the engine, its lock and (by default) its scheduler; the real clock unless given. */
  clock?: Clock;
  /** Overrides the clock's time for decisions only (older tests); prefer `clock`. */
  now?: () => Date;
  observer?: EngineObserver;
  /** How long a status poll waits for a write of the same VirtualService (default POLL_WAIT_MS). */
  pollWaitMs?: number;
  /** Where an account's shifts record Kubernetes Events on their VirtualService (none: not recorded). */
  eventsFor?(account: string): EventSink | undefined;
}

const MAX_ATTEMPTS = 6;
/**
 * A poll waits this long at most for a write of its VirtualService (a step, a create, a renewal)
 * that is queued or in flight; then it answers with the state as stored. Under load the writes
 * queue behind the API server (16 in flight), and a poll that waited for them would take seconds:
 * Orca ends a stage whose poll fails or times out, and its threads are shared by every pipeline.
 */
export const POLL_WAIT_MS = 250;

/** What a transaction decided: its result, and the records (plus route change) to write, if any. */
type Decision<T> = { result: T; write?: { records: ShiftRecord[]; route?: RouteWrite } };

/**
 * The id of a shift: derived from Orca's execution, stage and restart time when given, so a
 * retried create finds the attempt it started and a restarted stage starts a new attempt.
 */
export function shiftIdFor(spec: NormalizedShiftSpec): string {
  if (!spec.executionId || !spec.stageRef) return randomBytes(10).toString('hex');
  const parts = [spec.account, spec.namespace, spec.virtualService, spec.executionId, spec.stageRef];
  // The first attempt keeps the id it had before restarts were told apart.
  if (spec.restartedAt > 0) parts.push(String(spec.restartedAt));
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 20);
}

/** Whether two records are attempts of the same Orca stage. */
function sameStage(a: ShiftRecord, b: Pick<NormalizedShiftSpec, 'executionId' | 'stageRef'>): boolean {
  return a.spec.executionId !== undefined && a.spec.executionId === b.executionId && a.spec.stageRef === b.stageRef;
}

function attemptsOf(state: ShiftState, record: ShiftRecord): ShiftRecord[] {
  if (!record.spec.executionId) return [record];
  return [...state.shifts.values()].filter((r) => sameStage(r, record.spec)).sort((a, b) => a.spec.restartedAt - b.spec.restartedAt);
}

export function specHash(spec: NormalizedShiftSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export class ShiftEngine {
  private readonly mutex: KeyedMutex;
  private readonly now: () => Date;
  /** The engine's clock: the scheduler arms its timers on it too. */
  readonly clock: Clock;
  /** When this replica last served a poll per running shift: the watch evidence it has itself. */
  private readonly pollsSeen = new Map<string, number>();

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? realClock;
    const clock = this.clock;
    this.mutex = new KeyedMutex(clock);
    this.now = options.now ?? (() => new Date(clock.now()));
  }

  /**
   * Starts a shift and applies its first step in the same write. A retry of the same create
   * (same execution and stage) returns the existing shift with `created: false`.
   */
  async create(spec: NormalizedShiftSpec): Promise<ShiftSnapshot & { created: boolean }> {
    const id = shiftIdFor(spec);
    const hash = specHash(spec);
    const name = `${spec.namespace}/${spec.virtualService}`;
    return this.transact<ShiftSnapshot & { created: boolean }>(spec.account, spec.namespace, spec.virtualService, (object, state) => {
      if (!object) throw new ShiftError('not-found', `VirtualService ${name} does not exist in account ${spec.account}: check the namespace and name`);
      const unusable = state.unusable.get(id);
      if (unusable) throw new ShiftError('conflict', unusable.problem);
      const existing = state.shifts.get(id);
      if (existing) {
        if (existing.specHash !== hash) {
          throw new ShiftError('conflict', `shift ${id} for execution ${spec.executionId} stage ${spec.stageRef} already exists with a different spec: a retried request must send the same spec`);
        }
        return { result: { record: existing, attempts: attemptsOf(state, existing), created: false } };
      }
      const selection = selectRoute(object.spec, spec.route, name);
      if (!selection.ok) throw new ShiftError('invalid', selection.problem.message, [selection.problem]);
      const owner = [...state.shifts.values()].find((r) => {
        if (r.phase !== 'RUNNING') return false;
        const theirs = selectRoute(object.spec, r.spec.route, name);
        return theirs.ok && theirs.selected.pointer === selection.selected.pointer;
      });
      // An earlier attempt of this very stage (Orca's "Restart stage") is taken over, not refused.
      const earlier = owner && sameStage(owner, spec) ? owner : undefined;
      if (owner && !earlier) {
        const who = owner.spec.executionId ? `execution ${owner.spec.executionId} stage ${owner.spec.stageRef}` : 'a client without an execution id';
        throw new ShiftError('conflict', `${selection.selected.description} of ${name} is already being shifted by shift ${owner.id} (${who}, started ${owner.createdAt}): wait for it to end or cancel it`);
      }
      const planned = planShift(spec, selection.selected);
      if (!planned.ok) throw new ShiftError('invalid', planned.problems.map((p) => p.message).join('; '), planned.problems);
      // The weights from before the first attempt are the ones to restore, unless another writer set
      // the route since that attempt's last write: then theirs are (never overwrite another writer).
      const untouched = earlier && !describeDrift(earlier.lastWritten, selection.selected.destinations);
      const plan = earlier && untouched ? { ...planned.plan, originalDestinations: earlier.original, originalWeights: earlier.originalWeights } : planned.plan;
      const { record, target } = startShift(id, spec, hash, bindingOf(object), selection.selected, plan, this.now());
      const route = { routePointer: selection.selected.pointer, routeAsRead: selection.selected.route, target };
      const records = earlier ? [supersede(earlier, id, this.now()), record] : [record];
      const after: ShiftState = { ...state, shifts: new Map(state.shifts) };
      for (const written of records) after.shifts.set(written.id, written);
      return { result: { record, attempts: attemptsOf(after, record), created: true }, write: { records, route } };
    });
  }

  /**
   * Brings a shift up to date (next step when its pause is over and a caller is watching; abandoned
   * when nobody polled for abandonAfter) and returns it with the stage's other attempts.
   * `polled`: this call is a status poll, which renews the shift's watch lease.
   */
  async status(ref: ShiftRef, options: { polled: boolean }): Promise<ShiftSnapshot | undefined> {
    const key = refKey(ref);
    if (options.polled) this.pollsSeen.set(key, this.now().getTime());
    const watch: WatchContext = { polledNow: options.polled, lastPollSeenHere: this.pollsSeen.get(key) };
    // A poll that finds a write of this VirtualService under way answers from the stored state: the
    // write lands on its own, and whatever this poll would have moved, the step timer (which knows of
    // this poll) or the next poll moves. Never sooner, so never unwatched; at most a poll later.
    const busy = options.polled && !(await this.mutex.idleWithin(lockKey(ref.account, ref.namespace, ref.virtualService), this.options.pollWaitMs ?? POLL_WAIT_MS));
    if (busy) this.options.observer?.pollAnsweredDuringWrite?.();
    const snapshot = busy ? await this.peek(ref) : await this.step(ref, (record, selection, vsName, now) => advance(record, selection, vsName, now, watch));
    if (!snapshot || snapshot.record.phase !== 'RUNNING') this.pollsSeen.delete(key);
    return snapshot;
  }

  /** Advances a shift as its own timer does (not a poll: it renews nothing). */
  async advance(ref: ShiftRef): Promise<ShiftRecord | undefined> {
    return (await this.status(ref, { polled: false }))?.record;
  }

  /**
   * Cancels a shift; a no-op for shifts that ended, and undefined for ones that never existed.
   * A cancel naming an attempt that ended reaches the later attempt of the same Orca stage that
   * is running: after "Restart stage" Orca calls the cancelUrl of the attempt before (see
   * currentAttempt).
   */
  async cancel(ref: ShiftRef): Promise<ShiftRecord | undefined> {
    this.pollsSeen.delete(refKey(ref));
    const record = (await this.step(ref, cancel, currentAttempt))?.record;
    if (record) this.pollsSeen.delete(refKey({ ...ref, id: record.id }));
    return record;
  }

  /**
   * Records the analysis judgement of step `stepIndex` (0-based) in one guarded write: a pass moves
   * the shift on (if its pause is over and a caller watches), a fail ends it and restores or holds
   * the weights. A step judged already (here or by another replica) is left as it is.
   */
  async recordJudgement(ref: ShiftRef, stepIndex: number, judgement: StepJudgement): Promise<ShiftRecord | undefined> {
    const watch: WatchContext = { polledNow: false, lastPollSeenHere: this.pollsSeen.get(refKey(ref)) };
    return (await this.step(ref, (record, selection, vsName, now) => judged(record, selection, vsName, now, stepIndex, judgement, watch)))?.record;
  }

  /** Ends a shift whose current step's analysis could not run (see transitions.analysisUnavailable). */
  async analysisUnavailable(ref: ShiftRef, stepIndex: number, why: string): Promise<ShiftRecord | undefined> {
    return (await this.step(ref, (record, selection, vsName, now) => analysisUnavailable(record, selection, vsName, now, stepIndex, why)))?.record;
  }

  /** The stored record of a shift, read without deciding anything (undefined if absent or unusable). */
  async read(ref: ShiftRef): Promise<ShiftRecord | undefined> {
    const object = await this.options.apiFor(ref.account).get(ref.namespace, ref.virtualService);
    if (!object) return undefined;
    const record = readState(object).state.shifts.get(ref.id);
    return record && record.spec.account === ref.account ? record : undefined;
  }

  /** When this replica last served a poll for the shift, if it remembers one (ms since epoch). */
  lastPollSeen(ref: ShiftRef): number | undefined {
    return this.pollsSeen.get(refKey(ref));
  }

  /**
   * Running shifts recorded on the VirtualServices of a namespace (to resume after a restart), each
   * on its own: a record the service cannot use is reported in `unusable`, never resumed, and never
   * stops the others from resuming.
   */
  async running(account: string, namespace: string): Promise<{ running: Array<{ ref: ShiftRef; record: ShiftRecord }>; unusable: string[] }> {
    const objects = await this.options.apiFor(account).list(namespace);
    const running: Array<{ ref: ShiftRef; record: ShiftRecord }> = [];
    const unusable: string[] = [];
    for (const object of objects) {
      let state: ShiftState;
      try {
        state = readState(object).state;
      } catch (error) {
        unusable.push((error as Error).message);
        continue;
      }
      for (const entry of state.unusable.values()) unusable.push(entry.problem);
      for (const record of state.shifts.values()) {
        if (record.phase === 'RUNNING' && record.spec.account === account) {
          running.push({ ref: { account, namespace, virtualService: object.metadata.name, id: record.id }, record });
        }
      }
    }
    return { running, unusable };
  }

  /** The shift as stored, without taking the VirtualService's lock and without any transition. */
  private async peek(ref: ShiftRef): Promise<ShiftSnapshot | undefined> {
    const object = await this.options.apiFor(ref.account).get(ref.namespace, ref.virtualService);
    if (!object) return undefined;
    const { state } = storedState(object);
    const record = shiftOf(ref, state);
    return record && { record, attempts: attemptsOf(state, record) };
  }

  private async step(
    ref: ShiftRef,
    transition: (record: ShiftRecord, selection: ReturnType<typeof selectRoute>, vsName: string, now: Date) => Transition,
    /** Which record the transition applies to, given the one `ref` names (itself by default). */
    pick: (named: ShiftRecord | undefined, ref: ShiftRef, state: ShiftState) => ShiftRecord | undefined = (named) => named,
  ): Promise<ShiftSnapshot | undefined> {
    const name = `${ref.namespace}/${ref.virtualService}`;
    return this.transact<ShiftSnapshot | undefined>(ref.account, ref.namespace, ref.virtualService, (object, state) => {
      if (!object) return { result: undefined };
      const record = pick(shiftOf(ref, state), ref, state);
      if (!record) return { result: undefined };
      const selection = selectRoute(object.spec, record.spec.route, name);
      const next = transition(record, selection, name, this.now());
      if (next.kind === 'none') return { result: { record, attempts: attemptsOf(state, record) } };
      // A transition only moves traffic on a route it found (selection.ok).
      const route = next.target && selection.ok
        ? { routePointer: selection.selected.pointer, routeAsRead: selection.selected.route, target: next.target }
        : undefined;
      const after: ShiftState = { ...state, shifts: new Map(state.shifts).set(next.record.id, next.record) };
      return { result: { record: next.record, attempts: attemptsOf(after, next.record) }, write: { records: [next.record], route } };
    });
  }

  /**
   * Adds who changed the route (from managedFields) to the message of a record that another writer
   * stopped, before it is written. Best effort: a failed read leaves the message as it was. The
   * records are this decision's own fresh copies, so amending them in place amends its result too.
   */
  private async nameOtherWriters(api: VirtualServiceApi, object: VirtualServiceObject, state: ShiftState, records: ShiftRecord[]): Promise<void> {
    const stopped = records.filter((record) => stoppedByAnotherWriter(record, state.shifts.get(record.id)));
    if (stopped.length === 0 || !api.managedFields) return;
    try {
      const entries = await api.managedFields(object.metadata.namespace, object.metadata.name);
      for (const record of stopped) {
        const selection = selectRoute(object.spec, record.spec.route, object.metadata.name);
        const pointer = selection.ok ? selection.selected.pointer : `/spec/${record.spec.route.protocol}`;
        const writers = describeRouteWriters(entries, pointer);
        if (!writers) continue;
        if (record.failure && (record.failure.reason === FAILURE_REASON.ROUTE_CHANGED || record.failure.reason === FAILURE_REASON.ROUTE_MISSING || record.failure.message === record.rollback?.message)) {
          record.failure.message = `${record.failure.message}; ${writers}`;
        }
        if (record.rollback?.result === 'conflict') record.rollback.message = `${record.rollback.message}; ${writers}`;
      }
    } catch (error) {
      this.options.observer?.reportingFailed?.('read managedFields to name the other writer', error as Error);
    }
  }

  /** Kubernetes Events for what the written records did; never fails or delays the shift. */
  private recordEvents(account: string, written: VirtualServiceObject, state: ShiftState, records: ShiftRecord[]): void {
    try {
      const sink = this.options.eventsFor?.(account);
      if (!sink) return;
      for (const record of records) for (const event of eventsForChange(state.shifts.get(record.id), record)) sink.record(written, event);
    } catch (error) {
      this.options.observer?.reportingFailed?.('record Kubernetes Events', error as Error);
    }
  }

  private async transact<T>(
    account: string,
    namespace: string,
    name: string,
    decide: (object: VirtualServiceObject | undefined, state: ShiftState) => Decision<T>,
  ): Promise<T> {
    const api = this.options.apiFor(account);
    return this.mutex.run(lockKey(account, namespace, name), async () => {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const object = await api.get(namespace, name);
        const { state, raw } = object ? storedState(object) : { state: emptyState(), raw: undefined };
        const decision = decide(object, state);
        if (!decision.write || !object) return decision.result;
        const { records, route } = decision.write;
        await this.nameOtherWriters(api, object, state, records);
        const operations = buildShiftPatch(route, {
          key: STATE_ANNOTATION,
          previous: raw,
          next: writeState(state, records),
          hadAnnotations: object.metadata.annotations !== undefined,
          resourceVersion: object.metadata.resourceVersion,
        });
        const started = process.hrtime.bigint();
        let written: VirtualServiceObject;
        try {
          written = await api.patch(namespace, name, operations);
        } catch (error) {
          if (error instanceof PreconditionFailedError) continue;
          throw error;
        }
        this.recordEvents(account, written, state, records);
        if (route) this.options.observer?.stepApplied?.(Number(process.hrtime.bigint() - started) / 1e9);
        for (const record of records) if (record.phase !== 'RUNNING') this.options.observer?.shiftEnded?.(record);
        return decision.result;
      }
      throw new ShiftError('unavailable', `VirtualService ${namespace}/${name} kept changing while the shift tried to write it (${MAX_ATTEMPTS} attempts); retry shortly`);
    });
  }
}

/** A record that ended just now because another writer changed or removed its route. */
function stoppedByAnotherWriter(record: ShiftRecord, before: ShiftRecord | undefined): boolean {
  if (before && before.phase !== 'RUNNING') return false;
  const reason = record.failure?.reason;
  return reason === FAILURE_REASON.ROUTE_CHANGED || reason === FAILURE_REASON.ROUTE_MISSING || record.rollback?.result === 'conflict';
}

/** The stored shifts of an object; an annotation the service cannot read is a conflict to report. */
function storedState(object: VirtualServiceObject): ReturnType<typeof readState> {
  try {
    return readState(object);
  } catch (error) {
    if (error instanceof CorruptStateError) throw new ShiftError('conflict', error.message);
    throw error;
  }
}

/**
 * The attempt of `named`'s Orca stage a cancel is meant for: `named` while it runs; once it has
 * ended, the running attempt started by a later "Restart stage", if any. A cancelUrl naming a
 * stage's first attempt that was never started (a rejected create names it: app.ts) reaches the
 * stage's running attempt too. Orca merges the
 * preconfigured `cancelEndpoint: ${webhook.body.cancelUrl}` back as text when the restarted stage
 * is planned, and the create task evaluates it before the new create is sent, against the
 * previous attempt's answer, which the restart kept; the value is stored evaluated and never
 * evaluated again (facts: spinnaker-facts.json orcaStageContract). Attempts of one stage follow
 * one another (a new one takes over a running one), so at most one is running.
 */
function currentAttempt(named: ShiftRecord | undefined, ref: ShiftRef, state: ShiftState): ShiftRecord | undefined {
  if (!named) {
    return [...state.shifts.values()].find((r) => r.phase === 'RUNNING' && r.spec.account === ref.account && r.spec.executionId !== undefined && shiftIdFor({ ...r.spec, restartedAt: 0 }) === ref.id);
  }
  if (named.phase === 'RUNNING') return named;
  const later = attemptsOf(state, named).filter((r) => r.phase === 'RUNNING' && r.spec.restartedAt > named.spec.restartedAt);
  return later[later.length - 1] ?? named;
}

/** The shift `ref` names, if this account's; a stored record the service cannot use is a conflict. */
function shiftOf(ref: ShiftRef, state: ShiftState): ShiftRecord | undefined {
  const unusable = state.unusable.get(ref.id);
  if (unusable) throw new ShiftError('conflict', unusable.problem);
  const record = state.shifts.get(ref.id);
  return record && record.spec.account === ref.account ? record : undefined;
}

/** One lock per VirtualService: every transaction on it, and what polls check before waiting. */
function lockKey(account: string, namespace: string, name: string): string {
  return `${account}/${namespace}/${name}`;
}

function refKey(ref: ShiftRef): string {
  return `${ref.account}/${ref.namespace}/${ref.virtualService}/${ref.id}`;
}
