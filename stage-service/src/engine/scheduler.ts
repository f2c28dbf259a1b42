/**
 * Wakes running shifts at the two moments that matter without a poll: the end of the current
 * pause (the next step, if a caller is watching) and the end of the watch lease (abandonment,
 * which restores traffic). Timers are only an optimisation of timing: the state is in the cluster,
 * every status poll also advances, and on start-up the service resumes every running shift it
 * finds, so a lost timer (crash, restart) loses nothing.
 *
 * A timer is re-armed only when the shift needs waking earlier than it is armed for: a timer that
 * fires early finds nothing to do and re-arms for the then-current time. So a poll (which moves the
 * lease on) costs no timer work, and memory stays flat however often Orca polls.
 *
 * A replica tracks every running shift of the namespaces it serves, not only the ones it created
 * or polled: the keeper (keeper.ts) feeds it from the watch cache and a periodic resync.
 */
import { Clock, ClockTimer } from './clock';
import { ShiftEngine, ShiftRef } from './engine';
import { ShiftRecord } from './record';
import { FUTURE_LEASE_TOLERANCE_MS, abandonAt } from './transitions';

export interface SchedulerLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** The analysis work of a shift (analysis/runner.ts), run on this timer path and never on a poll. */
export interface AnalysisHook {
  /** When analysis work is next due (ms since epoch), if any. */
  nextCheck(record: ShiftRecord, now: number): number | undefined;
  check(ref: ShiftRef): Promise<void>;
  /** The shift no longer runs: drop what was kept in memory for it. */
  forget?(ref: ShiftRef): void;
}

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;

export class StepScheduler {
  private readonly timers = new Map<string, { timer: ClockTimer; due: number }>();
  private readonly failures = new Map<string, number>();
  /** Per shift, the lease from the future (polledAt) already warned about and sent to be clamped. */
  private readonly futureLeases = new Map<string, string>();
  private stopped = false;

  constructor(
    private readonly engine: ShiftEngine,
    private readonly log: SchedulerLogger,
    private readonly analysis?: AnalysisHook,
    /** The time and timers (the engine's clock unless given: the real one in production). */
    private readonly clock: Clock = engine.clock,
  ) {}

  /** Schedules the next advance of a shift from its record (nothing when it has ended). */
  track(ref: ShiftRef, record: ShiftRecord | undefined): void {
    const key = keyOf(ref);
    if (this.stopped || !record || record.phase !== 'RUNNING') {
      this.clear(key);
      this.futureLeases.delete(key);
      if (!this.stopped) this.analysis?.forget?.(ref);
      return;
    }
    const now = new Date(this.clock.now());
    const lease = abandonAt(record, { polledNow: false, lastPollSeenHere: this.engine.lastPollSeen(ref) }, now);
    const pauseUntil = Date.parse(record.stepTimes[record.currentStep - 1]?.pauseUntil ?? '');
    const analysisDue = this.analysis?.nextCheck(record, now.getTime()) ?? Infinity;
    let due = Math.min(pauseUntil > now.getTime() ? Math.min(pauseUntil, lease) : lease, analysisDue);
    // A stored lease from the future (a hand edit, a replica whose clock runs ahead) counts as now
    // (transitions.lastPollAt) and is written back as now at once, so abandonAfter runs from here.
    const ahead = Date.parse(record.polledAt) - now.getTime();
    if (ahead > FUTURE_LEASE_TOLERANCE_MS && this.futureLeases.get(key) !== record.polledAt) {
      this.futureLeases.set(key, record.polledAt);
      this.log.warn('a shift\'s watch lease is later than this replica\'s clock: counted from now (is a clock ahead, or was the record edited?)', { shift: ref.id, virtualService: `${ref.namespace}/${ref.virtualService}`, polledAt: record.polledAt, now: now.toISOString(), aheadMs: ahead });
      due = now.getTime();
    }
    const armed = this.timers.get(key);
    if (armed && armed.due <= due) return;
    this.clear(key);
    this.arm(ref, due);
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.timers.keys()]) this.clear(key);
  }

  isTracking(ref: ShiftRef): boolean {
    return this.timers.has(keyOf(ref));
  }

  get size(): number {
    return this.timers.size;
  }

  private arm(ref: ShiftRef, due: number): void {
    const key = keyOf(ref);
    // A few ms late rather than early: a lease or pause is over only once its instant has passed.
    const delay = Math.max(0, due - this.clock.now()) + 5;
    // Timers must not keep a CLI or a test process alive on their own.
    const timer = this.clock.setTimeout(() => void this.fire(ref), delay);
    timer.unref?.();
    this.timers.set(key, { timer, due });
  }

  private async fire(ref: ShiftRef): Promise<void> {
    const key = keyOf(ref);
    this.timers.delete(key);
    if (this.stopped) return;
    try {
      if (this.analysis) {
        // Analysis trouble must never keep the shift from advancing or being abandoned (restored).
        await this.analysis.check(ref).catch((error: Error) => this.log.warn('analysis check failed; will retry', { shift: ref.id, virtualService: `${ref.namespace}/${ref.virtualService}`, error: error.message }));
      }
      const record = await this.engine.advance(ref);
      this.failures.delete(key);
      this.track(ref, record);
    } catch (error) {
      const count = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, count);
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (count - 1));
      this.log.warn('advancing a shift failed; will retry', { shift: ref.id, virtualService: `${ref.namespace}/${ref.virtualService}`, error: (error as Error).message, retryInMs: delay });
      if (!this.stopped) this.arm(ref, this.clock.now() + delay);
    }
  }

  private clear(key: string): void {
    const armed = this.timers.get(key);
    if (armed) this.clock.clearTimeout(armed.timer);
    this.timers.delete(key);
  }
}

function keyOf(ref: ShiftRef): string {
  return `${ref.account}/${ref.namespace}/${ref.virtualService}/${ref.id}`;
}
