/** The simulated source answers core's queries like a Prometheus range query, canary health as toggled. */
import { NormalizedMetric, NormalizedWorkloadScope, renderQuery, renderRequestCountQuery } from '@istio-shift/core';
import { MetricsError } from '../analysis/provider';
import { SIMULATED_REQUESTS_PER_SECOND, SimulatedMetricsProvider } from './simulated-metrics';

const canary: NormalizedWorkloadScope = { workload: 'checkout-canary', namespace: 'shop' } as NormalizedWorkloadScope;
const baseline: NormalizedWorkloadScope = { workload: 'checkout-baseline', namespace: 'shop' } as NormalizedWorkloadScope;
const window = { start: new Date(10_000), end: new Date(20_000), stepSeconds: 2 };

async function values(provider: SimulatedMetricsProvider, query: string): Promise<number[]> {
  const result = await provider.rangeQuery(query, window);
  if (result.kind !== 'series') throw new Error('no series');
  return result.samples.map((s) => s.value);
}

describe('SimulatedMetricsProvider', () => {
  it('places points at start, start + step, ... up to end, as a range query does', async () => {
    const result = await new SimulatedMetricsProvider().rangeQuery(renderRequestCountQuery(canary, 2, false), window);
    expect(result.kind === 'series' && result.samples.map((s) => s.time)).toEqual([10, 12, 14, 16, 18, 20]);
  });

  it('gives every workload the same requests and no 5xx while healthy; a failing canary only gets 5xx', async () => {
    const provider = new SimulatedMetricsProvider();
    const requests = SIMULATED_REQUESTS_PER_SECOND * 2;
    expect(await values(provider, renderRequestCountQuery(canary, 2, false))).toEqual(Array(6).fill(requests));
    expect(await values(provider, renderRequestCountQuery(canary, 2, true))).toEqual(Array(6).fill(0));
    provider.setHealth('failing');
    expect((await values(provider, renderRequestCountQuery(canary, 2, true)))[0]).toBeGreaterThan(0);
    expect(await values(provider, renderRequestCountQuery(baseline, 2, true))).toEqual(Array(6).fill(0));
    const latency = { name: 'p99', metric: 'latency-p99' } as NormalizedMetric;
    const [slow, fast] = await Promise.all([canary, baseline].map((scope) => values(provider, renderQuery(latency, scope, 'canary', 2) as string)));
    expect(slow[0]).toBeGreaterThan(fast[0]);
  });

  it('rejects custom queries as invalid (it simulates the built-in metrics only)', async () => {
    await expect(new SimulatedMetricsProvider().rangeQuery('up', window)).rejects.toMatchObject({ kind: 'invalid-query' } as Partial<MetricsError>);
  });
});
