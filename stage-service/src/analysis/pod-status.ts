/**
 * The pod-status metrics (restarts, readiness, OOM kills) from the Kubernetes API rather than
 * Prometheus: they need no metrics pipeline and are exactly what the kubelet reported. One list
 * call per scope and look; reads go through the small PodReader interface so the Kubernetes
 * client behind it can change without touching the metrics.
 */
import { ClientSource, clientFactory } from '../kube/cluster-api';
import type { KubeHttpClient } from '../kube/http-client';
import type { PodEvent } from '@istio-shift/core';
import { ContainerState, MetricsError, PodReader, PodState } from './provider';

/** The fields of a Pod object this module reads (any Kubernetes client's JSON fits). */
export interface PodObject {
  metadata?: { uid?: string; name?: string; deletionTimestamp?: unknown };
  status?: {
    conditions?: Array<{ type?: string; status?: string }>;
    containerStatuses?: Array<{
      name?: string;
      ready?: boolean;
      restartCount?: number;
      state?: { terminated?: { reason?: string }; waiting?: { reason?: string } };
      lastState?: { terminated?: { reason?: string } };
    }>;
  };
}

type ContainerStatus = NonNullable<NonNullable<PodObject['status']>['containerStatuses']>[number];

function containerState(status: ContainerStatus): ContainerState {
  const restartCount = status.restartCount ?? 0;
  const down = status.state?.terminated;
  // The latest termination is the current state when the container is down, else lastState.
  const latest = down ?? status.lastState?.terminated;
  const container: ContainerState = { name: status.name ?? '', restartCount, ready: status.ready === true, terminations: restartCount + (down ? 1 : 0) };
  if (latest?.reason) container.lastTermination = latest.reason;
  if (status.state?.waiting?.reason) container.waiting = status.state.waiting.reason;
  return container;
}

export function podState(pod: PodObject): PodState {
  return {
    uid: pod.metadata?.uid ?? '',
    name: pod.metadata?.name ?? '',
    ready: (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    containers: (pod.status?.containerStatuses ?? []).map(containerState),
    terminating: pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null,
  };
}

/** The pod-status metric values of one scope at one look. */
export interface PodStatusValues {
  /** Pods selected (terminating ones included). */
  pods: number;
  /** Container restarts since the window started (pods created since then count all theirs). */
  restarts: number;
  /** Percent of the non-terminating pods that are Ready; undefined (nodata) when there are none. */
  readinessPercent: number | undefined;
  /** Containers OOM-killed since the window started. */
  oomKilled: number;
  /** Per pod and container: restarts and OOM kills since the window started, and what is not ready now. */
  events: PodEvent[];
}

function event(pod: PodState, container: ContainerState | undefined, kind: PodEvent['kind'], count: number, reason: string | undefined): PodEvent {
  const e: PodEvent = { pod: pod.name, kind, count };
  if (container) e.container = container.name;
  if (reason) e.reason = reason;
  return e;
}

/**
 * A container's restarts and OOM kill since the window opened (`before`: the container in the list
 * taken then, if it was there). An OOM kill counts only when it happened in the window: its latest
 * termination is OOMKilled and it terminated since (or is new); an OOM kill from before the window
 * stays the latest termination of a container that has run fine since, and is not the canary's doing
 * in this step.
 */
function containerEvents(pod: PodState, container: ContainerState, before: ContainerState | undefined): PodEvent[] {
  const events: PodEvent[] = [];
  const restarts = container.restartCount - (before?.restartCount ?? 0);
  if (restarts > 0) events.push(event(pod, container, 'restart', restarts, container.lastTermination ?? container.waiting));
  if (container.lastTermination === 'OOMKilled' && container.terminations > (before?.terminations ?? 0)) events.push(event(pod, container, 'oom-kill', 1, 'OOMKilled'));
  return events;
}

/** Why a pod is not ready: its containers that are not (with why they wait), else the pod itself (readiness gates). */
function notReadyEvents(pod: PodState): PodEvent[] {
  const down = pod.containers.filter((c) => !c.ready);
  if (down.length === 0) return [event(pod, undefined, 'not-ready', 1, undefined)];
  return down.map((c) => event(pod, c, 'not-ready', 1, c.waiting));
}

/**
 * `atStart` is the list taken when the window opened. A pod deleted in between takes its restarts
 * with it; a replacement pod counts its own from zero, so crash loops still show.
 */
export function podStatusValues(atStart: PodState[], now: PodState[]): PodStatusValues {
  const before = new Map(atStart.map((p) => [p.uid, new Map(p.containers.map((c) => [c.name, c]))]));
  const live = now.filter((p) => !p.terminating);
  const events = [
    ...now.flatMap((pod) => pod.containers.flatMap((c) => containerEvents(pod, c, before.get(pod.uid)?.get(c.name)))),
    ...live.filter((p) => !p.ready).flatMap(notReadyEvents),
  ];
  const total = (kind: PodEvent['kind']) => events.filter((e) => e.kind === kind).reduce((sum, e) => sum + e.count, 0);
  return {
    pods: now.length,
    restarts: total('restart'),
    readinessPercent: live.length === 0 ? undefined : (100 * live.filter((p) => p.ready).length) / live.length,
    oomKilled: total('oom-kill'),
    events,
  };
}

// Kubernetes label syntax: an optional DNS-subdomain prefix, a name, and a value of at most 63 characters.
const LABEL_NAME = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** `app=checkout,track=canary`; refuses an empty selector (it would select every pod in the namespace). */
export function labelSelector(selector: Record<string, string>): string {
  const entries = Object.entries(selector);
  if (entries.length === 0) throw new MetricsError('invalid-query', 'kubernetes', 'podSelector must name at least one label: an empty selector matches every pod in the namespace');
  for (const [key, value] of entries) {
    if (!LABEL_NAME.test(key)) throw new MetricsError('invalid-query', 'kubernetes', `podSelector: "${key}" is not a valid label name`);
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) throw new MetricsError('invalid-query', 'kubernetes', `podSelector.${key}: "${String(value)}" is not a valid label value`);
  }
  return entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/**
 * PodReader on a real API server (needs `pods: list` in the namespace), on the same kept-alive
 * transport, deadlines and fair queue as the account's VirtualService calls.
 */
export class ClusterPodReader implements PodReader {
  private readonly client: () => Promise<KubeHttpClient>;
  private clientPromise?: Promise<KubeHttpClient>;

  constructor(source: ClientSource) {
    this.client = clientFactory(source);
  }

  /**
   * A scope without podSelector means "the pods of the workload": the Deployment Istio calls
   * `destination_workload` selects them with its spec.selector (needs `deployments: get`).
   */
  async workloadSelector(namespace: string, workload: string): Promise<Record<string, string>> {
    const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(workload)}`;
    let response;
    try {
      this.clientPromise ??= this.client();
      response = await (await this.clientPromise).request({ method: 'GET', path, flow: `deployments/${namespace}` });
    } catch (error) {
      throw new MetricsError('outage', 'kubernetes', `cannot read Deployment ${namespace}/${workload}: ${(error as Error).message.split('\n')[0]}`);
    }
    if (response.status === 401 || response.status === 403) {
      throw new MetricsError('misconfigured', 'kubernetes', `the service may not read Deployment ${namespace}/${workload} (HTTP ${response.status}) to find its pods: grant deployments get (stage-service/deploy/rbac.yaml), or give the scope a podSelector`);
    }
    if (response.status === 404) {
      throw new MetricsError('invalid-query', 'kubernetes', `Deployment ${namespace}/${workload} does not exist, so its pods cannot be found: check the scope's workload, or give it a podSelector`);
    }
    if (response.status !== 200) throw new MetricsError('outage', 'kubernetes', `cannot read Deployment ${namespace}/${workload}: HTTP ${response.status}`);
    const labels = (JSON.parse(response.body) as { spec?: { selector?: { matchLabels?: Record<string, string> } } }).spec?.selector?.matchLabels;
    if (!labels || Object.keys(labels).length === 0) {
      throw new MetricsError('invalid-query', 'kubernetes', `Deployment ${namespace}/${workload} selects its pods without matchLabels: give the scope a podSelector`);
    }
    return labels;
  }

  async listPods(namespace: string, selector: Record<string, string>, signal?: AbortSignal): Promise<PodState[]> {
    const query = labelSelector(selector);
    if (signal?.aborted) throw new MetricsError('aborted', 'kubernetes', 'the pod read was cancelled');
    let response;
    try {
      this.clientPromise ??= this.client();
      const client = await this.clientPromise;
      response = await client.request({ method: 'GET', path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(query)}`, flow: `pods/${namespace}` });
    } catch (error) {
      throw translate(undefined, (error as Error).message, namespace);
    }
    if (response.status !== 200) throw translate(response.status, response.body.slice(0, 200), namespace);
    if (signal?.aborted) throw new MetricsError('aborted', 'kubernetes', 'the pod read was cancelled');
    const list = JSON.parse(response.body) as { items?: PodObject[] };
    return (list.items ?? []).map((pod) => podState(pod));
  }
}

function translate(code: number | undefined, detail: string, namespace: string): MetricsError {
  if (code === 401 || code === 403) {
    return new MetricsError(
      'misconfigured',
      'kubernetes',
      `the service may not list pods in namespace "${namespace}" (HTTP ${code}): grant pods get, list there (stage-service/deploy/rbac.yaml)`,
    );
  }
  const reason = code === undefined ? detail.split('\n')[0] : `HTTP ${code}`;
  return new MetricsError('outage', 'kubernetes', `cannot list pods in namespace "${namespace}": ${reason}`);
}
