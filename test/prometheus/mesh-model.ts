/**
 * A model of what Prometheus scrapes from an Istio mesh on Kubernetes, with series named and
 * labelled exactly as Istio's standard metrics (istio.io/latest/docs/reference/config/metrics)
 * and the kubelet's cAdvisor endpoint name them. Traffic and resource use are set per workload and
 * integrated over time, so the same model feeds a live exporter (real time) and a backfill file
 * (simulated time). Queries that forget `reporter="destination"` or `container!=""` double-count
 * here as they would in a real cluster: both reporters and cAdvisor's pod-level series are emitted.
 */

/**
 * Envoy's default histogram bounds, which Istio uses for istio_request_duration_milliseconds: as in
 * Envoy's `HistogramOptionsImpl::defaultBuckets()` (source/common/stats/histogram_impl.cc, earlier
 * histogram_options_impl.cc), checked against that source on 2026-11-30.
 */
export const ISTIO_DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export interface TrafficProfile {
  /** Requests per second reaching the workload (0: no traffic, the series stay but stop growing). */
  rps: number;
  /** Share of requests answered 503 (the rest 200). */
  errorRatio?: number;
  /** Latency of most requests. */
  latencyMs?: number;
  /** A slow tail: `ratio` of the requests take `latencyMs` (moves p99 but not p50). */
  tail?: { ratio: number; latencyMs: number };
}

export interface ResourceProfile {
  /** CPU cores each pod's app container uses. */
  cpuCores: number;
  /** Working set of each pod's app container, bytes. */
  memoryBytes: number;
}

export interface WorkloadDefinition {
  namespace: string;
  /** Istio's destination_workload: the Deployment name, e.g. checkout-canary. */
  workload: string;
  /** Pod names (cAdvisor's `pod` label); default `<workload>-5d8f7c9b4-x1`. */
  pods?: string[];
  /** Container name of the app (cAdvisor's `container`); default the workload's app name. */
  container?: string;
  /** `app` label / destination_app; default the workload name minus a -canary/-baseline/-primary suffix. */
  app?: string;
  /** destination_version (the pod's `version` label). */
  version?: string;
  traffic?: TrafficProfile;
  resources?: ResourceProfile;
}

type Labels = Record<string, string>;

interface Counter {
  labels: Labels;
  value: number;
}

interface WorkloadState {
  def: Required<Omit<WorkloadDefinition, 'traffic' | 'resources'>> & Pick<WorkloadDefinition, 'traffic' | 'resources'>;
  requests: Map<string, number>; // by response code
  buckets: Map<string, number[]>; // by response code: cumulative count per bound (+Inf last)
  durationSum: Map<string, number>;
  cpuSeconds: Map<string, number>; // by pod
}

/** The source side of every request: a frontend in the same namespace. */
const SOURCE_WORKLOAD = 'frontend';

export class MeshModel {
  private readonly workloads = new Map<string, WorkloadState>();
  /** Model time of the last integration, unix seconds. */
  private now: number;

  constructor(startSeconds: number) {
    this.now = startSeconds;
  }

  get time(): number {
    return this.now;
  }

  /** Adds a workload (or redefines its profiles, keeping its counters). */
  define(def: WorkloadDefinition): void {
    const key = `${def.namespace}/${def.workload}`;
    const app = def.app ?? def.workload.replace(/-(canary|baseline|primary|stable)$/, '');
    const full = {
      namespace: def.namespace,
      workload: def.workload,
      pods: def.pods ?? [`${def.workload}-5d8f7c9b4-x1`],
      container: def.container ?? app,
      app,
      version: def.version ?? (def.workload.endsWith('-canary') ? 'v2' : 'v1'),
      traffic: def.traffic,
      resources: def.resources,
    };
    const existing = this.workloads.get(key);
    if (existing) existing.def = full;
    else this.workloads.set(key, { def: full, requests: new Map(), buckets: new Map(), durationSum: new Map(), cpuSeconds: new Map() });
  }

  /** Changes a workload's traffic from the current model time on. */
  setTraffic(namespace: string, workload: string, traffic: TrafficProfile): void {
    const state = this.state(namespace, workload);
    state.def.traffic = traffic;
  }

  setResources(namespace: string, workload: string, resources: ResourceProfile): void {
    this.state(namespace, workload).def.resources = resources;
  }

  /** Integrates every workload's profile from the last model time to `toSeconds`. */
  advance(toSeconds: number): void {
    const dt = toSeconds - this.now;
    if (dt <= 0) return;
    this.now = toSeconds;
    for (const state of this.workloads.values()) {
      const { traffic, resources } = state.def;
      if (traffic) {
        const total = traffic.rps * dt;
        const errors = total * (traffic.errorRatio ?? 0);
        this.record(state, '200', total - errors, traffic);
        this.record(state, '503', errors, traffic);
      }
      if (resources) {
        for (const pod of state.def.pods) state.cpuSeconds.set(pod, (state.cpuSeconds.get(pod) ?? 0) + resources.cpuCores * dt);
      }
    }
  }

  private record(state: WorkloadState, code: string, count: number, traffic: TrafficProfile): void {
    // A code's series appears with its first request, as Envoy's do.
    if (count <= 0 && !state.requests.has(code)) return;
    const tail = traffic.tail;
    const tailCount = tail ? count * tail.ratio : 0;
    const portions: Array<[number, number]> = [[count - tailCount, traffic.latencyMs ?? 20]];
    if (tail) portions.push([tailCount, tail.latencyMs]);
    state.requests.set(code, (state.requests.get(code) ?? 0) + count);
    const buckets = state.buckets.get(code) ?? new Array(ISTIO_DURATION_BUCKETS_MS.length + 1).fill(0);
    let sum = state.durationSum.get(code) ?? 0;
    for (const [n, ms] of portions) {
      ISTIO_DURATION_BUCKETS_MS.forEach((bound, i) => {
        if (ms <= bound) buckets[i] += n;
      });
      buckets[ISTIO_DURATION_BUCKETS_MS.length] += n;
      sum += n * ms;
    }
    state.buckets.set(code, buckets);
    state.durationSum.set(code, sum);
  }

  private state(namespace: string, workload: string): WorkloadState {
    const state = this.workloads.get(`${namespace}/${workload}`);
    if (!state) throw new Error(`the mesh model has no workload ${namespace}/${workload}: define() it first`);
    return state;
  }

  /** Every metric family at the current model time. */
  families(): MetricFamily[] {
    const requests: Counter[] = [];
    const duration: Counter[] = [];
    const cpu: Counter[] = [];
    const memory: Counter[] = [];
    for (const state of this.workloads.values()) {
      const d = state.def;
      for (const [code, value] of state.requests) {
        for (const reporter of ['destination', 'source']) {
          const labels = istioLabels(d, reporter, code);
          requests.push({ labels, value });
          const buckets = state.buckets.get(code) ?? [];
          ISTIO_DURATION_BUCKETS_MS.forEach((bound, i) => duration.push({ labels: { ...labels, le: String(bound) }, value: buckets[i] }));
          duration.push({ labels: { ...labels, le: '+Inf', __suffix: '_bucket' }, value: buckets[ISTIO_DURATION_BUCKETS_MS.length] });
          duration.push({ labels: { ...labels, __suffix: '_sum' }, value: state.durationSum.get(code) ?? 0 });
          duration.push({ labels: { ...labels, __suffix: '_count' }, value });
        }
      }
      if (d.resources) {
        for (const pod of d.pods) {
          const seconds = state.cpuSeconds.get(pod) ?? 0;
          const pause = 0.001;
          // cAdvisor: the app container, the pause container ("POD"), and the pod cgroup itself (container="").
          cpu.push({ labels: cadvisorLabels(d, pod, d.container), value: seconds });
          cpu.push({ labels: cadvisorLabels(d, pod, 'POD'), value: pause * (seconds / Math.max(d.resources.cpuCores, 1e-9)) });
          cpu.push({ labels: cadvisorLabels(d, pod, ''), value: seconds * 1.001 });
          memory.push({ labels: cadvisorLabels(d, pod, d.container), value: d.resources.memoryBytes });
          memory.push({ labels: cadvisorLabels(d, pod, 'POD'), value: 450_560 });
          memory.push({ labels: cadvisorLabels(d, pod, ''), value: d.resources.memoryBytes + 450_560 });
        }
      }
    }
    return [
      { name: 'istio_requests', sampleName: 'istio_requests_total', type: 'counter', help: 'Istio request count', samples: requests },
      { name: 'istio_request_duration_milliseconds', sampleName: 'istio_request_duration_milliseconds', type: 'histogram', help: 'Istio request duration', samples: duration },
      { name: 'container_cpu_usage_seconds', sampleName: 'container_cpu_usage_seconds_total', type: 'counter', help: 'Cumulative cpu time consumed in seconds.', samples: cpu },
      { name: 'container_memory_working_set_bytes', sampleName: 'container_memory_working_set_bytes', type: 'gauge', help: 'Current working set in bytes.', samples: memory },
    ];
  }
}

export interface MetricFamily {
  /** OpenMetrics family name (counters without `_total`). */
  name: string;
  /** Sample name (with `_total` for counters; histograms add `_bucket`, `_sum`, `_count`). */
  sampleName: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  samples: Counter[];
}

function istioLabels(d: WorkloadState['def'], reporter: string, code: string): Labels {
  const host = `${d.app}.${d.namespace}.svc.cluster.local`;
  return {
    reporter,
    source_workload: SOURCE_WORKLOAD,
    source_workload_namespace: d.namespace,
    source_app: SOURCE_WORKLOAD,
    source_version: 'v1',
    source_principal: `spiffe://cluster.local/ns/${d.namespace}/sa/${SOURCE_WORKLOAD}`,
    source_canonical_service: SOURCE_WORKLOAD,
    source_canonical_revision: 'v1',
    source_cluster: 'Kubernetes',
    destination_workload: d.workload,
    destination_workload_namespace: d.namespace,
    destination_app: d.app,
    destination_version: d.version,
    destination_service: host,
    destination_service_name: d.app,
    destination_service_namespace: d.namespace,
    destination_principal: `spiffe://cluster.local/ns/${d.namespace}/sa/${d.app}`,
    destination_canonical_service: d.app,
    destination_canonical_revision: d.version,
    destination_cluster: 'Kubernetes',
    request_protocol: 'http',
    response_code: code,
    grpc_response_status: '',
    response_flags: '-',
    connection_security_policy: reporter === 'destination' ? 'mutual_tls' : 'unknown',
  };
}

function cadvisorLabels(d: WorkloadState['def'], pod: string, container: string): Labels {
  const podCgroup = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${pod.replace(/-/g, '_')}.slice`;
  return {
    namespace: d.namespace,
    pod,
    container,
    id: container === '' ? podCgroup : `${podCgroup}/cri-containerd-${container || 'pod'}.scope`,
    image: container === '' ? '' : container === 'POD' ? 'registry.k8s.io/pause:3.9' : `registry.example/${d.app}:${d.version}`,
    name: container === '' ? '' : `${pod}_${container}`,
  };
}

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** One exposition line: `name{labels} value[ timestamp]`. */
function line(family: MetricFamily, sample: Counter, timestamp?: string): string {
  const { __suffix, ...labels } = sample.labels;
  const suffix = family.type === 'histogram' ? (__suffix ?? '_bucket') : '';
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeValue(v)}"`)
    .join(',');
  return `${family.sampleName}${suffix}{${text}} ${sample.value}${timestamp === undefined ? '' : ` ${timestamp}`}`;
}

/** Prometheus text exposition format 0.0.4, as a live scrape target serves it. */
export function renderExposition(families: MetricFamily[]): string {
  const out: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    out.push(`# HELP ${family.sampleName} ${family.help}`, `# TYPE ${family.sampleName} ${family.type}`);
    for (const sample of family.samples) out.push(line(family, sample));
  }
  return `${out.join('\n')}\n`;
}

/**
 * OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: the model sampled every
 * `stepSeconds` from its current time to `endSeconds`. The format wants each family's lines
 * together and each series' samples in time order, so samples are grouped before writing.
 */
export function renderBackfill(model: MeshModel, endSeconds: number, stepSeconds: number): string {
  const byFamily = new Map<string, { family: MetricFamily; series: Map<string, string[]> }>();
  for (let t = model.time; t <= endSeconds; t += stepSeconds) {
    model.advance(t);
    for (const family of model.families()) {
      const entry = byFamily.get(family.name) ?? { family, series: new Map<string, string[]>() };
      byFamily.set(family.name, entry);
      for (const sample of family.samples) {
        const key = JSON.stringify(sample.labels);
        const lines = entry.series.get(key) ?? [];
        lines.push(line(family, sample, String(t)));
        entry.series.set(key, lines);
      }
    }
  }
  return openMetricsDocument([...byFamily.values()].map(({ family, series }) => ({ family, lines: [...series.values()].flat() })));
}

/** Hand-written series for exact-value tests: `points` are [unixSeconds, value]. */
export interface RawSeries {
  name: string;
  type: 'counter' | 'gauge';
  labels: Labels;
  points: Array<[number, number]>;
}

export function renderRawBackfill(series: RawSeries[]): string {
  const byName = new Map<string, { family: MetricFamily; lines: string[] }>();
  for (const s of series) {
    const familyName = s.type === 'counter' ? s.name.replace(/_total$/, '') : s.name;
    const family: MetricFamily = { name: familyName, sampleName: s.name, type: s.type, help: s.name, samples: [] };
    const entry = byName.get(familyName) ?? { family, lines: [] };
    byName.set(familyName, entry);
    for (const [t, v] of [...s.points].sort((a, b) => a[0] - b[0])) entry.lines.push(line(family, { labels: s.labels, value: v }, String(t)));
  }
  return openMetricsDocument([...byName.values()]);
}

function openMetricsDocument(families: Array<{ family: MetricFamily; lines: string[] }>): string {
  const out: string[] = [];
  for (const { family, lines } of families) {
    if (lines.length === 0) continue;
    out.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`, ...lines);
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}
