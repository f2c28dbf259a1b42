/**
 * Every running shift has a keeper (issue 14 §2), on a real kube-apiserver with the service as real
 * processes (so SIGKILL is a real one): replicas B and C cover the namespace; a shift is created and
 * polled through replica A, then A is stopped for good (SIGKILL, and again SIGTERM) and nobody polls
 * any more. A replica that never saw the create or a poll restores the weights within abandonAfter
 * plus one resync period, and exactly one write does it although two keepers act.
 *
 * The processes run stage-service/dist/main.js: build first (`npx tsc -b tsconfig.build.json`).
 */
import * as k8s from '@kubernetes/client-node';
import { STATE_ANNOTATION } from '../src/engine/record';
import { ServiceProcess, serviceProcess } from '../../test/e2e/service-process';
import { adminKubeConfig, createNamespace, getVirtualService, waitFor } from '../../test/cluster/test-helpers';
import { applyCheckout, call, exampleShift, freePort, primaryWeights } from './support';

const ACCOUNT = 'keeper-cluster';
const ABANDON_AFTER_MS = 30_000;
/** The service's default resync period (engine/keeper.ts). */
const RESYNC_MS = 30_000;

let namespace: string;
let cleanup: () => Promise<void>;
const started: ServiceProcess[] = [];
let keeperB: ServiceProcess;
let keeperC: ServiceProcess;

async function replica(): Promise<ServiceProcess> {
  const process = serviceProcess(await freePort(), [{ name: ACCOUNT, namespaces: [namespace] }]);
  started.push(process);
  await process.start();
  return process;
}

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('keeper'));
  keeperB = await replica();
  keeperC = await replica();
}, 60_000);

afterAll(async () => {
  for (const process of started) await process.kill();
  await cleanup?.();
});

interface WriteEvent {
  type: string;
  resourceVersion: string;
  weights: number[];
}

/** Every change of one VirtualService after `resourceVersion`, from a watch of the API server. */
async function watchWrites(name: string, resourceVersion: string): Promise<{ events: WriteEvent[]; stop(): void }> {
  const events: WriteEvent[] = [];
  const controller = await new k8s.Watch(adminKubeConfig()).watch(
    `/apis/networking.istio.io/v1/namespaces/${namespace}/virtualservices`,
    { resourceVersion, fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: false },
    (type: string, object: any) => events.push({ type, resourceVersion: object?.metadata?.resourceVersion, weights: object?.spec ? primaryWeights(object) : [] }),
    () => undefined,
  );
  return { events, stop: () => controller.abort() };
}

/** The replica's `traffic_shift_shifts_scheduled` (running shifts it has a timer for). */
async function scheduled(process: ServiceProcess): Promise<number> {
  const response = await call(`${process.baseUrl}/metrics`, { token: process.token });
  const match = /^traffic_shift_shifts_scheduled (\d+)$/m.exec(response.text);
  if (!match) throw new Error(`no scheduled gauge in /metrics (${response.status})`);
  return Number(match[1]);
}

const recordOf = async (name: string, id: string) => JSON.parse((await getVirtualService(namespace, name)).metadata.annotations?.[STATE_ANNOTATION] as string).shifts[id];

describe.each([['SIGKILL'], ['SIGTERM']])('replica A stopped for good with %s', (signal) => {
  it('a replica that never saw the shift restores it within abandonAfter + one resync, in exactly one write', async () => {
    const name = `orphan-${signal.toLowerCase()}`;
    await applyCheckout(namespace, name);
    const replicaA = await replica();
    const created = await call(`${replicaA.baseUrl}/v1/shifts`, {
      token: replicaA.token,
      body: exampleShift(ACCOUNT, namespace, { virtualService: name, steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }], abandonAfter: '30s' }),
    });
    expect(created.status).toBe(202);
    const statusUrl: string = created.body.statusUrl;
    // Orca's first polls, all through A, one second apart (pacing, not synchronisation).
    let lastPoll = 0;
    for (let i = 0; i < 5; i++) {
      const polled = await call(statusUrl, { token: replicaA.token });
      expect(polled.body).toMatchObject({ status: 'RUNNING', currentWeights: [80, 10, 10] });
      lastPoll = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const before = await getVirtualService(namespace, name);
    const persistedLease = Date.parse((await recordOf(name, created.body.id)).polledAt);
    const writes = await watchWrites(name, before.metadata.resourceVersion as string);

    if (signal === 'SIGKILL') await replicaA.kill();
    else await replicaA.stop();
    expect(primaryWeights(await getVirtualService(namespace, name))).toEqual([80, 10, 10]);

    // No more polls, no restart: one of the remaining replicas restores the route on its own.
    await waitFor('the orphaned shift to be restored', async () => ((await recordOf(name, created.body.id)).phase === 'TERMINAL' ? true : undefined), ABANDON_AFTER_MS + RESYNC_MS + 30_000);
    const ended = await recordOf(name, created.body.id);
    const restoredAt = Date.parse(ended.finishedAt);
    expect(primaryWeights(await getVirtualService(namespace, name))).toEqual([100, 0, 0]);
    expect(ended.failure.reason).toBe('ABANDONED');
    expect(ended.rollback.result).toBe('restored');
    // Not before the lease the cluster holds ran out; within abandonAfter + one resync of the last poll.
    expect(restoredAt).toBeGreaterThanOrEqual(persistedLease + ABANDON_AFTER_MS);
    expect(restoredAt).toBeLessThanOrEqual(lastPoll + ABANDON_AFTER_MS + RESYNC_MS);
    const status = await call(statusUrl.replace(replicaA.baseUrl, keeperB.baseUrl), { token: keeperB.token });
    expect(status.body.status).toBe('TERMINAL');
    expect(status.body.message).toMatch(/^abandoned: no status poll for \d+s \(abandonAfter 30s\); weights restored to release 100, baseline 0, canary 0$/);

    // Both keepers drop their timer once they see the ended record; then count the writes.
    await waitFor('both keepers to have no timer left', async () => ((await scheduled(keeperB)) === 0 && (await scheduled(keeperC)) === 0 ? true : undefined), 30_000);
    await waitFor('the watch to deliver the restore', async () => (writes.events.some((e) => e.weights[0] === 100) ? true : undefined), 10_000);
    writes.stop();
    expect(writes.events.map((e) => e.type)).toEqual(['MODIFIED']);
    expect(writes.events[0].weights).toEqual([100, 0, 0]);
    // Only the writer whose guarded patch landed reports the shift as ended.
    const enders = [keeperB, keeperC].filter((keeper) => keeper.output().includes(`"shift":"${created.body.id}","outcome":"TERMINAL"`));
    expect(enders).toHaveLength(1);
    console.log(`[keeper ${signal}] last poll -> restore ${restoredAt - lastPoll} ms; persisted lease -> restore ${restoredAt - persistedLease} ms; writes after A stopped: ${writes.events.length}`);
  }, 180_000);
});
