/**
 * Pod-status metrics from real Pod objects on the real API server: pods created as a Deployment
 * would, their status subresource written as a kubelet would (restarts, Ready, an OOM kill), read
 * by the service with exactly the pods rule of deploy/rbac.yaml.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { ClusterPodReader, podStatusValues } from '../src/analysis/pod-status';
import { MetricsError } from '../src/analysis/provider';
import { adminKubeConfig, createNamespace, grantRestricted, restrictedKubeConfig } from '../../test/cluster/test-helpers';

const CANARY = { app: 'checkout', track: 'canary' };
const BASELINE = { app: 'checkout', track: 'baseline' };

let namespace: string;
let cleanup: () => Promise<void>;
const core = () => adminKubeConfig().makeApiClient(k8s.CoreV1Api);

function shippedPodRules(): k8s.V1PolicyRule[] {
  const documents = parseAllDocuments(readFileSync(join(__dirname, '..', 'deploy', 'rbac.yaml'), 'utf8')).map((d) => d.toJS()) as Array<{ kind: string; rules?: k8s.V1PolicyRule[] }>;
  const rules = documents.find((d) => d.kind === 'Role')?.rules ?? [];
  const podRules = rules.filter((r) => r.resources?.includes('pods') || r.resources?.includes('deployments'));
  if (podRules.length < 2) throw new Error('deploy/rbac.yaml grants nothing on pods or deployments');
  return podRules;
}

async function createPod(name: string, labels: Record<string, string>): Promise<void> {
  await core().createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels },
      // Bound to a node, so deleting it waits for that node's kubelet (there is none): it stays Terminating.
      spec: { nodeName: 'node-1', containers: [{ name: 'checkout', image: 'registry.example/checkout:v2' }, { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.22.0' }] },
    },
  });
}

interface ContainerReport {
  restarts: number;
  ready: boolean;
  lastTermination?: string;
}

/** Writes the status subresource the way the kubelet reports a running pod. */
async function reportStatus(name: string, app: ContainerReport, proxy: ContainerReport = { restarts: 0, ready: true }): Promise<void> {
  const api = core();
  const pod = await api.readNamespacedPod({ namespace, name });
  const started = new Date(Date.now() - 60_000);
  const container = (cname: string, image: string, r: ContainerReport): k8s.V1ContainerStatus => ({
    name: cname,
    image,
    imageID: `${image}@sha256:${'0'.repeat(64)}`,
    ready: r.ready,
    started: true,
    restartCount: r.restarts,
    state: { running: { startedAt: started } },
    lastState: r.lastTermination ? { terminated: { exitCode: 137, reason: r.lastTermination, startedAt: started, finishedAt: started } } : {},
  });
  const ready = app.ready && proxy.ready;
  pod.status = {
    phase: 'Running',
    podIP: '10.1.0.7',
    startTime: started,
    conditions: [
      { type: 'Initialized', status: 'True', lastTransitionTime: started },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: started },
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: started },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: started },
    ],
    containerStatuses: [container('checkout', 'registry.example/checkout:v2', app), container('istio-proxy', 'docker.io/istio/proxyv2:1.22.0', proxy)],
  };
  await api.replaceNamespacedPodStatus({ namespace, name, body: pod });
}

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('pod-status'));
  await createPod('checkout-canary-7c9-a', CANARY);
  await createPod('checkout-canary-7c9-b', CANARY);
  await createPod('checkout-canary-7c9-c', CANARY);
  await createPod('checkout-baseline-5d8-a', BASELINE);
  await createPod('payments-6f7-a', { app: 'payments', track: 'canary' });
  for (const name of ['checkout-canary-7c9-a', 'checkout-canary-7c9-b', 'checkout-canary-7c9-c', 'checkout-baseline-5d8-a', 'payments-6f7-a']) {
    await reportStatus(name, { restarts: name.startsWith('payments') ? 9 : 1, ready: true });
  }
});

afterAll(async () => {
  await cleanup?.();
});

it('says which permission is missing when the service may not list pods', async () => {
  const reader = new ClusterPodReader(restrictedKubeConfig());
  const error = await reader.listPods(namespace, CANARY).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MetricsError);
  expect((error as MetricsError).kind).toBe('misconfigured');
  expect((error as MetricsError).message).toBe(
    `the service may not list pods in namespace "${namespace}" (HTTP 403): grant pods get, list there (stage-service/deploy/rbac.yaml)`,
  );
});

it('measures restarts, readiness and OOM kills of one scope with the Role in deploy/rbac.yaml', async () => {
  const revoke = await grantRestricted(namespace, shippedPodRules());
  try {
    const reader = new ClusterPodReader(restrictedKubeConfig());
    const atStart = await reader.listPods(namespace, CANARY);
    expect(atStart.map((p) => p.name).sort()).toEqual(['checkout-canary-7c9-a', 'checkout-canary-7c9-b', 'checkout-canary-7c9-c']);
    expect(podStatusValues(atStart, atStart)).toEqual({ pods: 3, restarts: 0, readinessPercent: 100, oomKilled: 0, events: [] });

    // During the window: pod a's app is OOM-killed twice and restarts; pod b's sidecar fails its readiness probe.
    await reportStatus('checkout-canary-7c9-a', { restarts: 3, ready: true, lastTermination: 'OOMKilled' });
    await reportStatus('checkout-canary-7c9-b', { restarts: 1, ready: true }, { restarts: 0, ready: false });
    const now = await reader.listPods(namespace, CANARY);
    expect(podStatusValues(atStart, now)).toEqual({
      pods: 3,
      restarts: 2,
      readinessPercent: (100 * 2) / 3,
      oomKilled: 1,
      events: [
        { pod: 'checkout-canary-7c9-a', container: 'checkout', kind: 'restart', reason: 'OOMKilled', count: 2 },
        { pod: 'checkout-canary-7c9-a', container: 'checkout', kind: 'oom-kill', reason: 'OOMKilled', count: 1 },
        { pod: 'checkout-canary-7c9-b', container: 'istio-proxy', kind: 'not-ready', count: 1 },
      ],
    });

    // A pod on its way out no longer counts for readiness (its replacement does).
    await core().deleteNamespacedPod({ namespace, name: 'checkout-canary-7c9-b' });
    const afterDelete = await reader.listPods(namespace, CANARY);
    expect(afterDelete.find((p) => p.name === 'checkout-canary-7c9-b')?.terminating).toBe(true);
    expect(podStatusValues(atStart, afterDelete).readinessPercent).toBe(100);

    // The baseline scope sees only its own pod; the other app's crash-looping pod is in neither.
    const baseline = await reader.listPods(namespace, BASELINE);
    expect(podStatusValues(baseline, baseline)).toEqual({ pods: 1, restarts: 0, readinessPercent: 100, oomKilled: 0, events: [] });
  } finally {
    await revoke();
  }
});

it('reports a selector that matches no pod as no pods (readiness nodata), not as an error', async () => {
  const reader = new ClusterPodReader(adminKubeConfig());
  const pods = await reader.listPods(namespace, { app: 'checkout', track: 'nonexistent' });
  expect(podStatusValues(pods, pods)).toEqual({ pods: 0, restarts: 0, readinessPercent: undefined, oomKilled: 0, events: [] });
});

it("finds a scope's pods through its Deployment's selector when the scope gives no podSelector", async () => {
  const apps = adminKubeConfig().makeApiClient(k8s.AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'checkout-canary' },
      spec: { selector: { matchLabels: CANARY }, template: { metadata: { labels: { ...CANARY, version: 'v2' } }, spec: { containers: [{ name: 'checkout', image: 'registry.example/checkout:v2' }] } } },
    },
  });
  const revoke = await grantRestricted(namespace, shippedPodRules());
  try {
    const reader = new ClusterPodReader(restrictedKubeConfig());
    const selector = await reader.workloadSelector(namespace, 'checkout-canary');
    expect(selector).toEqual(CANARY);
    expect((await reader.listPods(namespace, selector)).map((p) => p.name).sort()).toEqual(['checkout-canary-7c9-a', 'checkout-canary-7c9-b', 'checkout-canary-7c9-c']);
    const missing = await reader.workloadSelector(namespace, 'checkout-typo').catch((e: unknown) => e);
    expect((missing as MetricsError).kind).toBe('invalid-query');
    expect((missing as MetricsError).message).toMatch(/Deployment .*\/checkout-typo does not exist, so its pods cannot be found: check the scope's workload, or give it a podSelector/);
  } finally {
    await revoke();
  }
});
