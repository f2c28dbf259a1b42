/**
 * Prometheus metrics: shifts by outcome, step latency, Kubernetes API errors. No label names an
 * account, namespace, VirtualService or shift unless the configuration's `metrics.accountLabels`
 * turns on the one gauge that does (traffic_shift_watch_synced).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly shiftsStarted = new Counter({ name: 'traffic_shift_shifts_started_total', help: 'Shifts started (retried creates not counted).', registers: [this.registry] });
  readonly shiftsEnded = new Counter({ name: 'traffic_shift_shifts_total', help: 'Shifts that ended, by outcome.', labelNames: ['outcome'], registers: [this.registry] });
  readonly stepLatency = new Histogram({
    name: 'traffic_shift_step_apply_seconds',
    help: 'Time for the API server to accept the patch that applies a step.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly kubernetesErrors = new Counter({ name: 'traffic_shift_kubernetes_api_errors_total', help: 'Failed Kubernetes API calls, by operation and HTTP status.', labelNames: ['operation', 'code'], registers: [this.registry] });
  readonly requests = new Counter({ name: 'traffic_shift_http_requests_total', help: 'API requests by route and status code.', labelNames: ['route', 'code'], registers: [this.registry] });
  /**
   * Watch caches by state, without names: `/metrics` is readable by any holder of a metrics token,
   * so by default it says how many namespaces read from the API server, not which.
   */
  readonly watches = new Gauge({
    name: 'traffic_shift_watches',
    help: 'Namespaces this replica watches, by whether their watch cache is in sync ("true") or their reads go to the API server ("false").',
    labelNames: ['synced'],
    registers: [this.registry],
  });
  /** Per account and namespace: registered only when `metrics.accountLabels` is on (see setWatches). */
  private watchSynced?: Gauge<'account' | 'namespace'>;
  readonly pollsDuringWrite = new Counter({
    name: 'traffic_shift_polls_answered_during_write_total',
    help: 'Status polls answered from the stored state because a write of the same VirtualService was queued or in flight (a rising rate: the API server is the bottleneck).',
    registers: [this.registry],
  });
  readonly scheduled = new Gauge({ name: 'traffic_shift_shifts_scheduled', help: 'Running shifts this replica has a timer for.', registers: [this.registry] });

  constructor(withProcessMetrics = true) {
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The watch caches' states, set before each scrape. Account and namespace names are exported
   * (`traffic_shift_watch_synced{account,namespace}`) only when `named`: the configuration's
   * `metrics.accountLabels`, off by default.
   */
  setWatches(watches: Array<{ account: string; namespace: string; synced: boolean }>, named: boolean): void {
    const synced = watches.filter((w) => w.synced).length;
    this.watches.set({ synced: 'true' }, synced);
    this.watches.set({ synced: 'false' }, watches.length - synced);
    if (!named) return;
    this.watchSynced ??= new Gauge({
      name: 'traffic_shift_watch_synced',
      help: 'Whether the watch cache of an account\'s namespace is in sync (1) or its reads go to the API server (0).',
      labelNames: ['account', 'namespace'],
      registers: [this.registry],
    });
    for (const watch of watches) this.watchSynced.set({ account: watch.account, namespace: watch.namespace }, watch.synced ? 1 : 0);
  }
}
