/**
 * The engine and the step scheduler on the embedded store with a fake clock: the safety rules of
 * docs/reliability.md without a cluster and without real waiting. Every store call is counted, so
 * "exactly one write per step" and "no second shift" are asserted, not assumed.
 * (The real-cluster tier, stage-service/test/*.cluster.test.ts, stays the second line.)
 */
import { NormalizedShiftSpec, PatchOperation } from '@istio-shift/core';
import { EmbeddedVirtualServiceApi } from '../kube/embedded-api';
import { checkoutVirtualService } from '../kube/seed';
import { VirtualServiceApi, VirtualServiceObject } from '../kube/types';
import { FakeClock, settle } from './clock';
import { ShiftEngine, ShiftRef } from './engine';
import { ShiftRecord } from './record';
import { StepScheduler } from './scheduler';
import { checkoutSpec } from './test-spec';

const NS = 'shop';
const STEP1 = [80, 10, 10];
const STEP2 = [34, 33, 33];
const ORIGINAL = [100, 0, 0];

/** The embedded store, with every call counted and writes that can be held (a slow API server). */
class CountingApi implements VirtualServiceApi {
  gets = 0;
  lists = 0;
  readonly patches: PatchOperation[][] = [];
  private held?: { promise: Promise<void>; release: () => void };

  constructor(readonly store: EmbeddedVirtualServiceApi) {}

  get(namespace: string, name: string): Promise<VirtualServiceObject | undefined> {
    this.gets++;
    return this.store.get(namespace, name);
  }

  list(namespace: string): Promise<VirtualServiceObject[]> {
    this.lists++;
    return this.store.list(namespace);
  }

  async patch(namespace: string, name: string, operations: PatchOperation[]): Promise<VirtualServiceObject> {
    this.patches.push(operations);
    if (this.held) await this.held.promise;
    return this.store.patch(namespace, name, operations);
  }

  /** Writes from now on wait until `release()`. */
  holdWrites(): () => void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.held = { promise, release };
    return () => {
      this.held = undefined;
      release();
    };
  }
}

function spec(change: Record<string, unknown> = {}): NormalizedShiftSpec {
  return checkoutSpec({
    steps: [{ weights: STEP1, pause: '60s' }, { weights: STEP2, pause: '60s' }, { weights: [100, 0, 0] }],
    abandonAfter: '2m',
    executionId: 'exec-1',
    stageRef: '3',
    ...change,
  });
}

/** One replica: engine and scheduler on a fake clock, over a counting embedded store. */
function replica(options: { pollWaitMs?: number } = {}) {
  const clock = new FakeClock();
  const store = new EmbeddedVirtualServiceApi([checkoutVirtualService(NS)]);
  const api = new CountingApi(store);
  let pollsAnsweredDuringWrite = 0;
  const warnings: string[] = [];
  const engine = new ShiftEngine({ apiFor: () => api, clock, pollWaitMs: options.pollWaitMs, observer: { pollAnsweredDuringWrite: () => pollsAnsweredDuringWrite++ } });
  const scheduler = new StepScheduler(engine, { warn: (message) => warnings.push(message) }, undefined, clock);
  const refOf = (record: ShiftRecord): ShiftRef => ({ account: 'prod', namespace: NS, virtualService: 'checkout', id: record.id });
  const world = {
    clock,
    store,
    api,
    engine,
    scheduler,
    warnings,
    get pollsAnsweredDuringWrite() {
      return pollsAnsweredDuringWrite;
    },
    /** Creates as the HTTP layer does: then tracks the shift. */
    async create(s: NormalizedShiftSpec = spec()) {
      const created = await engine.create(s);
      scheduler.track(refOf(created.record), created.record);
      return { ...created, ref: refOf(created.record) };
    },
    /** A status poll as the HTTP layer serves it. */
    async poll(ref: ShiftRef): Promise<ShiftRecord> {
      const snapshot = await engine.status(ref, { polled: true });
      scheduler.track(ref, snapshot?.record);
      return snapshot!.record;
    },
    async cancel(ref: ShiftRef): Promise<ShiftRecord | undefined> {
      const record = await engine.cancel(ref);
      scheduler.track(ref, record);
      return record;
    },
    /** Moves time on by `seconds`, firing the scheduler's timers due on the way. */
    advance: (seconds: number) => clock.advance(seconds * 1000),
    read: async (ref: ShiftRef) => (await engine.read(ref))!,
    /** The primary route's weights as stored. */
    async weights(): Promise<number[]> {
      const vs = await store.get(NS, 'checkout');
      const primary = (vs!.spec.http as Array<{ name: string; route: Array<{ weight?: number }> }>).find((r) => r.name === 'primary')!;
      return primary.route.map((d) => d.weight ?? 0);
    },
    /** Another writer (kubectl, a GitOps tool) sets the primary route's weights. */
    async otherWriterSets(weights: number[]): Promise<void> {
      const vs = (await store.get(NS, 'checkout'))!;
      const primary = (vs.spec.http as Array<{ name: string; route: Array<{ weight?: number }> }>).find((r) => r.name === 'primary')!;
      primary.route.forEach((d, i) => (d.weight = weights[i]));
      store.put(vs);
    },
  };
  return world;
}

type World = ReturnType<typeof replica>;
let current: World | undefined;
const make = (options?: { pollWaitMs?: number }) => (current = replica(options));
afterEach(() => current?.scheduler.stop());

describe('watch lease: a step moves only while a caller polls', () => {
  it('a create whose answer was lost (no poll) moves nothing when the pause ends; the first poll does', async () => {
    const w = make();
    const { ref } = await w.create(spec({ steps: [{ weights: STEP1, pause: '20s' }, { weights: STEP2, pause: '60s' }, { weights: [100, 0, 0] }] }));
    expect(await w.weights()).toEqual(STEP1);
    // The pause ends 20 s in, within WATCHED_WITHIN_SECONDS of the create (the stored lease), but a
    // create is no watcher: its answer may never have reached Orca.
    await w.advance(21);
    expect((await w.read(ref)).currentStep).toBe(1);
    expect(await w.weights()).toEqual(STEP1);
    expect((await w.poll(ref)).currentStep).toBe(2);
    expect(await w.weights()).toEqual(STEP2);
  });

  it('the pause timer moves a step polled within the lease window, and not one polled before it', async () => {
    const w = make();
    const { ref } = await w.create();
    await w.advance(40);
    await w.poll(ref); // 40 s in: the pause ends at 60 s, 20 s after this poll
    await w.advance(21);
    expect((await w.read(ref)).currentStep).toBe(2);
    expect(await w.weights()).toEqual(STEP2);
    // Step 2's pause ends at 121 s; the last poll (40 s) is then 81 s old: nobody is watching.
    await w.advance(61);
    expect((await w.read(ref)).currentStep).toBe(2);
    expect(await w.weights()).toEqual(STEP2);
  });
});

describe('abandonment: nobody polled for abandonAfter', () => {
  it('the scheduler wakes at the lease end, with no poll, and restores the weights', async () => {
    const w = make();
    const { ref } = await w.create(spec({ steps: [{ weights: STEP1, pause: '1h' }, { weights: [100, 0, 0] }], abandonAfter: '30s' }));
    expect(w.scheduler.isTracking(ref)).toBe(true);
    await w.advance(29);
    expect((await w.read(ref)).phase).toBe('RUNNING');
    await w.advance(2);
    const record = await w.read(ref);
    expect(record).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ABANDONED' }, rollback: { result: 'restored' } });
    expect(await w.weights()).toEqual(ORIGINAL);
    expect(w.scheduler.isTracking(ref)).toBe(false);
  });

  it('each poll moves the lease on; the timer abandons abandonAfter after the last one', async () => {
    const w = make();
    const { ref } = await w.create(spec({ steps: [{ weights: STEP1, pause: '1h' }, { weights: [100, 0, 0] }], abandonAfter: '30s' }));
    for (let i = 0; i < 4; i++) {
      await w.advance(20);
      await w.poll(ref);
    }
    expect((await w.read(ref)).phase).toBe('RUNNING');
    await w.advance(31);
    expect(await w.read(ref)).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ABANDONED' } });
    expect(await w.weights()).toEqual(ORIGINAL);
  });

  it('with onCancel: hold, abandonment holds the weights', async () => {
    const w = make();
    const { ref } = await w.create(spec({ onCancel: 'hold', abandonAfter: '30s' }));
    await w.advance(31);
    expect(await w.read(ref)).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ABANDONED' }, rollback: { result: 'held' } });
    expect(await w.weights()).toEqual(STEP1);
  });
});

describe('cancel', () => {
  it('restores the weights from before the shift, in one write', async () => {
    const w = make();
    const { ref } = await w.create();
    await w.advance(61);
    await w.poll(ref);
    expect(await w.weights()).toEqual(STEP2);
    const writes = w.api.patches.length;
    expect(await w.cancel(ref)).toMatchObject({ phase: 'CANCELED', rollback: { result: 'restored' } });
    expect(await w.weights()).toEqual(ORIGINAL);
    expect(w.api.patches.length).toBe(writes + 1);
    expect(w.scheduler.isTracking(ref)).toBe(false);
  });

  it('with onCancel: hold, holds the weights', async () => {
    const w = make();
    const { ref } = await w.create(spec({ onCancel: 'hold' }));
    expect(await w.cancel(ref)).toMatchObject({ phase: 'CANCELED', rollback: { result: 'held' } });
    expect(await w.weights()).toEqual(STEP1);
  });

  it('never undoes a SUCCEEDED shift (and writes nothing)', async () => {
    const w = make();
    const { ref, record } = await w.create(spec({ steps: [{ weights: STEP1, pause: '10s' }, { weights: [0, 0, 100] }] }));
    expect(record.phase).toBe('RUNNING');
    await w.advance(11);
    expect((await w.poll(ref)).phase).toBe('SUCCEEDED');
    expect(await w.weights()).toEqual([0, 0, 100]);
    const writes = w.api.patches.length;
    expect(await w.cancel(ref)).toMatchObject({ phase: 'SUCCEEDED' });
    expect(await w.weights()).toEqual([0, 0, 100]);
    expect(w.api.patches.length).toBe(writes);
  });
});

describe('drift: another writer changed the route', () => {
  it('a poll stops the shift and leaves the route as that writer set it', async () => {
    const w = make();
    const { ref } = await w.create();
    await w.otherWriterSets([50, 25, 25]);
    await w.advance(61);
    expect(await w.poll(ref)).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ROUTE_CHANGED' } });
    expect(await w.weights()).toEqual([50, 25, 25]);
  });

  it('abandonment does not restore over it either', async () => {
    const w = make();
    const { ref } = await w.create(spec({ abandonAfter: '30s' }));
    await w.otherWriterSets([50, 25, 25]);
    await w.advance(31);
    expect(await w.read(ref)).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'ROUTE_CHANGED' } });
    expect(await w.weights()).toEqual([50, 25, 25]);
  });

  it('a cancel does not restore over it', async () => {
    const w = make();
    const { ref } = await w.create();
    await w.otherWriterSets([50, 25, 25]);
    expect(await w.cancel(ref)).toMatchObject({ phase: 'CANCELED', rollback: { result: 'conflict' } });
    expect(await w.weights()).toEqual([50, 25, 25]);
  });
});

describe('idempotent create', () => {
  it('a retried create returns the same id and writes nothing more (no second shift)', async () => {
    const w = make();
    const first = await w.create();
    expect(first.created).toBe(true);
    const writes = w.api.patches.length;
    await w.advance(5);
    const again = await w.create();
    expect(again).toMatchObject({ created: false, record: { id: first.record.id } });
    expect(w.api.patches.length).toBe(writes);
    expect(again.attempts.map((r) => r.id)).toEqual([first.record.id]);
  });

  it('a restarted stage (new restartedAt) is a new attempt that supersedes the running one in one write, and restores the weights from before the first', async () => {
    const w = make();
    const first = await w.create();
    await w.advance(61);
    await w.poll(first.ref);
    expect(await w.weights()).toEqual(STEP2);
    const writes = w.api.patches.length;
    const second = await w.create(spec({ restartedAt: w.clock.now() }));
    expect(second.created).toBe(true);
    expect(second.record.id).not.toBe(first.record.id);
    expect(w.api.patches.length).toBe(writes + 1);
    expect(await w.read(first.ref)).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'SUPERSEDED' } });
    expect(second.attempts.map((r) => r.id)).toEqual([first.record.id, second.record.id]);
    expect(await w.weights()).toEqual(STEP1);
    // A cancel naming the superseded attempt reaches the running one (after a restart Orca calls the
    // earlier attempt's cancelUrl); the superseded attempt itself stays as it ended.
    expect(await w.cancel(first.ref)).toMatchObject({ id: second.record.id, phase: 'CANCELED', rollback: { result: 'restored' } });
    expect(await w.read(first.ref)).toMatchObject({ phase: 'TERMINAL', failure: { reason: 'SUPERSEDED' } });
    expect(await w.cancel(second.ref)).toMatchObject({ phase: 'CANCELED' });
    expect(await w.weights()).toEqual(ORIGINAL);
  });

  it('a cancel naming an ended attempt with no running later one changes nothing', async () => {
    const w = make();
    const first = await w.create();
    expect(await w.cancel(first.ref)).toMatchObject({ phase: 'CANCELED' });
    const writes = w.api.patches.length;
    expect(await w.cancel(first.ref)).toMatchObject({ id: first.record.id, phase: 'CANCELED' });
    expect(w.api.patches.length).toBe(writes);
  });
});

describe('writes', () => {
  /** Whether a patch writes the route's weights and the state annotation, guarded, all in one. */
  const shape = (ops: PatchOperation[]) => ({
    tests: ops.filter((op) => op.op === 'test').length > 0,
    route: ops.some((op) => op.op !== 'test' && op.path.startsWith('/spec/')),
    state: ops.some((op) => op.op !== 'test' && op.path.startsWith('/metadata/annotations')),
  });

  it('exactly one guarded patch per step, carrying both the weights and the state', async () => {
    const w = make();
    const { ref } = await w.create();
    expect(w.api.patches.map(shape)).toEqual([{ tests: true, route: true, state: true }]);
    await w.advance(61);
    await w.poll(ref);
    await w.advance(61);
    expect((await w.poll(ref)).phase).toBe('SUCCEEDED');
    expect(await w.weights()).toEqual([100, 0, 0]);
    expect(w.api.patches.map(shape)).toEqual([1, 2, 3].map(() => ({ tests: true, route: true, state: true })));
  });

  it('polls between steps write nothing until the lease needs renewing, then one state-only patch', async () => {
    const w = make();
    const { ref } = await w.create(spec({ steps: [{ weights: STEP1, pause: '1h' }, { weights: [100, 0, 0] }] }));
    for (let i = 0; i < 2; i++) {
      await w.advance(10);
      await w.poll(ref);
    }
    expect(w.api.patches.length).toBe(1);
    await w.advance(15); // 35 s since the create: past a quarter of abandonAfter (2m), LEASE_RENEW_FRACTION
    await w.poll(ref);
    expect(w.api.patches.map(shape)).toEqual([{ tests: true, route: true, state: true }, { tests: true, route: false, state: true }]);
  });
});

describe('a poll during a slow write', () => {
  it('answers from the stored state after pollWaitMs, without waiting for the write', async () => {
    const w = make({ pollWaitMs: 250 });
    const { ref } = await w.create();
    const release = w.api.holdWrites();
    // A cancel whose write hangs at the API server.
    let cancelled: ShiftRecord | undefined;
    const cancelling = w.engine.cancel(ref).then((r) => (cancelled = r));
    await settle();
    let answer: ShiftRecord | undefined;
    void w.engine.status(ref, { polled: true }).then((s) => (answer = s?.record));
    await w.clock.advance(249);
    expect(answer).toBeUndefined();
    await w.clock.advance(1);
    // Answered while the write still hangs: the stored step, RUNNING.
    expect(cancelled).toBeUndefined();
    expect(answer).toMatchObject({ phase: 'RUNNING', currentStep: 1 });
    expect(w.pollsAnsweredDuringWrite).toBe(1);
    release();
    await cancelling;
    expect(cancelled).toMatchObject({ phase: 'CANCELED' });
    expect(await w.weights()).toEqual(ORIGINAL);
  });
});
