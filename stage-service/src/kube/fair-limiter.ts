/**
 * A bound on concurrent calls with fair queuing: at most `limit` run at once, and waiting calls
 * are granted round-robin across flows (one flow per VirtualService), so a burst on one object
 * cannot starve polls of another. A waiter that is not granted in time gets an error
 * instead of waiting without bound (LimiterTimeoutError).
 */
export class LimiterTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimiterTimeoutError';
  }
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

export type Release = () => void;

export class FairLimiter {
  private active = 0;
  /** Flows with waiters, in round-robin order (a Map keeps insertion order). */
  private readonly flows = new Map<string, Waiter[]>();
  private waiting = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`FairLimiter limit must be a positive integer, not ${limit}`);
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting;
  }

  /** Resolves with a release function once a slot is free; rejects after `timeoutMs` in the queue. */
  acquire(flow: string, timeoutMs: number): Promise<Release> {
    if (this.active < this.limit && this.waiting === 0) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (timeoutMs <= 0) return Promise.reject(new LimiterTimeoutError('no time left to wait for a free slot'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          this.active++;
          resolve(this.releaser());
        },
        timer: setTimeout(() => {
          this.remove(flow, waiter);
          reject(new LimiterTimeoutError(`waited ${timeoutMs} ms behind ${this.active} calls in flight and ${this.waiting} queued`));
        }, timeoutMs),
      };
      const queue = this.flows.get(flow);
      if (queue) queue.push(waiter);
      else this.flows.set(flow, [waiter]);
      this.waiting++;
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.grantNext();
    };
  }

  private grantNext(): void {
    while (this.active < this.limit) {
      const next = this.flows.entries().next();
      if (next.done) return;
      const [flow, queue] = next.value;
      const waiter = queue.shift() as Waiter;
      this.waiting--;
      // Move the flow to the back of the round robin (or drop it when it has nobody left).
      this.flows.delete(flow);
      if (queue.length > 0) this.flows.set(flow, queue);
      waiter.grant();
    }
  }

  private remove(flow: string, waiter: Waiter): void {
    const queue = this.flows.get(flow);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index < 0) return;
    queue.splice(index, 1);
    this.waiting--;
    if (queue.length === 0) this.flows.delete(flow);
  }
}
