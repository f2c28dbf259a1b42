/**
 * Serializes work per key inside one process (a status poll and a step timer for the same
 * VirtualService). Across processes the guarded JSON Patch is what keeps writes safe; this only
 * avoids needless precondition failures and retries.
 */
import { Clock, ClockTimer, realClock } from './clock';

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly clock: Clock = realClock) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /**
   * Whether no work for `key` is running or queued, waiting at most `waitMs` for it to drain:
   * true as soon as it is idle, false if it is still busy when the time is up.
   */
  async idleWithin(key: string, waitMs: number): Promise<boolean> {
    const deadline = this.clock.now() + waitMs;
    for (;;) {
      const tail = this.tails.get(key);
      if (!tail) return true;
      const left = deadline - this.clock.now();
      if (left <= 0 || !(await settlesWithin(this.clock, tail, left))) return false;
    }
  }
}

async function settlesWithin(clock: Clock, promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ClockTimer | undefined;
  const timeUp = new Promise<false>((resolve) => (timer = clock.setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeUp]);
  } finally {
    clock.clearTimeout(timer);
  }
}
