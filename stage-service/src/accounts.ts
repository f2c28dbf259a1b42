/**
 * Spinnaker accounts: each maps to one VirtualServiceApi (a cluster, or the embedded store) and
 * to the namespaces it may touch. Namespace checks happen here, before any call to a cluster.
 */
import * as k8s from '@kubernetes/client-node';
import { AccountConfig } from './config';
import { ShiftError } from './engine/errors';
import { ApiErrorObserver, ClusterVirtualServiceApi } from './kube/cluster-api';
import { EmbeddedVirtualServiceApi } from './kube/embedded-api';
import { ClusterPodReader } from './analysis/pod-status';
import { PodReader } from './analysis/provider';
import { VirtualServiceApi } from './kube/types';

export class AccountRegistry {
  private readonly apis = new Map<string, VirtualServiceApi>();
  private readonly byName = new Map<string, AccountConfig>();
  private readonly podReaders = new Map<string, PodReader>();

  constructor(
    accounts: AccountConfig[],
    embeddedStore: () => EmbeddedVirtualServiceApi,
    onApiError: ApiErrorObserver,
  ) {
    for (const account of accounts) {
      this.byName.set(account.name, account);
      this.apis.set(account.name, account.backend.kind === 'embedded' ? embeddedStore() : new ClusterVirtualServiceApi(kubeConfigFor(account), onApiError));
    }
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
    const config = this.byName.get(account);
    if (!config || config.backend.kind === 'embedded') return undefined;
    let reader = this.podReaders.get(account);
    if (!reader) {
      reader = new ClusterPodReader(kubeConfigFor(config));
      this.podReaders.set(account, reader);
    }
    return reader;
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

function kubeConfigFor(account: AccountConfig): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  const backend = account.backend;
  if (backend.kind === 'in-cluster') {
    kc.loadFromCluster();
  } else if (backend.kind === 'kubeconfig') {
    if (backend.kubeconfig) kc.loadFromFile(backend.kubeconfig);
    else kc.loadFromDefault();
    if (backend.context) {
      if (!kc.getContextObject(backend.context)) throw new Error(`account ${account.name}: kubeconfig has no context "${backend.context}"`);
      kc.setCurrentContext(backend.context);
    }
  }
  return kc;
}
