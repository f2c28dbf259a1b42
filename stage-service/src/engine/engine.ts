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
  NormalizedShiftSpec,
  RouteWrite,
  buildShiftPatch,
  planShift,
  selectRoute,
} from '@istio-shift/core';
import { PreconditionFailedError, VirtualServiceApi, VirtualServiceObject } from '../kube/types';
import { ShiftError } from './errors';
import { KeyedMutex } from './mutex';
import { CorruptStateError, STATE_ANNOTATION, ShiftRecord, ShiftState, readState, writeState } from './record';
import { Transition, advance, cancel, startShift } from './transitions';

export interface ShiftRef {
  account: string;
  namespace: string;
  virtualService: string;
  id: string;
}

export interface EngineObserver {
  /** A patch that moved traffic was accepted by the API server after `seconds`. */
  stepApplied?(seconds: number): void;
  shiftEnded?(record: ShiftRecord): void;
}

export interface EngineOptions {
  /** The VirtualService API for a Spinnaker account (throws ShiftError for unknown accounts). */
  apiFor(account: string): VirtualServiceApi;
  now?: () => Date;
  observer?: EngineObserver;
}

const MAX_ATTEMPTS = 6;

/** What a transaction decided: its result, and the record (plus route change) to write, if any. */
type Decision<T> = { result: T; write?: { record: ShiftRecord; route?: RouteWrite } };

/** The id of a shift: derived from Orca's execution and stage when given, so retries find it. */
export function shiftIdFor(spec: NormalizedShiftSpec): string {
  if (!spec.executionId || !spec.stageRef) return randomBytes(10).toString('hex');
  return createHash('sha256')
    .update([spec.account, spec.namespace, spec.virtualService, spec.executionId, spec.stageRef].join('\0'))
    .digest('hex')
    .slice(0, 20);
}

export function specHash(spec: NormalizedShiftSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export class ShiftEngine {
  private readonly mutex = new KeyedMutex();
  private readonly now: () => Date;

  constructor(private readonly options: EngineOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Starts a shift and applies its first step in the same write. A retry of the same create
   * (same execution and stage) returns the existing shift with `created: false`.
   */
  async create(spec: NormalizedShiftSpec): Promise<{ record: ShiftRecord; created: boolean }> {
    const id = shiftIdFor(spec);
    const hash = specHash(spec);
    const name = `${spec.namespace}/${spec.virtualService}`;
    return this.transact<{ record: ShiftRecord; created: boolean }>(spec.account, spec.namespace, spec.virtualService, (object, state) => {
      if (!object) throw new ShiftError('not-found', `VirtualService ${name} does not exist in account ${spec.account}: check the namespace and name`);
      const existing = state.shifts[id];
      if (existing) {
        if (existing.specHash !== hash) {
          throw new ShiftError('conflict', `shift ${id} for execution ${spec.executionId} stage ${spec.stageRef} already exists with a different spec: a retried request must send the same spec`);
        }
        return { result: { record: existing, created: false } };
      }
      const selection = selectRoute(object.spec, spec.route, name);
      if (!selection.ok) throw new ShiftError('invalid', selection.problem.message, [selection.problem]);
      const owner = Object.values(state.shifts).find((r) => {
        if (r.phase !== 'RUNNING') return false;
        const theirs = selectRoute(object.spec, r.spec.route, name);
        return theirs.ok && theirs.selected.pointer === selection.selected.pointer;
      });
      if (owner) {
        const who = owner.spec.executionId ? `execution ${owner.spec.executionId} stage ${owner.spec.stageRef}` : 'a client without an execution id';
        throw new ShiftError('conflict', `${selection.selected.description} of ${name} is already being shifted by shift ${owner.id} (${who}, started ${owner.createdAt}): wait for it to end or cancel it`);
      }
      const planned = planShift(spec, selection.selected);
      if (!planned.ok) throw new ShiftError('invalid', planned.problems.map((p) => p.message).join('; '), planned.problems);
      const { record, target } = startShift(id, spec, hash, selection.selected, planned.plan, this.now());
      const route = { routePointer: selection.selected.pointer, routeAsRead: selection.selected.route, target };
      return { result: { record, created: true }, write: { record, route } };
    });
  }

  /** Brings a shift up to date (next step when its pause is over) and returns it. */
  async advance(ref: ShiftRef): Promise<ShiftRecord | undefined> {
    return this.step(ref, advance);
  }

  /** Cancels a shift; a no-op for shifts that ended, and undefined for ones that never existed. */
  async cancel(ref: ShiftRef): Promise<ShiftRecord | undefined> {
    return this.step(ref, cancel);
  }

  /** Running shifts recorded on the VirtualServices of a namespace (to resume after a restart). */
  async running(account: string, namespace: string): Promise<Array<{ ref: ShiftRef; record: ShiftRecord }>> {
    const objects = await this.options.apiFor(account).list(namespace);
    const found: Array<{ ref: ShiftRef; record: ShiftRecord }> = [];
    for (const object of objects) {
      let state: ShiftState;
      try {
        state = readState(object).state;
      } catch {
        continue;
      }
      for (const record of Object.values(state.shifts)) {
        if (record.phase === 'RUNNING' && record.spec.account === account) {
          found.push({ ref: { account, namespace, virtualService: object.metadata.name, id: record.id }, record });
        }
      }
    }
    return found;
  }

  private async step(
    ref: ShiftRef,
    transition: (record: ShiftRecord, selection: ReturnType<typeof selectRoute>, vsName: string, now: Date) => Transition,
  ): Promise<ShiftRecord | undefined> {
    const name = `${ref.namespace}/${ref.virtualService}`;
    return this.transact(ref.account, ref.namespace, ref.virtualService, (object, state) => {
      const record = object ? state.shifts[ref.id] : undefined;
      if (!object || !record || record.spec.account !== ref.account) return { result: undefined };
      const selection = selectRoute(object.spec, record.spec.route, name);
      const next = transition(record, selection, name, this.now());
      if (next.kind === 'none') return { result: record };
      // A transition only moves traffic on a route it found (selection.ok).
      const route = next.target && selection.ok
        ? { routePointer: selection.selected.pointer, routeAsRead: selection.selected.route, target: next.target }
        : undefined;
      return { result: next.record, write: { record: next.record, route } };
    });
  }

  private async transact<T>(
    account: string,
    namespace: string,
    name: string,
    decide: (object: VirtualServiceObject | undefined, state: ShiftState) => Decision<T>,
  ): Promise<T> {
    const api = this.options.apiFor(account);
    return this.mutex.run(`${account}/${namespace}/${name}`, async () => {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const object = await api.get(namespace, name);
        let state: ShiftState = { format: 1, shifts: {} };
        let raw: string | undefined;
        if (object) {
          try {
            ({ state, raw } = readState(object));
          } catch (error) {
            if (error instanceof CorruptStateError) throw new ShiftError('conflict', error.message);
            throw error;
          }
        }
        const decision = decide(object, state);
        if (!decision.write || !object) return decision.result;
        const { record, route } = decision.write;
        const operations = buildShiftPatch(route, {
          key: STATE_ANNOTATION,
          previous: raw,
          next: writeState(state, record),
          hadAnnotations: object.metadata.annotations !== undefined,
          resourceVersion: object.metadata.resourceVersion,
        });
        const started = process.hrtime.bigint();
        try {
          await api.patch(namespace, name, operations);
        } catch (error) {
          if (error instanceof PreconditionFailedError) continue;
          throw error;
        }
        if (route) this.options.observer?.stepApplied?.(Number(process.hrtime.bigint() - started) / 1e9);
        if (record.phase !== 'RUNNING') this.options.observer?.shiftEnded?.(record);
        return decision.result;
      }
      throw new ShiftError('unavailable', `VirtualService ${namespace}/${name} kept changing while the shift tried to write it (${MAX_ATTEMPTS} attempts); retry shortly`);
    });
  }
}
