/**
 * What Deck can learn from Gate while the author edits: the Kubernetes accounts (AccountService,
 * `GET /credentials`) and the live VirtualService (ManifestReader, `GET /manifests/{account}/
 * {namespace}/virtualService.networking.istio.io {name}`, which Clouddriver answers with a live
 * call). Each answer either fills the pickers or says why it could not.
 */
import { AccountService, ManifestReader } from '@spinnaker/core';
import type { IAccountDetails } from '@spinnaker/core';
import { IstioRouteDestination, RouteSelector, describeRoute, effectiveWeight, fromIstio, isExpression, routePorts } from '@istio-shift/core';

/** Clouddriver's name for Istio's VirtualService kind (kind.group, matched case-insensitively). */
export const VIRTUAL_SERVICE_KIND = 'virtualService.networking.istio.io';

export interface AccountsResult {
  accounts: string[];
  /** Namespaces per account, when the account lists them. */
  namespaces: Record<string, string[]>;
  /** Set when the list could not be loaded: the field then stays free text. */
  error?: string;
}

/** Why a Gate call failed, in words (an angular $http rejection, an Error or anything else). */
export function describeFailure(failure: unknown): string {
  if (failure && typeof failure === 'object') {
    const response = failure as { status?: number; statusText?: string; data?: unknown; message?: string };
    if (typeof response.status === 'number') {
      const data = (response.data || {}) as { message?: string; error?: string | { message?: string } };
      const { error } = data;
      const detail = (error && typeof error === 'object' ? error.message : undefined) || data.message || (typeof error === 'string' ? error : undefined);
      const status = response.status <= 0 ? 'no answer' : `HTTP ${response.status}`;
      return detail ? `${status}: ${detail}` : status;
    }
    if (typeof response.message === 'string') return response.message;
  }
  return String(failure);
}

/** Runs a Deck service call; Deck's services may throw synchronously outside a full Deck. */
function attempt<T>(call: () => PromiseLike<T>): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}

export async function loadKubernetesAccounts(): Promise<AccountsResult> {
  try {
    const details: IAccountDetails[] = await attempt(() => AccountService.listAccounts('kubernetes'));
    const accounts = details.map((account) => account.name).sort();
    const namespaces: Record<string, string[]> = {};
    details.forEach((account) => {
      if (Array.isArray(account.namespaces) && account.namespaces.length) namespaces[account.name] = [...account.namespaces].sort();
    });
    if (accounts.length === 0) {
      return { accounts, namespaces, error: 'Gate lists no Kubernetes accounts you may use: type the account name' };
    }
    return { accounts, namespaces };
  } catch (failure) {
    return {
      accounts: [],
      namespaces: {},
      error: `Could not list Kubernetes accounts from Gate (${describeFailure(failure)}): type the account name`,
    };
  }
}

export interface LiveRoute {
  protocol: RouteSelector['protocol'];
  index: number;
  /** How to select it: by name, by port, else by index (whichever picks exactly this route). */
  selector: RouteSelector;
  description: string;
  destinations: Array<{ host: string; subset?: string; port?: number; weight: number }>;
}

export interface LiveVirtualService {
  routes: LiveRoute[];
  hosts: string[];
  subsets: string[];
}

export type LiveLookup =
  | { state: 'idle'; reason: string }
  | { state: 'loading' }
  | { state: 'loaded'; live: LiveVirtualService; spec: unknown }
  | { state: 'unavailable'; reason: string };

/** The routes of a VirtualService spec, each with the simplest selector that picks exactly it. */
export function liveRoutes(spec: unknown): LiveRoute[] {
  const routes: LiveRoute[] = [];
  const record = (spec || {}) as Record<string, unknown>;
  (['http', 'tls', 'tcp'] as const).forEach((protocol) => {
    const list = Array.isArray(record[protocol]) ? (record[protocol] as Array<Record<string, unknown>>) : [];
    list.forEach((listed, index) => {
      const route = listed || {};
      // Prefer what survives reordering (Istio's own advice): a unique name, else a unique port.
      let selector: RouteSelector = { protocol, index };
      const routeName = typeof route.name === 'string' ? route.name : '';
      const uniquePort = routePorts(route).find((port) => list.filter((other) => routePorts(other || {}).includes(port)).length === 1);
      if (protocol === 'http' && routeName && list.filter((other) => (other || {}).name === routeName).length === 1) {
        selector = { protocol, name: routeName };
      } else if (protocol !== 'http' && uniquePort !== undefined) {
        selector = { protocol, port: uniquePort };
      }
      const entries = Array.isArray(route.route) ? (route.route as IstioRouteDestination[]) : [];
      const destinations = entries
        .filter((entry) => entry && entry.destination && typeof entry.destination.host === 'string')
        .map((entry) => ({ ...fromIstio(entry), weight: effectiveWeight(entry, entries.length) }));
      routes.push({ protocol, index, selector, description: describeRoute(protocol, route, index), destinations });
    });
  });
  return routes;
}

export function summarizeLive(spec: unknown): LiveVirtualService {
  const routes = liveRoutes(spec);
  const hosts = new Set<string>();
  const subsets = new Set<string>();
  routes.forEach((route) =>
    route.destinations.forEach((destination) => {
      hosts.add(destination.host);
      if (destination.subset) subsets.add(destination.subset);
    }),
  );
  return { routes, hosts: [...hosts].sort(), subsets: [...subsets].sort() };
}

/** Why a lookup cannot start yet, or undefined when it can. */
export function lookupBlocker(account: unknown, namespace: unknown, virtualService: unknown): string | undefined {
  const missing = [
    ['account', account],
    ['namespace', namespace],
    ['VirtualService', virtualService],
  ].filter(([, value]) => !value).map(([label]) => label);
  if (missing.length) return `Give the ${missing.join(', ')} to read the live VirtualService and pick its route and destinations.`;
  const spel = [
    ['account', account],
    ['namespace', namespace],
    ['VirtualService', virtualService],
  ].filter(([, value]) => isExpression(value)).map(([label]) => label);
  if (spel.length) return `The ${spel.join(', ')} ${spel.length > 1 ? 'are' : 'is'} SpEL, known only when the pipeline runs: type the route and destinations.`;
  return undefined;
}

export async function readVirtualService(account: string, namespace: string, name: string): Promise<LiveLookup> {
  try {
    const manifest = await attempt(() => ManifestReader.getManifest(account, namespace, `${VIRTUAL_SERVICE_KIND} ${name}`));
    const spec = manifest && manifest.manifest && manifest.manifest.spec;
    if (!spec) {
      return {
        state: 'unavailable',
        reason:
          `Clouddriver returned no VirtualService ${namespace}/${name} for account ${account} (it may not exist, ` +
          "or the account does not read VirtualServices): type the route and destinations",
      };
    }
    return { state: 'loaded', live: summarizeLive(spec), spec };
  } catch (failure) {
    return {
      state: 'unavailable',
      reason:
        `Could not read VirtualService ${namespace}/${name} in account ${account} through Gate ` +
        `(${describeFailure(failure)}): type the route and destinations`,
    };
  }
}
