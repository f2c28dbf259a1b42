/**
 * The engine over the watch cache (kube/cached-api.ts), with the API server replaced by the
 * embedded store behind a fake transport (LIST answers and a watch stream fed by the store's
 * writes): polls are served from the cache, and a guard that fails on a stale cached read makes
 * the engine's retry read fresh from the API server. Counted through the public engine API.
 */
import { PassThrough } from 'stream';
import { PatchOperation } from '@istio-shift/core';
import { CachedVirtualServiceApi } from '../kube/cached-api';
import { ClusterVirtualServiceApi } from '../kube/cluster-api';
import { EmbeddedVirtualServiceApi } from '../kube/embedded-api';
import { KubeHttpClient, KubeRequest, KubeResponse } from '../kube/http-client';
import { checkoutVirtualService } from '../kube/seed';
import { VirtualServiceObject } from '../kube/types';
import { FakeClock, settle } from './clock';
import { ShiftEngine, ShiftRef } from './engine';
import { checkoutSpec } from './test-spec';

const NS = 'shop';

/**
 * An API server made of the embedded store: counted GETs, PATCHes, and one watch stream that
 * delivers each write as a MODIFIED event, unless the watch is lagging (events then queue).
 */
class FakeCluster {
  readonly store = new EmbeddedVirtualServiceApi([checkoutVirtualService(NS)]);
  gets = 0;
  patches = 0;
  private stream?: PassThrough;
  private lagging = false;
  private readonly queued: string[] = [];

  /** The ClusterVirtualServiceApi the cache wraps (only what CachedVirtualServiceApi uses). */
  readonly inner = {
    get: (namespace: string, name: string) => {
      this.gets++;
      return this.store.get(namespace, name);
    },
    list: (namespace: string) => this.store.list(namespace),
    patch: async (namespace: string, name: string, operations: PatchOperation[]) => {
      this.patches++;
      return this.deliver(await this.store.patch(namespace, name, operations));
    },
    client: async () => this.client,
  } as unknown as ClusterVirtualServiceApi;

  private readonly client = {
    request: async (request: KubeRequest): Promise<KubeResponse> => {
      const items = await this.store.list(NS);
      if (request.method !== 'GET') throw new Error(`unexpected ${request.method}`);
      return { status: 200, headers: {}, body: JSON.stringify({ metadata: { resourceVersion: '1' }, items }) };
    },
    stream: async () => {
      const stream = new PassThrough();
      (stream as unknown as { statusCode: number }).statusCode = 200;
      this.stream = stream;
      return stream;
    },
  } as unknown as KubeHttpClient;

  /** Another replica (or kubectl) writes the object directly: the watch sees it unless lagging. */
  async writeDirectly(operations: PatchOperation[]): Promise<void> {
    this.deliver(await this.store.patch(NS, 'checkout', operations));
  }

  lag(): void {
    this.lagging = true;
  }

  catchUp(): void {
    this.lagging = false;
    for (const line of this.queued.splice(0)) this.stream?.write(line);
  }

  private deliver(object: VirtualServiceObject): VirtualServiceObject {
    const line = `${JSON.stringify({ type: 'MODIFIED', object })}\n`;
    if (this.lagging || !this.stream) this.queued.push(line);
    else this.stream.write(line);
    return object;
  }
}

function spec() {
  return checkoutSpec({
    steps: [{ weights: [80, 10, 10], pause: '60s' }, { weights: [34, 33, 33], pause: '60s' }, { weights: [100, 0, 0] }],
    abandonAfter: '2m',
    executionId: 'exec-cache',
    stageRef: '1',
  });
}

let cache: CachedVirtualServiceApi | undefined;
afterEach(() => cache?.stop());

async function setUp() {
  const cluster = new FakeCluster();
  cache = new CachedVirtualServiceApi(cluster.inner);
  const clock = new FakeClock();
  const engine = new ShiftEngine({ apiFor: () => cache!, clock });
  cache.start([NS]);
  await cache.watchOf(NS).whenSynced();
  await settle();
  expect(cache.watchStatus()).toEqual([{ namespace: NS, synced: true }]);
  return { cluster, cache, clock, engine };
}

describe('the engine over the watch cache', () => {
  it('serves status polls from the watch cache: no API server read per poll', async () => {
    const { cluster, engine, clock } = await setUp();
    const { record } = await engine.create(spec());
    const ref: ShiftRef = { account: 'prod', namespace: NS, virtualService: 'checkout', id: record.id };
    await settle();
    const readsBefore = cluster.gets;
    for (let i = 0; i < 20; i++) {
      await clock.advance(1000);
      expect((await engine.status(ref, { polled: true }))?.record.currentStep).toBe(1);
    }
    expect(cluster.gets - readsBefore).toBe(0);
    expect(cluster.patches).toBe(1);
  });

  it('a guard that failed on a stale cached read makes the retry read fresh, and the shift adopts the other replica\'s write', async () => {
    const { cluster, engine, clock } = await setUp();
    const { record } = await engine.create(spec());
    const ref: ShiftRef = { account: 'prod', namespace: NS, virtualService: 'checkout', id: record.id };
    await settle();
    // Another replica, reading the API server directly, polls the shift on to step 2; this replica's
    // watch lags, so its cache still holds step 1.
    cluster.lag();
    await clock.advance(61_000);
    const other = new ShiftEngine({ apiFor: () => cluster.store, clock });
    expect((await other.status(ref, { polled: true }))?.record.currentStep).toBe(2);
    const readsBefore = cluster.gets;
    // This replica's poll decides from its stale read (step 1, pause over: step 2 again); its guarded
    // patch fails; the retry must read from the API server and find step 2 already taken.
    const snapshot = await engine.status(ref, { polled: true });
    expect(snapshot?.record.currentStep).toBe(2);
    expect(cluster.gets - readsBefore).toBe(1);
    // One failed guarded patch, no step applied twice.
    expect(cluster.patches).toBe(2);
    expect((await cluster.store.get(NS, 'checkout'))!.spec.http).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'primary', route: expect.arrayContaining([expect.objectContaining({ weight: 34 })]) })]));
    cluster.catchUp();
  });
});
