/**
 * Automated canary analysis end to end: the service on the real kube-apiserver, a real Prometheus
 * scraping the live mesh exporter every second, and shifts created and polled as Orca does. Each
 * test uses its own canary/baseline workloads so traffic changes never leak between tests.
 * Windows are short (warm-up 2s, interval 2s, pause 10s: an 8s window, looked at every interval).
 */
import { ServiceConfig } from '../src/config';
import { RunningService } from '../src/service';
import { createNamespace, getVirtualService } from '../../test/cluster/test-helpers';
import { RunningPrometheus, startPrometheus } from '../../test/prometheus/harness';
import { TestExporter, startExporter } from '../../test/prometheus/exporter';
import { TrafficProfile } from '../../test/prometheus/mesh-model';
import { expectOnlyWeightsChanged, applyCheckout, call, clusterAccount, exampleShift, freePort, pollUntilDone, serviceConfig, startTestService } from './support';

jest.setTimeout(120_000);

const ACCOUNT = 'test-cluster';
const HEALTHY: TrafficProfile = { rps: 50, errorRatio: 0.002, latencyMs: 20 };
let namespace: string;
let cleanup: () => Promise<void>;
let port: number;
let service: RunningService;
let exporter: TestExporter;
let prometheus: RunningPrometheus;

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('analysis'));
  exporter = await startExporter();
  prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalSeconds: 1 });
  await prometheus.waitForTargetsUp(30_000);
  port = await freePort();
  service = await startTestService(analysisServiceConfig());
});

/** The service on the test cluster with two metrics sources on the test Prometheus. */
function analysisServiceConfig(): ServiceConfig {
  return {
    ...serviceConfig(port, [clusterAccount(ACCOUNT, [namespace])]),
    metricsSources: [
      { name: 'mesh', type: 'prometheus', url: prometheus.url, timeoutMs: 1500, accounts: ['*'] },
      { name: 'payments-only', type: 'prometheus', url: prometheus.url, timeoutMs: 1500, accounts: ['payments'] },
    ],
  };
}

afterAll(async () => {
  await service?.stop();
  await prometheus?.stop();
  await exporter?.close();
  await cleanup?.();
});

/** A canary and a baseline workload of their own, both healthy, named after the test. */
function workloads(tag: string, canary: TrafficProfile = HEALTHY): void {
  exporter.define({ namespace, workload: `${tag}-canary`, traffic: canary });
  exporter.define({ namespace, workload: `${tag}-baseline`, traffic: HEALTHY });
}

function analysedShift(tag: string, vsName: string, analysis: Record<string, unknown> = {}): Record<string, unknown> {
  return exampleShift(ACCOUNT, namespace, {
    virtualService: vsName,
    steps: [{ weights: [80, 10, 10], pause: '10s' }, { weights: [100, 0, 0] }],
    analysis: {
      source: 'mesh',
      scopes: { canary: { workload: `${tag}-canary` }, baseline: { workload: `${tag}-baseline` } },
      warmup: '2s',
      interval: '2s',
      metrics: [
        { name: 'success', metric: 'success-rate', critical: true, judge: { type: 'threshold', min: 99 } },
        { name: 'p99', metric: 'latency-p99', judge: { type: 'threshold', maxRatio: 1.5 } },
      ],
      ...analysis,
    },
  });
}

async function freshVirtualService(name: string): Promise<any> {
  await applyCheckout(namespace, name);
  return getVirtualService(namespace, name);
}


const create = (spec: Record<string, unknown>) => call(`http://127.0.0.1:${port}/v1/shifts`, { body: spec });

async function run(spec: Record<string, unknown>, onPoll: (body: any) => void | Promise<void> = () => undefined): Promise<{ created: any; final: any }> {
  const response = await create(spec);
  expect(response.status).toBe(202);
  const final = await pollUntilDone(response.body.statusUrl, onPoll, 90_000);
  return { created: response.body, final };
}

describe('canary analysis during a step', () => {
  it('promotes a healthy canary: the step is judged once, passes, and the shift succeeds', async () => {
    workloads('healthy');
    const before = await freshVirtualService('healthy');
    const messages: string[] = [];
    const { created, final } = await run(analysedShift('healthy', 'healthy'), (body) => void messages.push(body.message));
    expect(created.message).toMatch(/^step 1 of 2: release 80, baseline 10, canary 10 \(analysis: \d+s left\)$/);
    expect(final).toMatchObject({ status: 'SUCCEEDED', currentWeights: [100, 0, 0], analysis: { result: 'Pass', score: 100, step: 1 } });
    const judgement = final.steps[0].analysis;
    expect(judgement).toMatchObject({ score: 100, result: 'Pass', passed: true, final: true });
    expect(judgement.metrics.map((m: any) => [m.name, m.classification])).toEqual([['success', 'Pass'], ['p99', 'Pass']]);
    expect(judgement.metrics[0].canary.mean).toBeGreaterThan(99);
    // The evidence gate counted both scopes' requests (50 rps each at weights 10/10: the share expected).
    expect(judgement.evidence).toMatchObject({ passed: true, expectedRatio: 1 });
    expect(judgement.evidence.requests.canary).toBeGreaterThan(200);
    expect(judgement.evidence.trafficShare).toBeGreaterThan(0.8);
    // Judged after the window: the whole window's samples, never before its end.
    expect(Date.parse(final.steps[0].judgedAt)).toBeGreaterThanOrEqual(Date.parse(final.steps[0].pauseUntil));
    expect(final.steps[1].analysis).toBeUndefined();
    await expectOnlyWeightsChanged(namespace, 'healthy', before, [100, 0, 0]);
  });

  it('rolls back at once (within one interval) when the critical success rate drops mid-window', async () => {
    workloads('spike');
    const before = await freshVirtualService('spike');
    const response = await create(analysedShift('spike', 'spike'));
    expect(response.status).toBe(202);
    exporter.setTraffic(namespace, 'spike-canary', { ...HEALTHY, errorRatio: 0.08 });
    const final = await pollUntilDone(response.body.statusUrl, () => undefined, 90_000);
    const windowEnd = Date.parse(response.body.steps[0].pauseUntil);
    expect(final).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' }, rollback: { result: 'restored' }, currentWeights: [100, 0, 0] });
    expect(final.failure.message).toMatch(/^step 1 failed analysis before its window ended: canary 5xx rate \d+(\.\d)?% vs baseline \d+(\.\d+)?% \(critical\); score 0\/75; weights restored to release 100, baseline 0, canary 0$/);
    // Stopped early: the rollback is written before the window ends, not at its end.
    expect(Date.parse(final.finishedAt)).toBeLessThan(windowEnd);
    console.log(`5xx spike: rolled back ${(windowEnd - Date.parse(final.finishedAt)) / 1000}s before the window end`);
    expect(final.steps[0].analysis).toMatchObject({ score: 0, result: 'Fail', passed: false, stoppedEarly: true });
    await expectOnlyWeightsChanged(namespace, 'spike', before, [100, 0, 0]);
  });

  it('rolls back mid-window once the sequential test of a statistical metric crosses (mode sequential, the default)', async () => {
    workloads('sequential', { ...HEALTHY, tail: { ratio: 0.05, latencyMs: 800 } });
    const before = await freshVirtualService('sequential');
    const spec = analysedShift('sequential', 'sequential', {
      metrics: [
        { name: 'success', metric: 'success-rate', critical: true, judge: { type: 'threshold', min: 99 } },
        { name: 'p99', metric: 'latency-p99', judge: { type: 'statistical', allowedIncrease: 1.2 } },
      ],
    });
    // A 30 s window: a look every 2 s; p99 alone is tested (alpha 0.01: e-value 100), which nine
    // intervals of a 40x regression reach, long before the window's end.
    (spec.steps as Array<Record<string, unknown>>)[0].pause = '32s';
    const { created, final } = await run(spec);
    const windowEnd = Date.parse(created.steps[0].pauseUntil);
    expect(final).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' }, rollback: { result: 'restored' }, currentWeights: [100, 0, 0] });
    expect(final.failure.message).toMatch(
      /^step 1 failed analysis before its window ended: canary p99 latency \d+ ms vs baseline \d+(\.\d+)? ms \(\+\d+%\) \(e-value \d+ >= 100 after \d+ intervals\); score 0\/75; weights restored to release 100, baseline 0, canary 0$/,
    );
    // Only the metric that stopped the step is in the stored judgement.
    expect(final.steps[0].analysis).toMatchObject({ result: 'Fail', stoppedEarly: true, sequential: { alpha: 0.01, tested: 1 } });
    expect(final.steps[0].analysis.metrics.map((m: any) => [m.name, m.classification, m.sequential.crossed])).toEqual([['p99', 'High', true]]);
    const early = windowEnd - Date.parse(final.finishedAt);
    console.log(`p99 regression, sequential: rolled back ${early / 1000}s before the window end (after ${final.steps[0].analysis.metrics[0].sequential.crossedAt} intervals)`);
    expect(early).toBeGreaterThan(6_000);
    await expectOnlyWeightsChanged(namespace, 'sequential', before, [100, 0, 0]);
  });

  it('rolls back at the window end when p99 latency regresses (not critical)', async () => {
    workloads('slow', { ...HEALTHY, tail: { ratio: 0.05, latencyMs: 800 } });
    const before = await freshVirtualService('slow');
    const { created, final } = await run(analysedShift('slow', 'slow'));
    const windowEnd = Date.parse(created.steps[0].pauseUntil);
    expect(final).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' }, currentWeights: [100, 0, 0] });
    expect(final.failure.message).toMatch(/^step 1 failed analysis: canary p99 latency \d+ ms vs baseline \d+(\.\d+)? ms \(\+\d+%\); score 50\/75 \(the last analysed step must reach 75\); weights restored to release 100, baseline 0, canary 0$/);
    expect(Date.parse(final.finishedAt)).toBeGreaterThanOrEqual(windowEnd);
    const added = Date.parse(final.finishedAt) - windowEnd;
    console.log(`p99 regression: rollback written ${added} ms after the window end`);
    expect(added).toBeLessThan(5000);
    await expectOnlyWeightsChanged(namespace, 'slow', before, [100, 0, 0]);
  });

  it('holds the weights on a failed judgement with onFailure: hold', async () => {
    workloads('hold', { ...HEALTHY, tail: { ratio: 0.05, latencyMs: 800 } });
    const before = await freshVirtualService('hold');
    const { final } = await run(analysedShift('hold', 'hold', { onFailure: 'hold' }));
    expect(final).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' }, rollback: { result: 'held' }, currentWeights: [80, 10, 10] });
    expect(final.failure.message).toMatch(/; weights held at release 80, baseline 10, canary 10 as the spec asks \(onFailure: hold\)$/);
    await expectOnlyWeightsChanged(namespace, 'hold', before, [80, 10, 10]);
  });

  it('waits for evidence when the canary gets no traffic, then ends TERMINAL ANALYSIS_INSUFFICIENT_DATA (never promotes)', async () => {
    workloads('idle', { rps: 0 });
    const before = await freshVirtualService('idle');
    const { created, final } = await run(analysedShift('idle', 'idle', { evidence: { extendUpTo: '4s' } }));
    expect(final).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_INSUFFICIENT_DATA' }, rollback: { result: 'restored' }, currentWeights: [100, 0, 0] });
    expect(final.failure.message).toMatch(/^step 1 has too little evidence to judge: the canary received 0 requests; at least 50 are needed \(evidence\.minRequests\).*; weights restored to release 100, baseline 0, canary 0$/);
    expect(final.steps[0].analysis).toMatchObject({ result: 'InsufficientData', passed: false, evidence: { passed: false, requests: { canary: 0 } } });
    // It waited extendUpTo past the window for requests that never came.
    expect(Date.parse(final.finishedAt)).toBeGreaterThanOrEqual(Date.parse(created.steps[0].pauseUntil) + 4000);
    await expectOnlyWeightsChanged(namespace, 'idle', before, [100, 0, 0]);
  });

  it('without the evidence gate, an all-nodata canary still never passes (Kayenta: half or more without data scores 0)', async () => {
    workloads('idle2', { rps: 0 });
    const before = await freshVirtualService('idle2');
    const passing = analysedShift('idle2', 'idle2', {
      evidence: { minRequests: 0, minTrafficShare: 0 },
      metrics: [
        { name: 'success', metric: 'success-rate', critical: true, nodata: 'pass', judge: { type: 'threshold', min: 99 } },
        { name: 'p99', metric: 'latency-p99', nodata: 'pass', judge: { type: 'threshold', maxRatio: 1.5 } },
      ],
    });
    const { final } = await run(passing);
    // Each metric passes its nodata policy, but half or more without data forces the score to 0.
    expect(final.steps[0].analysis.metrics.map((m: any) => m.classification)).toEqual(['Nodata', 'Nodata']);
    expect(final).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' }, currentWeights: [100, 0, 0] });
    expect(final.failure.message).toMatch(/^step 1 failed analysis: half or more of the metrics have no data; score 0\/75/);
    await expectOnlyWeightsChanged(namespace, 'idle2', before, [100, 0, 0]);
  });

  it('retries a Prometheus outage shorter than the grace and judges when it answers again', async () => {
    workloads('blip');
    await freshVirtualService('blip');
    const response = await create(analysedShift('blip', 'blip'));
    expect(response.status).toBe(202);
    const windowEnd = Date.parse(response.body.steps[0].pauseUntil);
    // Down from 1s before the window end until 2s after it: the judgement at the end fails, the retry succeeds.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, windowEnd - 1000 - Date.now())));
    prometheus.pause();
    try {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, windowEnd + 2000 - Date.now())));
      const during = await call(response.body.statusUrl);
      expect(during.body).toMatchObject({ status: 'RUNNING', currentWeights: [80, 10, 10] });
      expect(during.body.message).toMatch(/\(analysis: judging\)$/);
    } finally {
      prometheus.resume();
    }
    const final = await pollUntilDone(response.body.statusUrl, () => undefined, 60_000);
    expect(final).toMatchObject({ status: 'SUCCEEDED', currentWeights: [100, 0, 0], analysis: { result: 'Pass' } });
  });

  it('ends TERMINAL and restores the weights when Prometheus stays down past the grace (never promotes)', async () => {
    workloads('down');
    const before = await freshVirtualService('down');
    const response = await create(analysedShift('down', 'down'));
    expect(response.status).toBe(202);
    prometheus.pause();
    let final: any;
    try {
      final = await pollUntilDone(response.body.statusUrl, () => undefined, 60_000);
    } finally {
      prometheus.resume();
    }
    const windowEnd = Date.parse(response.body.steps[0].pauseUntil);
    expect(final).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_UNAVAILABLE' }, rollback: { result: 'restored' }, currentWeights: [100, 0, 0] });
    expect(final.failure.message).toMatch(/^step 1 analysis could not run: .*mesh.*; weights restored to release 100, baseline 0, canary 0$/);
    // The grace is max(6s, 3 intervals) after the window end.
    expect(Date.parse(final.finishedAt)).toBeGreaterThanOrEqual(windowEnd + 6000);
    expect(final.steps[0].analysis).toBeUndefined();
    await expectOnlyWeightsChanged(namespace, 'down', before, [100, 0, 0]);
  });
});

describe('restarts', () => {
  it('a service restarted mid-window takes the judgement from the record it finds (once) and promotes', async () => {
    workloads('restart');
    const before = await freshVirtualService('restart');
    const response = await create(analysedShift('restart', 'restart'));
    expect(response.status).toBe(202);
    await service.stop();
    // Down across the window's end: nobody judges until the new instance resumes the shift.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(response.body.steps[0].pauseUntil) + 500 - Date.now())));
    service = await startTestService(analysisServiceConfig());
    const final = await pollUntilDone(response.body.statusUrl, () => undefined, 60_000);
    expect(final).toMatchObject({ status: 'SUCCEEDED', currentWeights: [100, 0, 0], analysis: { result: 'Pass', step: 1 } });
    expect(Date.parse(final.steps[0].judgedAt)).toBeGreaterThan(Date.parse(final.steps[0].pauseUntil) + 500);
    await expectOnlyWeightsChanged(namespace, 'restart', before, [100, 0, 0]);
  });
});

describe('create-time checks (the VirtualService is not touched)', () => {
  it('refuses an unknown metrics source with 422 naming analysis.source', async () => {
    const before = await freshVirtualService('unknown-source');
    const response = await create(analysedShift('x', 'unknown-source', { source: 'datadog' }));
    expect(response.status).toBe(422);
    expect(response.body.error.problems).toEqual([{ field: 'analysis.source', message: 'unknown metrics source "datadog": use one of mesh, payments-only' }]);
    expect(await getVirtualService(namespace, 'unknown-source')).toEqual(before);
  });

  it('refuses a source the account may not use with 403', async () => {
    const before = await freshVirtualService('other-source');
    const response = await create(analysedShift('x', 'other-source', { source: 'payments-only' }));
    expect(response.status).toBe(403);
    expect(response.body.error.message).toBe(`account "${ACCOUNT}" may not use metrics source "payments-only": the service configuration allows it for payments`);
    expect(await getVirtualService(namespace, 'other-source')).toEqual(before);
  });

  it('refuses PromQL that Prometheus rejects with 422 carrying Prometheus\' message', async () => {
    const before = await freshVirtualService('bad-query');
    const response = await create(
      analysedShift('x', 'bad-query', { metrics: [{ name: 'errors', metric: 'custom', query: 'sum(rate(errors_total{namespace="{{namespace}}"}[{{interval}}])' }] }),
    );
    expect(response.status).toBe(422);
    expect(response.body.error.problems[0].field).toBe('analysis.metrics[0].query');
    expect(response.body.error.problems[0].message).toMatch(/^analysis\.metrics\[0\]\.query \(errors, canary\): .*(parse error|unclosed|expected)/i);
    expect(await getVirtualService(namespace, 'bad-query')).toEqual(before);
  });
});
