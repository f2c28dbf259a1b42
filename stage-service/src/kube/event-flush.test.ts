/**
 * The bounded flush before a stop or the Run Job's exit: Events still queued are written when the
 * API server answers, and a server that never answers holds the exit for the limit, not longer.
 */
import { FakeClock } from '../engine/clock';
import { silentLogger } from '../logger';
import { checkoutVirtualService } from './seed';
import { EVENT_FLUSH_LIMIT_MS, flushEventsWithin } from './event-flush';
import { CoreEvent } from './event-types';
import { EventWriter, MemoryEventWriter } from './event-writers';
import { EventRecorder } from './events';

const event = { type: 'Normal' as const, reason: 'Completed', message: 'shift completed (execution e1 stage 2, shift s1)' };

/** A writer whose API server never answers. */
class HangingWriter implements EventWriter {
  calls = 0;
  create(): Promise<CoreEvent> {
    this.calls++;
    return new Promise(() => undefined);
  }
  patch(): Promise<CoreEvent> {
    return this.create();
  }
}

it('waits for queued Events to be written, and clears its timer', async () => {
  const clock = new FakeClock();
  const writer = new MemoryEventWriter();
  const recorder = new EventRecorder({ writer, log: silentLogger, clock, account: 'prod', instance: 'job-pod' });
  recorder.record(checkoutVirtualService('shop'), event);
  expect(await flushEventsWithin([recorder], EVENT_FLUSH_LIMIT_MS, clock)).toBe(true);
  expect(writer.about('shop', 'checkout').map((e) => e.reason)).toEqual(['Completed']);
  expect(clock.armed).toBe(0);
});

it('gives up after the limit when the API server never answers, not a moment later', async () => {
  const clock = new FakeClock();
  const writer = new HangingWriter();
  const recorder = new EventRecorder({ writer, log: silentLogger, clock, account: 'prod', instance: 'job-pod' });
  recorder.record(checkoutVirtualService('shop'), event);
  let result: boolean | undefined;
  const flushing = flushEventsWithin([recorder], EVENT_FLUSH_LIMIT_MS, clock).then((flushed) => (result = flushed));
  await clock.advance(EVENT_FLUSH_LIMIT_MS - 1);
  expect(result).toBeUndefined();
  await clock.advance(1);
  expect(result).toBe(false);
  await flushing;
  expect(writer.calls).toBe(1);
});

it('with nothing queued returns at once', async () => {
  const clock = new FakeClock();
  expect(await flushEventsWithin([], EVENT_FLUSH_LIMIT_MS, clock)).toBe(true);
  expect(clock.armed).toBe(0);
});

it('is 1 s, as the service stop and the Run Job exit promise', () => {
  expect(EVENT_FLUSH_LIMIT_MS).toBe(1000);
});
