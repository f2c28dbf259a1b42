/**
 * Stored records are not trusted, and restarts are new attempts (issue 6 §1, §2, §4), on a real
 * kube-apiserver:
 * - a record copied onto another VirtualService (apply of a saved copy, backup restore) is never driven;
 * - hand-edited records are reported (409 with what is wrong) and never acted on;
 * - URL segments are checked like the create body: nothing but a VirtualService can be addressed;
 * - one unusable record does not stop the others from resuming;
 * - Orca's "Restart stage" runs a new attempt, and takes over an earlier attempt still running.
 */
import { STATE_ANNOTATION } from '../src/engine/record';
import { RunningService } from '../src/service';
import { applyVirtualService, createNamespace, getVirtualService, getVirtualServiceRaw, jsonPatchVirtualService } from '../../test/cluster/test-helpers';
import { applyCheckout, call, checkoutVirtualService, clusterAccount, exampleShift, freePort, pollUntilDone, primaryWeights, serviceConfig, startTestService } from './support';

const ACCOUNT = 'records-cluster';
let namespace: string;
let cleanup: () => Promise<void>;
let port: number;
let service: RunningService;
let base: string;

const start = async () => {
  service = await startTestService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace])]));
};

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('records'));
  port = await freePort();
  base = `http://127.0.0.1:${port}/v1/shifts`;
  await start();
});

afterAll(async () => {
  await service?.stop();
  await cleanup?.();
});


const longSteps = [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }];
const create = (spec: Record<string, unknown>) => call(base, { body: spec });
const annotationOf = async (name: string) => (await getVirtualService(namespace, name)).metadata.annotations?.[STATE_ANNOTATION] as string;
const setAnnotation = (name: string, value: string) => jsonPatchVirtualService(namespace, name, [{ op: 'replace', path: `/metadata/annotations/${STATE_ANNOTATION.replace('/', '~1')}`, value }]);

describe('a record copied onto another object', () => {
  it('is never driven: status and cancel answer 409 and the copy keeps its weights', async () => {
    await applyCheckout(namespace, 'original');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'original', steps: longSteps }));
    expect(created.status).toBe(202);
    // `kubectl get -o yaml | apply` of the object under another name: annotation and weights copied.
    const copy = checkoutVirtualService(namespace);
    copy.metadata.name = 'copy';
    copy.metadata.annotations = { ...copy.metadata.annotations, [STATE_ANNOTATION]: await annotationOf('original') };
    copy.spec.http[1].route.forEach((d: { weight: number }, i: number) => (d.weight = [80, 10, 10][i]));
    await applyVirtualService(namespace, copy);
    await service.stop();
    await start();
    const before = await getVirtualServiceRaw(namespace, 'copy');

    const copyUrl = `${base}/${ACCOUNT}/${namespace}/copy/${created.body.id}`;
    const polled = await call(copyUrl);
    expect(polled.status).toBe(409);
    expect(polled.body.error.message).toMatch(new RegExp(`was written on ${namespace}/original and copied here`));
    const cancelled = await call(`${copyUrl}/cancel`, { method: 'POST', body: {} });
    expect(cancelled.status).toBe(409);
    expect(await getVirtualServiceRaw(namespace, 'copy')).toBe(before);
    // The original is still the service's to drive.
    expect((await call(created.body.statusUrl)).body.status).toBe('RUNNING');
  });

  it('is never driven after the object was deleted and re-created under the same name (new uid)', async () => {
    await applyCheckout(namespace, 'recreated');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'recreated', steps: longSteps }));
    const saved = await getVirtualService(namespace, 'recreated');
    await call(created.body.cancelUrl, { method: 'POST', body: {} }).then(() => undefined);
    // A backup restore: delete, then create from the saved copy (which still says RUNNING).
    const { adminKubeConfig } = await import('../../test/cluster/test-helpers');
    const k8s = await import('@kubernetes/client-node');
    const custom = adminKubeConfig().makeApiClient(k8s.CustomObjectsApi);
    await custom.deleteNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace, name: 'recreated' });
    const restored = { ...saved, metadata: { name: 'recreated', namespace, annotations: { ...saved.metadata.annotations, [STATE_ANNOTATION]: (saved.metadata.annotations as Record<string, string>)[STATE_ANNOTATION] } } };
    await custom.createNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace, body: restored });
    const before = await getVirtualServiceRaw(namespace, 'recreated');
    const polled = await call(created.body.statusUrl);
    expect(polled.status).toBe(409);
    expect(polled.body.error.message).toMatch(/earlier object with the same name/);
    expect(await getVirtualServiceRaw(namespace, 'recreated')).toBe(before);
  });
});

describe('hand-edited records', () => {
  const edits: Array<[string, (shifts: Record<string, any>, id: string) => void, RegExp]> = [
    ['a null record', (shifts, id) => { shifts[id] = null; }, /it is not an object/],
    ['a record without spec', (shifts, id) => { delete shifts[id].spec; }, /spec is not an object/],
    ['a record without lastWritten', (shifts, id) => { delete shifts[id].lastWritten; }, /lastWritten must be a non-empty list/],
    ['a numeric phase', (shifts, id) => { shifts[id].phase = 1; }, /phase must be one of RUNNING/],
    ['a crafted rollback to a destination the spec does not name', (shifts, id) => {
      shifts[id].original = [{ destination: { host: 'attacker.evil.svc.cluster.local' }, weight: 100 }];
    }, /would write destination attacker\.evil\.svc\.cluster\.local, which its spec does not name/],
  ];

  it.each(edits)('reports %s with 409 and never acts on it', async (_name, edit, message) => {
    const name = `edited-${Math.random().toString(36).slice(2, 8)}`;
    await applyCheckout(namespace, name);
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: name, steps: longSteps }));
    const document = JSON.parse(await annotationOf(name));
    edit(document.shifts, created.body.id);
    await setAnnotation(name, JSON.stringify(document));
    const before = await getVirtualServiceRaw(namespace, name);
    const polled = await call(created.body.statusUrl);
    expect(polled.status).toBe(409);
    expect(polled.body.error.message).toMatch(message);
    expect(polled.body.error.message).toMatch(/the service will not act on it/);
    const cancelled = await call(created.body.cancelUrl, { method: 'POST', body: {} });
    expect(cancelled.status).toBe(409);
    expect(await getVirtualServiceRaw(namespace, name)).toBe(before);
  });

  it('treats a "__proto__" or "constructor" key as an ordinary, unusable record next to a good one', async () => {
    await applyCheckout(namespace, 'proto-keys');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'proto-keys', steps: longSteps }));
    const raw = await annotationOf('proto-keys');
    const withKeys = raw.replace('"shifts":{', '"shifts":{"__proto__":{"phase":"RUNNING"},"constructor":{"id":"constructor"},');
    await setAnnotation('proto-keys', withKeys);
    const polled = await call(created.body.statusUrl);
    expect(polled.status).toBe(200);
    expect(polled.body.status).toBe('RUNNING');
    const cancelled = await call(created.body.cancelUrl, { method: 'POST', body: {} });
    expect(cancelled.body.status).toBe('CANCELED');
    // The unusable records went back untouched.
    const after = JSON.parse(await annotationOf('proto-keys'));
    expect(Object.keys(after.shifts).sort()).toEqual(['__proto__', 'constructor', created.body.id].sort());
    expect(primaryWeights(await getVirtualService(namespace, 'proto-keys'))).toEqual([100, 0, 0]);
  });

  it('resumes every good shift on start-up even when another record in the namespace is unusable', async () => {
    await applyCheckout(namespace, 'resume-bad');
    await applyCheckout(namespace, 'resume-good');
    const bad = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'resume-bad', steps: longSteps }));
    const good = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'resume-good', steps: longSteps }));
    const document = JSON.parse(await annotationOf('resume-bad'));
    document.shifts[bad.body.id].phase = 7;
    await setAnnotation('resume-bad', JSON.stringify(document));
    await service.stop();
    await start();
    const ref = (name: string, id: string) => ({ account: ACCOUNT, namespace, virtualService: name, id });
    expect(service.scheduler.isTracking(ref('resume-good', good.body.id))).toBe(true);
    expect(service.scheduler.isTracking(ref('resume-bad', bad.body.id))).toBe(false);
    expect((await call(good.body.statusUrl)).body.status).toBe('RUNNING');
  });
});

describe('characters Go escapes', () => {
  it('guards writes of an object whose state holds <, > or & (a judgement says "e-value 512 >= 400")', async () => {
    await applyCheckout(namespace, 'escapes');
    const created = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'escapes', steps: longSteps }));
    const cancelled = await call(created.body.cancelUrl, { method: 'POST', body: {} });
    expect(cancelled.body.status).toBe('CANCELED');
    // The ended record's message as a judgement or Prometheus would word it.
    const document = JSON.parse(await annotationOf('escapes'));
    document.shifts[created.body.id].rollback.message = 'step 1 failed analysis: e-value 512 >= 400 <EOF> & more';
    await setAnnotation('escapes', JSON.stringify(document));
    // The next shift's write tests that annotation as read: it must match what the API server stores.
    const next = await create(exampleShift(ACCOUNT, namespace, { virtualService: 'escapes', steps: longSteps, executionId: 'escapes-2' }));
    expect(next.status).toBe(202);
    expect(primaryWeights(await getVirtualService(namespace, 'escapes'))).toEqual([80, 10, 10]);
    expect(JSON.parse(await annotationOf('escapes')).shifts[created.body.id].rollback.message).toBe('step 1 failed analysis: e-value 512 >= 400 <EOF> & more');
  });
});

describe('URL segments', () => {
  it.each([
    ['a VirtualService segment that addresses the status subresource', 'checkout%2Fstatus', '0123456789abcdef0123', 'virtualService'],
    ['a built-in property name as the id', 'checkout', 'constructor', 'id'],
    ['__proto__ as the id', 'checkout', '__proto__', 'id'],
    ['an id that is not one the service issues', 'checkout', 'hasOwnProperty', 'id'],
  ])('rejects %s with 400, before any cluster call', async (_name, vsSegment, id, field) => {
    await applyCheckout(namespace, 'checkout');
    const before = await getVirtualServiceRaw(namespace, 'checkout');
    for (const suffix of ['', '/cancel']) {
      const response = await call(`${base}/${ACCOUNT}/${namespace}/${vsSegment}/${id}${suffix}`, suffix ? { method: 'POST', body: {} } : {});
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('invalid_path');
      expect(response.body.error.problems.map((p: { field: string }) => p.field)).toEqual([field]);
      expect(response.text).not.toMatch(/at .*\.js/);
    }
    expect(await getVirtualServiceRaw(namespace, 'checkout')).toBe(before);
  });
});

describe("Orca's Restart stage", () => {
  it('runs a new attempt after a TERMINAL one; a retried create of the restart finds it', async () => {
    await applyCheckout(namespace, 'restarted');
    const spec = exampleShift(ACCOUNT, namespace, { virtualService: 'restarted', steps: longSteps, restartedAt: '${restartDetails?.restartTime ?: 0}' });
    const first = await create(spec);
    expect(first.status).toBe(202);
    // Another writer takes the route: the first attempt ends TERMINAL and leaves it alone. Polled as
    // Orca's monitor task does: the poll that sees the write may come after one that answered
    // RUNNING (the watch delivers the write a moment later on a loaded machine).
    await jsonPatchVirtualService(namespace, 'restarted', [{ op: 'replace', path: '/spec/http/1/route/0/weight', value: 70 }, { op: 'replace', path: '/spec/http/1/route/1/weight', value: 20 }]);
    expect((await pollUntilDone(first.body.statusUrl)).status).toBe('TERMINAL');
    await jsonPatchVirtualService(namespace, 'restarted', [{ op: 'replace', path: '/spec/http/1/route/0/weight', value: 100 }, { op: 'replace', path: '/spec/http/1/route/1/weight', value: 0 }, { op: 'replace', path: '/spec/http/1/route/2/weight', value: 0 }]);

    // Restart stage: the same create, with Orca's restart time.
    const restart = { ...spec, restartedAt: 1764500000123 };
    const second = await create(restart);
    expect(second.status).toBe(202);
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body).toMatchObject({ status: 'RUNNING', restartedAt: 1764500000123, currentWeights: [80, 10, 10] });
    expect(second.body.attempts.map((a: { id: string; status: string }) => [a.id, a.status])).toEqual([[first.body.id, 'TERMINAL'], [second.body.id, 'RUNNING']]);
    expect(primaryWeights(await getVirtualService(namespace, 'restarted'))).toEqual([80, 10, 10]);
    const retried = await create(restart);
    expect(retried.status).toBe(200);
    expect(retried.body.id).toBe(second.body.id);
    // The first attempt's own create still finds the first attempt.
    expect((await create(spec)).body.id).toBe(first.body.id);
  });

  it('takes over an earlier attempt that is still running, keeping the weights from before the first attempt', async () => {
    await applyCheckout(namespace, 'taken-over');
    const spec = exampleShift(ACCOUNT, namespace, { virtualService: 'taken-over', steps: [{ weights: [80, 10, 10], pause: '0s' }, { weights: [34, 33, 33], pause: '1h' }, { weights: [100, 0, 0] }] });
    const first = await create(spec);
    const polled = await call(first.body.statusUrl);
    expect(polled.body.currentWeights).toEqual([34, 33, 33]);
    const second = await create({ ...spec, restartedAt: 1764500009999 });
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ currentWeights: [80, 10, 10], originalWeights: [100, 0, 0] });
    const old = await call(first.body.statusUrl);
    expect(old.body.status).toBe('TERMINAL');
    expect(old.body.failure.reason).toBe('SUPERSEDED');
    const cancelled = await call(second.body.cancelUrl, { method: 'POST', body: {} });
    expect(cancelled.body.rollback.message).toMatch(/weights restored to release 100, baseline 0, canary 0/);
    expect(primaryWeights(await getVirtualService(namespace, 'taken-over'))).toEqual([100, 0, 0]);
  });

  it('takes over an earlier attempt whose route another writer changed, restoring that writer\'s weights', async () => {
    await applyCheckout(namespace, 'taken-over-changed');
    const spec = exampleShift(ACCOUNT, namespace, { virtualService: 'taken-over-changed', steps: longSteps });
    await create(spec);
    // Someone sets the route to 70/30/0 while the first attempt (now unwatched) still says RUNNING.
    await jsonPatchVirtualService(namespace, 'taken-over-changed', [{ op: 'replace', path: '/spec/http/1/route/0/weight', value: 70 }, { op: 'replace', path: '/spec/http/1/route/1/weight', value: 30 }, { op: 'replace', path: '/spec/http/1/route/2/weight', value: 0 }]);
    const second = await create({ ...spec, restartedAt: 1764500011111 });
    expect(second.status).toBe(202);
    expect(second.body.originalWeights).toEqual([70, 30, 0]);
    await call(second.body.cancelUrl, { method: 'POST', body: {} });
    expect(primaryWeights(await getVirtualService(namespace, 'taken-over-changed'))).toEqual([70, 30, 0]);
  });
});
