/**
 * The one seam through which the engine, its mutex and the step scheduler read the time and arm
 * timers. Production uses `realClock` (the default everywhere); the fast tests use `FakeClock`,
 * which moves only when told to, so leases, pauses and abandonment run without any real waiting.
 */

/** A timer armed on a clock: opaque, except that a real one can be told not to keep the process alive. */
export interface ClockTimer {
  unref?(): unknown;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};

interface FakeTimer extends ClockTimer {
  due: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock for tests: `now()` stands still until `advance` moves it, and `advance` fires the timers
 * that come due on the way, in order of due time (then of arming), each at its own instant, letting
 * the promises each one starts settle before the next fires. Nothing waits for real time.
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly pending = new Set<FakeTimer>();

  constructor(start: number | Date = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const timer: FakeTimer = { due: this.current + Math.max(0, ms), seq: this.seq++, callback, unref: () => timer };
    this.pending.add(timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (timer) this.pending.delete(timer as FakeTimer);
  }

  /** Timers armed and not yet fired or cleared. */
  get armed(): number {
    return this.pending.size;
  }

  /** When the earliest armed timer is due (ms since epoch), if any. */
  get nextDue(): number | undefined {
    const next = this.earliest();
    return next?.due;
  }

  /**
   * Moves time on by `ms`, firing every timer due on the way (including ones armed by timers that
   * fired) at its due time, and letting the work each starts settle.
   */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    await settle();
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > until) break;
      this.pending.delete(next);
      this.current = Math.max(this.current, next.due);
      next.callback();
      await settle();
    }
    this.current = until;
    await settle();
  }

  /** Moves time to an absolute instant (ms since epoch), as `advance` does. */
  async advanceTo(at: number): Promise<void> {
    await this.advance(Math.max(0, at - this.current));
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const timer of this.pending) if (!best || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq)) best = timer;
    return best;
  }
}

/**
 * Lets pending promise chains run: a few macrotask turns (real setImmediate, no time passes), enough
 * for a transaction on the embedded store (get, decide, patch) to finish.
 */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
