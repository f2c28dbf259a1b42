/**
 * Status polls served from a watch cache (issue 8 §1), on a real kube-apiserver:
 * - polls of running and ended shifts make no API server request; a step is one write, no read;
 * - another writer's change is seen by the next poll once the watch delivers it;
 * - a step decided on a stale cached read is rejected by the patch's guard and retried on FRESH
 *   data (never overwrites the other writer);
 * - the watch resumes after its stream is cut, relists after 410 Gone, and after an API server
 *   restart (private control plane);
 * - two service replicas polled alternately drive one shift correctly.
 */
import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { NormalizedShiftSpec, validateShiftSpec } from '@istio-shift/core';
import { ShiftEngine, ShiftRef } from '../src/engine/engine';
import { STATE_ANNOTATION } from '../src/engine/record';
import { CachedVirtualServiceApi } from '../src/kube/cached-api';
import { ClusterVirtualServiceApi } from '../src/kube/cluster-api';
import { KubeHttpClient } from '../src/kube/http-client';
import { RunningService } from '../src/service';
import { adminKubeConfig, applyVirtualService, createNamespace, getVirtualService, jsonPatchVirtualService, waitFor } from '../../test/cluster/test-helpers';
import { call, checkoutVirtualService, clusterAccount, exampleShift, freePort, primaryWeights, serviceConfig, startTestService } from './support';

const { startCluster } = require('../../test/cluster') as {
  startCluster(options: { stateDir: string }): Promise<{ server: string; caFile: string; adminToken: string; stop(): Promise<void>; restartApiserver(): Promise<void> }>;
};

const ACCOUNT = 'watch-cluster';
let namespace: string;
let cleanup: () => Promise<void>;
let cluster: ClusterVirtualServiceApi;
let cache: CachedVirtualServiceApi;
let engine: ShiftEngine;

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('watch'));
  cluster = new ClusterVirtualServiceApi(adminKubeConfig());
  cache = new CachedVirtualServiceApi(cluster);
  cache.start([namespace]);
  engine = new ShiftEngine({ apiFor: () => cache });
  await waitFor('the watch cache to sync', async () => (cache.watchOf(namespace).synced ? true : undefined), 20_000);
});

afterAll(async () => {
  cache?.stop();
  (await cluster?.client())?.close();
  await cleanup?.();
});

function specFor(name: string, overrides: Record<string, unknown> = {}): NormalizedShiftSpec {
  const result = validateShiftSpec(exampleShift(ACCOUNT, namespace, { virtualService: name, ...overrides }));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

/** A fresh VirtualService, and the cache holding it. */
async function freshVirtualService(name: string): Promise<void> {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = name;
  const applied = await applyVirtualService(namespace, vs);
  await waitFor(`the watch to deliver ${name}`, async () => (cache.watchOf(namespace).hasSeen(name, applied.metadata.resourceVersion as string) ? true : undefined), 10_000);
}

const requests = async () => (await cluster.client()).stats().requests;
const refOf = (name: string, id: string): ShiftRef => ({ account: ACCOUNT, namespace, virtualService: name, id });

it('answers polls of running and ended shifts without an API server request; a step is one write and no read', async () => {
  await freshVirtualService('polled');
  const before = await requests();
  const created = await engine.create(specFor('polled', { steps: [{ weights: [80, 10, 10], pause: '10m' }, { weights: [100, 0, 0] }] }));
  expect(created.created).toBe(true);
  expect((await requests()) - before).toBe(1); // the guarded patch, no GET
  expect(primaryWeights(await getVirtualService(namespace, 'polled'))).toEqual([80, 10, 10]);

  const ref = refOf('polled', created.record.id);
  const beforePolls = await requests();
  for (let i = 0; i < 50; i++) {
    const snapshot = await engine.status(ref, { polled: true });
    expect(snapshot?.record.phase).toBe('RUNNING');
    expect(snapshot?.record.currentStep).toBe(1);
  }
  expect((await requests()) - beforePolls).toBe(0);

  // Our own write is visible at once, before the watch delivers it (read-your-writes).
  const canceled = await engine.cancel(ref);
  expect(canceled?.phase).toBe('CANCELED');
  const afterCancel = await requests();
  for (let i = 0; i < 20; i++) expect((await engine.status(ref, { polled: true }))?.record.phase).toBe('CANCELED');
  expect((await requests()) - afterCancel).toBe(0);
  expect(primaryWeights(await getVirtualService(namespace, 'polled'))).toEqual([100, 0, 0]);
});

it('starts a shift on a VirtualService created a moment ago, before the watch delivered it', async () => {
  // A Deploy Manifest stage right before the shift: the object exists, the (lagging) watch has not
  // shown it yet. Absence in the cache is not trusted, so the create reads it from the API server.
  const watch = cache.watchOf(namespace);
  watch.hold();
  try {
    const vs = checkoutVirtualService(namespace);
    vs.metadata.name = 'just-deployed';
    await applyVirtualService(namespace, vs);
    expect(watch.object('just-deployed')).toBeUndefined();
    const missedBefore = cache.stats.missed;
    const before = await requests();
    const created = await engine.create(specFor('just-deployed'));
    expect(created.created).toBe(true);
    expect(cache.stats.missed - missedBefore).toBe(1);
    expect((await requests()) - before).toBe(2); // the GET of the missing name, then the guarded patch
    expect(primaryWeights(await getVirtualService(namespace, 'just-deployed'))).toEqual([80, 10, 10]);
  } finally {
    watch.release();
  }
});

it("sees another writer's change at the next poll once the watch has delivered it", async () => {
  await freshVirtualService('other-writer');
  const created = await engine.create(specFor('other-writer', { steps: [{ weights: [80, 10, 10], pause: '10m' }, { weights: [100, 0, 0] }] }));
  const ref = refOf('other-writer', created.record.id);
  const written = await jsonPatchVirtualService(namespace, 'other-writer', [{ op: 'replace', path: '/spec/http/1/route/0/weight', value: 50 }, { op: 'replace', path: '/spec/http/1/route/1/weight', value: 50 }, { op: 'replace', path: '/spec/http/1/route/2/weight', value: 0 }]);
  await waitFor('the watch to deliver the other write', async () => (cache.watchOf(namespace).hasSeen('other-writer', written.metadata.resourceVersion as string) ? true : undefined), 10_000);
  const polled = await engine.status(ref, { polled: true });
  expect(polled?.record.phase).toBe('TERMINAL');
  expect(polled?.record.failure?.reason).toBe('ROUTE_CHANGED');
  expect(primaryWeights(await getVirtualService(namespace, 'other-writer'))).toEqual([50, 50, 0]);
});

it('rejects a write decided on a stale cached read and retries it on fresh data, never overwriting', async () => {
  await freshVirtualService('stale');
  const created = await engine.create(specFor('stale', { steps: [{ weights: [80, 10, 10], pause: '10m' }, { weights: [100, 0, 0] }] }));
  const ref = refOf('stale', created.record.id);
  const watch = cache.watchOf(namespace);
  await waitFor('the watch to confirm our create', async () => (watch.hasSeen('stale', (await getVirtualService(namespace, 'stale')).metadata.resourceVersion as string) ? true : undefined), 10_000);
  // The watch lags (its stream is not read) while another writer changes the route.
  watch.hold();
  try {
    await jsonPatchVirtualService(namespace, 'stale', [{ op: 'replace', path: '/spec/http/1/route/0/weight', value: 70 }, { op: 'replace', path: '/spec/http/1/route/1/weight', value: 30 }, { op: 'replace', path: '/spec/http/1/route/2/weight', value: 0 }]);
    const stats = { ...cache.stats };
    const before = await requests();
    // Cancel decides "restore" on the stale read; the guard rejects it; the retry reads fresh,
    // sees the other writer and leaves the route as that writer set it.
    const canceled = await engine.cancel(ref);
    expect(canceled?.phase).toBe('CANCELED');
    expect(canceled?.rollback?.result).toBe('conflict');
    expect(cache.stats.guardFailures - stats.guardFailures).toBe(1);
    expect(cache.stats.invalidated - stats.invalidated).toBe(1);
    // rejected patch, fresh GET, the GET of managedFields that names the other writer in the record
    // (the watch cache drops managedFields: engine.nameOtherWriters), patch of the record
    expect((await requests()) - before).toBe(4);
  } finally {
    watch.release();
  }
  const vs = await getVirtualService(namespace, 'stale');
  expect(primaryWeights(vs)).toEqual([70, 30, 0]);
  expect(JSON.parse(vs.metadata.annotations?.[STATE_ANNOTATION] as string).shifts[created.record.id].phase).toBe('CANCELED');
});

it('resumes a cut watch stream and relists after 410 Gone, and polls stay served from memory', async () => {
  await freshVirtualService('relist');
  const watch = cache.watchOf(namespace);
  const created = await engine.create(specFor('relist', { steps: [{ weights: [80, 10, 10], pause: '10m' }, { weights: [100, 0, 0] }] }));
  const ref = refOf('relist', created.record.id);
  const { watches, lists, gone } = { ...watch.stats };
  watch.interrupt();
  await waitFor('the watch to resume', async () => (watch.stats.watches > watches && watch.synced ? true : undefined), 10_000);
  expect(watch.stats.lists).toBe(lists); // resumed from its resourceVersion, no relist

  // A resourceVersion the server no longer has (here: one from before any object existed).
  watch.forgetResourceVersion('1');
  await waitFor('a relist after 410 Gone', async () => (watch.stats.lists > lists && watch.synced ? true : undefined), 15_000);
  expect(watch.stats.gone).toBeGreaterThan(gone);

  // A write made while the watch was away is in the relisted cache.
  const written = await jsonPatchVirtualService(namespace, 'relist', [{ op: 'add', path: '/metadata/labels', value: { relisted: 'yes' } }]);
  await waitFor('the watch to deliver the label', async () => (watch.hasSeen('relist', written.metadata.resourceVersion as string) ? true : undefined), 10_000);
  const before = await requests();
  expect((await engine.status(ref, { polled: true }))?.record.phase).toBe('RUNNING');
  expect((await requests()) - before).toBe(0);
});

it('drives one shift correctly from two replicas polled alternately', async () => {
  const name = 'two-replicas';
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = name;
  await applyVirtualService(namespace, vs);
  const ports = [await freePort(), await freePort()];
  const replicas: RunningService[] = [];
  try {
    for (const port of ports) replicas.push(await startTestService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace])])));
    const created = await call(`${replicas[0].url}/v1/shifts`, { body: exampleShift(ACCOUNT, namespace, { virtualService: name, steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [34, 33, 33], pause: '1s' }, { weights: [100, 0, 0] }] }) });
    expect(created.status).toBe(202);
    const path = new URL(created.body.statusUrl).pathname;
    const seen: number[][] = [];
    let last: any;
    for (let i = 0; ; i++) {
      const replica = replicas[i % 2];
      const polled = await call(`${replica.url}${path}`);
      expect(polled.status).toBe(200);
      last = polled.body;
      seen.push(last.currentWeights);
      if (last.status !== 'RUNNING') break;
      if (i > 400) throw new Error(`still running: ${last.message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(last.status).toBe('SUCCEEDED');
    expect(last.steps.every((s: any) => s.appliedAt)).toBe(true);
    expect(primaryWeights(await getVirtualService(namespace, name))).toEqual([100, 0, 0]);
    // Steps never go backwards in what either replica reports.
    const order = ['80,10,10', '34,33,33', '100,0,0'];
    const positions = seen.map((w) => order.indexOf(w.join(',')));
    for (let i = 1; i < positions.length; i++) expect(positions[i]).toBeGreaterThanOrEqual(positions[i - 1]);
    // Both replicas served most polls from memory.
    for (const replica of replicas) expect(replica.accounts.cacheOf(ACCOUNT)?.stats.cached).toBeGreaterThan(0);
    // And report their watch as in sync: /readyz without `degraded`, no unsynced watch in
    // /metrics, which names no account or namespace (metrics.accountLabels is off by default).
    for (const replica of replicas) {
      expect((await call(`${replica.url}/readyz`, { token: null })).body).toEqual({ status: 'ready' });
      const metrics = (await call(`${replica.url}/metrics`)).text;
      expect(metrics).toContain('traffic_shift_watches{synced="false"} 0');
      expect(metrics).toMatch(/traffic_shift_watches\{synced="true"\} [1-9]/);
      expect(metrics).not.toContain(namespace);
    }
  } finally {
    for (const replica of replicas) await replica.stop();
  }
}, 60_000);

describe('across an API server restart (private control plane)', () => {
  let privateCluster: Awaited<ReturnType<typeof startCluster>>;
  let admin: KubeHttpClient;
  let api: ClusterVirtualServiceApi;
  let privateCache: CachedVirtualServiceApi;
  const ns = 'watch-restart';

  beforeAll(async () => {
    privateCluster = await startCluster({ stateDir: mkdtempSync(join(tmpdir(), 'istio-shift-watch-')) });
    admin = new KubeHttpClient(privateCluster.server, { ca: readFileSync(privateCluster.caFile) }, async () => `Bearer ${privateCluster.adminToken}`);
    const post = async (path: string, body: unknown) => {
      const response = await admin.request({ method: 'POST', path, flow: 'setup', body: JSON.stringify(body) });
      if (response.status >= 300) throw new Error(`${path}: ${response.status} ${response.body}`);
    };
    await post('/api/v1/namespaces', { metadata: { name: ns } });
    await post(`/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices`, checkoutVirtualService(ns));
    api = new ClusterVirtualServiceApi(admin);
    privateCache = new CachedVirtualServiceApi(api, { backoffMaxMs: 1000 });
    privateCache.start([ns]);
    await waitFor('the private watch to sync', async () => (privateCache.watchOf(ns).object('checkout') ? true : undefined), 20_000);
  }, 300_000);

  afterAll(async () => {
    privateCache?.stop();
    admin?.close();
    await privateCluster?.stop();
  });

  it('reconnects (resuming or relisting) and serves changes made after the restart', async () => {
    const watch = privateCache.watchOf(ns);
    const watches = watch.stats.watches;
    await privateCluster.restartApiserver();
    await waitFor('the watch to reconnect after the restart', async () => (watch.stats.watches > watches && watch.synced ? true : undefined), 90_000);
    const privateEngine = new ShiftEngine({ apiFor: () => privateCache });
    const spec = validateShiftSpec(exampleShift(ACCOUNT, ns, { steps: [{ weights: [80, 10, 10], pause: '10m' }, { weights: [100, 0, 0] }] }));
    if (!spec.ok) throw new Error('bad spec');
    const created = await waitFor('a create after the restart', async () => privateEngine.create(spec.spec).catch(() => undefined), 30_000);
    const response = await admin.request({ method: 'GET', path: `/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices/checkout`, flow: 'check' });
    const version = JSON.parse(response.body).metadata.resourceVersion;
    await waitFor('the watch to deliver the create', async () => (watch.hasSeen('checkout', version) ? true : undefined), 20_000);
    const before = (await api.client()).stats().requests;
    const polled = await privateEngine.status({ account: ACCOUNT, namespace: ns, virtualService: 'checkout', id: created.record.id }, { polled: true });
    expect(polled?.record.currentStep).toBe(1);
    expect((await api.client()).stats().requests - before).toBe(0);
  }, 150_000);
});
