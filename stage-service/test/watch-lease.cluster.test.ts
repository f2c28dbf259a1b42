/**
 * Nothing moves traffic for a pipeline that stopped watching (issue 6 §1), on a real kube-apiserver:
 * - a pause that ends while nobody polls does not move traffic; the next poll does;
 * - a shift nobody polls for abandonAfter is abandoned: weights restored (or held), TERMINAL;
 * - polls keep it alive past abandonAfter with a handful of lazy lease writes.
 * A service restart is the point where the watcher is lost, so each test restarts the service.
 */
import { STATE_ANNOTATION } from '../src/engine/record';
import { RunningService } from '../src/service';
import { createNamespace, getVirtualService, waitFor } from '../../test/cluster/test-helpers';
import { applyCheckout, call, clusterAccount, exampleShift, freePort, primaryWeights, serviceConfig, startTestService } from './support';

const ACCOUNT = 'lease-cluster';
let namespace: string;
let cleanup: () => Promise<void>;
let port: number;
let service: RunningService;

const start = async () => {
  service = await startTestService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace])]));
};
/** A crashed replica: its timers and its memory of polls are gone; the state is in the cluster. */
const restart = async () => {
  await service.stop();
  await start();
};

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('lease'));
  port = await freePort();
  await start();
});

afterAll(async () => {
  await service?.stop();
  await cleanup?.();
});


const create = (spec: Record<string, unknown>) => call(`http://127.0.0.1:${port}/v1/shifts`, { body: spec });
const weights = async (name: string) => primaryWeights(await getVirtualService(namespace, name));
const recordOf = async (name: string, id: string) => JSON.parse((await getVirtualService(namespace, name)).metadata.annotations?.[STATE_ANNOTATION] as string).shifts[id];

it('does not move traffic when a pause ends while nobody polls; the next poll moves it', async () => {
  await applyCheckout(namespace, 'unwatched-pause');
  const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'unwatched-pause', abandonAfter: '5m' }));
  expect(created.status).toBe(202);
  await restart();
  const pauseEnd = Date.parse(created.body.steps[0].pauseUntil);
  // The restarted replica's timer fires at the end of the pause and finds nobody watching.
  await waitFor('the pause to be over by 3 s', async () => (Date.now() > pauseEnd + 3000 ? true : undefined), 15_000);
  expect(await weights('unwatched-pause')).toEqual([80, 10, 10]);
  expect((await recordOf('unwatched-pause', created.body.id)).currentStep).toBe(1);

  const polled = await call(created.body.statusUrl);
  expect(polled.status).toBe(200);
  expect(polled.body).toMatchObject({ status: 'RUNNING', currentStep: 2, currentWeights: [34, 33, 33] });
  expect(await weights('unwatched-pause')).toEqual([34, 33, 33]);
});

it('abandons a shift nobody polls for abandonAfter: restores (or holds with onCancel: hold) and ends TERMINAL', async () => {
  await applyCheckout(namespace, 'abandoned-restore');
  await applyCheckout(namespace, 'abandoned-hold');
  const longSteps = [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }];
  const restore = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'abandoned-restore', steps: longSteps, abandonAfter: '30s' }));
  const hold = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'abandoned-hold', steps: longSteps, abandonAfter: '30s', onCancel: 'hold' }));
  expect([restore.status, hold.status]).toEqual([202, 202]);
  await restart();
  // Nobody polls: the restarted replica's lease timer restores the route on its own.
  await waitFor('the abandoned shift to be restored', async () => ((await weights('abandoned-restore'))[0] === 100 ? true : undefined), 90_000);
  await waitFor('the held shift to end', async () => ((await recordOf('abandoned-hold', hold.body.id)).phase === 'TERMINAL' ? true : undefined), 30_000);
  expect(await weights('abandoned-restore')).toEqual([100, 0, 0]);
  expect(await weights('abandoned-hold')).toEqual([80, 10, 10]);

  const restored = await call(restore.body.statusUrl);
  expect(restored.body.status).toBe('TERMINAL');
  expect(restored.body.failure.reason).toBe('ABANDONED');
  expect(restored.body.message).toMatch(/^abandoned: no status poll for (2|3)\ds \(abandonAfter 30s\); weights restored to release 100, baseline 0, canary 0$/);
  const held = await call(hold.body.statusUrl);
  expect(held.body.message).toMatch(/^abandoned: no status poll for .*; weights held at release 80, baseline 10, canary 10 as the spec asks \(onCancel: hold\)$/);
  // An abandoned shift is over: a late cancel changes nothing.
  const cancelled = await call(restore.body.cancelUrl, { method: 'POST', body: {} });
  expect(cancelled.body.status).toBe('TERMINAL');
}, 150_000);

it('stays alive past abandonAfter while polled, with lazy lease writes, and is abandoned once polls stop', async () => {
  await applyCheckout(namespace, 'polled-lease');
  const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'polled-lease', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }], abandonAfter: '30s' }));
  const versions = new Set<string>();
  const until = Date.now() + 40_000;
  // Orca's first minute: a poll every second.
  while (Date.now() < until) {
    const polled = await call(created.body.statusUrl);
    expect(polled.body.status).toBe('RUNNING');
    versions.add((await getVirtualService(namespace, 'polled-lease')).metadata.resourceVersion as string);
    // Pacing, not synchronisation: Orca's monitor task waits one second between polls.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  // 40 s of 1 s polls past a 30 s lease: renewed about every 15 s (half the lease), not per poll.
  expect(versions.size).toBeGreaterThanOrEqual(2);
  expect(versions.size).toBeLessThanOrEqual(5);
  expect(await weights('polled-lease')).toEqual([80, 10, 10]);
  await restart();
  await waitFor('the shift to be abandoned once polls stopped', async () => ((await weights('polled-lease'))[0] === 100 ? true : undefined), 90_000);
}, 180_000);
