/**
 * Every running shift has a keeper (issue 14 §2), on the embedded store with fake clocks: replicas
 * are engines + schedulers + keepers sharing one store, as replicas share one cluster.
 * - a replica that never saw the create or a poll restores an unpolled shift after abandonAfter and
 *   one resync, and two such replicas waking together make exactly one write (the guard decides);
 * - a lease from the future (a record written by a replica whose clock is ahead, or edited) counts
 *   as the reader's now: clamped, written back once, the skew warned about once.
 */
import { NormalizedShiftSpec, selectRoute, validateShiftSpec } from '@istio-shift/core';
import { EmbeddedVirtualServiceApi } from '../kube/embedded-api';
import { exampleVirtualServices } from '../kube/seed';
import { PreconditionFailedError, VirtualServiceApi } from '../kube/types';
import { FakeClock } from './clock';
import { ShiftEngine, ShiftRef } from './engine';
import { ShiftKeeper } from './keeper';
import { readState } from './record';
import { StepScheduler } from './scheduler';
import { FUTURE_LEASE_TOLERANCE_MS, advance, lastPollAt } from './transitions';

const ABANDON_AFTER_MS = 30_000;
const RESYNC_MS = 30_000;
const NAMESPACE = 'shop';
const NAME = 'checkout';

function spec(): NormalizedShiftSpec {
  const result = validateShiftSpec({
    account: 'local',
    namespace: NAMESPACE,
    virtualService: NAME,
    route: { protocol: 'http', name: 'primary' },
    destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
    steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }],
    abandonAfter: '30s',
    executionId: 'exec-keeper',
    stageRef: '2',
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

/** The shared store, counting the patches that landed and the ones a guard refused. */
function countingStore(): VirtualServiceApi & { written: number; refused: number; holdReads(count: number): void } {
  const store = new EmbeddedVirtualServiceApi(exampleVirtualServices());
  let held: { count: number; waiting: Array<() => void> } | undefined;
  const api = {
    written: 0,
    refused: 0,
    /** The next `count` reads wait for each other: that many replicas decide from the same state. */
    holdReads(count: number) {
      held = { count, waiting: [] };
    },
    get: async (namespace: string, name: string) => {
      const object = await store.get(namespace, name);
      const gate = held;
      if (gate) {
        await new Promise<void>((resolve) => {
          gate.waiting.push(resolve);
          if (gate.waiting.length === gate.count) {
            held = undefined;
            for (const release of gate.waiting) release();
          }
        });
      }
      return object;
    },
    list: (namespace: string) => store.list(namespace),
    patch: async (namespace: string, name: string, operations: Parameters<VirtualServiceApi['patch']>[2]) => {
      try {
        const written = await store.patch(namespace, name, operations);
        api.written++;
        return written;
      } catch (error) {
        if (error instanceof PreconditionFailedError) api.refused++;
        throw error;
      }
    },
  };
  return api;
}

interface Replica {
  engine: ShiftEngine;
  scheduler: StepScheduler;
  keeper: ShiftKeeper;
  warnings: Array<{ message: string; fields?: Record<string, unknown> }>;
  /** A replica gone for good (scaled down, killed): no timer of it fires any more. */
  stop(): void;
}

function replica(api: VirtualServiceApi, clock: FakeClock): Replica {
  const warnings: Replica['warnings'] = [];
  const log = { warn: (message: string, fields?: Record<string, unknown>) => warnings.push({ message, fields }) };
  const engine = new ShiftEngine({ apiFor: () => api, clock });
  const scheduler = new StepScheduler(engine, log);
  const keeper = new ShiftKeeper({ scheduler, namespaces: [{ account: 'local', namespace: NAMESPACE }], list: (_account, namespace) => api.list(namespace), clock, log, resyncMs: RESYNC_MS });
  keeper.start();
  return { engine, scheduler, keeper, warnings, stop: () => (keeper.stop(), scheduler.stop()) };
}

async function weights(api: VirtualServiceApi): Promise<number[]> {
  const object = await api.get(NAMESPACE, NAME);
  return ((object?.spec.http as any[])[1].route as any[]).map((d) => d.weight);
}

async function stored(api: VirtualServiceApi, id: string) {
  const object = await api.get(NAMESPACE, NAME);
  return object && readState(object).state.shifts.get(id);
}

/** Created and polled through replica A (as the HTTP app does: the scheduler tracks what it serves). */
async function createdThrough(a: Replica, clock: FakeClock): Promise<{ ref: ShiftRef; lastPoll: number }> {
  const { record } = await a.engine.create(spec());
  const ref: ShiftRef = { account: 'local', namespace: NAMESPACE, virtualService: NAME, id: record.id };
  a.scheduler.track(ref, record);
  for (let i = 0; i < 5; i++) {
    await clock.advance(1000);
    a.scheduler.track(ref, (await a.engine.status(ref, { polled: true }))?.record);
  }
  return { ref, lastPoll: clock.now() };
}

describe('every running shift has a keeper', () => {
  it('a replica that never saw the create or a poll restores an unpolled shift after abandonAfter + one resync', async () => {
    const api = countingStore();
    const clock = new FakeClock();
    const a = replica(api, clock);
    const b = replica(api, clock);
    const { ref, lastPoll } = await createdThrough(a, clock);
    expect(b.scheduler.isTracking(ref)).toBe(false);
    const writesBefore = api.written;
    a.stop();

    // Just before the lease the store holds runs out, nothing has moved.
    const lease = Date.parse((await stored(api, ref.id))!.polledAt) + ABANDON_AFTER_MS;
    await clock.advanceTo(lease - 1);
    expect(await weights(api)).toEqual([80, 10, 10]);

    await clock.advanceTo(lastPoll + ABANDON_AFTER_MS + RESYNC_MS);
    expect(b.scheduler.isTracking(ref)).toBe(false);
    const record = await stored(api, ref.id);
    expect(record).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ABANDONED' }, rollback: { result: 'restored' } });
    expect(Date.parse(record!.finishedAt!)).toBeGreaterThanOrEqual(lease);
    expect(Date.parse(record!.finishedAt!)).toBeLessThanOrEqual(lastPoll + ABANDON_AFTER_MS + RESYNC_MS);
    expect(await weights(api)).toEqual([100, 0, 0]);
    expect(api.written - writesBefore).toBe(1);
    b.stop();
  });

  it('two keepers waking together make exactly one write: the guarded patch decides', async () => {
    const api = countingStore();
    const clock = new FakeClock();
    const a = replica(api, clock);
    const b = replica(api, clock);
    const c = replica(api, clock);
    const { ref, lastPoll } = await createdThrough(a, clock);
    a.stop();
    // Both keepers pick the shift up at the same resync and wake at the same instant; their reads
    // are held until both have read, so both decide from the RUNNING record.
    await clock.advance(RESYNC_MS - 5000 - 1);
    const writesBefore = api.written;
    api.holdReads(2);
    await clock.advanceTo(lastPoll + ABANDON_AFTER_MS + RESYNC_MS);
    expect(await weights(api)).toEqual([100, 0, 0]);
    expect(api.written - writesBefore).toBe(1);
    expect(api.refused).toBe(1);
    expect(b.scheduler.size + c.scheduler.size).toBe(0);
    expect(await stored(api, ref.id)).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ABANDONED' } });
    b.stop();
    c.stop();
  });

  it("never abandons a shift that another replica still serves: Orca's 15 s polls (with jitter) on the 30 s minimum lease", async () => {
    const api = countingStore();
    const clock = new FakeClock();
    const a = replica(api, clock);
    const b = replica(api, clock);
    const { ref } = await createdThrough(a, clock);
    // Polls keep arriving through A only, about 15 s apart (14.9 s, then 15.3 s: a poll just short
    // of the renewal age writes nothing, the next one comes late); B knows only the stored lease
    // (renewed lazily) and keeps the shift from its resyncs.
    for (let i = 0; i < 12; i++) {
      await clock.advance(i % 2 === 0 ? 14_900 : 15_300);
      a.scheduler.track(ref, (await a.engine.status(ref, { polled: true }))?.record);
    }
    expect(await stored(api, ref.id)).toMatchObject({ phase: 'RUNNING' });
    expect(await weights(api)).toEqual([80, 10, 10]);
    a.stop();
    b.stop();
  });

  it('keeps from the watch events alone, before any resync', async () => {
    const api = countingStore();
    const clock = new FakeClock();
    const a = replica(api, clock);
    const b = replica(api, clock);
    const { ref } = await createdThrough(a, clock);
    a.stop();
    b.keeper.observe('local', await api.get(NAMESPACE, NAME));
    expect(b.scheduler.isTracking(ref)).toBe(true);
    const lease = Date.parse((await stored(api, ref.id))!.polledAt) + ABANDON_AFTER_MS;
    await clock.advanceTo(lease + 10);
    expect(await weights(api)).toEqual([100, 0, 0]);
    b.stop();
  });
});

describe('a lease from the future', () => {
  it('counts as the reader\'s now; is written back as now; a small skew is only clamped', async () => {
    const api = countingStore();
    const clock = new FakeClock();
    const { record } = await new ShiftEngine({ apiFor: () => api, clock }).create(spec());
    const object = (await api.get(NAMESPACE, NAME))!;
    const selection = selectRoute(object.spec, record.spec.route, `${NAMESPACE}/${NAME}`);
    const now = new Date(clock.now());
    const edited = { ...record, polledAt: new Date(now.getTime() + 3600_000).toISOString() };
    expect(lastPollAt(edited, { polledNow: false }, now)).toBe(now.getTime());
    const clamped = advance(edited, selection, NAME, now);
    expect(clamped).toMatchObject({ kind: 'write', record: { phase: 'RUNNING', polledAt: now.toISOString() } });
    expect(clamped.kind === 'write' && clamped.target).toBeUndefined();
    // abandonAfter then runs from the reader's now, not from the edited time.
    const later = new Date(now.getTime() + ABANDON_AFTER_MS + 1);
    const after = clamped.kind === 'write' ? clamped.record : edited;
    expect(advance(after, selection, NAME, later)).toMatchObject({ kind: 'write', record: { phase: 'TERMINAL', failure: { reason: 'ABANDONED' } } });
    // Within the tolerance nothing is written: the clamp alone bounds the extension to the skew.
    const skewed = { ...record, polledAt: new Date(now.getTime() + FUTURE_LEASE_TOLERANCE_MS - 1).toISOString() };
    expect(advance(skewed, selection, NAME, now)).toEqual({ kind: 'none' });
    expect(lastPollAt(skewed, { polledNow: false }, now)).toBe(now.getTime());
  });

  it('a record written by a replica whose clock is 1 h ahead is restored abandonAfter after the keeper first saw it, with one warning', async () => {
    const api = countingStore();
    const clock = new FakeClock();
    const ahead = new FakeClock(clock.now() + 3600_000);
    const a = replica(api, ahead);
    const b = replica(api, clock);
    const { ref } = await createdThrough(a, ahead);
    a.stop();
    expect(Date.parse((await stored(api, ref.id))!.polledAt)).toBeGreaterThan(clock.now() + 3000_000);
    // B's first resync finds it: the lease is written back as B's now at once.
    const seenAt = clock.now() + RESYNC_MS;
    await clock.advance(RESYNC_MS + 5);
    expect((await stored(api, ref.id))!.polledAt).toBe(new Date(seenAt + 5).toISOString());
    const skew = b.warnings.filter((w) => /later than this replica's clock/.test(w.message));
    expect(skew).toHaveLength(1);
    expect(skew[0].fields).toMatchObject({ shift: ref.id, aheadMs: expect.any(Number) });
    await clock.advanceTo(seenAt + ABANDON_AFTER_MS - 1000);
    expect(await weights(api)).toEqual([80, 10, 10]);
    await clock.advanceTo(seenAt + ABANDON_AFTER_MS + RESYNC_MS);
    expect(await stored(api, ref.id)).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ABANDONED' } });
    expect(await weights(api)).toEqual([100, 0, 0]);
    expect(b.warnings.filter((w) => /later than this replica's clock/.test(w.message))).toHaveLength(1);
    b.stop();
  });
});
