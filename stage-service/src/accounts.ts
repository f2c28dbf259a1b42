/**
 * Spinnaker accounts: each maps to one VirtualServiceApi (a cluster, or the embedded store) and
 * to the namespaces it may touch. Namespace checks happen here, before any call to a cluster.
 */
import { AccountConfig } from './config';
import { ShiftError } from './engine/errors';
import { CachedVirtualServiceApi, CacheSettings } from './kube/cached-api';
import { ApiErrorObserver, ClusterVirtualServiceApi } from './kube/cluster-api';
import { EmbeddedVirtualServiceApi } from './kube/embedded-api';
import { ClusterEventWriter, EventWriter, MemoryEventWriter } from './kube/event-writers';
import { ClusterPodReader } from './analysis/pod-status';
import { PodReader } from './analysis/provider';
import { endpointFromKubeConfig, loadKubeConfig } from './kube/endpoint';
import { KubeHttpClient, TransportSettings } from './kube/http-client';
import { VirtualServiceApi } from './kube/types';

/** An account whose API server is not usable right now, for /readyz. */
export interface AccountProblem {
  account: string;
  message: string;
}

export class AccountRegistry {
  private readonly apis = new Map<string, VirtualServiceApi>();
  private readonly clusters = new Map<string, ClusterVirtualServiceApi>();
  /** Reads of cluster accounts come from watch caches (status polls cost no API server call). */
  private readonly caches = new Map<string, CachedVirtualServiceApi>();
  private readonly byName = new Map<string, AccountConfig>();
  private readonly podReaders = new Map<string, PodReader>();
  private readonly eventWriters = new Map<string, EventWriter>();
  /** The embedded store's Events: kept in memory, as its VirtualServices are. */
  readonly embeddedEvents = new MemoryEventWriter();

  constructor(
    accounts: AccountConfig[],
    embeddedStore: () => EmbeddedVirtualServiceApi,
    onApiError: ApiErrorObserver,
    transport: Partial<TransportSettings> = {},
    cache: Partial<CacheSettings> = {},
  ) {
    for (const account of accounts) {
      this.byName.set(account.name, account);
      const backend = account.backend;
      if (backend.kind === 'embedded') {
        this.apis.set(account.name, embeddedStore());
        continue;
      }
      // The kubeconfig (and client-node with it) is loaded on first use or by connect().
      const api = new ClusterVirtualServiceApi(async () => {
        const label = `account ${account.name}`;
        const endpoint = await endpointFromKubeConfig(await loadKubeConfig(backend, label), label);
        return new KubeHttpClient(endpoint.server, endpoint.tls, endpoint.authorization, transport);
      }, onApiError);
      const cached = new CachedVirtualServiceApi(api, cache);
      this.apis.set(account.name, cached);
      this.clusters.set(account.name, api);
      this.caches.set(account.name, cached);
    }
  }

  /**
   * Loads every cluster account's credentials (a bad kubeconfig fails here, at startup, with the
   * account's name) and starts watching each API server's health for /readyz.
   */
  async connect(): Promise<void> {
    for (const api of this.clusters.values()) (await api.client()).watchHealth();
    for (const [name, cache] of this.caches) cache.start(this.byName.get(name)?.namespaces ?? []);
  }

  /** The watch cache of a cluster account (for tests and benchmarks: its stats and watches). */
  cacheOf(account: string): CachedVirtualServiceApi | undefined {
    return this.caches.get(account);
  }

  /** Accounts whose API server is down or not ready: empty when all are usable. */
  async problems(): Promise<AccountProblem[]> {
    const problems: AccountProblem[] = [];
    for (const [account, api] of this.clusters) {
      const client = await api.client();
      const health = client.health;
      if (health.state === 'ok') continue;
      const what = health.state === 'down' ? 'is not answering' : 'is not ready';
      problems.push({ account, message: `Kubernetes API server ${client.server} ${what} (${health.message}, since ${health.since.toISOString()})` });
    }
    return problems;
  }

  /**
   * Namespaces whose watch cache is not in sync. Not a readiness failure: reads then go to the
   * API server directly (correct, only dearer), and turning /readyz to 503 would take the only
   * replica out of its Service and fail every pipeline's poll. Reported in /readyz's body and as
   * the traffic_shift_watch_synced gauge, for alerts.
   */
  watches(): Array<{ account: string; namespace: string; synced: boolean; problem?: string }> {
    const all: Array<{ account: string; namespace: string; synced: boolean; problem?: string }> = [];
    for (const [account, cache] of this.caches) for (const watch of cache.watchStatus()) all.push({ account, ...watch });
    return all;
  }

  /** Stops health probes and closes connections. */
  async close(): Promise<void> {
    for (const cache of this.caches.values()) cache.stop();
    for (const api of this.clusters.values()) (await api.client().catch(() => undefined))?.close();
  }

  get accounts(): AccountConfig[] {
    return [...this.byName.values()];
  }

  apiFor(account: string): VirtualServiceApi {
    const api = this.apis.get(account);
    if (!api) throw new ShiftError('invalid', `account "${account}" is not configured in this service: use one of ${this.names()}`, [{ field: 'account', message: `account "${account}" is not configured: use one of ${this.names()}` }]);
    return api;
  }

  /** Pod reads (analysis pod-status metrics) with the account's own credentials; none for the embedded store. */
  podReaderFor(account: string): PodReader | undefined {
    const cluster = this.clusters.get(account);
    if (!cluster) return undefined;
    let reader = this.podReaders.get(account);
    if (!reader) {
      reader = new ClusterPodReader(() => cluster.client());
      this.podReaders.set(account, reader);
    }
    return reader;
  }

  /** Where the account's Kubernetes Events go: its API server (own credentials), or memory for the embedded store. */
  eventWriterFor(account: string): EventWriter | undefined {
    if (!this.byName.has(account)) return undefined;
    const cluster = this.clusters.get(account);
    if (!cluster) return this.embeddedEvents;
    let writer = this.eventWriters.get(account);
    if (!writer) {
      writer = new ClusterEventWriter(() => cluster.client());
      this.eventWriters.set(account, writer);
    }
    return writer;
  }

  /** Throws unless the account exists and may touch the namespace. */
  checkNamespace(account: string, namespace: string): void {
    const config = this.byName.get(account);
    if (!config) {
      throw new ShiftError('invalid', `account "${account}" is not configured in this service: use one of ${this.names()}`, [{ field: 'account', message: `account "${account}" is not configured: use one of ${this.names()}` }]);
    }
    if (!config.namespaces.includes(namespace)) {
      throw new ShiftError('forbidden', `account "${account}" may not touch namespace "${namespace}": its allowed namespaces are ${config.namespaces.join(', ')}`);
    }
  }

  private names(): string {
    return [...this.byName.keys()].join(', ');
  }
}
