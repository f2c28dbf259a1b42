// @ts-check
'use strict';
/**
 * Benchmark of the Kubernetes transport (issue 8), against a private real control plane:
 *
 *   cold start  spawn `node stage-service/dist/main.js` until /healthz answers 200, embedded
 *               (no config) and with a cluster configuration (median of RUNS).
 *   burst       BURST shift creates at once (one per VirtualService) to a service process while
 *               /healthz and /readyz are polled every 10 ms: their latency (p50/p99/max), the
 *               create outcomes, and how long the burst took.
 *
 * Usage: npm run build && node bench/kube-transport.js [BURST=1000] [RUNS=5]
 * Profiling the service: SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (node flags for
 * the service processes only; NODE_OPTIONS refuses --cpu-prof).
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startCluster } = require('../test/cluster');
const { KubeHttpClient } = require('../stage-service/dist/kube/http-client');

const BURST = Number(process.argv[2] || 1000);
const RUNS = Number(process.argv[3] || 5);
const TOKEN = 'bench-token';
const MAIN = path.join(__dirname, '..', 'stage-service', 'dist', 'main.js');

/** Polls each `label=url` every 10 ms until told to stop, then sends the latencies per label. */
const PROBER = `
const targets = process.argv.slice(1).map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]);
const fresh = () => Object.fromEntries(targets.map(([label]) => [label, []]));
let probes = fresh();
let idle;
let probing = true;
process.on('message', (m) => {
  if (m === 'mark') {
    idle = probes;
    probes = fresh();
  } else probing = false;
});
(async () => {
  let first = true;
  while (probing) {
    for (const [label, url] of targets) {
      const t = process.hrtime.bigint();
      await (await fetch(url)).text();
      probes[label].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    if (first) process.send('ready');
    first = false;
    await new Promise((r) => setTimeout(r, 10));
  }
  process.send({ ...probes, idle }, () => process.exit(0));
})();
`;

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** @param {number[]} values @param {number} q */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Spawn the service; resolves with the child and the ms until /healthz first answered 200. */
async function startProcess(env) {
  const started = process.hrtime.bigint();
  const nodeArgs = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, MAIN], { env: { ...process.env, LOG_LEVEL: 'error', ...env }, stdio: ['ignore', nodeArgs.length ? 'inherit' : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}: ${stderr}`);
    try {
      const response = await fetch(`http://127.0.0.1:${env.PORT}/healthz`);
      if (response.status === 200) return { child, ms: Number(process.hrtime.bigint() - started) / 1e6 };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

function stopProcess(child) {
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

function virtualService(name, namespace) {
  return {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace },
    spec: { hosts: [name], http: [{ name: 'primary', route: ['release', 'baseline', 'canary'].map((subset, i) => ({ destination: { host: name, subset }, weight: i === 0 ? 100 : 0 })) }] },
  };
}

async function main() {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-shift-bench-'));
  const cluster = await startCluster({ stateDir });
  const admin = new KubeHttpClient(cluster.server, { ca: fs.readFileSync(cluster.caFile) }, async () => `Bearer ${cluster.adminToken}`, { requestTimeoutMs: 30000 });
  try {
    const namespace = 'bench';
    await admin.request({ method: 'POST', path: '/api/v1/namespaces', flow: 'setup', body: JSON.stringify({ metadata: { name: namespace } }) });
    const configFile = path.join(stateDir, 'service.yaml');
    const sha = crypto.createHash('sha256').update(TOKEN).digest('hex');
    const writeConfig = (port) => fs.writeFileSync(configFile, JSON.stringify({
      server: { port, host: '127.0.0.1', externalBaseUrl: `http://127.0.0.1:${port}` },
      auth: { tokens: [{ name: 'bench', sha256: sha, accounts: ['*'] }] },
      accounts: [{ name: 'bench', kubeconfig: cluster.kubeconfigPath, namespaces: [namespace] }],
    }));

    const cold = { embedded: /** @type {number[]} */ ([]), cluster: /** @type {number[]} */ ([]) };
    for (let i = 0; i < RUNS; i++) {
      const port = await freePort();
      const embedded = await startProcess({ PORT: String(port), TRAFFIC_SHIFT_CONFIG: '' });
      cold.embedded.push(embedded.ms);
      await stopProcess(embedded.child);
      const clusterPort = await freePort();
      writeConfig(clusterPort);
      const withCluster = await startProcess({ PORT: String(clusterPort), TRAFFIC_SHIFT_CONFIG: configFile });
      cold.cluster.push(withCluster.ms);
      await stopProcess(withCluster.child);
    }
    console.log(`cold start to /healthz (ms, ${RUNS} runs): embedded median ${quantile(cold.embedded, 0.5).toFixed(0)} max ${Math.max(...cold.embedded).toFixed(0)}; cluster config median ${quantile(cold.cluster, 0.5).toFixed(0)} max ${Math.max(...cold.cluster).toFixed(0)}`);

    // The burst: one VirtualService per create.
    const names = Array.from({ length: BURST }, (_, i) => `vs-${i}`);
    await Promise.all(names.map((name) => admin.request({ method: 'POST', path: `/apis/networking.istio.io/v1/namespaces/${namespace}/virtualservices`, flow: name, body: JSON.stringify(virtualService(name, namespace)) })));
    const port = await freePort();
    const probePort = await freePort();
    writeConfig(port);
    const { child } = await startProcess({ PORT: String(port), PROBE_PORT: String(probePort), TRAFFIC_SHIFT_CONFIG: configFile });
    const base = `http://127.0.0.1:${port}`;
    const probeBase = `http://127.0.0.1:${probePort}`;
    // The probes run in their own process, so the load generator's event loop does not blur them:
    // the main port's, and the probe port's (server.probePort: a worker thread answers).
    const targets = [`healthz=${base}/healthz`, `readyz=${base}/readyz`, `probe-port healthz=${probeBase}/healthz`, `probe-port readyz=${probeBase}/readyz`];
    const prober = spawn(process.execPath, ['-e', PROBER, ...targets], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise((resolve) => prober.once('message', resolve)); // first probe done
    // Idle baseline on this (shared) machine first, then the burst.
    await new Promise((r) => setTimeout(r, 3000));
    prober.send('mark');
    // prom-client's event-loop histogram resets on every scrape: this one starts the burst's window.
    const scrapeLag = async () => {
      const text = await (await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
      const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
      return { p50: value('nodejs_eventloop_lag_p50_seconds'), p99: value('nodejs_eventloop_lag_p99_seconds'), max: value('nodejs_eventloop_lag_max_seconds') };
    };
    await scrapeLag();
    const started = Date.now();
    /** @type {Record<string, number>} */
    const outcomes = {};
    await Promise.all(names.map(async (name) => {
      const response = await fetch(`${base}/v1/shifts`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ account: 'bench', namespace, virtualService: name, route: { protocol: 'http', name: 'primary' }, destinations: ['release', 'baseline', 'canary'].map((subset) => ({ host: name, subset })), steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }], executionId: `exec-${name}`, stageRef: '1' }),
      });
      await response.text();
      outcomes[response.status] = (outcomes[response.status] ?? 0) + 1;
    }));
    const burstMs = Date.now() - started;
    const lag = await scrapeLag();
    prober.send('stop');
    /** @type {Record<string, number[]> & { idle: Record<string, number[]> }} */
    const probes = await new Promise((resolve) => prober.on('message', (m) => typeof m === 'object' && resolve(/** @type {any} */ (m))));
    await stopProcess(child);
    const fmt = (v) => `p50 ${quantile(v, 0.5).toFixed(1)} p99 ${quantile(v, 0.99).toFixed(1)} max ${Math.max(...v).toFixed(1)} ms (${v.length} probes)`;
    console.log(`burst of ${BURST} creates: ${burstMs} ms, outcomes ${JSON.stringify(outcomes)}`);
    console.log(`  /healthz idle, before the burst: ${fmt(probes.idle.healthz)}; probe port: ${fmt(probes.idle['probe-port healthz'])}`);
    for (const label of ['healthz', 'readyz', 'probe-port healthz', 'probe-port readyz']) console.log(`  ${label} during the burst: ${fmt(probes[label])}`);
    console.log(`  the service's own event-loop delay during the burst: p50 ${lag.p50.toFixed(1)} p99 ${lag.p99.toFixed(1)} max ${lag.max.toFixed(1)} ms`);
    console.log(`  load average (1 min) after the burst: ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores`);
  } finally {
    admin.close();
    await cluster.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
