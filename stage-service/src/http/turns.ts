/**
 * Spreads a burst of expensive requests (creates, cancels) over event-loop turns.
 *
 * When 1,000 creates arrive at once, Node reads them all in one poll phase and, without this,
 * runs each one's validation, planning and patch building back to back: a few hundred ms in which
 * /healthz, /readyz and status polls wait (a liveness probe that times out kills the replica).
 * Here the first `perTurn` requests of a turn go on at once; later ones are let through
 * `perTurn` per setImmediate, and an immediate queued from the check phase only runs on the next
 * loop iteration, so between two batches the loop polls sockets and timers again. A batch of 8
 * (a few ms of work) keeps probes waiting little while admitting creates faster than an API
 * server takes their writes; one per turn measurably slowed a 1,000-create burst.
 */
export class TurnTaker {
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;
  /** Requests that went ahead in the current turn (reset by the next immediate). */
  private wentThisTurn = 0;

  constructor(private readonly perTurn = 8) {}

  /** Resolves when the caller may do its work: at once while this turn's batch has room. */
  turn(): Promise<void> {
    if (this.wentThisTurn < this.perTurn && this.waiting.length === 0) {
      this.wentThisTurn++;
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
    // The released requests run in the microtasks right after this callback: they have this turn.
    const batch = this.waiting.splice(0, this.perTurn);
    this.wentThisTurn = batch.length;
    for (const resolve of batch) resolve();
    if (this.waiting.length > 0 || this.wentThisTurn > 0) this.schedule();
  }
}
