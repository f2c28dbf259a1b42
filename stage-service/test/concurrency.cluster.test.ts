/**
 * Races, made deterministic: another writer changes the VirtualService between the engine's read
 * and its write. The guarded patch must fail on the real API server, and the engine must re-read
 * and decide again: never overwrite.
 */
import { validateShiftSpec } from '@istio-shift/core';
import { ShiftEngine } from '../src/engine/engine';
import { STATE_ANNOTATION } from '../src/engine/record';
import { ClusterVirtualServiceApi } from '../src/kube/cluster-api';
import { VirtualServiceApi } from '../src/kube/types';
import { adminKubeConfig, applyVirtualService, createNamespace, getVirtualService, jsonPatchVirtualService, JsonPatchOp } from '../../test/cluster/test-helpers';
import { checkoutVirtualService, exampleShift, primaryWeights } from './support';

let namespace: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('races'));
});
afterAll(async () => cleanup?.());

/** The real API, with another client's write slipped in after the next read (once). */
function interleaved(real: VirtualServiceApi, writeAfterRead: () => Promise<void>): VirtualServiceApi & { patches: number } {
  let pending: (() => Promise<void>) | undefined = writeAfterRead;
  const api = {
    patches: 0,
    get: async (ns: string, name: string) => {
      const object = await real.get(ns, name);
      const write = pending;
      pending = undefined;
      if (write) await write();
      return object;
    },
    list: (ns: string) => real.list(ns),
    patch: async (ns: string, name: string, ops: Parameters<VirtualServiceApi['patch']>[2]) => {
      api.patches++;
      return real.patch(ns, name, ops);
    },
  };
  return api;
}

function normalized(overrides: Record<string, unknown>) {
  const result = validateShiftSpec(exampleShift('races', namespace, overrides));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

const patchBy = (name: string, ops: JsonPatchOp[]) => () => jsonPatchVirtualService(namespace, name, ops).then(() => undefined);

it('does not overwrite weights another writer set between our read and our write', async () => {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = 'race-weights';
  await applyVirtualService(namespace, vs);
  const real = new ClusterVirtualServiceApi(adminKubeConfig());
  const api = interleaved(real, patchBy('race-weights', [{ op: 'replace', path: '/spec/http/1/route/0/weight', value: 60 }, { op: 'replace', path: '/spec/http/1/route/1/weight', value: 40 }]));
  const engine = new ShiftEngine({ apiFor: () => api });
  const { record } = await engine.create(normalized({ virtualService: 'race-weights', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] }));
  // The first patch was rejected (the route changed under it); the second attempt planned from
  // the other writer's weights: its original weights are theirs, so a rollback restores theirs.
  expect(api.patches).toBe(2);
  expect(record.originalWeights).toEqual([60, 40, 0]);
  expect(primaryWeights(await getVirtualService(namespace, 'race-weights'))).toEqual([80, 10, 10]);
  const cancelled = await engine.cancel({ account: 'races', namespace, virtualService: 'race-weights', id: record.id });
  expect(cancelled?.rollback?.result).toBe('restored');
  expect(primaryWeights(await getVirtualService(namespace, 'race-weights'))).toEqual([60, 40, 0]);
});

it('ends TERMINAL when another writer changes the weights between the read and the next step', async () => {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = 'race-step';
  await applyVirtualService(namespace, vs);
  const real = new ClusterVirtualServiceApi(adminKubeConfig());
  const engine = new ShiftEngine({ apiFor: () => real });
  const { record } = await engine.create(normalized({ virtualService: 'race-step', steps: [{ weights: [80, 10, 10] , pause: '0s' }, { weights: [0, 0, 100] }] }));
  expect(record.phase).toBe('RUNNING');
  const api = interleaved(real, patchBy('race-step', [{ op: 'replace', path: '/spec/http/1/route/2/weight', value: 0 }, { op: 'replace', path: '/spec/http/1/route/0/weight', value: 90 }]));
  const racing = new ShiftEngine({ apiFor: () => api });
  // A status poll served by a second replica (a poll is what moves a watched shift on).
  const after = (await racing.status({ account: 'races', namespace, virtualService: 'race-step', id: record.id }, { polled: true }))?.record;
  expect(after?.phase).toBe('TERMINAL');
  expect(after?.failure?.reason).toBe('ROUTE_CHANGED');
  expect(primaryWeights(await getVirtualService(namespace, 'race-step'))).toEqual([90, 10, 0]);
});

it('lets the second of two replicas that read the same state adopt the first one\'s step', async () => {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = 'race-replicas';
  await applyVirtualService(namespace, vs);
  const real = new ClusterVirtualServiceApi(adminKubeConfig());
  const first = new ShiftEngine({ apiFor: () => real });
  const { record } = await first.create(normalized({ virtualService: 'race-replicas', steps: [{ weights: [80, 10, 10], pause: '0s' }, { weights: [34, 33, 33], pause: '1h' }, { weights: [100, 0, 0] }] }));
  const ref = { account: 'races', namespace, virtualService: 'race-replicas', id: record.id };
  // Replica B reads; replica A advances in between; B's guarded write fails and B re-reads.
  const api = interleaved(real, async () => {
    await first.status(ref, { polled: true });
  });
  const second = new ShiftEngine({ apiFor: () => api });
  const after = (await second.status(ref, { polled: true }))?.record;
  expect(api.patches).toBe(1);
  expect(after?.currentStep).toBe(2);
  expect(after?.stepTimes).toHaveLength(2);
  const stored = JSON.parse((await getVirtualService(namespace, 'race-replicas')).metadata.annotations?.[STATE_ANNOTATION] as string);
  expect(stored.shifts[record.id].currentStep).toBe(2);
  expect(primaryWeights(await getVirtualService(namespace, 'race-replicas'))).toEqual([34, 33, 33]);
});

it('maps a schema rejection to an error, not to a race', async () => {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = 'schema';
  await applyVirtualService(namespace, vs);
  const real = new ClusterVirtualServiceApi(adminKubeConfig());
  await expect(real.patch(namespace, 'schema', [{ op: 'replace', path: '/spec/http/1/route/0/weight', value: 'heavy' }])).rejects.toThrow(/Kubernetes patch failed \(422\)/);
});

/** The real API, with patches held until the test lets them through (a write stuck in a queue). */
function gated(real: VirtualServiceApi): VirtualServiceApi & { open: () => void; held: Promise<void> } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let holding: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (holding = resolve));
  return {
    open: () => open(),
    held,
    get: (ns, name) => real.get(ns, name),
    list: (ns) => real.list(ns),
    patch: async (ns, name, ops) => {
      holding();
      await gate;
      return real.patch(ns, name, ops);
    },
  };
}

it('answers a poll from the stored state, without waiting, while a write of the same VirtualService is held up', async () => {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = 'slow-write';
  await applyVirtualService(namespace, vs);
  const real = new ClusterVirtualServiceApi(adminKubeConfig());
  const { record } = await new ShiftEngine({ apiFor: () => real }).create(normalized({ virtualService: 'slow-write', steps: [{ weights: [80, 10, 10], pause: '0s' }, { weights: [100, 0, 0] }] }));
  const ref = { account: 'races', namespace, virtualService: 'slow-write', id: record.id };
  const api = gated(real);
  let answeredDuringWrite = 0;
  const engine = new ShiftEngine({ apiFor: () => api, pollWaitMs: 100, observer: { pollAnsweredDuringWrite: () => answeredDuringWrite++ } });

  // The first poll moves the shift on (its pause is over) and its write is held up...
  let firstSettled = false;
  const first = engine.status(ref, { polled: true }).finally(() => (firstSettled = true));
  await api.held;
  // ...a second poll answers with the step as stored instead of queueing behind that write.
  const second = await engine.status(ref, { polled: true });
  expect(firstSettled).toBe(false);
  expect(answeredDuringWrite).toBe(1);
  expect(second?.record.phase).toBe('RUNNING');
  expect(second?.record.currentStep).toBe(1);
  expect(primaryWeights(await getVirtualService(namespace, 'slow-write'))).toEqual([80, 10, 10]);

  // Once the write goes through, the shift is where the first poll took it, written once.
  api.open();
  expect((await first)?.record.phase).toBe('SUCCEEDED');
  expect(primaryWeights(await getVirtualService(namespace, 'slow-write'))).toEqual([100, 0, 0]);
  expect((await engine.status(ref, { polled: true }))?.record.phase).toBe('SUCCEEDED');
  expect(answeredDuringWrite).toBe(1);
});
