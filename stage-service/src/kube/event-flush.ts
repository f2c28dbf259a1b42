/**
 * The last moment for queued Kubernetes Events: the service stopping, or the Run Job CLI about to
 * exit. Events still waiting get a bounded time to be written; an API server that is slow or down
 * must never make a stop, or the Job's exit (and so Orca's stage), wait longer than that.
 */
import { Clock, ClockTimer, realClock } from '../engine/clock';

/** How long a stop or an exit waits for queued Events at most. */
export const EVENT_FLUSH_LIMIT_MS = 1000;

/** What can be flushed: an EventRecorder. */
export interface Flushable {
  flush(): Promise<void>;
}

/**
 * Waits until every recorder has written (or dropped) its queued Events, or `limitMs` passed,
 * whichever comes first. Resolves true when all were flushed in time, false when it gave up; it
 * never rejects. The timer does not keep the process alive and is cleared when the flush wins.
 */
export async function flushEventsWithin(recorders: Iterable<Flushable>, limitMs: number = EVENT_FLUSH_LIMIT_MS, clock: Clock = realClock): Promise<boolean> {
  let timer: ClockTimer | undefined;
  const gaveUp = new Promise<boolean>((resolve) => {
    timer = clock.setTimeout(() => resolve(false), limitMs);
    timer.unref?.();
  });
  const flushed = Promise.all([...recorders].map((recorder) => recorder.flush())).then(
    () => true,
    () => true, // a recorder never rejects; if one did, there is nothing left to wait for
  );
  try {
    return await Promise.race([flushed, gaveUp]);
  } finally {
    clock.clearTimeout(timer);
  }
}
