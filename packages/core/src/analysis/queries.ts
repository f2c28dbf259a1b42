/**
 * PromQL for the built-in metrics and for custom templates: one query per scope (canary or
 * baseline), evaluated as a range query with step = the interval, so each sample covers one
 * interval and consecutive samples do not overlap (the rank-sum test wants independent samples).
 *
 * Names and labels (checked against istio.io/latest/docs/reference/config/metrics and cAdvisor's
 * Prometheus docs): Istio's `istio_requests_total` (counter) and
 * `istio_request_duration_milliseconds_bucket` (histogram) with `reporter="destination"` (the
 * server-side proxy of the workload), `destination_workload_namespace`, `destination_workload`,
 * `response_code`; cAdvisor's `container_cpu_usage_seconds_total` and
 * `container_memory_working_set_bytes` with `namespace`, `pod`, `container` (`container=""` is the
 * pod-level cgroup and `container="POD"` the pause container on older runtimes: both excluded).
 *
 * cAdvisor knows pods by name only. A Deployment's pods are named
 * `<deployment>-<replicaset hash>-<pod suffix>`, so `pod=~"<workload>-[a-z0-9]+-[a-z0-9]+"` selects
 * exactly them: a plain `<workload>-.*` would let workload `checkout` also match
 * `checkout-canary-...` pods. Pod status metrics (restarts, readiness, oom-killed) have no query:
 * the service reads them from the Kubernetes API with the scope's podSelector.
 */
import { formatDuration } from '../duration';
import { NormalizedMetric, NormalizedWorkloadScope } from './normalized';
import { TEMPLATE_VARIABLE } from './template-variables';

export { TEMPLATE_VARIABLES, templateVariables } from './template-variables';
export type ScopeName = 'canary' | 'baseline';

/** A PromQL double-quoted string's content: backslash and quote escaped, newlines spelled out. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A literal inside a regex matcher: RE2 metacharacters escaped, then PromQL-string escaped. */
function regexLiteral(value: string): string {
  return escapeLabelValue(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

function istioSelector(scope: NormalizedWorkloadScope, extra = ''): string {
  return `reporter="destination",destination_workload_namespace="${escapeLabelValue(scope.namespace)}",destination_workload="${escapeLabelValue(scope.workload)}"${extra}`;
}

function podSelector(scope: NormalizedWorkloadScope): string {
  return `namespace="${escapeLabelValue(scope.namespace)}",pod=~"${regexLiteral(scope.workload)}-[a-z0-9]+-[a-z0-9]+",container!="",container!="POD"`;
}

const QUANTILES: Record<string, string> = { 'latency-p50': '0.5', 'latency-p95': '0.95', 'latency-p99': '0.99' };

/**
 * The query for one metric and scope, or undefined for pod status metrics. Values: success rate in
 * percent (non-5xx share), latency in ms, CPU in cores per pod, memory in bytes per pod (averages over
 * the workload's pods, so a canary with fewer replicas is compared fairly).
 */
export function renderQuery(metric: NormalizedMetric, scope: NormalizedWorkloadScope, scopeName: ScopeName, intervalSeconds: number): string | undefined {
  const interval = formatDuration(intervalSeconds);
  switch (metric.metric) {
    case 'success-rate':
      return `sum(rate(istio_requests_total{${istioSelector(scope, ',response_code!~"5.."')}}[${interval}])) / sum(rate(istio_requests_total{${istioSelector(scope)}}[${interval}])) * 100`;
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return `histogram_quantile(${QUANTILES[metric.metric]}, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${istioSelector(scope)}}[${interval}])))`;
    case 'cpu':
      return `avg(sum by (pod) (rate(container_cpu_usage_seconds_total{${podSelector(scope)}}[${interval}])))`;
    case 'memory':
      return `avg(sum by (pod) (container_memory_working_set_bytes{${podSelector(scope)}}))`;
    case 'custom':
      return renderTemplate(metric.query ?? '', scope, scopeName, interval);
    default:
      return undefined;
  }
}

/**
 * The requests (or 5xx responses) a scope received in each interval, for the evidence gate and the
 * error-count judge: range query with step = interval, so each point counts the requests of the
 * interval that ends at it. increase() extrapolates to the range's edges, hence decimals.
 */
export function renderRequestCountQuery(scope: NormalizedWorkloadScope, intervalSeconds: number, errorsOnly: boolean): string {
  const interval = formatDuration(intervalSeconds);
  return `sum(increase(istio_requests_total{${istioSelector(scope, errorsOnly ? ',response_code=~"5.."' : '')}}[${interval}]))`;
}

/** Replace the template variables; values are escaped as PromQL string content (they sit in quotes). */
export function renderTemplate(template: string, scope: NormalizedWorkloadScope, scopeName: ScopeName, interval: string): string {
  const values: Record<string, string> = {
    namespace: escapeLabelValue(scope.namespace),
    workload: escapeLabelValue(scope.workload),
    interval,
    scope: scopeName,
  };
  return template.replace(TEMPLATE_VARIABLE, (whole, name: string) => values[name] ?? whole);
}
