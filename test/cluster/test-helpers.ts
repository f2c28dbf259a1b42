// Helpers for jest tests that run against the real control plane started by jest-global-setup.js.
// Everything comes from the TEST_* environment variables that setup exports.

import * as https from 'node:https';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';

export const ISTIO_GROUP = 'networking.istio.io';
export const VS = { group: ISTIO_GROUP, version: 'v1', plural: 'virtualservices' } as const;
export const DR = { group: ISTIO_GROUP, version: 'v1', plural: 'destinationrules' } as const;

/** A VirtualService (or any custom object) as plain JSON. */
export interface CustomObject {
  apiVersion?: string;
  kind?: string;
  metadata: k8s.V1ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

/** An RFC 6902 JSON Patch operation. */
export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run this test through the jest \`cluster\` project (its globalSetup, ` +
        'test/cluster/jest-global-setup.js, starts or reuses a control plane and exports TEST_* variables).',
    );
  }
  return value;
}

function kubeConfig(context: 'admin' | 'restricted'): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(requireEnv('TEST_KUBECONFIG'));
  kc.setCurrentContext(context);
  return kc;
}

/** KubeConfig of user `admin` (group system:masters: RBAC never denies it). */
export function adminKubeConfig(): k8s.KubeConfig {
  return kubeConfig('admin');
}

/** KubeConfig of the restricted user (TEST_RESTRICTED_USER): no permissions until a test grants RBAC. */
export function restrictedKubeConfig(): k8s.KubeConfig {
  return kubeConfig('restricted');
}

/** Status code and decoded `Status` body of a client-node ApiException (undefined for other errors). */
export function apiError(err: unknown): { code: number; status: k8s.V1Status | undefined; body: string } | undefined {
  if (!(err instanceof k8s.ApiException)) return undefined;
  const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body ?? '');
  let status: k8s.V1Status | undefined;
  try {
    status = JSON.parse(body) as k8s.V1Status;
  } catch {
    status = undefined;
  }
  return { code: err.code, status, body };
}

/** Poll `probe` until it returns something other than undefined; throw after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let interval = 25;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, interval));
    interval = Math.min(interval * 2, 250);
  }
}

/**
 * Create a namespace `<prefix>-<random>`. `cleanup` deletes the Istio objects in it and then the
 * namespace (which stays Terminating: there is no kube-controller-manager to finalize it; harmless).
 */
export async function createNamespace(prefix: string): Promise<{ name: string; cleanup: () => Promise<void> }> {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  const name = `${base}-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'istio-traffic-shift/test': 'true' } } } });
  const cleanup = async () => {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    for (const r of [VS, DR]) {
      await custom.deleteCollectionNamespacedCustomObject({ ...r, namespace: name }).catch(ignoreNotFound);
    }
    await core.deleteNamespace({ name }).catch(ignoreNotFound);
  };
  return { name, cleanup };
}

function ignoreNotFound(err: unknown): void {
  if (apiError(err)?.code !== 404) throw err;
}

/**
 * Server-side apply a VirtualService (creates or updates it; field manager `istio-traffic-shift-tests`).
 * `apiVersion`, `kind` and `metadata.namespace` are filled in when missing.
 */
export async function applyVirtualService(
  namespace: string,
  obj: CustomObject & { metadata: { name: string } },
  kc: k8s.KubeConfig = adminKubeConfig(),
): Promise<CustomObject> {
  const apiVersion = obj.apiVersion ?? `${VS.group}/${VS.version}`;
  const body = { ...obj, apiVersion, kind: obj.kind ?? 'VirtualService', metadata: { ...obj.metadata, namespace } };
  const version = apiVersion.split('/')[1] ?? VS.version;
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  return (await custom.patchNamespacedCustomObject(
    { ...VS, version, namespace, name: obj.metadata.name, body, fieldManager: 'istio-traffic-shift-tests', force: true },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
  )) as CustomObject;
}

/** GET a VirtualService as a plain object (v1 unless `version` says otherwise). */
export async function getVirtualService(
  namespace: string,
  name: string,
  kc: k8s.KubeConfig = adminKubeConfig(),
  version: string = VS.version,
): Promise<CustomObject> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  return (await custom.getNamespacedCustomObject({ ...VS, version, namespace, name })) as CustomObject;
}

/** RFC 6902 JSON Patch of a VirtualService (client-node's default content type for this call). */
export async function jsonPatchVirtualService(
  namespace: string,
  name: string,
  ops: JsonPatchOp[],
  kc: k8s.KubeConfig = adminKubeConfig(),
): Promise<CustomObject> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  return (await custom.patchNamespacedCustomObject(
    { ...VS, namespace, name, body: ops },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  )) as CustomObject;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** the response body exactly as the server sent it (UTF-8) */
  body: string;
}

/**
 * An HTTPS request with the credentials of `kc` and nothing in between: the body comes back
 * byte for byte. `path` is relative to the server, e.g. `/apis/networking.istio.io/v1/...`.
 */
export async function rawRequest(
  path: string,
  init: { method?: string; body?: string; contentType?: string; accept?: string } = {},
  kc: k8s.KubeConfig = adminKubeConfig(),
): Promise<RawResponse> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const opts: https.RequestOptions = { method: init.method ?? 'GET', headers: {} };
  await kc.applyToHTTPSOptions(opts);
  opts.headers = {
    ...(opts.headers as Record<string, string>),
    Accept: init.accept ?? 'application/json',
    ...(init.contentType ? { 'Content-Type': init.contentType } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, server), opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

/** The exact bytes (as a UTF-8 string) the server returns for GET of a VirtualService. Throws unless 200. */
export async function getVirtualServiceRaw(
  namespace: string,
  name: string,
  kc: k8s.KubeConfig = adminKubeConfig(),
  version: string = VS.version,
): Promise<string> {
  const path = `/apis/${VS.group}/${version}/namespaces/${encodeURIComponent(namespace)}/${VS.plural}/${encodeURIComponent(name)}`;
  const res = await rawRequest(path, {}, kc);
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${res.body}`);
  return res.body;
}

/**
 * Grant the restricted user `rules` in `namespace` (Role + RoleBinding) and wait until the
 * authorizer agrees (RBAC is cached through informers, so a grant is not visible instantly).
 * Returns a function that revokes the grant.
 */
export async function grantRestricted(namespace: string, rules: k8s.V1PolicyRule[]): Promise<() => Promise<void>> {
  const rbac = adminKubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
  const name = `restricted-${randomBytes(3).toString('hex')}`;
  const user = requireEnv('TEST_RESTRICTED_USER');
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  });
  const authz = restrictedKubeConfig().makeApiClient(k8s.AuthorizationV1Api);
  for (const rule of rules) {
    const attrs = {
      namespace,
      group: rule.apiGroups?.[0] ?? '',
      resource: rule.resources?.[0],
      verb: rule.verbs[0],
    };
    await waitFor(`RBAC grant ${JSON.stringify(attrs)} to take effect`, async () => {
      const review = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } });
      return review.status?.allowed ? true : undefined;
    });
  }
  return async () => {
    await rbac.deleteNamespacedRoleBinding({ namespace, name }).catch(ignoreNotFound);
    await rbac.deleteNamespacedRole({ namespace, name }).catch(ignoreNotFound);
  };
}
