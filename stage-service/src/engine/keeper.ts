/**
 * Every running shift has a keeper: each replica keeps a timer (the step scheduler's) for every
 * RUNNING shift recorded in the namespaces it watches, not only for the shifts it created, polled
 * or cancelled. So when the replica that served a shift goes away for good (a scale-down, a node
 * lost), the replicas that remain abandon it (restore the weights) once nobody polls it for
 * abandonAfter, with no poll and no restart needed.
 *
 * Two sources, so nothing is missed:
 * - the watch cache's changes (cluster accounts): every added or modified VirtualService is looked
 *   at as it arrives, so a new shift or a renewed lease is known within the watch's latency;
 * - a periodic resync (every `resyncMs`, 30 s by default) of every configured namespace: from the
 *   watch cache while it is in sync, otherwise (embedded store, RBAC without `watch`, an outage) by
 *   listing. It catches whatever an event could not deliver.
 *
 * Keeping is only timing: the decision is still the engine's (transitions.advance, under its lock,
 * written with the guarded patch). Several replicas keeping one shift all wake when its lease runs
 * out; the first guarded write wins, the others' guards fail, they re-read and find it ended. A
 * keeper never counts as a caller watching the shift, so it never moves traffic forward.
 */
import { VirtualServiceObject } from '../kube/types';
import { Clock, ClockTimer } from './clock';
import { ShiftRef } from './engine';
import { ShiftRecord, readState } from './record';

export const DEFAULT_RESYNC_MS = 30_000;

/** What the keeper schedules on: the step scheduler (scheduler.ts). */
export interface KeptScheduler {
  track(ref: ShiftRef, record: ShiftRecord | undefined): void;
  isTracking(ref: ShiftRef): boolean;
}

export interface KeeperLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface KeeperOptions {
  scheduler: KeptScheduler;
  /** Every (account, namespace) this replica serves. */
  namespaces: Array<{ account: string; namespace: string }>;
  /** The VirtualServices of a namespace as they are now (the watch cache's when in sync). */
  list(account: string, namespace: string): Promise<VirtualServiceObject[]>;
  clock: Clock;
  log: KeeperLogger;
  resyncMs?: number;
}

export class ShiftKeeper {
  private timer?: ClockTimer;
  private stopped = false;
  /** Namespaces whose last resync failed: warned once per failure streak, not every period. */
  private readonly failing = new Set<string>();
  private readonly resyncMs: number;

  constructor(private readonly options: KeeperOptions) {
    this.resyncMs = options.resyncMs ?? DEFAULT_RESYNC_MS;
  }

  /** Starts the periodic resync (the first one a period from now: start-up resumes on its own). */
  start(): void {
    if (this.stopped || this.timer) return;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * A VirtualService as the watch delivered it (undefined: deleted): a timer for each of its running
   * shifts of `account`, and none any more for the shifts this replica keeps that have ended.
   */
  observe(account: string, object: VirtualServiceObject | undefined): number {
    if (this.stopped || !object) return 0;
    let records: Iterable<ShiftRecord>;
    try {
      records = readState(object).state.shifts.values();
    } catch {
      // An annotation that cannot be read is reported when a caller asks for its shift; nothing to keep.
      return 0;
    }
    let running = 0;
    for (const record of records) {
      if (record.spec.account !== account) continue;
      const ref: ShiftRef = { account, namespace: object.metadata.namespace, virtualService: object.metadata.name, id: record.id };
      if (record.phase === 'RUNNING') running++;
      if (record.phase === 'RUNNING' || this.options.scheduler.isTracking(ref)) this.options.scheduler.track(ref, record);
    }
    return running;
  }

  /** Looks at every configured namespace once; resolves with the running shifts seen. */
  async resync(): Promise<number> {
    let running = 0;
    for (const { account, namespace } of this.options.namespaces) {
      if (this.stopped) break;
      const where = `${account}/${namespace}`;
      let objects: VirtualServiceObject[];
      try {
        objects = await this.options.list(account, namespace);
      } catch (error) {
        if (!this.failing.has(where)) this.options.log.warn('could not look for running shifts to keep; will retry every resync', { account, namespace, error: (error as Error).message });
        this.failing.add(where);
        continue;
      }
      this.failing.delete(where);
      for (const object of objects) running += this.observe(account, object);
    }
    return running;
  }

  private arm(): void {
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      void this.resync().finally(() => {
        if (!this.stopped) this.arm();
      });
    }, this.resyncMs);
    // The resync must not keep a CLI or a test process alive on its own.
    this.timer.unref?.();
  }
}
