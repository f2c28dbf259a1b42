/**
 * Prometheus scraping the in-process test exporter every second: what the end-to-end analysis
 * tests build on. A 5xx spike, a p99 regression and traffic stopping show up in the provider's
 * answers within a couple of scrapes; a workload that never had traffic is nodata.
 */
import { PrometheusProvider } from '../../stage-service/src/analysis/prometheus';
import { RangeResult } from '../../stage-service/src/analysis/provider';
import { startExporter, TestExporter } from './exporter';
import { poll, RunningPrometheus, startPrometheus } from './harness';

const NS = 'shop';
const successRate = (workload: string) =>
  `sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="${NS}",destination_workload="${workload}",response_code!~"5.*"}[4s]))` +
  ` / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="${NS}",destination_workload="${workload}"}[4s])) * 100`;
const p99 = (workload: string) =>
  `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="${NS}",destination_workload="${workload}"}[4s])))`;
const cpu = (workload: string) => `sum(rate(container_cpu_usage_seconds_total{namespace="${NS}",pod=~"${workload}-.*",container!="",container!="POD"}[4s]))`;

let exporter: TestExporter;
let prometheus: RunningPrometheus;
let provider: PrometheusProvider;

/** The newest sample of the query over the last 10 s, or undefined while there is none. */
async function latest(promql: string): Promise<number | undefined> {
  const end = new Date();
  const result: RangeResult = await provider.rangeQuery(promql, { start: new Date(end.getTime() - 10_000), end, stepSeconds: 1 });
  if (result.kind === 'nodata') return undefined;
  return result.samples[result.samples.length - 1]?.value;
}

/** Changes the traffic, then counts the scrapes until `condition` holds for the newest sample. */
async function scrapesUntil(what: string, promql: string, condition: (v: number) => boolean): Promise<number> {
  const before = exporter.scrapes();
  await poll(what, async () => {
    const value = await latest(promql);
    return value !== undefined && condition(value) ? true : undefined;
  }, 30_000);
  return exporter.scrapes() - before;
}

beforeAll(async () => {
  exporter = await startExporter([
    { namespace: NS, workload: 'checkout-canary', traffic: { rps: 50, latencyMs: 30 }, resources: { cpuCores: 0.25, memoryBytes: 200e6 } },
    { namespace: NS, workload: 'checkout-baseline', traffic: { rps: 50, latencyMs: 30 }, resources: { cpuCores: 0.25, memoryBytes: 200e6 } },
  ]);
  prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalSeconds: 1 });
  provider = new PrometheusProvider({ source: 'mesh', url: prometheus.url, timeoutMs: 10_000 });
  await prometheus.waitForTargetsUp();
  // rate() needs two scrapes: wait for a healthy canary before the tests change anything.
  await scrapesUntil('a healthy canary', successRate('checkout-canary'), (v) => v === 100);
}, 90_000);

afterAll(async () => {
  provider?.close();
  await prometheus?.stop();
  await exporter?.close();
});

it('serves cAdvisor CPU per pod: 0.25 cores for the app container, pause and pod cgroup excluded', async () => {
  // rate() underestimates while fewer than a window's worth of scrapes exist, so wait for it to settle.
  await scrapesUntil('cpu near 0.25 cores', cpu('checkout-canary'), (v) => Math.abs(v - 0.25) < 0.01);
}, 40_000);

it('shows a 5xx spike within a couple of scrapes', async () => {
  exporter.setTraffic(NS, 'checkout-canary', { rps: 50, errorRatio: 0.3, latencyMs: 30 });
  const scrapes = await scrapesUntil('the 5xx spike', successRate('checkout-canary'), (v) => v < 95);
  console.log(`[prometheus] 5xx spike visible after ${scrapes} scrape(s) at 1 s`);
  expect(scrapes).toBeLessThanOrEqual(3);
  expect(await latest(successRate('checkout-baseline'))).toBe(100);
}, 40_000);

it('shows a p99 regression (2% of requests at 900 ms) while the baseline stays put', async () => {
  exporter.setTraffic(NS, 'checkout-canary', { rps: 50, latencyMs: 30, tail: { ratio: 0.02, latencyMs: 900 } });
  const scrapes = await scrapesUntil('the p99 regression', p99('checkout-canary'), (v) => v > 500);
  expect(scrapes).toBeLessThanOrEqual(4);
  // 30 ms sits in the (25, 50] bucket: the baseline's p99 interpolates below 50.
  expect(await latest(p99('checkout-baseline'))).toBeLessThan(50);
}, 40_000);

it('turns no traffic into NaN samples, and a workload never seen into nodata', async () => {
  exporter.setTraffic(NS, 'checkout-canary', { rps: 0 });
  await scrapesUntil('no traffic (0/0)', successRate('checkout-canary'), (v) => Number.isNaN(v));
  expect(await latest(successRate('checkout-never-deployed'))).toBeUndefined();
}, 40_000);
