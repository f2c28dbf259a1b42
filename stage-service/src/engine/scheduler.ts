/**
 * Drives running shifts forward without waiting for a poll: after every operation the shift is
 * scheduled to advance when its current pause ends. Timers are only an optimisation of timing;
 * the state is in the cluster, every status poll also advances, and on start-up the service
 * resumes every running shift it finds, so a lost timer (crash, restart) loses nothing.
 */
import { ShiftEngine, ShiftRef } from './engine';
import { ShiftRecord } from './record';

export interface SchedulerLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;

export class StepScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly engine: ShiftEngine,
    private readonly log: SchedulerLogger,
  ) {}

  /** Schedules the next advance of a shift from its record (nothing when it has ended). */
  track(ref: ShiftRef, record: ShiftRecord | undefined): void {
    const key = keyOf(ref);
    this.clear(key);
    if (this.stopped || !record || record.phase !== 'RUNNING') return;
    const pauseUntil = record.stepTimes[record.currentStep - 1]?.pauseUntil;
    const delay = pauseUntil ? Math.max(0, Date.parse(pauseUntil) - Date.now()) : 0;
    this.arm(ref, delay);
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.timers.keys()]) this.clear(key);
  }

  get size(): number {
    return this.timers.size;
  }

  private arm(ref: ShiftRef, delay: number): void {
    const key = keyOf(ref);
    // Timers must not keep a CLI or a test process alive on their own.
    const timer = setTimeout(() => void this.fire(ref), delay);
    timer.unref();
    this.timers.set(key, timer);
  }

  private async fire(ref: ShiftRef): Promise<void> {
    const key = keyOf(ref);
    this.timers.delete(key);
    if (this.stopped) return;
    try {
      const record = await this.engine.advance(ref);
      this.failures.delete(key);
      this.track(ref, record);
    } catch (error) {
      const count = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, count);
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (count - 1));
      this.log.warn('advancing a shift failed; will retry', { shift: ref.id, virtualService: `${ref.namespace}/${ref.virtualService}`, error: (error as Error).message, retryInMs: delay });
      if (!this.stopped) this.arm(ref, delay);
    }
  }

  private clear(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }
}

function keyOf(ref: ShiftRef): string {
  return `${ref.account}/${ref.namespace}/${ref.virtualService}/${ref.id}`;
}
