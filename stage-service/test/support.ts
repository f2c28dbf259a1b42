/**
 * Starting real service instances against the test control plane, and calling them the way
 * Orca does (plain HTTP with a bearer token).
 */
import { sha256Hex } from '../src/auth';
import { AccountConfig, ServiceConfig } from '../src/config';
import { checkoutVirtualService as seededCheckout } from '../src/kube/seed';
import { silentLogger } from '../src/logger';
import { RunningService, startService } from '../src/service';
import { applyVirtualService, getVirtualService, requireEnv } from '../../test/cluster/test-helpers';
import { STATE_ANNOTATION } from '../src/engine/record';
import { freePort } from '../../test/free-port';

export { freePort };

export const ORCA_TOKEN = 'orca-test-token-0123456789';
export const LIMITED_TOKEN = 'limited-test-token-0123456789';


/** An account on the test cluster through the admin (or restricted) kubeconfig context. */
export function clusterAccount(name: string, namespaces: string[], context: 'admin' | 'restricted' = 'admin'): AccountConfig {
  return { name, namespaces, backend: { kind: 'kubeconfig', kubeconfig: requireEnv('TEST_KUBECONFIG'), context } };
}

export function serviceConfig(port: number, accounts: AccountConfig[]): ServiceConfig {
  return {
    host: '127.0.0.1',
    port,
    externalBaseUrl: `http://127.0.0.1:${port}`,
    bodyLimitBytes: 64 * 1024,
    tokens: [
      { name: 'orca', sha256: sha256Hex(ORCA_TOKEN), accounts: ['*'] },
      { name: 'limited', sha256: sha256Hex(LIMITED_TOKEN), accounts: [accounts[0].name] },
    ],
    accounts,
    embedded: false,
  };
}

export async function startTestService(config: ServiceConfig): Promise<RunningService> {
  return startService(config, { logger: silentLogger, processMetrics: false });
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function call(
  url: string,
  init: { method?: string; body?: unknown; rawBody?: string; token?: string | null; contentType?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers.Authorization = `Bearer ${init.token ?? ORCA_TOKEN}`;
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  if (body !== undefined) headers['Content-Type'] = init.contentType ?? 'application/json';
  const response = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** Polls a status URL like Orca's monitor task until the shift leaves RUNNING. */
export async function pollUntilDone(statusUrl: string, onPoll: (body: any) => Promise<void> | void = () => undefined, timeoutMs = 30000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await call(statusUrl);
    if (response.status !== 200) throw new Error(`status poll answered ${response.status}: ${response.text}`);
    await onPoll(response.body);
    if (response.body.status !== 'RUNNING') return response.body;
    if (Date.now() > deadline) throw new Error(`shift still RUNNING after ${timeoutMs} ms: ${response.body.message}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Applies the README's example VirtualService as `name` in `namespace`: a fresh route at 100/0/0. */
export async function applyCheckout(namespace: string, name = 'checkout'): Promise<void> {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = name;
  await applyVirtualService(namespace, vs);
}

/**
 * Asserts that, of everything in the VirtualService, only the primary route's weights (now
 * `weights`) and the shift's state annotation differ from `before`.
 */
export async function expectOnlyWeightsChanged(namespace: string, name: string, before: any, weights: number[]): Promise<void> {
  const after = await getVirtualService(namespace, name);
  const expected = JSON.parse(JSON.stringify(before));
  expected.spec.http[1].route.forEach((d: any, i: number) => (d.weight = weights[i]));
  const strip = (o: any) => {
    const copy = JSON.parse(JSON.stringify(o));
    delete copy.metadata.resourceVersion;
    delete copy.metadata.managedFields;
    delete copy.metadata.generation;
    delete copy.metadata.annotations[STATE_ANNOTATION];
    return copy;
  };
  expect(strip(after)).toEqual(strip(expected));
  expect(primaryWeights(after)).toEqual(weights);
}

/** The README's example VirtualService in a test namespace, with another team's annotation. */
export function checkoutVirtualService(namespace: string): any {
  const vs: any = seededCheckout(namespace);
  delete vs.metadata.resourceVersion;
  vs.metadata.annotations = { 'team.example.com/owner': 'shop' };
  return vs;
}

export function exampleShift(account: string, namespace: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    account,
    namespace,
    virtualService: 'checkout',
    route: { protocol: 'http', name: 'primary' },
    destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
    steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [34, 33, 33], pause: '1s' }, { weights: [100, 0, 0] }],
    executionId: `exec-${Math.random().toString(36).slice(2, 10)}`,
    stageRef: '2',
    ...overrides,
  };
}

export function primaryWeights(vs: any): number[] {
  const route = vs.spec.http.find((r: any) => r.name === 'primary');
  return route.route.map((d: any) => d.weight);
}
