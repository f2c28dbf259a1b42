/**
 * The service against a real kube-apiserver: full shifts, cancel, conflicts with other writers,
 * idempotent retries, concurrent replicas and restarts.
 */
import { STATE_ANNOTATION } from '../src/engine/record';
import { RunningService } from '../src/service';
import {
  applyVirtualService,
  createNamespace,
  getVirtualService,
  jsonPatchVirtualService,
} from '../../test/cluster/test-helpers';
import { expectOnlyWeightsChanged, applyCheckout,
  call,
  checkoutVirtualService,
  clusterAccount,
  exampleShift,
  freePort,
  pollUntilDone,
  primaryWeights,
  serviceConfig,
  startTestService,
} from './support';

const ACCOUNT = 'test-cluster';
let namespace: string;
let cleanup: () => Promise<void>;
let port: number;
let service: RunningService;

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('shift-api'));
  port = await freePort();
  service = await startTestService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace])]));
});

afterAll(async () => {
  await service?.stop();
  await cleanup?.();
});


const create = (spec: Record<string, unknown>) => call(`http://127.0.0.1:${port}/v1/shifts`, { body: spec });

describe('a shift through the API', () => {
  it('applies 80/10/10 -> 34/33/33 -> 100/0/0 to the live route and reports progress', async () => {
    await applyCheckout(namespace);
    const before = await getVirtualService(namespace, 'checkout');
    const started = Date.now();
    const response = await create(exampleShift(ACCOUNT, namespace));
    expect(response.status).toBe(202);
    const location = response.headers.get('location');
    expect(location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/v1/shifts/${ACCOUNT}/${namespace}/checkout/[0-9a-f]{20}$`));
    expect(response.body.statusUrl).toBe(location);
    expect(response.body).toMatchObject({ status: 'RUNNING', currentStep: 1, totalSteps: 3, currentWeights: [80, 10, 10], originalWeights: [100, 0, 0] });
    expect(response.body.message).toMatch(/^step 1 of 3: release 80, baseline 10, canary 10 \(\ds left\)$/);
    // The first step is in the API server by the time the create returns.
    expect(primaryWeights(await getVirtualService(namespace, 'checkout'))).toEqual([80, 10, 10]);
    console.log(`create -> weights visible in the API server: ${Date.now() - started} ms`);

    const seen = new Set<string>();
    const final = await pollUntilDone(location as string, async (body) => {
      seen.add(JSON.stringify(body.currentWeights));
      if (body.status === 'RUNNING') expect(primaryWeights(await getVirtualService(namespace, 'checkout'))).toEqual(expect.any(Array));
    });
    expect(final).toMatchObject({ status: 'SUCCEEDED', currentStep: 3, percentComplete: 100, currentWeights: [100, 0, 0] });
    expect(final.message).toBe('completed 3 of 3 steps: release 100, baseline 0, canary 0');
    expect(seen).toContain('[34,33,33]');
    expect(final.steps.map((s: any) => Boolean(s.appliedAt))).toEqual([true, true, true]);
    expect(Date.parse(final.steps[1].appliedAt) - Date.parse(final.steps[0].appliedAt)).toBeGreaterThanOrEqual(1000);

    // Nothing but the route's weights and our annotation changed.
    await expectOnlyWeightsChanged(namespace, 'checkout', before, [100, 0, 0]);
  });

  it('returns the same shift for a retried create and refuses a reused id with another spec', async () => {
    await applyCheckout(namespace, 'retry');
    const spec = exampleShift(ACCOUNT, namespace, { virtualService: 'retry', steps: [{ weights: [50, 25, 25], pause: '1h' }] });
    const first = await create(spec);
    const again = await create(spec);
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    const vs = await getVirtualService(namespace, 'retry');
    expect(Object.keys(JSON.parse((vs.metadata.annotations as any)[STATE_ANNOTATION]).shifts)).toHaveLength(1);

    const changed = await create({ ...spec, steps: [{ weights: [60, 20, 20] }] });
    expect(changed.status).toBe(409);
    expect(changed.body.error.message).toMatch(/already exists with a different spec/);
    await call(first.body.cancelUrl, { method: 'POST' });
  });

  it('refuses a second shift on the same route while one runs, naming the owner, but allows other routes', async () => {
    await applyCheckout(namespace, 'busy');
    const first = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'busy', executionId: 'exec-owner', steps: [{ weights: [90, 5, 5], pause: '1h' }] }));
    expect(first.status).toBe(202);
    const second = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'busy', executionId: 'exec-other', route: { index: 1 } }));
    expect(second.status).toBe(409);
    expect(second.body.error.message).toMatch(new RegExp(`already being shifted by shift ${first.body.id} \\(execution exec-owner stage 2`));
    const otherRoute = await create(exampleShift(ACCOUNT, namespace, {
      virtualService: 'busy',
      executionId: 'exec-admin',
      route: { name: 'admin' },
      destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'canary' }],
      steps: [{ weights: [90, 10] }],
    }));
    expect(otherRoute.status).toBe(202);
    expect(otherRoute.body.status).toBe('SUCCEEDED');
    await call(first.body.cancelUrl, { method: 'POST' });
  });
  it('shifts routes whose names and hosts contain "/" and "~"', async () => {
    const vs = checkoutVirtualService(namespace);
    vs.metadata.name = 'escaping';
    vs.spec.http[1].name = 'api/v2~beta';
    await applyVirtualService(namespace, vs);
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'escaping', route: { name: 'api/v2~beta' }, steps: [{ weights: [50, 25, 25] }] }));
    expect(created.status).toBe(202);
    expect(created.body.status).toBe('SUCCEEDED');
    const after: any = await getVirtualService(namespace, 'escaping');
    expect(after.spec.http[1].name).toBe('api/v2~beta');
    expect(after.spec.http[1].route.map((d: any) => d.weight)).toEqual([50, 25, 25]);
    expect(after.metadata.annotations[STATE_ANNOTATION]).toContain(created.body.id);
  });
});

describe('cancel', () => {
  it('restores the weights from before the first step, and is idempotent', async () => {
    await applyCheckout(namespace, 'cancel');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'cancel', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [0, 0, 100] }] }));
    expect(primaryWeights(await getVirtualService(namespace, 'cancel'))).toEqual([80, 10, 10]);
    const cancelled = await call(created.body.cancelUrl, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELED', rollback: { result: 'restored' } });
    expect(cancelled.body.message).toBe('cancelled; weights restored to release 100, baseline 0, canary 0');
    expect(primaryWeights(await getVirtualService(namespace, 'cancel'))).toEqual([100, 0, 0]);
    const again = await call(created.body.cancelUrl, { method: 'POST' });
    expect(again.body).toMatchObject({ status: 'CANCELED', updatedAt: cancelled.body.updatedAt });
    expect((await call(created.body.statusUrl)).body.status).toBe('CANCELED');
  });

  it('removes destinations the shift added when it restores', async () => {
    const vs = checkoutVirtualService(namespace);
    vs.metadata.name = 'added';
    vs.spec.http[1].route = [{ destination: { host: `checkout.${namespace}.svc.cluster.local`, subset: 'release' } }];
    await applyVirtualService(namespace, vs);
    const before = await getVirtualService(namespace, 'added');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'added', steps: [{ weights: [80, 10, 10], pause: '1h' }] }));
    expect(created.body.originalWeights).toEqual([100, 0, 0]);
    const during = await getVirtualService(namespace, 'added');
    expect((during.spec as any).http[1].route.map((d: any) => [d.destination.subset, d.weight])).toEqual([['release', 80], ['baseline', 10], ['canary', 10]]);
    await call(created.body.cancelUrl, { method: 'POST' });
    const after = await getVirtualService(namespace, 'added');
    expect((after.spec as any).http[1]).toEqual((before.spec as any).http[1]);
  });

  it('holds the weights when the spec says so', async () => {
    await applyCheckout(namespace, 'hold');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'hold', onCancel: 'hold', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] }));
    const cancelled = await call(created.body.cancelUrl, { method: 'POST' });
    expect(cancelled.body).toMatchObject({ status: 'CANCELED', rollback: { result: 'held' } });
    expect(primaryWeights(await getVirtualService(namespace, 'hold'))).toEqual([80, 10, 10]);
  });

  it('never undoes a shift that succeeded, and answers for shifts that never existed', async () => {
    await applyCheckout(namespace, 'done');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'done', steps: [{ weights: [0, 0, 100] }] }));
    expect(created.body.status).toBe('SUCCEEDED');
    const cancelled = await call(created.body.cancelUrl, { method: 'POST' });
    expect(cancelled.body.status).toBe('SUCCEEDED');
    expect(primaryWeights(await getVirtualService(namespace, 'done'))).toEqual([0, 0, 100]);
    const unknown = await call(`http://127.0.0.1:${port}/v1/shifts/${ACCOUNT}/${namespace}/done/0123456789abcdef0123/cancel`, { method: 'POST' });
    expect(unknown.status).toBe(200);
    expect(unknown.body.status).toBe('NOT_FOUND');
    const missingVs = await call(`http://127.0.0.1:${port}/v1/shifts/${ACCOUNT}/${namespace}/no-such-vs/0123456789abcdef0123/cancel`, { method: 'POST' });
    expect(missingVs.status).toBe(200);
  });
});

describe('other writers', () => {
  it('ends TERMINAL saying what changed, and leaves the other writer\'s weights alone', async () => {
    await applyCheckout(namespace, 'contended');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'contended', steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [34, 33, 33], pause: '1s' }, { weights: [100, 0, 0] }] }));
    // Someone (a person with kubectl, Argo CD) sets the canary by hand during step 1.
    await jsonPatchVirtualService(namespace, 'contended', [
      { op: 'replace', path: '/spec/http/1/route/0/weight', value: 50 },
      { op: 'replace', path: '/spec/http/1/route/2/weight', value: 40 },
    ]);
    const final = await pollUntilDone(created.body.statusUrl);
    expect(final.status).toBe('TERMINAL');
    expect(final.failure.reason).toBe('ROUTE_CHANGED');
    expect(final.message).toMatch(new RegExp(`another writer changed HTTP route "primary" of ${namespace}/contended during the shift \\(checkout.${namespace}.svc.cluster.local/release has weight 50, expected 80; checkout.${namespace}.svc.cluster.local/canary has weight 40, expected 10\\)`));
    expect(primaryWeights(await getVirtualService(namespace, 'contended'))).toEqual([50, 10, 40]);
    // Orca calls cancel after TERMINAL: it must not touch the route either.
    const cancelled = await call(created.body.cancelUrl, { method: 'POST' });
    expect(cancelled.body.status).toBe('TERMINAL');
    expect(primaryWeights(await getVirtualService(namespace, 'contended'))).toEqual([50, 10, 40]);
  });

  it('tolerates edits elsewhere in the object between steps', async () => {
    await applyCheckout(namespace, 'neighbours');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'neighbours', steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [100, 0, 0] }] }));
    await jsonPatchVirtualService(namespace, 'neighbours', [
      { op: 'replace', path: '/spec/http/0/match/0/uri/prefix', value: '/internal' },
      { op: 'add', path: '/metadata/labels', value: { edited: 'yes' } },
    ]);
    const final = await pollUntilDone(created.body.statusUrl);
    expect(final.status).toBe('SUCCEEDED');
    const vs: any = await getVirtualService(namespace, 'neighbours');
    expect(vs.spec.http[0].match[0].uri.prefix).toBe('/internal');
    expect(vs.metadata.labels).toEqual({ edited: 'yes' });
  });
});

describe('replicas and restarts', () => {
  it('resumes after a restart mid-shift and finishes from the state in the cluster', async () => {
    await applyCheckout(namespace, 'restart');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'restart' }));
    await service.stop();
    // While no instance runs, nothing advances; the new one resumes from the annotation.
    service = await startTestService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace])]));
    expect(service.scheduler.size).toBeGreaterThanOrEqual(1);
    const final = await pollUntilDone(created.body.statusUrl);
    expect(final).toMatchObject({ status: 'SUCCEEDED', currentWeights: [100, 0, 0] });
    expect(final.steps.every((s: any) => s.appliedAt)).toBe(true);
  });

  it('lets two replicas drive the same shift without applying any step twice', async () => {
    await applyCheckout(namespace, 'replicas');
    const otherPort = await freePort();
    const other = await startTestService(serviceConfig(otherPort, [clusterAccount(ACCOUNT, [namespace])]));
    try {
      const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'replicas', steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [34, 33, 33], pause: '1s' }, { weights: [100, 0, 0] }] }));
      const otherUrl = created.body.statusUrl.replace(`:${port}/`, `:${otherPort}/`);
      // Both replicas poll (and so advance) the same shift as fast as they can.
      const [a, b] = await Promise.all([pollUntilDone(created.body.statusUrl), pollUntilDone(otherUrl)]);
      expect(a.status).toBe('SUCCEEDED');
      expect(b.status).toBe('SUCCEEDED');
      expect(a.steps).toEqual(b.steps);
      const applied = a.steps.map((s: any) => Date.parse(s.appliedAt));
      expect(applied[1] - applied[0]).toBeGreaterThanOrEqual(1000);
      expect(applied[2] - applied[1]).toBeGreaterThanOrEqual(1000);
    } finally {
      await other.stop();
    }
  });
});

describe('metrics', () => {
  it('counts shifts by outcome and step latency', async () => {
    const response = await call(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/traffic_shift_shifts_total\{outcome="SUCCEEDED"\} [1-9]/);
    expect(response.text).toMatch(/traffic_shift_step_apply_seconds_count [1-9]/);
    expect(response.text).toContain('traffic_shift_kubernetes_api_errors_total');
  });
});
