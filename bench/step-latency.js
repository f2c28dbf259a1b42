// @ts-check
'use strict';
/**
 * Benchmark: time from "apply this step" to the weights being visible in a real kube-apiserver.
 *
 *   baseline  one plain JSON Patch of the three weights (no guard, no state): the least any
 *             tool that patches weights must pay; a hand-made pipeline that re-applies the whole
 *             VirtualService pays at least this.
 *   engine    ShiftEngine.create for a one-step shift: read, plan, one guarded patch with state.
 *   service   POST /v1/shifts to the running stage service (auth, validation, engine), then GET
 *             the VirtualService: what Orca's create costs until the weights are live.
 *
 * Each is measured N times in the same run, against the same API server; results are medians and
 * p90 in ms and ratios to the baseline. Usage: npm run build && node bench/step-latency.js [N]
 * (starts its own control plane with test/cluster, as the tests do).
 */
const os = require('node:os');
const path = require('node:path');
const fs = require('node:fs');
const k8s = require('@kubernetes/client-node');
const { startCluster } = require('../test/cluster');
const { validateShiftSpec } = require('../packages/core/dist');
const { ShiftEngine } = require('../stage-service/dist/engine/engine');
const { ClusterVirtualServiceApi } = require('../stage-service/dist/kube/cluster-api');
const { startBenchService } = require('./bench-service');

const N = Number(process.argv[2] || 50);
const TOKEN = 'bench-token';
const GROUP = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' };

function virtualService(name, namespace) {
  const host = `checkout.${namespace}.svc.cluster.local`;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace },
    spec: {
      hosts: ['checkout'],
      http: [{ name: 'primary', route: ['release', 'baseline', 'canary'].map((subset, i) => ({ destination: { host, subset }, weight: i === 0 ? 100 : 0 })) }],
    },
  };
}

function rawSpec(name, namespace, i) {
  return {
    account: 'bench', namespace, virtualService: name,
    route: { protocol: 'http', name: 'primary' },
    destinations: ['release', 'baseline', 'canary'].map((subset) => ({ host: 'checkout', subset })),
    steps: [{ weights: [80, 10, 10] }],
    executionId: `bench-${i}`, stageRef: '1',
  };
}

function spec(name, namespace, i) {
  const result = validateShiftSpec(rawSpec(name, namespace, i));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

const stats = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], p90: sorted[Math.floor(sorted.length * 0.9)] };
};

async function timed(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main() {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-'));
  const cluster = await startCluster({ stateDir });
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    kc.setCurrentContext('admin');
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const namespace = 'bench';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const create = (name) => custom.createNamespacedCustomObject({ ...GROUP, namespace, body: virtualService(name, namespace) });
    const weights = async (name) => {
      const vs = await custom.getNamespacedCustomObject({ ...GROUP, namespace, name });
      return vs.spec.http[0].route.map((d) => d.weight).join('/');
    };

    const baseline = [];
    const engineSamples = [];
    const serviceSamples = [];
    const api = new ClusterVirtualServiceApi(kc);
    const engine = new ShiftEngine({ apiFor: () => api });
    const { service, base } = await startBenchService({ kubeconfig: cluster.kubeconfigPath, namespace, token: TOKEN });

    for (let i = 0; i < N; i++) {
      await create(`b-${i}`);
      await create(`e-${i}`);
      await create(`s-${i}`);
      // Interleave the three so drift in the API server's speed affects all alike.
      baseline.push(await timed(async () => {
        await custom.patchNamespacedCustomObject({ ...GROUP, namespace, name: `b-${i}`, body: [80, 10, 10].map((w, j) => ({ op: 'replace', path: `/spec/http/0/route/${j}/weight`, value: w })) },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch));
      }));
      engineSamples.push(await timed(() => engine.create(spec(`e-${i}`, namespace, i))));
      serviceSamples.push(await timed(async () => {
        const response = await fetch(`${base}/v1/shifts`, {
          method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(rawSpec(`s-${i}`, namespace, i)),
        });
        if (response.status !== 202) throw new Error(`create answered ${response.status}: ${await response.text()}`);
        if ((await weights(`s-${i}`)) !== '80/10/10') throw new Error('weights not visible after the create returned');
      }));
    }
    await service.stop();
    const b = stats(baseline);
    const e = stats(engineSamples);
    const s = stats(serviceSamples);
    const row = (name, x) => `| ${name} | ${x.median.toFixed(1)} | ${x.p90.toFixed(1)} | ${(x.median / b.median).toFixed(2)} |`;
    console.log(`kube-apiserver ${cluster.version}, etcd from ${process.env.ETCD_BIN || '/usr/bin/etcd'}, N=${N}, ${os.cpus().length} cores`);
    console.log('| path | median ms | p90 ms | median / baseline |');
    console.log('| --- | --- | --- | --- |');
    console.log(row('baseline: one unguarded JSON Patch of 3 weights', b));
    console.log(row('engine: read + plan + guarded patch with state', e));
    console.log(row('service: POST /v1/shifts, then GET shows the weights', s));
  } finally {
    await cluster.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
