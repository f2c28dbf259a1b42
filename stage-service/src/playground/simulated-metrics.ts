/**
 * The playground's metrics source (embedded mode only): a small, deterministic stand-in for
 * Prometheus, so canary analysis can be tried with no cluster. It answers the queries core renders
 * (packages/core/src/analysis/queries.ts) from a fixed traffic model: every workload gets
 * SIMULATED_REQUESTS_PER_SECOND requests; a workload whose name contains "canary" follows the
 * playground's toggle (healthy: like the others; failing: a share of 5xx and slower, hungrier pods).
 * The real runner and judge read it like any source, so a failing canary is rolled back for real.
 *
 * Points are placed as Prometheus' range queries place them: at start, start + step, ... while
 * <= end (prometheus/prometheus promql/engine.go, evaluator loops `for ts := ev.startTimestamp; ts <=
 * ev.endTimestamp; ts += ev.interval`; docs/querying/api.md "Range queries": start and end inclusive;
 * commit d15adb9ad7e5d9fbde3a9a8f30200593a5a14d86).
 */
import { MetricsError, MetricsProvider, QueryWindow, RangeResult, Sample } from '../analysis/provider';

/** The configured source name pipelines use; "simulated" so no page or log can mistake it for real data. */
export const SIMULATED_SOURCE = 'simulated';
export const SIMULATED_REQUESTS_PER_SECOND = 20;
/** The failing canary's 5xx share: high enough that the sequential test stops it within a few looks. */
export const FAILING_ERROR_SHARE = 0.3;

export type SimulatedHealth = 'healthy' | 'failing';

/** What a query asks for, read from the PromQL core renders. */
type Measure = 'requests' | 'errors' | 'success-rate' | 'latency' | 'cpu' | 'memory';

function measureOf(promql: string): Measure | undefined {
  if (promql.includes('increase(istio_requests_total')) return /response_code=~"5\.\."/.test(promql) ? 'errors' : 'requests';
  if (promql.includes('istio_requests_total') && promql.includes('response_code!~"5.."')) return 'success-rate';
  if (promql.includes('istio_request_duration_milliseconds_bucket')) return 'latency';
  if (promql.includes('container_cpu_usage_seconds_total')) return 'cpu';
  if (promql.includes('container_memory_working_set_bytes')) return 'memory';
  return undefined;
}

/** The workload a query selects: Istio's destination_workload label, or cAdvisor's pod name pattern. */
function workloadOf(promql: string): string | undefined {
  const istio = /destination_workload="([^"]*)"/.exec(promql);
  if (istio) return istio[1];
  const pod = /pod=~"(.*?)-\[a-z0-9\]\+-\[a-z0-9\]\+"/.exec(promql);
  return pod ? pod[1].replace(/\\\\(.)/g, '$1') : undefined;
}

export class SimulatedMetricsProvider implements MetricsProvider {
  readonly source = SIMULATED_SOURCE;
  private canaryHealth: SimulatedHealth = 'healthy';

  get health(): SimulatedHealth {
    return this.canaryHealth;
  }

  setHealth(health: SimulatedHealth): void {
    this.canaryHealth = health;
  }

  async rangeQuery(promql: string, window: QueryWindow, signal?: AbortSignal): Promise<RangeResult> {
    if (signal?.aborted) throw new MetricsError('aborted', this.source, 'the read was cancelled');
    const measure = measureOf(promql);
    if (!measure) {
      throw new MetricsError('invalid-query', this.source, 'the simulated source answers only the built-in metrics (success-rate, latency, cpu, memory) and request counts, not custom queries');
    }
    const workload = workloadOf(promql) ?? '';
    const failing = workload.includes('canary') && this.canaryHealth === 'failing';
    const samples: Sample[] = [];
    const start = window.start.getTime() / 1000;
    const end = window.end.getTime() / 1000;
    for (let time = start, k = 0; time <= end; time = start + ++k * window.stepSeconds) {
      samples.push({ time, value: valueOf(measure, failing, window.stepSeconds, k) });
    }
    return { kind: 'series', labels: { simulated: 'true', destination_workload: workload }, samples };
  }
}

/** One point; a small deterministic wobble keeps statistical metrics from being all ties. */
function valueOf(measure: Measure, failing: boolean, stepSeconds: number, k: number): number {
  const wobble = 1 + 0.02 * Math.sin(k * 1.7);
  const requests = SIMULATED_REQUESTS_PER_SECOND * stepSeconds;
  switch (measure) {
    case 'requests':
      return requests;
    case 'errors':
      return failing ? Math.round(requests * FAILING_ERROR_SHARE) : 0;
    case 'success-rate':
      return failing ? 100 * (1 - FAILING_ERROR_SHARE) : 100;
    case 'latency':
      return (failing ? 180 : 60) * wobble;
    case 'cpu':
      return (failing ? 0.6 : 0.2) * wobble;
    case 'memory':
      return (failing ? 300 : 200) * 1024 * 1024 * wobble;
  }
}
