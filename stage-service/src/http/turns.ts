/**
 * Spreads a burst of expensive requests (creates, cancels) over event-loop turns.
 *
 * When 1,000 creates arrive at once, Node reads them all in one poll phase and, without this,
 * runs each one's validation, planning and patch building back to back: a few hundred ms in which
 * /healthz, /readyz and status polls wait (a liveness probe that times out kills the replica).
 * Here the first request of a turn goes on at once; later ones are let through one per
 * setImmediate, and an immediate queued from the check phase only runs on the next loop
 * iteration, so between any two of them the loop polls sockets and timers again.
 */
export class TurnTaker {
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;
  /** Whether a request already went ahead in the current turn (cleared by the next immediate). */
  private busyTurn = false;

  /** Resolves when the caller may do its work: at once if nobody went ahead this turn. */
  turn(): Promise<void> {
    if (!this.busyTurn && this.waiting.length === 0) {
      this.busyTurn = true;
      this.schedule();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  /** Requests waiting for their turn (for metrics and tests). */
  get queued(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.next());
  }

  private next(): void {
    this.scheduled = false;
    const resolve = this.waiting.shift();
    // The released request runs in the microtasks right after this callback: it has this turn.
    this.busyTurn = resolve !== undefined;
    resolve?.();
    if (this.waiting.length > 0 || this.busyTurn) this.schedule();
  }
}
