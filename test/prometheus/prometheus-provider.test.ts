/**
 * The Prometheus metrics provider against a real Prometheus 2.42: exact values from backfilled
 * blocks, Prometheus' own rejection messages, nodata, more than one series, outages (stopped and
 * hung server), bearer tokens from a rotating file, and exactly one HTTP request per metric and
 * scope per judgement window (counted by a proxy, not by the provider).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { judgeStep, renderRequestCountQuery, validateShiftSpec } from '@istio-shift/core';
import { PrometheusProvider } from '../../stage-service/src/analysis/prometheus';
import { MetricsError, QueryWindow, RangeResult, Sample } from '../../stage-service/src/analysis/provider';
import { intervalCounts } from '../../stage-service/src/analysis/runner';
import { secretReader } from '../../stage-service/src/analysis/sources';
import { CountingProxy, startCountingProxy } from './counting-proxy';
import { RunningPrometheus, startPrometheus } from './harness';
import { MeshModel, renderBackfill, renderRawBackfill } from './mesh-model';
import { makeCertificates } from './tls';

const NS = 'shop';
const MiB = 1024 * 1024;
// Minute-aligned, 40 minutes ago: the whole series is in the past when the tests query it.
const BASE = Math.floor(Date.now() / 60_000) * 60 - 40 * 60;

// Rendered as the judge's templates would render them (the templates themselves live in core).
const successRate = (workload: string) =>
  `sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="${NS}",destination_workload="${workload}",response_code!~"5.*"}[1m]))` +
  ` / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="${NS}",destination_workload="${workload}"}[1m])) * 100`;
const p99 = (workload: string) =>
  `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="${NS}",destination_workload="${workload}"}[1m])))`;
const memory = (workload: string) => `sum(container_memory_working_set_bytes{namespace="${NS}",pod=~"${workload}-.*",container!="",container!="POD"})`;

function backfill(): string {
  const model = new MeshModel(BASE);
  model.define({ namespace: NS, workload: 'checkout-canary', traffic: { rps: 40, errorRatio: 0.02, latencyMs: 80 } });
  model.define({ namespace: NS, workload: 'checkout-baseline', traffic: { rps: 40, errorRatio: 0, latencyMs: 30 } });
  const mesh = renderBackfill(model, BASE + 30 * 60, 15);
  // A gauge with a known value at every minute: 100 MiB + i MiB (and the pod cgroup, which a good query excludes).
  const points = (offset: number): Array<[number, number]> => Array.from({ length: 31 }, (_, i) => [BASE + 60 * i, (100 + i) * MiB + offset]);
  const memorySeries = renderRawBackfill([
    { name: 'container_memory_working_set_bytes', type: 'gauge', labels: { namespace: NS, pod: 'checkout-canary-7c9-abcde', container: 'checkout' }, points: points(0) },
    { name: 'container_memory_working_set_bytes', type: 'gauge', labels: { namespace: NS, pod: 'checkout-canary-7c9-abcde', container: '' }, points: points(MiB) },
  ]);
  // promtool reads one document; join the two (each ends in # EOF).
  return mesh.replace(/# EOF\n$/, '') + memorySeries;
}

const window = (fromMinute: number, toMinute: number, stepSeconds = 60): QueryWindow => ({
  start: new Date((BASE + fromMinute * 60) * 1000),
  end: new Date((BASE + toMinute * 60) * 1000),
  stepSeconds,
});

function series(result: RangeResult) {
  if (result.kind !== 'series') throw new Error(`expected a series, got ${result.kind}`);
  return result.samples;
}

async function failure(promise: Promise<unknown>): Promise<MetricsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MetricsError) return error;
    throw error;
  }
  throw new Error('expected the query to fail');
}

describe('Prometheus provider on backfilled data', () => {
  let prometheus: RunningPrometheus;
  let proxy: CountingProxy;
  let provider: PrometheusProvider;

  beforeAll(async () => {
    prometheus = await startPrometheus({ backfill: backfill() });
    proxy = await startCountingProxy(prometheus.url);
    provider = new PrometheusProvider({ source: 'mesh', url: proxy.url, timeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    provider?.close();
    await proxy?.close();
    await prometheus?.stop();
  });

  beforeEach(() => proxy.requests.splice(0));

  it('returns the exact samples of a gauge, one per step, at the step times', async () => {
    const samples = series(await provider.rangeQuery(memory('checkout-canary'), window(5, 10)));
    expect(samples).toEqual([5, 6, 7, 8, 9, 10].map((i) => ({ time: BASE + 60 * i, value: (100 + i) * MiB })));
  });

  it('computes the success rate and p99 from Istio-named counters and histogram buckets', async () => {
    const canary = series(await provider.rangeQuery(successRate('checkout-canary'), window(10, 20)));
    const baseline = series(await provider.rangeQuery(successRate('checkout-baseline'), window(10, 20)));
    expect(canary).toHaveLength(11);
    for (const s of canary) expect(s.value).toBeCloseTo(98, 9);
    for (const s of baseline) expect(s.value).toBe(100);
    // Every request takes 80 ms: bucket (50, 100], so histogram_quantile interpolates 50 + 0.99 * 50.
    const latency = series(await provider.rangeQuery(p99('checkout-canary'), window(10, 20)));
    for (const s of latency) expect(s.value).toBeCloseTo(99.5, 9);
  });

  it('sends exactly one range query per metric and scope per judgement window', async () => {
    const queries = ['checkout-canary', 'checkout-baseline'].flatMap((w) => [successRate(w), p99(w), memory(w)]);
    const started = process.hrtime.bigint();
    const results = await Promise.all(queries.map((q) => provider.rangeQuery(q, window(5, 30, 15))));
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    // 3 metrics x 2 scopes = 6 queries, each over a 25-minute window at 15 s = 101 samples.
    expect(proxy.requests).toHaveLength(6);
    expect(proxy.requests.every((r) => r.method === 'POST' && r.path === '/api/v1/query_range')).toBe(true);
    expect(results.filter((r) => r.kind === 'series').map((r) => series(r).length)).toEqual([101, 101, 101, 101, 101]);
    expect(results[5]).toEqual({ kind: 'nodata' }); // no memory series for the baseline in this data
    console.log(`[prometheus] one judgement window, 3 metrics x 2 scopes: ${proxy.requests.length} HTTP requests, ${elapsedMs.toFixed(0)} ms in parallel`);
  });

  /** A scope's requests (or 5xx) per 1m interval over minutes 10..20, as the runner queries them. */
  const counts = async (workload: string, errorsOnly: boolean): Promise<Sample[]> => {
    const result = await provider.rangeQuery(renderRequestCountQuery({ namespace: NS, workload }, 60, errorsOnly), window(10, 20));
    return result.kind === 'series' ? result.samples : [];
  };

  it("counts each interval's requests and 5xx with the judge's count queries; a scope that never failed has no 5xx series", async () => {
    const [canary, canaryErrors, baseline, baselineErrors] = await Promise.all([counts('checkout-canary', false), counts('checkout-canary', true), counts('checkout-baseline', false), counts('checkout-baseline', true)]);
    // 40 rps over each 1m interval (reporter="destination" only: the source reporter's copies are not counted twice).
    expect(canary).toHaveLength(11);
    for (const s of [...canary, ...baseline]) expect(s.value).toBeCloseTo(2400, 6);
    for (const s of canaryErrors) expect(s.value).toBeCloseTo(48, 6);
    // Istio creates a code's series with its first such response: the baseline never answered 5xx.
    expect(baselineErrors).toEqual([]);
    const times = canary.map((s) => s.time);
    expect(intervalCounts(times, baseline, baselineErrors).errors).toEqual(times.map(() => 0));
  });

  it('judges those counts: a canary failing 2% of requests against a clean baseline fails its success rate (the reference preset)', async () => {
    const validated = validateShiftSpec({
      account: 'prod',
      namespace: NS,
      virtualService: 'checkout',
      route: { protocol: 'http', name: 'primary' },
      destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
      steps: [{ weights: [80, 10, 10], pause: '11m' }, { weights: [100, 0, 0] }],
      analysis: { source: 'mesh', scopes: { canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }, interval: '1m' },
    });
    if (!validated.ok) throw new Error(JSON.stringify(validated.problems));
    const analysis = validated.spec.analysis!;
    const scopeCounts = async (workload: string) => {
      const [all, errors] = await Promise.all([counts(workload, false), counts(workload, true)]);
      return intervalCounts(all.map((s) => s.time), all, errors);
    };
    const requests = { canary: await scopeCounts('checkout-canary'), baseline: await scopeCounts('checkout-baseline') };
    const judgement = judgeStep(analysis, {}, { step: 0, evidence: { requests, weights: { canary: 10, baseline: 10 } } });
    const success = judgement.metrics.find((m) => m.name === 'success-rate');
    expect(success).toMatchObject({ classification: 'Low', failed: true, counts: { canary: { requests: 26400, errors: 528 }, baseline: { requests: 26400, errors: 0 } } });
    expect(judgement).toMatchObject({ result: 'Fail', passed: false, evidence: { requests: { canary: 26400, baseline: 26400 }, trafficShare: 1 } });
  });

  it('reports a scope that matches no series as nodata', async () => {
    expect(await provider.rangeQuery(successRate('checkout-nonexistent'), window(10, 20))).toEqual({ kind: 'nodata' });
    expect(await provider.rangeQuery(memory('checkout-baseline'), window(10, 20))).toEqual({ kind: 'nodata' });
  });

  it('passes NaN samples (0/0) through as values, not as nodata: the judge decides what they mean', async () => {
    const samples = series(await provider.rangeQuery(`${successRate('checkout-canary')} * 0 / 0`, window(10, 11)));
    expect(samples.every((s) => Number.isNaN(s.value))).toBe(true);
  });

  it('reports PromQL that Prometheus rejects as invalid-query, in Prometheus own words', async () => {
    const error = await failure(provider.rangeQuery('sum(rate(istio_requests_total[1m])', window(10, 20)));
    expect(error.kind).toBe('invalid-query');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^metrics source "mesh": Prometheus rejected the query: .*unclosed left parenthesis/);
  });

  it('refuses a query that returns more than one series, naming them', async () => {
    const error = await failure(provider.rangeQuery(`istio_requests_total{destination_workload="checkout-canary",reporter="destination"}`, window(10, 20)));
    expect(error.kind).toBe('ambiguous');
    expect(error.message).toMatch(/returned 2 series \(istio_requests_total\{.*response_code="200".*\}, istio_requests_total\{.*response_code="503".*\}\)/);
  });

  it('sends the bearer token from a file, re-read on every query (rotation)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-token-'));
    try {
      const file = join(dir, 'token');
      writeFileSync(file, 'first-token\n');
      const withToken = new PrometheusProvider({ source: 'mesh', url: proxy.url, timeoutMs: 10_000, bearerToken: secretReader({ fromFile: file }) });
      await withToken.rangeQuery(memory('checkout-canary'), window(5, 6));
      writeFileSync(file, 'rotated-token\n');
      await withToken.rangeQuery(memory('checkout-canary'), window(5, 6));
      withToken.close();
      expect(proxy.requests.map((r) => r.authorization)).toEqual(['Bearer first-token', 'Bearer rotated-token']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a URL with no Prometheus API behind it as misconfigured', async () => {
    const wrong = new PrometheusProvider({ source: 'mesh', url: `${prometheus.url}/not-prometheus`, timeoutMs: 10_000 });
    const error = await failure(wrong.rangeQuery(memory('checkout-canary'), window(5, 6)));
    wrong.close();
    expect(error.kind).toBe('misconfigured');
    expect(error.message).toContain("check the source's url");
  });
});

describe('Prometheus provider when Prometheus is down', () => {
  it('reports a hung server (SIGSTOP) as an outage after the timeout, and a stopped one as an outage at once', async () => {
    const prometheus = await startPrometheus({ backfill: backfill() });
    const provider = new PrometheusProvider({ source: 'mesh', url: prometheus.url, timeoutMs: 800 });
    try {
      expect((await provider.rangeQuery(memory('checkout-canary'), window(5, 6))).kind).toBe('series');

      await prometheus.pause();
      const started = Date.now();
      const hung = await failure(provider.rangeQuery(memory('checkout-canary'), window(5, 6)));
      expect(hung.kind).toBe('outage');
      expect(hung.retryable).toBe(true);
      expect(hung.message).toBe('metrics source "mesh": Prometheus did not answer within 800 ms');
      expect(Date.now() - started).toBeGreaterThanOrEqual(790);
      prometheus.resume();
      // Resumed, it answers again (the engine's retry would succeed).
      expect((await provider.rangeQuery(memory('checkout-canary'), window(5, 6))).kind).toBe('series');

      await prometheus.stop();
      const down = await failure(provider.rangeQuery(memory('checkout-canary'), window(5, 6)));
      expect(down.kind).toBe('outage');
      // ECONNRESET when the kept-alive connection dies with the server, ECONNREFUSED on a new one.
      expect(down.message).toMatch(/cannot reach Prometheus at 127\.0\.0\.1:\d+: (ECONNREFUSED|ECONNRESET)/);
    } finally {
      provider.close();
      prometheus.resume();
      await prometheus.stop();
    }
  }, 60_000);

  it('reports a cancelled query as aborted, not as an outage', async () => {
    const prometheus = await startPrometheus();
    const provider = new PrometheusProvider({ source: 'mesh', url: prometheus.url, timeoutMs: 10_000 });
    try {
      await prometheus.pause();
      const controller = new AbortController();
      const pending = failure(provider.rangeQuery('vector(1)', window(5, 6), controller.signal));
      controller.abort();
      const error = await pending;
      expect(error.kind).toBe('aborted');
      expect(error.retryable).toBe(false);
    } finally {
      provider.close();
      prometheus.resume();
      await prometheus.stop();
    }
  }, 60_000);
});

describe('Prometheus provider over HTTPS', () => {
  it('trusts the configured CA, and calls an untrusted certificate a misconfigured ca (not an outage)', async () => {
    const certificates = makeCertificates();
    const prometheus = await startPrometheus({ backfill: backfill(), tls: certificates });
    const trusting = new PrometheusProvider({ source: 'mesh', url: prometheus.url, timeoutMs: 10_000, ca: certificates.ca });
    const untrusting = new PrometheusProvider({ source: 'mesh', url: prometheus.url, timeoutMs: 10_000 });
    try {
      expect(prometheus.url).toMatch(/^https:/);
      expect(series(await trusting.rangeQuery(memory('checkout-canary'), window(5, 5)))).toEqual([{ time: BASE + 300, value: 105 * MiB }]);
      const error = await failure(untrusting.rangeQuery(memory('checkout-canary'), window(5, 5)));
      expect(error.kind).toBe('misconfigured');
      expect(error.message).toMatch(/TLS to 127\.0\.0\.1:\d+ failed \(.+\): check the source's ca/);
    } finally {
      trusting.close();
      untrusting.close();
      await prometheus.stop();
    }
  }, 60_000);
});

describe('the Prometheus test harness', () => {
  it('fails, with the install command, when the prometheus binary is missing', async () => {
    const saved = process.env.PROMETHEUS_BIN;
    process.env.PROMETHEUS_BIN = '/nonexistent/prometheus';
    try {
      await expect(startPrometheus()).rejects.toThrow('prometheus not found at /nonexistent/prometheus: install it with `apt-get install -y --no-install-recommends prometheus`');
    } finally {
      if (saved === undefined) delete process.env.PROMETHEUS_BIN;
      else process.env.PROMETHEUS_BIN = saved;
    }
  });
});
