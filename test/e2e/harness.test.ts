// Proves the real control plane harness (test/cluster) works: a real kube-apiserver 1.36 with the
// Istio networking CRDs, JSON Patch semantics, and RBAC for the restricted user.
// Run: npx jest --selectProjects cluster test/e2e/harness.test.ts

import * as k8s from '@kubernetes/client-node';
import {
  VS,
  adminKubeConfig,
  apiError,
  applyVirtualService,
  createNamespace,
  getVirtualService,
  getVirtualServiceRaw,
  grantRestricted,
  jsonPatchVirtualService,
  rawRequest,
  requireEnv,
  restrictedKubeConfig,
} from '../cluster/test-helpers';

// What kube-apiserver answers when a JSON Patch cannot be applied (a failed `test` op, a `test` of a
// stale /metadata/resourceVersion, a path that does not exist): HTTP 422, reason Invalid, and a
// generic message; the patch library's own error text is NOT in the response.
const PATCH_NOT_APPLICABLE = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'the server rejected our request due to an error in our request',
  reason: 'Invalid',
  details: {},
  code: 422,
};

const vsPath = (ns: string, name: string, version = 'v1') =>
  `/apis/${VS.group}/${version}/namespaces/${ns}/${VS.plural}/${name}`;

function reviews(name = 'reviews') {
  return {
    metadata: { name },
    spec: {
      hosts: ['reviews'],
      http: [
        {
          name: 'primary',
          route: [
            { destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } }, weight: 100 },
            { destination: { host: 'reviews', subset: 'v2', port: { number: 9080 } }, weight: 0 },
          ],
          timeout: '5s',
          retries: { attempts: 2, perTryTimeout: '2s' },
        },
      ],
    },
  };
}

let ns: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ name: ns, cleanup } = await createNamespace('harness'));
});

afterAll(async () => {
  await cleanup?.();
});

test('the server is a real kube-apiserver v1.36.x', async () => {
  const info = await adminKubeConfig().makeApiClient(k8s.VersionApi).getCode();
  expect(info.gitVersion).toMatch(/^v1\.36\.\d+$/);
  expect(info.gitVersion).toBe(requireEnv('TEST_KUBE_VERSION'));
  // core APIs exist too (not just an apiextensions-apiserver)
  const nsList = await adminKubeConfig().makeApiClient(k8s.CoreV1Api).listNamespace();
  expect(nsList.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', ns]));
});

test('the VirtualService CRD serves v1 (storage), v1beta1 and v1alpha3', async () => {
  const ext = adminKubeConfig().makeApiClient(k8s.ApiextensionsV1Api);
  const crd = await ext.readCustomResourceDefinition({ name: 'virtualservices.networking.istio.io' });
  expect(crd.spec.scope).toBe('Namespaced');
  expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
  const versions = Object.fromEntries(crd.spec.versions.map((v) => [v.name, { served: v.served, storage: v.storage }]));
  expect(versions).toEqual({
    v1: { served: true, storage: true },
    v1beta1: { served: true, storage: false },
    v1alpha3: { served: true, storage: false },
  });

  // and the server really serves each version: an object written at v1 reads back at all three
  await applyVirtualService(ns, reviews('versions'));
  for (const version of ['v1', 'v1beta1', 'v1alpha3']) {
    const got = await getVirtualService(ns, 'versions', adminKubeConfig(), version);
    expect(got.apiVersion).toBe(`networking.istio.io/${version}`);
    expect(got.spec).toEqual(reviews().spec);
  }
});

test('every VirtualService field the project uses survives a round trip (own and official CRDs)', async () => {
  const spec = {
    hosts: ['reviews', 'reviews.example.com'],
    gateways: ['mesh', 'istio-system/public'],
    exportTo: ['.'],
    http: [
      {
        name: 'canary',
        match: [{ name: 'beta', headers: { 'x-beta': { exact: 'true' } }, uri: { prefix: '/api' }, port: 9080 }],
        route: [
          {
            destination: { host: 'reviews', subset: 'v2', port: { number: 9080 } },
            weight: 25,
            headers: { request: { set: { 'x-canary': '1' } }, response: { remove: ['x-debug'] } },
          },
          { destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } }, weight: 75 },
        ],
        timeout: '3s',
        retries: { attempts: 3, perTryTimeout: '1s', retryOn: '5xx,reset' },
        mirror: { host: 'reviews', subset: 'shadow' },
        mirrorPercentage: { value: 12.5 },
        headers: { request: { add: { 'x-route': 'canary' } } },
      },
      { name: 'default', route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    ],
    tls: [
      {
        match: [{ port: 443, sniHosts: ['reviews.example.com'] }],
        route: [
          { destination: { host: 'reviews', subset: 'v1', port: { number: 443 } }, weight: 90 },
          { destination: { host: 'reviews', subset: 'v2', port: { number: 443 } }, weight: 10 },
        ],
      },
    ],
    tcp: [
      {
        match: [{ port: 31400 }],
        route: [
          { destination: { host: 'reviews', subset: 'v1', port: { number: 31400 } }, weight: 50 },
          { destination: { host: 'reviews', subset: 'v2', port: { number: 31400 } }, weight: 50 },
        ],
      },
    ],
  };
  await applyVirtualService(ns, { metadata: { name: 'all-fields' }, spec });
  expect((await getVirtualService(ns, 'all-fields')).spec).toEqual(spec);

  // the schema is enforced: a weight must be an integer, a timeout a duration of at least 1ms
  for (const [op, field] of [
    [{ op: 'replace', path: '/spec/http/0/route/0/weight', value: 'half' }, 'spec.http[0].route[0].weight'],
    [{ op: 'replace', path: '/spec/http/0/timeout', value: '0s' }, 'spec.http[0].timeout'],
  ] as const) {
    let caught: unknown;
    try {
      await jsonPatchVirtualService(ns, 'all-fields', [op]);
    } catch (err) {
      caught = err;
    }
    const err = apiError(caught);
    expect(err?.code).toBe(422);
    expect(err?.status?.reason).toBe('Invalid');
    expect(err?.status?.details?.causes?.map((c) => c.field)).toContain(field);
  }
});

test('a VirtualService can be created and JSON-patched (RFC 6902, the client default)', async () => {
  const created = await applyVirtualService(ns, reviews('patch-me'));
  const rv = created.metadata.resourceVersion;
  expect(rv).toMatch(/^\d+$/);

  const patched = await jsonPatchVirtualService(ns, 'patch-me', [
    { op: 'test', path: '/metadata/resourceVersion', value: rv },
    { op: 'test', path: '/spec/http/0/route/0/weight', value: 100 },
    { op: 'replace', path: '/spec/http/0/route/0/weight', value: 80 },
    { op: 'replace', path: '/spec/http/0/route/1/weight', value: 20 },
  ]);
  expect(patched.metadata.resourceVersion).not.toBe(rv);

  const got = await getVirtualService(ns, 'patch-me');
  const route = (got.spec as { http: Array<{ route: Array<{ weight: number }> }> }).http[0].route;
  expect(route.map((r) => r.weight)).toEqual([80, 20]);

  // client-node's patchNamespacedCustomObject sends application/json-patch+json without being told
  const custom = adminKubeConfig().makeApiClient(k8s.CustomObjectsApi);
  const viaDefault = (await custom.patchNamespacedCustomObject({
    ...VS,
    namespace: ns,
    name: 'patch-me',
    body: [{ op: 'replace', path: '/spec/http/0/route/0/weight', value: 70 }],
  })) as { spec: { http: Array<{ route: Array<{ weight: number }> }> } };
  expect(viaDefault.spec.http[0].route[0].weight).toBe(70);

  // the raw body is the same object, and stable byte for byte between reads
  const raw = await getVirtualServiceRaw(ns, 'patch-me');
  expect(JSON.parse(raw)).toEqual(await getVirtualService(ns, 'patch-me'));
  expect(await getVirtualServiceRaw(ns, 'patch-me')).toBe(raw);
});

test('a JSON Patch whose test op fails is rejected with 422 and changes nothing', async () => {
  await applyVirtualService(ns, reviews('guarded'));
  const before = await getVirtualServiceRaw(ns, 'guarded');

  let caught: unknown;
  try {
    await jsonPatchVirtualService(ns, 'guarded', [
      { op: 'test', path: '/spec/http/0/route/0/weight', value: 55 }, // it is 100
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 0 },
    ]);
  } catch (err) {
    caught = err;
  }
  const err = apiError(caught);
  expect(err?.code).toBe(422);
  expect(err?.status).toEqual(PATCH_NOT_APPLICABLE);

  // the same on the wire, without client-node in between
  const res = await rawRequest(vsPath(ns, 'guarded'), {
    method: 'PATCH',
    contentType: 'application/json-patch+json',
    body: JSON.stringify([{ op: 'test', path: '/spec/http/0/name', value: 'not-primary' }]),
  });
  expect(res.status).toBe(422);
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.body).toBe(`${JSON.stringify(PATCH_NOT_APPLICABLE)}\n`);

  expect(await getVirtualServiceRaw(ns, 'guarded')).toBe(before); // byte for byte, same resourceVersion
});

test('optimistic concurrency: a stale resourceVersion test op gives 422, a stale resourceVersion replace 409', async () => {
  const created = await applyVirtualService(ns, reviews('stale'));
  const staleRv = created.metadata.resourceVersion;
  await jsonPatchVirtualService(ns, 'stale', [{ op: 'replace', path: '/spec/http/0/route/0/weight', value: 90 }]);
  const before = await getVirtualServiceRaw(ns, 'stale');

  const testOp = await rawRequest(vsPath(ns, 'stale'), {
    method: 'PATCH',
    contentType: 'application/json-patch+json',
    body: JSON.stringify([
      { op: 'test', path: '/metadata/resourceVersion', value: staleRv },
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 10 },
    ]),
  });
  expect(testOp.status).toBe(422);
  expect(JSON.parse(testOp.body)).toEqual(PATCH_NOT_APPLICABLE);

  const replaceOp = await rawRequest(vsPath(ns, 'stale'), {
    method: 'PATCH',
    contentType: 'application/json-patch+json',
    body: JSON.stringify([
      { op: 'replace', path: '/metadata/resourceVersion', value: staleRv },
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 10 },
    ]),
  });
  expect(replaceOp.status).toBe(409);
  expect(JSON.parse(replaceOp.body)).toEqual({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message:
      'Operation cannot be fulfilled on virtualservices.networking.istio.io "stale": the object has been modified; ' +
      'please apply your changes to the latest version and try again',
    reason: 'Conflict',
    details: { name: 'stale', group: 'networking.istio.io', kind: 'virtualservices' },
    code: 409,
  });

  expect(await getVirtualServiceRaw(ns, 'stale')).toBe(before);
});

test('the restricted user gets 403 until RBAC grants it access', async () => {
  await applyVirtualService(ns, reviews('rbac'));
  const user = requireEnv('TEST_RESTRICTED_USER');
  expect(user).toBe('istio-traffic-shift');

  let caught: unknown;
  try {
    await getVirtualService(ns, 'rbac', restrictedKubeConfig());
  } catch (err) {
    caught = err;
  }
  const err = apiError(caught);
  expect(err?.code).toBe(403);
  expect(err?.status?.reason).toBe('Forbidden');
  expect(err?.status?.message).toBe(
    `virtualservices.networking.istio.io "rbac" is forbidden: User "${user}" cannot get resource "virtualservices" ` +
      `in API group "networking.istio.io" in the namespace "${ns}"`,
  );

  const revoke = await grantRestricted(ns, [
    { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get', 'list', 'patch'] },
  ]);
  try {
    const got = await getVirtualService(ns, 'rbac', restrictedKubeConfig());
    expect(got.metadata.name).toBe('rbac');
    await jsonPatchVirtualService(ns, 'rbac', [{ op: 'replace', path: '/spec/http/0/route/0/weight', value: 60 }], restrictedKubeConfig());
  } finally {
    await revoke();
  }
});
