// @ts-check
'use strict';
/**
 * Benchmark (issue 8): one replica carrying many running shifts against a real kube-apiserver
 * (a private control plane from test/cluster), every figure printed beside a baseline measured in
 * the same run:
 *
 *   step      create until the weights are visible (engine.create over the watch cache) vs a bare
 *             JSON Patch of the weights over the same kept-alive transport, and vs a bare patch that
 *             also stores an annotation of the shift's state size; API requests per step.
 *   cpu       service CPU per status poll (GET /v1/shifts/...) vs a bare express handler with the
 *             same token check answering the same body; API server requests during the polls.
 *   orca      CONCURRENT shifts (3 steps, 2 s pauses) created at once and polled every 1 s like
 *             Orca's first minute: errors, whole run vs ideal, RSS, event-loop delay p99, the CPU
 *             seconds of each process (API server, etcd, service, Orca) and the floor they set.
 *   hold      LARGE shifts with long pauses, polled in rounds (240 rounds = 1 h of 15 s polls,
 *             driven as fast as they go): RSS, heap after GC per round (growth per poll).
 * The load (Orca) runs in a child process so the service's CPU and event loop are its own.
 *
 *   npm run build && node bench/scale.js [--concurrent 1000] [--large 2000] [--rounds 240] [--steps 40] [--json out.json]
 *     [--profile-polls polls.cpuprofile] [--profile-orca orca.cpuprofile]
 */
const os = require('node:os');
const path = require('node:path');
const fs = require('node:fs');
const http = require('node:http');
const v8 = require('node:v8');
const vm = require('node:vm');
const { fork } = require('node:child_process');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const TOKEN = 'bench-token-0123456789';
const NAMESPACE = 'scale';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (samples, q) => [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor(samples.length * q))];

// ------------------------------------------------------------------------------------------
// The load generator (child process): plays Orca over HTTP with a keep-alive agent.
// ------------------------------------------------------------------------------------------
if (process.argv[2] === '--load') {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const request = (url, method = 'GET', body) =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method, agent, headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      });
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
  process.on('message', async (task) => {
    if (task.kind === 'polls') {
      let errors = 0;
      let next = 0;
      const worker = async () => {
        while (next++ < task.count) if ((await request(task.url)).status !== 200) errors++;
      };
      await Promise.all(Array.from({ length: task.concurrency }, worker));
      process.send?.({ errors });
    } else if (task.kind === 'orca') {
      const started = Date.now();
      const createMs = [];
      const pollMs = [];
      let lastFinished = 0;
      const timedRequest = async (samples, ...args) => {
        const sent = Date.now();
        const answer = await request(...args).catch((e) => ({ status: 0, body: String(e) }));
        samples.push(Date.now() - sent);
        return answer;
      };
      const results = await Promise.all(task.specs.map(async (spec) => {
        const created = await timedRequest(createMs, `${task.base}/v1/shifts`, 'POST', spec);
        if (created.status !== 202) return { error: `create ${created.status} ${created.body.slice(0, 200)}` };
        const { statusUrl } = JSON.parse(created.body);
        for (;;) {
          await sleep(task.pollMs);
          const polled = await timedRequest(pollMs, statusUrl);
          if (polled.status !== 200) return { error: `poll ${polled.status} ${polled.body.slice(0, 200)}` };
          const body = JSON.parse(polled.body);
          if (body.status === 'RUNNING') continue;
          lastFinished = Math.max(lastFinished, Date.parse(body.finishedAt));
          return body.status === 'SUCCEEDED' ? { ms: Date.now() - started } : { error: `${body.status}: ${body.message}` };
        }
      }));
      process.send?.({
        results, ms: Date.now() - started, polls: pollMs.length, lastFinishedMs: lastFinished - started,
        createMs: { p50: quantile(createMs, 0.5), p99: quantile(createMs, 0.99), max: Math.max(...createMs) }, pollMs: { p50: quantile(pollMs, 0.5), p99: quantile(pollMs, 0.99), max: Math.max(...pollMs) },
      });
    }
  });
  return;
}

// ------------------------------------------------------------------------------------------
const { startCluster } = require('../test/cluster');
const { validateShiftSpec } = require('../packages/core/dist');
const { ShiftEngine } = require('../stage-service/dist/engine/engine');
const { STATE_ANNOTATION } = require('../stage-service/dist/engine/record');
const { ClusterVirtualServiceApi } = require('../stage-service/dist/kube/cluster-api');
const { CachedVirtualServiceApi } = require('../stage-service/dist/kube/cached-api');
const { KubeHttpClient } = require('../stage-service/dist/kube/http-client');
const { startBenchService } = require('./bench-service');
const { sha256Hex, TokenAuthenticator } = require('../stage-service/dist/auth');
const express = require('express');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const CONCURRENT = Number(option('concurrent', 1000));
const LARGE = Number(option('large', 2000));
const ROUNDS = Number(option('rounds', 240));
const STEP_SAMPLES = Number(option('steps', 40));
const POLLS = Number(option('polls', 4000));

function virtualService(name) {
  const host = `checkout.${NAMESPACE}.svc.cluster.local`;
  return {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: NAMESPACE },
    spec: { hosts: ['checkout'], http: [{ name: 'primary', route: ['release', 'baseline', 'canary'].map((subset, i) => ({ destination: { host, subset }, weight: i === 0 ? 100 : 0 })) }] },
  };
}

function rawSpec(name, steps) {
  return {
    account: 'bench', namespace: NAMESPACE, virtualService: name, route: { protocol: 'http', name: 'primary' },
    destinations: ['release', 'baseline', 'canary'].map((subset) => ({ host: 'checkout', subset })),
    steps, executionId: `exec-${name}`, stageRef: '1', abandonAfter: '60m',
  };
}

/** The normalized spec; a bad one stops the benchmark with the validator's words. */
function specOf(raw) {
  const result = validateShiftSpec(raw);
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('; '));
  return result.spec;
}

const mb = (bytes) => bytes / 1024 / 1024;

async function timed(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs fn over items with at most `limit` at once. */
async function bounded(items, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuSecondsOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds each process of the run used during fn: where a phase's time went. */
async function cpuBreakdown(pids, fn) {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)]));
  const value = await fn();
  const cpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, Number((cpuSecondsOf(pid) - before[name]).toFixed(2))]));
  return { value, cpu };
}

function loader() {
  const child = fork(__filename, ['--load'], { stdio: 'inherit' });
  const run = (task) => new Promise((resolve) => {
    child.once('message', resolve);
    child.send(task);
  });
  return { run, stop: () => child.kill(), pid: child.pid };
}

/**
 * With --profile-polls FILE (--profile-orca FILE), a V8 CPU profile of the status polls, bare and
 * service alike (of the service during the CONCURRENT shifts' run); open it in Chrome's DevTools.
 * The profiler's overhead then inflates that run's CPU figures.
 */
async function startProfile(file) {
  if (!file) return { stop: async () => undefined };
  const session = new (require('node:inspector').Session)();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await post('Profiler.stop');
      fs.writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** Service CPU (user+system ms) used while the child runs `task`. */
async function cpuDuring(load, task) {
  const before = process.cpuUsage();
  const answer = await load.run(task);
  const used = process.cpuUsage(before);
  return { ms: (used.user + used.system) / 1000, answer };
}

async function main() {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-shift-scale-'));
  const cluster = await startCluster({ stateDir });
  const results = { apiserver: cluster.version, cores: os.cpus().length, node: process.version };
  const load = loader();
  const admin = new KubeHttpClient(cluster.server, { ca: fs.readFileSync(cluster.caFile) }, async () => `Bearer ${cluster.adminToken}`, { maxInFlight: 8, requestTimeoutMs: 30000 });
  const post = async (p, body) => {
    const response = await admin.request({ method: 'POST', path: p, flow: 'setup', body: JSON.stringify(body) });
    if (response.status >= 300) throw new Error(`${p}: ${response.status} ${response.body}`);
  };
  const collection = `/apis/networking.istio.io/v1/namespaces/${NAMESPACE}/virtualservices`;
  try {
    await post('/api/v1/namespaces', { metadata: { name: NAMESPACE } });

    // ---- step latency: engine over the watch cache vs a bare JSON Patch, same transport ------
    const api = new ClusterVirtualServiceApi(admin);
    const cache = new CachedVirtualServiceApi(api);
    cache.start([NAMESPACE]);
    // The same cache, with the time inside its patch call recorded: the rest is the engine's own work.
    const patchTimes = [];
    let lastWrittenState = '';
    const timedApi = {
      get: (ns, name) => cache.get(ns, name),
      list: (ns) => cache.list(ns),
      patch: async (ns, name, ops) => {
        const started = process.hrtime.bigint();
        try {
          const patched = await cache.patch(ns, name, ops);
          lastWrittenState = patched.metadata.annotations?.[STATE_ANNOTATION] ?? '';
          return patched;
        } finally {
          patchTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
      },
    };
    const weightOps = (weights) => weights.map((w, j) => ({ op: 'replace', path: `/spec/http/0/route/${j}/weight`, value: w }));
    const barePatch = async (name, ops) => {
      const r = await admin.request({ method: 'PATCH', path: `${collection}/${name}`, flow: name, body: JSON.stringify(ops), contentType: 'application/json-patch+json' });
      if (r.status !== 200) throw new Error(`bare patch ${r.status} ${r.body.slice(0, 200)}`);
    };
    const engine = new ShiftEngine({ apiFor: () => timedApi });
    const bare = [];
    const stateful = [];
    const step = [];
    let stepRequests = 0;
    const stepSpec = (name) => specOf(rawSpec(name, [{ weights: [80, 10, 10], pause: '2s' }, { weights: [34, 33, 33], pause: '2s' }, { weights: [100, 0, 0] }]));
    for (let i = 0; i < STEP_SAMPLES; i++) {
      for (const prefix of ['bare', 'stateful', 'step']) await post(collection, virtualService(`${prefix}-${i}`));
      const watch = cache.watchOf(NAMESPACE);
      while (!watch.synced || !watch.object(`step-${i}`)) await sleep(5);
      bare.push(await timed(() => barePatch(`bare-${i}`, weightOps([80, 10, 10]))));
      const before = admin.stats().requests;
      step.push(await timed(() => engine.create(stepSpec(`step-${i}`))));
      stepRequests += admin.stats().requests - before;
      // The same weights plus an annotation of exactly the bytes the shift just stored: what the
      // API server charges for keeping a shift's state on the object, without the engine.
      const annotation = [{ op: 'add', path: '/metadata/annotations', value: { [STATE_ANNOTATION]: lastWrittenState } }];
      stateful.push(await timed(() => barePatch(`stateful-${i}`, [...weightOps([80, 10, 10]), ...annotation])));
    }
    cache.stop();
    results.step = { samples: STEP_SAMPLES, stateBytes: Buffer.byteLength(lastWrittenState), statefulMedianMs: quantile(stateful, 0.5), patchMedianMs: quantile(patchTimes, 0.5), bareMedianMs: quantile(bare, 0.5), engineMedianMs: quantile(step, 0.5), bareP90Ms: quantile(bare, 0.9), engineP90Ms: quantile(step, 0.9), requestsPerStep: stepRequests / STEP_SAMPLES };

    // ---- the service -------------------------------------------------------------------------
    const { service, base } = await startBenchService({ kubeconfig: cluster.kubeconfigPath, namespace: NAMESPACE, token: TOKEN, extra: { kubernetes: { requestTimeoutMs: 30000 } } });
    const serviceCache = service.accounts.cacheOf('bench');
    const transport = await serviceCache.inner.client();
    while (!serviceCache.watchOf(NAMESPACE).synced) await sleep(10);

    // ---- CPU per poll: service vs bare express with the same token check and body ------------
    await post(collection, virtualService('cpu'));
    while (!serviceCache.watchOf(NAMESPACE).object('cpu')) await sleep(5);
    const created = await (await fetch(`${base}/v1/shifts`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(rawSpec('cpu', [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }])) })).json();
    const statusBody = await (await fetch(created.statusUrl, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    const authenticator = new TokenAuthenticator([{ name: 'bench', sha256: sha256Hex(TOKEN), accounts: ['*'] }]);
    const bareApp = express();
    bareApp.get('/v1/shifts/:account/:namespace/:virtualService/:id', (req, res) => {
      if (!authenticator.authenticate(req.get('authorization'))) return res.status(401).end();
      res.status(200).type('application/json').send(statusBody);
    });
    const bareServer = await new Promise((resolve) => { const s = bareApp.listen(0, '127.0.0.1', () => resolve(s)); });
    const bareUrl = `http://127.0.0.1:${bareServer.address().port}${new URL(created.statusUrl).pathname}`;
    await load.run({ kind: 'polls', url: bareUrl, count: 500, concurrency: 8 }); // warm-up
    await load.run({ kind: 'polls', url: created.statusUrl, count: 500, concurrency: 8 });
    // Bare and service polls alternate in chunks, so a change in the (shared) machine's speed
    // during the run hits both sides alike; the ratio is of the sums.
    const CHUNKS = 10;
    const chunk = Math.max(1, Math.round(POLLS / CHUNKS));
    const apiReads = () => serviceCache.stats.notSynced + serviceCache.stats.invalidated + serviceCache.stats.unconfirmed + serviceCache.stats.missed;
    const apiBefore = transport.stats().requests;
    const readsBefore = apiReads();
    const profile = await startProfile(option('profile-polls'));
    let bareMs = 0;
    let serviceMs = 0;
    let pollErrors = 0;
    const chunkRatios = [];
    const chunks = [];
    for (let i = 0; i < CHUNKS; i++) {
      gc();
      const bareChunk = await cpuDuring(load, { kind: 'polls', url: bareUrl, count: chunk, concurrency: 8 });
      gc();
      const serviceChunk = await cpuDuring(load, { kind: 'polls', url: created.statusUrl, count: chunk, concurrency: 8 });
      bareMs += bareChunk.ms;
      serviceMs += serviceChunk.ms;
      pollErrors += bareChunk.answer.errors + serviceChunk.answer.errors;
      chunkRatios.push(serviceChunk.ms / bareChunk.ms);
      chunks.push({ bareMs: bareChunk.ms, serviceMs: serviceChunk.ms });
    }
    await profile.stop();
    const polls = chunk * CHUNKS;
    results.cpu = {
      bareUsPerPoll: (bareMs * 1000) / polls, serviceUsPerPoll: (serviceMs * 1000) / polls, polls,
      chunkRatioMin: Math.min(...chunkRatios), chunkRatioMax: Math.max(...chunkRatios), chunkRatioMedian: quantile(chunkRatios, 0.5), chunks,
      apiRequestsDuringPolls: transport.stats().requests - apiBefore, apiReadsDuringPolls: apiReads() - readsBefore, errors: pollErrors,
    };
    bareServer.close();

    // ---- Orca's first minute for CONCURRENT shifts ------------------------------------------
    const names = Array.from({ length: CONCURRENT }, (_, i) => `orca-${i}`);
    const capacity = Array.from({ length: CONCURRENT }, (_, i) => `capacity-${i}`);
    await bounded([...names, ...capacity], 8, (name) => post(collection, virtualService(name)));
    // The API server's own write capacity, same run: the 3 steps' worth of bare JSON Patches,
    // 16 in flight (the service's transport limit).
    const writes = capacity.flatMap((name) => [[80, 10, 10], [34, 33, 33], [100, 0, 0]].map((weights) => ({ name, weights })));
    const pids = () => ({ apiserver: cluster.pids.apiserver, etcd: cluster.pids.etcd, service: process.pid, orca: load.pid });
    const capacityRun = await cpuBreakdown(pids(), () => timed(() => bounded(writes, 16, ({ name, weights }) => barePatch(name, weightOps(weights)))));
    const capacityMs = capacityRun.value;
    while (names.some((n) => !serviceCache.watchOf(NAMESPACE).object(n))) await sleep(50);
    gc();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    let peakRss = process.memoryUsage().rss;
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    delay.enable();
    const orcaProfile = await startProfile(option('profile-orca'));
    const run = await cpuBreakdown(pids(), () => load.run({ kind: 'orca', base, pollMs: 1000, specs: names.map((n) => rawSpec(n, [{ weights: [80, 10, 10], pause: '2s' }, { weights: [34, 33, 33], pause: '2s' }, { weights: [100, 0, 0] }])) }));
    const orca = run.value;
    await orcaProfile.stop();
    delay.disable();
    clearInterval(rssTimer);
    const errors = orca.results.filter((r) => r.error);
    results.orca = {
      shifts: CONCURRENT, errors: errors.length, firstError: errors[0]?.error, wholeRunMs: orca.ms, polls: orca.polls, lastFinishedMs: orca.lastFinishedMs, createLatencyMs: orca.createMs, pollLatencyMs: orca.pollMs,
      // Ideal: both pauses, then the poll that sees SUCCEEDED (up to one interval later).
      idealMs: 2000 + 2000 + 1000, bareWritesMs: capacityMs, peakRssMb: mb(peakRss), cpuSeconds: run.cpu, bareWritesCpuSeconds: capacityRun.cpu,
      ...cpuFloor(capacityRun.cpu, run.cpu, orca.ms, os.cpus().length), eventLoopP99Ms: delay.percentile(99) / 1e6, eventLoopMaxMs: delay.max / 1e6,
    };

    // ---- LARGE shifts held with long pauses, polled in rounds ---------------------------------
    const large = Array.from({ length: LARGE }, (_, i) => `hold-${i}`);
    const setupStarted = Date.now();
    await bounded(large, 8, (name) => post(collection, virtualService(name)));
    while (large.some((n) => !serviceCache.watchOf(NAMESPACE).object(n))) await sleep(100);
    const refs = [];
    await bounded(large, 8, async (name) => {
      const snapshot = await service.engine.create(specOf(rawSpec(name, [{ weights: [90, 5, 5], pause: '1h' }, { weights: [100, 0, 0] }])));
      refs.push({ account: 'bench', namespace: NAMESPACE, virtualService: name, id: snapshot.record.id });
    });
    const setupMs = Date.now() - setupStarted;
    const heapSamples = [];
    const pollStarted = Date.now();
    const apiBeforeRounds = transport.stats().requests;
    const readsBeforeRounds = apiReads();
    let peakHoldRss = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      for (const ref of refs) await service.engine.status(ref, { polled: true });
      if (round === 1 || round % 20 === 0) {
        gc();
        const usage = process.memoryUsage();
        peakHoldRss = Math.max(peakHoldRss, usage.rss);
        heapSamples.push({ round, heapMb: mb(usage.heapUsed), rssMb: mb(usage.rss) });
      }
    }
    const first = heapSamples[0];
    const last = heapSamples[heapSamples.length - 1];
    results.hold = {
      shifts: LARGE, setupMs, rounds: ROUNDS, polls: ROUNDS * LARGE, pollSeconds: (Date.now() - pollStarted) / 1000,
      apiRequestsDuringRounds: transport.stats().requests - apiBeforeRounds, apiReadsDuringRounds: apiReads() - readsBeforeRounds, peakRssMb: mb(peakHoldRss),
      heapGrowthBytesPerPoll: ((last.heapMb - first.heapMb) * 1024 * 1024) / ((last.round - first.round) * LARGE), heapSamples,
    };
    await service.stop();
  } finally {
    load.stop();
    admin.close();
    await cluster.stop();
  }
  print(results);
  const out = option('json');
  if (out) fs.writeFileSync(out, JSON.stringify(results, null, 2));
}

/**
 * What the machine allows: the API server and etcd must spend at least what the same writes cost
 * as bare patches, and the Orca load what it spent; shared by `cores` cores, that is a lower bound
 * of the whole run even for a service that costs nothing and stores no state.
 */
function cpuFloor(bareCpu, runCpu, wholeRunMs, cores) {
  const allSeconds = Object.values(runCpu).reduce((a, b) => a + b, 0);
  return { cpuFloorMs: ((bareCpu.apiserver + bareCpu.etcd + runCpu.orca) / cores) * 1000, busyCores: allSeconds / (wholeRunMs / 1000) };
}

function print(r) {
  const f = (x, d = 1) => Number(x).toFixed(d);
  console.log(`kube-apiserver ${r.apiserver}, ${r.cores} cores, Node ${r.node}`);
  console.log('| figure | measured | baseline (same run) | ratio | target |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(`| step: create until weights visible, median ms | ${f(r.step.engineMedianMs)} | bare kept-alive JSON Patch ${f(r.step.bareMedianMs)} | ${f(r.step.engineMedianMs / r.step.bareMedianMs, 2)} | <= 1.3 |`);
  console.log(`| step: of which inside the patch call, median ms | ${f(r.step.patchMedianMs)} | | | |`);
  console.log(`| step: median ms, against a bare patch that also stores the shift's ${r.step.stateBytes} B state annotation | ${f(r.step.engineMedianMs)} | ${f(r.step.statefulMedianMs)} | ${f(r.step.engineMedianMs / r.step.statefulMedianMs, 2)} | |`);
  console.log(`| step: p90 ms | ${f(r.step.engineP90Ms)} | ${f(r.step.bareP90Ms)} | ${f(r.step.engineP90Ms / r.step.bareP90Ms, 2)} | |`);
  console.log(`| step: API requests per step | ${f(r.step.requestsPerStep, 2)} | 1 (the patch) | | 1 |`);
  console.log(`| CPU per status poll, µs (${r.cpu.polls} each, in 10 alternating chunks; chunk ratios ${f(r.cpu.chunkRatioMin, 2)}-${f(r.cpu.chunkRatioMax, 2)}, median ${f(r.cpu.chunkRatioMedian, 2)}) | ${f(r.cpu.serviceUsPerPoll)} | bare express + token check ${f(r.cpu.bareUsPerPoll)} | ${f(r.cpu.serviceUsPerPoll / r.cpu.bareUsPerPoll, 2)} | <= 1.2 |`);
  console.log(`| reads from the API server during ${r.cpu.polls} polls (all requests, /readyz probes every 2 s included) | ${r.cpu.apiReadsDuringPolls} (${r.cpu.apiRequestsDuringPolls}) | | | 0 |`);
  console.log(`| ${r.orca.shifts} shifts, 1 s polls: errors | ${r.orca.errors}${r.orca.firstError ? ` (${r.orca.firstError})` : ''} | | | 0 |`);
  console.log(`| ${r.orca.shifts} shifts: whole run ms (${r.orca.polls} status polls) | ${r.orca.wholeRunMs} | ideal ${r.orca.idealMs} | ${f(r.orca.wholeRunMs / r.orca.idealMs, 2)} | <= 2 |`);
  console.log(`| ${r.orca.shifts} shifts: the last shift SUCCEEDED (its finishedAt) after, ms | ${r.orca.lastFinishedMs} | ideal 4000 (the pauses) | ${f(r.orca.lastFinishedMs / 4000, 2)} | |`);
  const lat = (l) => `p50 ${l.p50} / p99 ${l.p99} / max ${l.max}`;
  console.log(`| ${r.orca.shifts} shifts: latency seen by the Orca load, ms | creates ${lat(r.orca.createLatencyMs)}; polls ${lat(r.orca.pollLatencyMs)} | | | |`);
  console.log(`| ${r.orca.shifts} shifts: the API server alone, ${r.orca.shifts * 3} bare patches (16 in flight), ms | ${f(r.orca.bareWritesMs, 0)} | | | |`);
  const cpu = (c) => Object.entries(c).map(([name, s]) => `${name} ${f(s, 2)}`).join(', ');
  console.log(`| ${r.orca.shifts} shifts: CPU seconds by process | ${cpu(r.orca.cpuSeconds)} | bare patches: ${cpu(r.orca.bareWritesCpuSeconds)} | | |`);
  console.log(`| ${r.orca.shifts} shifts: CPU-bound floor of the whole run, ms: the bare writes' API server + etcd CPU and the Orca load's CPU over ${r.cores} cores | ${f(r.orca.cpuFloorMs, 0)} | ideal ${r.orca.idealMs} | ${f(r.orca.cpuFloorMs / r.orca.idealMs, 2)} | |`);
  console.log(`| ${r.orca.shifts} shifts: busy cores during the run (all CPU seconds / whole run) | ${f(r.orca.busyCores, 2)} of ${r.cores} | | | |`);
  console.log(`| ${r.orca.shifts} shifts: peak RSS MB | ${f(r.orca.peakRssMb)} | | | < 200 |`);
  console.log(`| ${r.orca.shifts} shifts: event-loop delay p99 / max ms | ${f(r.orca.eventLoopP99Ms)} / ${f(r.orca.eventLoopMaxMs)} | | | p99 < 100 |`);
  console.log(`| ${r.hold.shifts} held shifts: peak RSS MB | ${f(r.hold.peakRssMb)} | | | < 300 (for 10,000) |`);
  console.log(`| ${r.hold.shifts} held shifts: ${r.hold.rounds} poll rounds (${r.hold.polls} polls in ${f(r.hold.pollSeconds)} s): heap growth bytes/poll | ${f(r.hold.heapGrowthBytesPerPoll, 3)} | | | ~0 |`);
  console.log(`| reads from the API server during the rounds (all requests, probes included) | ${r.hold.apiReadsDuringRounds} (${r.hold.apiRequestsDuringRounds}) | | | 0 |`);
  console.log(`setup of ${r.hold.shifts} VirtualServices + shifts: ${f(r.hold.setupMs / 1000)} s; heap after GC: ${r.hold.heapSamples.map((s) => `r${s.round} ${f(s.heapMb)}MB`).join(', ')}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
