/**
 * The API server misbehaving (issue 6 §3) and the transport's keep-alive (issue 8), against a
 * PRIVATE control plane started here: this file stops, freezes and restarts its kube-apiserver,
 * which must never happen to the shared one the other test files use.
 */
import { mkdtempSync, readFileSync } from 'fs';
import { request as httpsRequest } from 'https';
import { tmpdir } from 'os';
import { join } from 'path';
import { freeze, thaw } from '../../test/process-freeze';
import { ClusterVirtualServiceApi } from '../src/kube/cluster-api';
import { KubeHttpClient } from '../src/kube/http-client';
import { RunningService } from '../src/service';
import { call, checkoutVirtualService, exampleShift, freePort, serviceConfig, startTestService } from './support';

const { startCluster } = require('../../test/cluster') as {
  startCluster(options: { stateDir: string }): Promise<PrivateCluster>;
};

interface PrivateCluster {
  server: string;
  caFile: string;
  kubeconfigPath: string;
  adminToken: string;
  restrictedToken: string;
  restrictedUser: string;
  pids: { etcd: number; apiserver: number };
  stop(): Promise<void>;
  restartApiserver(): Promise<void>;
}

const NAMESPACE = 'faults';
const DENIED_NAMESPACE = 'faults-denied';
const ACCOUNT = 'private';
const REQUEST_TIMEOUT_MS = 3000;

let cluster: PrivateCluster;
let admin: KubeHttpClient;
let service: RunningService;
let base: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function adminCall(method: 'GET' | 'POST', path: string, body?: unknown): Promise<void> {
  const response = await admin.request({ method, path, flow: 'setup', body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body}`);
}

beforeAll(async () => {
  cluster = await startCluster({ stateDir: mkdtempSync(join(tmpdir(), 'istio-shift-faults-')) });
  const ca = readFileSync(cluster.caFile);
  admin = new KubeHttpClient(cluster.server, { ca }, async () => `Bearer ${cluster.adminToken}`);
  for (const name of [NAMESPACE, DENIED_NAMESPACE]) {
    await adminCall('POST', '/api/v1/namespaces', { metadata: { name } });
    await adminCall('POST', `/apis/networking.istio.io/v1/namespaces/${name}/virtualservices`, checkoutVirtualService(name));
  }
  // The restricted user may work in NAMESPACE only: RBAC through a Role, like a real deployment
  // (system:masters would never see the restart window's 403s).
  const rbac = '/apis/rbac.authorization.k8s.io/v1/namespaces/' + NAMESPACE;
  await adminCall('POST', `${rbac}/roles`, { metadata: { name: 'shift' }, rules: [{ apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get', 'list', 'patch'] }] });
  await adminCall('POST', `${rbac}/rolebindings`, { metadata: { name: 'shift' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'shift' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: cluster.restrictedUser }] });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = serviceConfig(port, [{ name: ACCOUNT, namespaces: [NAMESPACE, DENIED_NAMESPACE], backend: { kind: 'kubeconfig', kubeconfig: cluster.kubeconfigPath, context: 'restricted' } }]);
  config.kubernetes = { requestTimeoutMs: REQUEST_TIMEOUT_MS };
  service = await startTestService(config);
  // RBAC reaches the authorizer through informers: wait until the grant is visible.
  await until('the Role to take effect', async () => ((await call(`${base}/v1/shifts/${ACCOUNT}/${NAMESPACE}/checkout/00000000000000000000`)).status === 404 ? true : undefined), 30_000);
}, 300_000);

afterAll(async () => {
  if (cluster) process.kill(cluster.pids.apiserver, 'SIGCONT');
  await service?.stop();
  admin?.close();
  await cluster?.stop();
}, 60_000);

async function startShift(): Promise<string> {
  const created = await call(`${base}/v1/shifts`, { body: exampleShift(ACCOUNT, NAMESPACE, { steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] }) });
  expect(created.status).toBe(202);
  return new URL(created.body.statusUrl).pathname;
}

async function cancel(path: string): Promise<void> {
  expect((await call(`${base}${path}/cancel`, { method: 'POST' })).status).toBe(200);
}

it('keeps one TLS connection for many sequential calls to the real API server', async () => {
  const client = new KubeHttpClient(cluster.server, { ca: readFileSync(cluster.caFile) }, async () => `Bearer ${cluster.adminToken}`);
  try {
    const api = new ClusterVirtualServiceApi(client);
    for (let i = 0; i < 50; i++) expect((await api.get(NAMESPACE, 'checkout'))?.metadata.name).toBe('checkout');
    expect(client.stats()).toMatchObject({ requests: 50, connections: 1, tlsHandshakes: 1 });
  } finally {
    client.close();
  }
});

it('still answers a persistent 403 (no RBAC in that namespace) as kubernetes_forbidden, at once', async () => {
  const started = Date.now();
  const response = await call(`${base}/v1/shifts`, { body: exampleShift(ACCOUNT, DENIED_NAMESPACE) });
  expect(response.status).toBe(403);
  expect(response.body.error.code).toBe('kubernetes_forbidden');
  expect(Date.now() - started).toBeLessThan(2000);
});

it('stays ready but reports namespaces whose watch cache cannot sync (no watch permission here), in /readyz and /metrics', async () => {
  // The Role above grants get, list and patch but not watch: reads fall back to the API server.
  const readyz = await until('/readyz to report the unsynced watches', async () => {
    const r = await call(`${base}/readyz`, { token: null });
    return r.body.degraded?.length === 2 && r.body.degraded.every((d: { problem?: string }) => /403/.test(d.problem ?? '')) ? r : undefined;
  }, 15_000);
  expect(readyz.status).toBe(200);
  expect(readyz.body.status).toBe('ready');
  expect(readyz.body.degraded.map((d: { account: string; namespace: string }) => `${d.account}/${d.namespace}`).sort()).toEqual([`${ACCOUNT}/${NAMESPACE}`, `${ACCOUNT}/${DENIED_NAMESPACE}`]);
  for (const d of readyz.body.degraded) expect(d.problem).toMatch(/403|forbidden/i);
  console.log(`/readyz with unsynced watches: ${JSON.stringify(readyz.body)}`);
  const metrics = await call(`${base}/metrics`);
  expect(metrics.status).toBe(200);
  expect(metrics.text).toContain('traffic_shift_watches{synced="false"} 2');
  expect(metrics.text).not.toContain(DENIED_NAMESPACE);
});

it('answers 503 within seconds while the API server is frozen, turns /readyz to 503 naming the account, and recovers', async () => {
  const path = await startShift();
  expect((await call(`${base}/readyz`, { token: null })).status).toBe(200);
  await freeze(cluster.pids.apiserver);
  try {
    const started = Date.now();
    const frozen = await call(`${base}${path}`);
    const elapsed = Date.now() - started;
    expect(frozen.status).toBe(503);
    expect(frozen.body.error.code).toBe('kubernetes_unavailable');
    expect(frozen.body.error.message).toMatch(/no answer from Kubernetes API server https:\/\/127\.0\.0\.1:\d+ within \d+ ms; retry shortly/);
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + 2000);

    // Known down: further polls do not queue behind the hung server, they fail at once.
    const quick = Date.now();
    const again = await call(`${base}${path}`);
    expect(again.status).toBe(503);
    expect(again.body.error.message).toContain('is not answering');
    expect(Date.now() - quick).toBeLessThan(500);

    const readyz = await until('/readyz to report the account', async () => {
      const r = await call(`${base}/readyz`, { token: null });
      return r.status === 503 ? r : undefined;
    }, 10_000);
    expect(readyz.body.status).toBe('unavailable');
    expect(readyz.body.message).toMatch(new RegExp(`^account ${ACCOUNT}: Kubernetes API server https://127.0.0.1:\\d+ is not answering`));
    // The service's own liveness is unaffected.
    expect((await call(`${base}/healthz`, { token: null })).status).toBe(200);
  } finally {
    thaw(cluster.pids.apiserver);
  }
  await until('/readyz to recover', async () => ((await call(`${base}/readyz`, { token: null })).status === 200 ? true : undefined), 15_000);
  const recovered = await call(`${base}${path}`);
  expect(recovered.status).toBe(200);
  expect(recovered.body.status).toBe('RUNNING');
  await cancel(path);
}, 60_000);

it('never passes on the 403s of a restarting API server: polls are 503 (or succeed after a retry), then recover', async () => {
  const path = await startShift();
  const answers: number[] = [];
  let rawForbidden = 0;
  // Watch the restart window from outside the service with the same (restricted) credentials,
  // on plain https without any retry, to prove the 403 window really happened.
  const ca = readFileSync(cluster.caFile);
  const rawStatus = () => new Promise<number>((resolve) => {
    const req = httpsRequest(`${cluster.server}/apis/networking.istio.io/v1/namespaces/${NAMESPACE}/virtualservices/checkout`, { ca, headers: { Authorization: `Bearer ${cluster.restrictedToken}` }, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const status = await rawStatus();
      if (status === 403) rawForbidden++;
      await sleep(20);
    }
  })();
  try {
    await cluster.restartApiserver();
    const deadline = Date.now() + 60_000;
    // Poll like Orca until the restarted server has served a success and is ready again.
    for (;;) {
      const response = await call(`${base}${path}`);
      answers.push(response.status);
      if (response.status === 200 && answers.some((s) => s !== 200) && (await call(`${base}/readyz`, { token: null })).status === 200) break;
      if (Date.now() > deadline) throw new Error(`no recovery after the restart: ${answers.join(',')}`);
      await sleep(50);
    }
  } finally {
    watching = false;
    await watcher;
  }
  console.log(`restart: plain https saw ${rawForbidden} 403(s); the service's polls answered ${answers.join(',')}`);
  expect(rawForbidden).toBeGreaterThan(0); // the window really happened
  expect(answers.filter((s) => s !== 200 && s !== 503)).toEqual([]);
  expect(answers[answers.length - 1]).toBe(200);
  await cancel(path);
}, 120_000);

