// @ts-check
'use strict';
/**
 * Benchmark: the latency the analysis adds between the moment a verdict is due and the rollback
 * write, on a real kube-apiserver and a real Prometheus (Debian's /usr/bin/prometheus).
 *
 *   window end   a non-critical metric fails: from the window's end (pauseUntil) to the rollback
 *                write (finishedAt): timer + one range query per metric and scope + judge + patch.
 *   fail fast    a critical metric fails from the start: from the first fail-fast check (window
 *                start + 2 intervals) to the rollback write.
 *
 * N shifts of each kind run at once on their own VirtualServices (interval 2s, warm-up 0s, pause
 * 6s), as many pipelines would. Medians and p90 in ms.
 * Usage: npx tsc -b tsconfig.build.json && node bench/analysis-latency.js [N]
 */
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const k8s = require('@kubernetes/client-node');
const { startCluster } = require('../test/cluster');
const { startBenchService } = require('./bench-service');

const N = Number(process.argv[2] || 10);
const TOKEN = 'bench-token';
const GROUP = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' };
const namespace = 'bench';

const stats = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], p90: sorted[Math.floor(sorted.length * 0.9)], max: sorted[sorted.length - 1] };
};

/** Gauges per workload: latency 100 ms for baselines, 300 ms for canaries; errors 0 / 5. */
function startExporter() {
  const server = http.createServer((_req, res) => {
    const lines = [];
    for (let i = 0; i < N; i++) {
      for (const kind of ['late', 'fast']) {
        lines.push(`bench_latency_ms{workload="${kind}-${i}-canary"} 300`, `bench_latency_ms{workload="${kind}-${i}-baseline"} 100`);
        lines.push(`bench_errors{workload="${kind}-${i}-canary"} 5`, `bench_errors{workload="${kind}-${i}-baseline"} 0`);
      }
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function startPrometheus(target) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prom-'));
  const port = 19000 + Math.floor(Math.random() * 1000);
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: ['${target}']\n`);
  const child = spawn('/usr/bin/prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await fetch(`${url}/api/v1/query?query=up`).then((r) => r.json()).catch(() => undefined);
    if (up?.data?.result?.[0]?.value?.[1] === '1') break;
    if (Date.now() > deadline) throw new Error('prometheus did not come up');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop: () => { child.kill('SIGTERM'); fs.rmSync(dir, { recursive: true, force: true }); } };
}

function virtualService(name) {
  const host = `checkout.${namespace}.svc.cluster.local`;
  return {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace },
    spec: { hosts: ['checkout'], http: [{ name: 'primary', route: ['release', 'baseline', 'canary'].map((subset, i) => ({ destination: { host, subset }, weight: i === 0 ? 100 : 0 })) }] },
  };
}

function shift(name, critical) {
  const metric = critical
    ? { name: 'errors', metric: 'custom', query: 'bench_errors{workload="{{workload}}"}', critical: true, judge: { type: 'threshold', max: 1 } }
    : { name: 'latency', metric: 'custom', query: 'bench_latency_ms{workload="{{workload}}"}', judge: { type: 'threshold', maxRatio: 1.5 } };
  return {
    account: 'bench', namespace, virtualService: name, route: { protocol: 'http', name: 'primary' },
    destinations: ['release', 'baseline', 'canary'].map((subset) => ({ host: 'checkout', subset })),
    steps: [{ weights: [80, 10, 10], pause: '6s' }, { weights: [100, 0, 0] }],
    executionId: `bench-${name}`, stageRef: '1',
    analysis: { source: 'bench', scopes: { canary: { workload: `${name}-canary` }, baseline: { workload: `${name}-baseline` } }, warmup: '0s', interval: '2s', metrics: [metric] },
  };
}

async function main() {
  const cluster = await startCluster({ stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-')) });
  const exporter = await startExporter();
  const prometheus = await startPrometheus(`127.0.0.1:${/** @type {any} */ (exporter.address()).port}`);
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    kc.setCurrentContext('admin');
    await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const { service, base } = await startBenchService({
      kubeconfig: cluster.kubeconfigPath, namespace, token: TOKEN,
      extra: { metricsSources: [{ name: 'bench', type: 'prometheus', url: prometheus.url, timeoutMs: 5000, accounts: ['*'] }] },
    });
    const call = async (url, body) => {
      const response = await fetch(url, { method: body ? 'POST' : 'GET', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
      return { status: response.status, body: await response.json() };
    };
    const runOne = async (name, critical) => {
      await custom.createNamespacedCustomObject({ ...GROUP, namespace, body: virtualService(name) });
      const created = await call(`${base}/v1/shifts`, shift(name, critical));
      if (created.status !== 202) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
      for (;;) {
        // Orca's monitor cadence at the start of a stage.
        await new Promise((r) => setTimeout(r, 1000));
        const { body } = await call(created.body.statusUrl);
        if (body.status === 'RUNNING') continue;
        if (body.failure?.reason !== 'ANALYSIS_FAILED') throw new Error(`${name}: expected a failed analysis, got ${JSON.stringify(body.failure ?? body.status)}`);
        const applied = Date.parse(body.steps[0].appliedAt);
        const due = critical ? applied + 2 * 2000 : Date.parse(body.steps[0].pauseUntil);
        return Date.parse(body.finishedAt) - due;
      }
    };
    const late = await Promise.all(Array.from({ length: N }, (_, i) => runOne(`late-${i}`, false)));
    const fast = await Promise.all(Array.from({ length: N }, (_, i) => runOne(`fast-${i}`, true)));
    await service.stop();
    const row = (name, x) => `| ${name} | ${x.median} | ${x.p90} | ${x.max} |`;
    console.log(`kube-apiserver ${cluster.version}, Prometheus /usr/bin/prometheus, N=${N} concurrent shifts each, ${os.cpus().length} cores`);
    console.log('| verdict due at | median ms | p90 ms | max ms |');
    console.log('| --- | --- | --- | --- |');
    console.log(row('window end -> rollback written (non-critical metric fails)', stats(late)));
    console.log(row('first fail-fast check -> rollback written (critical metric fails)', stats(fast)));
  } finally {
    prometheus.stop();
    exporter.close();
    await cluster.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
