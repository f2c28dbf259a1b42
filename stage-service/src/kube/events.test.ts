/**
 * The Event recorder's correlation, as client-go's (tools/record/events_cache.go, see docs/events.md):
 * same event -> one Event with a count; 10 messages of one reason in 10 minutes -> combined; 25 per
 * object then one per 5 minutes; and a failing write is one log line, never an exception.
 */
import { FakeClock } from '../engine/clock';
import { Logger, silentLogger } from '../logger';
import { checkoutVirtualService } from './seed';
import { COMBINED_PREFIX, EventCorrelator } from './event-correlator';
import { CoreEvent, ShiftEvent } from './event-types';
import { MemoryEventWriter } from './event-writers';
import { EventRecorder } from './events';
import { VirtualServiceObject } from './types';

const START = Date.parse('2026-12-06T12:00:00Z');

function vs(): VirtualServiceObject {
  const object = checkoutVirtualService('shop');
  object.metadata.uid = 'uid-1';
  return object;
}

function setup() {
  const clock = new FakeClock(START);
  const writer = new MemoryEventWriter();
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const log: Logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (message, fields) => warnings.push({ message, fields }) };
  const recorder = new EventRecorder({ writer, log, clock, account: 'prod', instance: 'replica-1' });
  const events = () => [...writer.events.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return { clock, writer, warnings, recorder, events };
}

const step = (n: number): ShiftEvent => ({ type: 'Normal', reason: 'StepApplied', message: `step ${n} of 30: canary ${n} (execution e1)` });

describe('EventRecorder', () => {
  it('writes a core/v1 Event about the VirtualService, named <object>.<hex nanos>', async () => {
    const { recorder, events } = setup();
    recorder.record(vs(), step(1));
    await recorder.flush();
    const [event] = events();
    expect(event.metadata.name).toBe(`checkout.${(BigInt(START) * 1_000_000n).toString(16)}`);
    expect(event).toMatchObject({
      metadata: { namespace: 'shop' },
      involvedObject: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', name: 'checkout', namespace: 'shop', uid: 'uid-1' },
      type: 'Normal',
      reason: 'StepApplied',
      message: 'step 1 of 30: canary 1 (execution e1)',
      source: { component: 'istio-traffic-shift', host: 'replica-1' },
      reportingComponent: 'istio-traffic-shift',
      reportingInstance: 'replica-1',
      count: 1,
      firstTimestamp: '2026-12-06T12:00:00Z',
      lastTimestamp: '2026-12-06T12:00:00Z',
    });
  });

  it('counts the same event again on the Event already written (PATCH count and lastTimestamp)', async () => {
    const { recorder, events, clock } = setup();
    recorder.record(vs(), step(1));
    await recorder.flush();
    await clock.advance(30_000);
    recorder.record(vs(), step(1));
    await recorder.flush();
    expect(events()).toHaveLength(1);
    expect(events()[0]).toMatchObject({ count: 2, firstTimestamp: '2026-12-06T12:00:00Z', lastTimestamp: '2026-12-06T12:00:30Z' });
  });

  it('creates the Event again when the one to count was deleted (the PATCH finds none)', async () => {
    const { recorder, writer, events } = setup();
    recorder.record(vs(), step(1));
    await recorder.flush();
    writer.events.clear();
    recorder.record(vs(), step(1));
    await recorder.flush();
    expect(events()).toHaveLength(1);
    expect(events()[0].count).toBe(2);
  });

  it('combines the 10th and later messages of one reason within 10 minutes into one Event', async () => {
    const { recorder, events, clock } = setup();
    for (let n = 1; n <= 12; n++) {
      recorder.record(vs(), step(n));
      await clock.advance(1000);
    }
    await recorder.flush();
    const all = events();
    expect(all).toHaveLength(10);
    const combined = all.filter((e) => e.message.startsWith(COMBINED_PREFIX));
    expect(combined).toHaveLength(1);
    expect(combined[0]).toMatchObject({ count: 3, message: `${COMBINED_PREFIX}step 12 of 30: canary 12 (execution e1)` });
    // More than 10 minutes later the group starts over: a plain Event again.
    await clock.advance(601_000);
    recorder.record(vs(), step(13));
    await recorder.flush();
    expect(events().some((e) => e.message === 'step 13 of 30: canary 13 (execution e1)')).toBe(true);
  });

  it('drops events about one object past a burst of 25, then lets one more through every 5 minutes', async () => {
    const { recorder, events, clock } = setup();
    // Distinct reasons, so aggregation does not combine them: only the spam filter acts.
    const nth = (n: number): ShiftEvent => ({ type: 'Warning', reason: `Reason${n}`, message: 'x' });
    for (let n = 1; n <= 30; n++) recorder.record(vs(), nth(n));
    await recorder.flush();
    expect(events()).toHaveLength(25);
    await clock.advance(299_000);
    recorder.record(vs(), nth(31));
    await recorder.flush();
    expect(events()).toHaveLength(25);
    await clock.advance(1000);
    recorder.record(vs(), nth(32));
    recorder.record(vs(), nth(33));
    await recorder.flush();
    expect(events().map((e) => e.reason)).toContain('Reason32');
    expect(events()).toHaveLength(26);
    // Another object has its own bucket.
    const other = vs();
    other.metadata.name = 'payments';
    recorder.record(other, nth(1));
    await recorder.flush();
    expect(events()).toHaveLength(27);
  });

  it('writes an event recorded at any turn while the write before it finishes (none left queued)', async () => {
    // For each number of turns k: the first write is held, released, and a second event is recorded
    // k turns later, some while the drain is ending. Every second event must be written.
    for (let k = 0; k < 12; k++) {
      const writer = new MemoryEventWriter();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const create = writer.create.bind(writer);
      let first = true;
      writer.create = async (event) => {
        if (first) {
          first = false;
          await held;
        }
        return create(event);
      };
      const recorder = new EventRecorder({ writer, log: silentLogger, clock: new FakeClock(START), account: 'prod', instance: 'r' });
      recorder.record(vs(), { type: 'Normal', reason: 'First', message: 'x' });
      release();
      for (let tick = 0; tick < k; tick++) await Promise.resolve();
      recorder.record(vs(), { type: 'Normal', reason: 'Second', message: 'x' });
      await recorder.flush();
      expect([k, writer.events.size]).toEqual([k, 2]);
    }
  });

  it('turns a 403 into one log line per 10 minutes naming the fix, and never throws', async () => {
    const { recorder, writer, warnings, clock } = setup();
    writer.failWith = 403;
    for (let n = 1; n <= 5; n++) expect(() => recorder.record(vs(), step(n))).not.toThrow();
    await recorder.flush();
    expect(warnings).toHaveLength(1);
    expect(warnings[0].fields).toMatchObject({ account: 'prod', status: 403, fix: expect.stringMatching(/create and patch on events/) });
    await clock.advance(10 * 60 * 1000);
    recorder.record(vs(), step(6));
    await recorder.flush();
    expect(warnings).toHaveLength(2);
    expect(warnings[1].fields).toMatchObject({ notLoggedSinceLastLine: 4 });
  });
});

describe('EventCorrelator', () => {
  it('gives events recorded in the same millisecond different names', () => {
    const correlator = new EventCorrelator(new FakeClock(START));
    expect(correlator.nameFor('checkout')).not.toBe(correlator.nameFor('checkout'));
  });

  it('counts an event whose first write is still in flight on the same name', () => {
    const correlator = new EventCorrelator(new FakeClock(START));
    const base = (name: string): CoreEvent => ({
      apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'shop' },
      involvedObject: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', name: 'checkout', namespace: 'shop', uid: 'u' },
      reason: 'R', message: 'm', source: { component: 'c', host: 'h' }, firstTimestamp: 't', lastTimestamp: 't', count: 1, type: 'Normal',
      reportingComponent: 'c', reportingInstance: 'h',
    });
    const first = correlator.correlate(base('a'));
    const second = correlator.correlate(base('b'));
    expect(first).toMatchObject({ skip: false, event: { metadata: { name: 'a' }, count: 1 } });
    expect(second).toMatchObject({ skip: false, event: { metadata: { name: 'a' }, count: 2 }, patch: { count: 2 } });
  });
});
