/**
 * The engine's Event hook (issue 17 item 3) on the embedded store with a fake clock: each step,
 * the end and a rollback become Events on the VirtualService; and Events that cannot be written
 * (a Role without events: 403) or a sink that throws never fail or stop a shift.
 */
import { EmbeddedVirtualServiceApi } from '../kube/embedded-api';
import { EventRecorder } from '../kube/events';
import { EventSink } from '../kube/event-types';
import { MemoryEventWriter } from '../kube/event-writers';
import { ManagedFieldsEntry } from '../kube/managed-fields';
import { checkoutVirtualService } from '../kube/seed';
import { VirtualServiceApi } from '../kube/types';
import { silentLogger } from '../logger';
import { FakeClock } from './clock';
import { ShiftEngine, ShiftRef } from './engine';
import { ShiftRecord } from './record';
import { checkoutSpec } from './test-spec';

const spec = checkoutSpec({
  steps: [{ weights: [80, 10, 10], pause: '60s' }, { weights: [34, 33, 33], pause: '60s' }, { weights: [100, 0, 0] }],
  abandonAfter: '10m',
  executionId: 'exec-7',
  stageRef: '3',
});

function world(sinkFor: (clock: FakeClock, writer: MemoryEventWriter) => EventSink) {
  const clock = new FakeClock();
  const writer = new MemoryEventWriter();
  const sink = sinkFor(clock, writer);
  const store = new EmbeddedVirtualServiceApi([checkoutVirtualService('shop')]);
  const engine = new ShiftEngine({ apiFor: () => store, clock, eventsFor: () => sink });
  const refOf = (record: ShiftRecord): ShiftRef => ({ account: 'prod', namespace: 'shop', virtualService: 'checkout', id: record.id });
  const story = () => writer.about('shop', 'checkout').map((e) => `${e.type} ${e.reason}: ${e.message}`);
  return { clock, writer, sink, store, engine, refOf, story };
}

const recorderSink = (clock: FakeClock, writer: MemoryEventWriter) => new EventRecorder({ writer, log: silentLogger, clock, account: 'prod', instance: 'r1' });

/** Runs the shift to its end, polling like Orca after each pause. */
async function runToEnd(w: ReturnType<typeof world>): Promise<ShiftRecord> {
  const { record } = await w.engine.create(spec);
  let current = record;
  for (let i = 0; i < 5 && current.phase === 'RUNNING'; i++) {
    await w.clock.advance(61_000);
    current = (await w.engine.status(w.refOf(record), { polled: true }))!.record;
  }
  return current;
}

describe('Events of a shift', () => {
  it('tell each step, the completion and the execution', async () => {
    const w = world(recorderSink);
    const ended = await runToEnd(w);
    await (w.sink as EventRecorder).flush();
    expect(ended.phase).toBe('SUCCEEDED');
    const id = `execution exec-7 stage 3, shift ${ended.id}`;
    expect(w.story()).toEqual([
      `Normal StepApplied: step 1 of 3: release 80, baseline 10, canary 10, pause 1m (${id})`,
      `Normal StepApplied: step 2 of 3: release 34, baseline 33, canary 33, pause 1m (${id})`,
      `Normal StepApplied: step 3 of 3: release 100, baseline 0, canary 0 (${id})`,
      `Normal Completed: shift completed at step 3 of 3: release 100, baseline 0, canary 0 (${id})`,
    ]);
  });

  it('tell a cancel and the weights it restored', async () => {
    const w = world(recorderSink);
    const { record } = await w.engine.create(spec);
    await w.engine.cancel(w.refOf(record));
    await (w.sink as EventRecorder).flush();
    expect(w.story().slice(1)).toEqual([
      expect.stringMatching(/^Normal Cancelled: cancelled; weights restored to release 100, baseline 0, canary 0 \(execution exec-7/),
      expect.stringMatching(/^Warning RolledBack: weights restored to release 100, baseline 0, canary 0 \(execution exec-7/),
    ]);
  });

  it('tell an abandonment and its rollback', async () => {
    const w = world(recorderSink);
    const { record } = await w.engine.create(spec);
    await w.clock.advance(11 * 60_000);
    const ended = (await w.engine.advance(w.refOf(record)))!;
    await (w.sink as EventRecorder).flush();
    expect(ended.failure?.reason).toBe('ABANDONED');
    expect(w.story().slice(1)).toEqual([
      expect.stringMatching(/^Warning Abandoned: abandoned: no status poll for 11m/),
      expect.stringMatching(/^Warning RolledBack: weights restored to release 100, baseline 0, canary 0 \(execution exec-7/),
    ]);
  });

  it('that cannot be written (403: the Role has no events) never fail the shift', async () => {
    const warnings: string[] = [];
    const w = world((clock, writer) => {
      writer.failWith = 403;
      return new EventRecorder({ writer, clock, account: 'prod', log: { ...silentLogger, warn: (message) => warnings.push(message) } });
    });
    const ended = await runToEnd(w);
    await (w.sink as EventRecorder).flush();
    expect(ended.phase).toBe('SUCCEEDED');
    expect(warnings).toEqual(['could not record a Kubernetes Event; shifts go on without it']);
  });

  it('from a sink that throws never fail the shift', async () => {
    const failures: string[] = [];
    const clock = new FakeClock();
    const store = new EmbeddedVirtualServiceApi([checkoutVirtualService('shop')]);
    const sink: EventSink = { record: () => { throw new Error('forbidden'); } };
    const engine = new ShiftEngine({ apiFor: () => store, clock, eventsFor: () => sink, observer: { reportingFailed: (what) => failures.push(what) } });
    const { record } = await engine.create(spec);
    expect(record.phase).toBe('RUNNING');
    expect(failures).toEqual(['record Kubernetes Events']);
  });
});

describe('naming the other writer', () => {
  it('adds the managedFields owner of the route to the conflict message, and a failed read changes nothing', async () => {
    const clock = new FakeClock();
    const store = new EmbeddedVirtualServiceApi([checkoutVirtualService('shop')]);
    let entries: ManagedFieldsEntry[] | Error = [
      { manager: 'istio-traffic-shift', operation: 'Update', time: '2026-01-01T12:00:00Z', fieldsV1: { 'f:metadata': {} } },
      { manager: 'argocd-controller', operation: 'Apply', time: '2026-01-01T12:00:30Z', fieldsV1: { 'f:spec': { 'f:http': {}, 'f:hosts': {} } } },
    ];
    const api: VirtualServiceApi = {
      get: (ns, name) => store.get(ns, name),
      list: (ns) => store.list(ns),
      patch: (ns, name, ops) => store.patch(ns, name, ops),
      managedFields: async () => {
        if (entries instanceof Error) throw entries;
        return entries;
      },
    };
    const engine = new ShiftEngine({ apiFor: () => api, clock });
    const fight = async () => {
      const { record } = await engine.create({ ...spec, executionId: `exec-${Math.random()}` });
      const vs = (await store.get('shop', 'checkout'))!;
      (vs.spec.http as Array<{ route: Array<{ weight: number }> }>)[1].route.forEach((d, i) => (d.weight = [50, 25, 25][i]));
      store.put(vs);
      return (await engine.advance({ account: 'prod', namespace: 'shop', virtualService: 'checkout', id: record.id }))!;
    };
    const named = await fight();
    expect(named.failure?.reason).toBe('ROUTE_CHANGED');
    expect(named.failure?.message).toMatch(/the shift stopped and left the route as that writer set it; changed by "argocd-controller" \(Apply, 2026-01-01T12:00:30Z\)$/);
    entries = new Error('403');
    const unnamed = await fight();
    expect(unnamed.failure?.message).toMatch(/left the route as that writer set it$/);
  });
});
