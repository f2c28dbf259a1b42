/**
 * Canary analysis end to end through Orca (issue 7): the Orca driver (createWebhook + monitorWebhook,
 * configured from the block in docs/orca.md) runs stages whose payload carries an `analysis` block
 * against the real service process on the real kube-apiserver, judged from a real Prometheus that
 * scrapes the live mesh exporter every second, and pod status written as a kubelet would.
 *
 * Each case has its own VirtualService and canary/baseline workloads, so the cases run at once
 * (it.concurrent, after beforeAll). The outage case stops a Prometheus of its own, so it never
 * disturbs the others. Timings are short: warm-up 2s, interval 2s (the validator's minimum).
 */
import * as k8s from '@kubernetes/client-node';
import { runWebhookStage, FAST, PollEvent, StageJson, StageResult } from '../orca/driver';
import { loadPreconfiguredWebhook } from '../orca/webhook-config';
import { adminKubeConfig, createNamespace, getVirtualService } from '../cluster/test-helpers';
import { RunningPrometheus, startPrometheus } from '../prometheus/harness';
import { TestExporter, startExporter } from '../prometheus/exporter';
import { TrafficProfile } from '../prometheus/mesh-model';
import { expectOnlyWeightsChanged, applyCheckout, freePort } from '../../stage-service/test/support';
import { ServiceProcess, serviceProcess } from './service-process';
import { podNameFor, runDeploymentPod } from './workload-pods';
import { checkoutStage } from './checkout-stage';

jest.setTimeout(150_000);

const ACCOUNT = 'analysis-cluster';
const HEALTHY: TrafficProfile = { rps: 50, errorRatio: 0.002, latencyMs: 20 };
const WARMUP_MS = 2000;
const INTERVAL_MS = 2000;
let namespace: string;
let cleanup: () => Promise<void>;
let service: ServiceProcess;
let exporter: TestExporter;
let prometheus: RunningPrometheus;
/** Stopped mid-window by the outage case only. */
let outagePrometheus: RunningPrometheus;

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('orca-analysis'));
  exporter = await startExporter();
  [prometheus, outagePrometheus] = await Promise.all([
    startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalSeconds: 1 }),
    startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalSeconds: 1 }),
  ]);
  await Promise.all([prometheus.waitForTargetsUp(30_000), outagePrometheus.waitForTargetsUp(30_000)]);
  service = serviceProcess(await freePort(), [{ name: ACCOUNT, namespaces: [namespace] }], {
    metricsSources: [
      { name: 'mesh', type: 'prometheus', url: prometheus.url, timeoutMs: 1500, accounts: ['*'] },
      { name: 'mesh-outage', type: 'prometheus', url: outagePrometheus.url, timeoutMs: 1500, accounts: ['*'] },
    ],
  });
  await service.start();
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await Promise.all([prometheus?.stop(), outagePrometheus?.stop()]);
  await exporter?.close();
  await cleanup?.();
});

const SUCCESS = { name: 'success', metric: 'success-rate', critical: true, judge: { type: 'threshold', min: 99 } };
const P99 = { name: 'p99', metric: 'latency-p99', judge: { type: 'threshold', maxRatio: 1.5 } };

/** The stage as the Deck editor saves it, with an analysis of `tag`'s canary against its baseline. */
function stage(tag: string, steps: Array<{ weights: number[]; pause?: string }>, analysis: Record<string, unknown> = {}): StageJson {
  return checkoutStage({
    account: ACCOUNT,
    namespace,
    virtualService: tag,
    steps,
    refId: '5',
    payload: {
      analysis: {
        source: 'mesh',
        scopes: { canary: { workload: `${tag}-canary` }, baseline: { workload: `${tag}-baseline` } },
        warmup: `${WARMUP_MS / 1000}s`,
        interval: `${INTERVAL_MS / 1000}s`,
        metrics: [SUCCESS, P99],
        ...analysis,
      },
    },
  });
}

/** Canary and baseline series for `tag`, both healthy unless `canary` says otherwise. */
function workloads(tag: string, canary: TrafficProfile = HEALTHY): void {
  exporter.define({ namespace, workload: `${tag}-canary`, traffic: canary });
  exporter.define({ namespace, workload: `${tag}-baseline`, traffic: HEALTHY });
}

async function freshVirtualService(name: string): Promise<any> {
  await applyCheckout(namespace, name);
  return getVirtualService(namespace, name);
}


interface Run {
  result: StageResult;
  /** Orca's "Info" line, each distinct value in order. */
  progress: string[];
  /** The status body of Orca's last poll. */
  body: any;
}

/** Runs the stage as Orca does (1 s polls, as Orca's default); `onPoll` sees each status body. */
async function runStage(tag: string, input: StageJson, onPoll: (body: any) => void | Promise<void> = () => undefined): Promise<Run> {
  const progress: string[] = [];
  const result = await runWebhookStage({
    preconfigured: loadPreconfiguredWebhook(service.baseUrl, service.token),
    stage: input,
    execution: { id: `01ANALYSIS${tag.toUpperCase().replace(/[^A-Z0-9]/g, '')}`, application: 'checkout', trigger: { type: 'manual', user: 'anonymous' } },
    options: {
      ...FAST,
      pollIntervalMs: () => 250,
      monitorTimeoutMs: 120_000,
      onPoll: async (event: PollEvent) => {
        const message = event.monitor?.progressMessage;
        if (message && progress[progress.length - 1] !== message) progress.push(message);
        await onPoll(event.body);
      },
    },
  });
  return { result, progress, body: result.context.webhook?.monitor?.body as any };
}

/** When the analysis window of step 1 opens (ms), from a status body: pauseUntil - (pause - warm-up). */
const windowStart = (body: any, pauseMs: number) => Date.parse(body.steps[0].pauseUntil) - (pauseMs - WARMUP_MS);

it.concurrent('promotes a healthy canary: SUCCEEDED at the final weights, the running score shown in Orca', async () => {
  workloads('healthy');
  const before = await freshVirtualService('healthy');
  const { result, progress, body } = await runStage('healthy', stage('healthy', [{ weights: [80, 10, 10], pause: '6s' }, { weights: [50, 25, 25], pause: '6s' }, { weights: [100, 0, 0] }]));
  expect(result.status).toBe('SUCCEEDED');
  expect(result.createRequests).toBe(1);
  expect(body).toMatchObject({ status: 'SUCCEEDED', currentWeights: [100, 0, 0], analysis: { result: 'Pass', score: 100, step: 2 } });
  expect(body.steps.slice(0, 2).map((s: any) => [s.analysis.result, s.analysis.score])).toEqual([['Pass', 100], ['Pass', 100]]);
  // Orca's Info line: time left in step 1, then step 2 with step 1's score, then the end.
  expect(progress[0]).toMatch(/^step 1 of 3: release 80, baseline 10, canary 10 \(analysis: \d+s left\)$/);
  expect(progress).toContainEqual(expect.stringMatching(/^step 2 of 3: release 50, baseline 25, canary 25 \(analysis: \d+s left; last score 100\/75\)$/));
  expect(progress[progress.length - 1]).toBe('completed 3 of 3 steps: release 100, baseline 0, canary 0');
  await expectOnlyWeightsChanged(namespace, 'healthy', before, [100, 0, 0]);
});

it.concurrent('rolls back within one interval when the canary\'s 5xx rate spikes mid-window (critical success rate)', async () => {
  workloads('spike');
  const before = await freshVirtualService('spike');
  let spikedAt = 0;
  const { result, progress, body } = await runStage('spike', stage('spike', [{ weights: [80, 10, 10], pause: '10s' }, { weights: [100, 0, 0] }]), (status) => {
    // Healthy for the first interval of the window, then 8% of the canary's requests fail.
    if (!spikedAt && Date.now() >= windowStart(status, 10_000) + INTERVAL_MS) {
      spikedAt = Date.now();
      exporter.setTraffic(namespace, 'spike-canary', { ...HEALTHY, errorRatio: 0.08 });
    }
  });
  expect(spikedAt).toBeGreaterThan(0);
  expect(result.status).toBe('TERMINAL');
  expect(body).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' }, rollback: { result: 'restored' }, currentWeights: [100, 0, 0] });
  expect(body.failure.message).toMatch(/^step 1 failed analysis before its window ended: canary 5xx rate \d+(\.\d)?% vs baseline \d+(\.\d+)?% \(critical\); score 0\/75; weights restored to release 100, baseline 0, canary 0$/);
  expect(result.context.webhook?.monitor?.progressMessage).toBe(body.failure.message);
  expect(progress[0]).toMatch(/\(analysis: \d+s left\)$/);
  expect(body.steps[0].analysis).toMatchObject({ result: 'Fail', stoppedEarly: true });
  // Stopped early: restored before the window ends, within about one interval of the first failing sample.
  const finishedAt = Date.parse(body.finishedAt);
  expect(finishedAt).toBeLessThan(Date.parse(body.steps[0].pauseUntil));
  console.log(`orca 5xx spike: restored ${finishedAt - spikedAt} ms after the spike began (interval ${INTERVAL_MS} ms, scrape 1 s)`);
  expect(finishedAt - spikedAt).toBeLessThan(2 * INTERVAL_MS + 1500);
  await expectOnlyWeightsChanged(namespace, 'spike', before, [100, 0, 0]);
});

it.concurrent('rolls back at the window end when p99 latency regresses (not critical)', async () => {
  workloads('slow', { ...HEALTHY, tail: { ratio: 0.05, latencyMs: 800 } });
  const before = await freshVirtualService('slow');
  const { result, body } = await runStage('slow', stage('slow', [{ weights: [80, 10, 10], pause: '8s' }, { weights: [100, 0, 0] }]));
  expect(result.status).toBe('TERMINAL');
  expect(body).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' }, rollback: { result: 'restored' }, currentWeights: [100, 0, 0] });
  expect(body.failure.message).toMatch(/^step 1 failed analysis: canary p99 latency \d+ ms vs baseline \d+(\.\d+)? ms \(\+\d+%\); score 50\/75 \(the last analysed step must reach 75\); weights restored to release 100, baseline 0, canary 0$/);
  const windowEnd = Date.parse(body.steps[0].pauseUntil);
  const added = Date.parse(body.finishedAt) - windowEnd;
  console.log(`orca p99 regression: restored ${added} ms after the window end`);
  expect(added).toBeGreaterThanOrEqual(0);
  expect(added).toBeLessThan(5000);
  await expectOnlyWeightsChanged(namespace, 'slow', before, [100, 0, 0]);
});

it.concurrent('rolls back when the canary\'s container RESTARTS mid-window (restarts: critical, no more than the baseline\'s; pods found through the Deployment selector)', async () => {
  const kc = adminKubeConfig();
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  // The workloads as Deployments (the scopes give no podSelector: the service reads spec.selector),
  // with the pod each would have, reported Running and Ready as a kubelet would.
  for (const track of ['canary', 'baseline']) {
    const labels = { app: 'restarts', track };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: `restarts-${track}` },
        spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'checkout', image: `registry.example/checkout:${track}` }] } } },
      },
    });
    await runDeploymentPod(kc, namespace, `restarts-${track}`);
    exporter.define({ namespace, workload: `restarts-${track}`, pods: [podNameFor(`restarts-${track}`)], traffic: HEALTHY });
  }
  const before = await freshVirtualService('restarts');
  // The default judge: critical, threshold maxIncrease 0 (the canary's pods restart no more than the baseline's).
  const restartsMetric = { name: 'restarts', metric: 'restarts' };
  let restartedAt = 0;
  const { result, body } = await runStage('restarts', stage('restarts', [{ weights: [80, 10, 10], pause: '10s' }, { weights: [100, 0, 0] }], { metrics: [SUCCESS, restartsMetric] }), async (status) => {
    // One second into the window the canary's container crashes and the kubelet restarts it.
    if (!restartedAt && Date.now() >= windowStart(status, 10_000) + 1000) {
      restartedAt = Date.now();
      const name = podNameFor('restarts-canary');
      const pod = await core.readNamespacedPod({ namespace, name });
      const crashed = new Date();
      pod.status!.containerStatuses![0] = {
        ...pod.status!.containerStatuses![0],
        restartCount: 1,
        state: { running: { startedAt: crashed } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: crashed, finishedAt: crashed } },
      };
      await core.replaceNamespacedPodStatus({ namespace, name, body: pod });
    }
  });
  expect(restartedAt).toBeGreaterThan(0);
  expect(result.status).toBe('TERMINAL');
  expect(body).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' }, rollback: { result: 'restored' }, currentWeights: [100, 0, 0] });
  expect(body.failure.message).toBe(
    `step 1 failed analysis before its window ended: canary pod ${podNameFor('restarts-canary')} container checkout restarted once (Error) (critical); score 0/75; weights restored to release 100, baseline 0, canary 0`,
  );
  expect(body.steps[0].analysis.metrics.find((m: any) => m.name === 'restarts').events).toEqual([{ pod: podNameFor('restarts-canary'), container: 'checkout', kind: 'restart', reason: 'Error', count: 1 }]);
  expect(Date.parse(body.finishedAt)).toBeLessThan(Date.parse(body.steps[0].pauseUntil));
  console.log(`orca restarts: restored ${Date.parse(body.finishedAt) - restartedAt} ms after the restart was reported`);
  await expectOnlyWeightsChanged(namespace, 'restarts', before, [100, 0, 0]);
});

it.concurrent('waits for evidence when the canary gets no traffic, then fails TERMINAL ANALYSIS_INSUFFICIENT_DATA (never promotes)', async () => {
  workloads('idle', { rps: 0 });
  const before = await freshVirtualService('idle');
  const { result, progress, body } = await runStage('idle', stage('idle', [{ weights: [80, 10, 10], pause: '8s' }, { weights: [100, 0, 0] }], { evidence: { extendUpTo: '4s' } }));
  expect(result.status).toBe('TERMINAL');
  expect(body).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_INSUFFICIENT_DATA' }, rollback: { result: 'restored' }, currentWeights: [100, 0, 0] });
  expect(body.failure.message).toMatch(/^step 1 has too little evidence to judge: the canary received 0 requests; at least 50 are needed \(evidence\.minRequests\).*; weights restored to release 100, baseline 0, canary 0$/);
  expect(result.context.webhook?.monitor?.progressMessage).toBe(body.failure.message);
  expect(body.steps[0].analysis).toMatchObject({ result: 'InsufficientData', passed: false });
  // Running while it waited: Orca saw the step being judged past its window, not a failure.
  expect(progress).toContainEqual(expect.stringMatching(/^step 1 of 2: release 80, baseline 10, canary 10 \(analysis: judging\)$/));
  // It waited extendUpTo (4s) past the window for requests that never came.
  expect(Date.parse(body.finishedAt)).toBeGreaterThanOrEqual(Date.parse(body.steps[0].pauseUntil) + 4000);
  await expectOnlyWeightsChanged(namespace, 'idle', before, [100, 0, 0]);
});

it.concurrent('follows the outage rule when Prometheus stops mid-window: TERMINAL "analysis could not run" after the grace, weights restored', async () => {
  workloads('outage');
  const before = await freshVirtualService('outage');
  let stoppedAt = 0;
  let run: Run;
  try {
    run = await runStage('outage', stage('outage', [{ weights: [80, 10, 10], pause: '8s' }, { weights: [100, 0, 0] }], { source: 'mesh-outage' }), (status) => {
      if (!stoppedAt && Date.now() >= windowStart(status, 8000) + 1000) {
        stoppedAt = Date.now();
        outagePrometheus.pause();
      }
    });
  } finally {
    outagePrometheus.resume();
  }
  const { result, body } = run;
  expect(stoppedAt).toBeGreaterThan(0);
  expect(result.status).toBe('TERMINAL');
  expect(body).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_UNAVAILABLE' }, rollback: { result: 'restored' }, currentWeights: [100, 0, 0] });
  expect(body.failure.message).toMatch(/^step 1 analysis could not run: .*mesh-outage.*; weights restored to release 100, baseline 0, canary 0$/);
  expect(result.context.webhook?.monitor?.progressMessage).toBe(body.failure.message);
  // Retried until the grace (max(6s, 3 intervals)) after the window end, never promoted.
  expect(Date.parse(body.finishedAt)).toBeGreaterThanOrEqual(Date.parse(body.steps[0].pauseUntil) + 6000);
  expect(body.steps[0].analysis).toBeUndefined();
  await expectOnlyWeightsChanged(namespace, 'outage', before, [100, 0, 0]);
});
