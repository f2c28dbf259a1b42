/**
 * Destination identity. Istio identifies a route destination by host, subset and port; a short
 * host ("checkout") means that service in the VirtualService's own namespace, so it matches the
 * fully qualified "checkout.shop.svc.cluster.local" written in the route.
 */
import { DestinationSpec } from './spec';

/** A route destination as Istio stores it in `route[]`/`tls[].route[]`/`tcp[].route[]`. */
export interface IstioRouteDestination {
  destination: { host: string; subset?: string; port?: { number?: number } };
  weight?: number;
  [other: string]: unknown;
}

/** A stable text identity: host[/subset][:port]. */
export function destinationKey(destination: DestinationSpec): string {
  return `${destination.host}${destination.subset ? `/${destination.subset}` : ''}${destination.port ? `:${destination.port}` : ''}`;
}

/** The subset when there is one (release/baseline/canary), else the host's first DNS label. */
export function defaultLabel(destination: Pick<DestinationSpec, 'host' | 'subset'>): string {
  return destination.subset || destination.host.split('.')[0];
}

/** The spec-shaped view of a destination found in a live route. */
export function fromIstio(entry: IstioRouteDestination): DestinationSpec {
  const spec: DestinationSpec = { host: entry.destination.host };
  if (entry.destination.subset) spec.subset = entry.destination.subset;
  if (entry.destination.port?.number) spec.port = entry.destination.port.number;
  return spec;
}

/** The entry to append to a route for a destination it does not have yet. */
export function toIstio(destination: DestinationSpec, weight: number): IstioRouteDestination {
  const target: IstioRouteDestination['destination'] = { host: destination.host };
  if (destination.subset) target.subset = destination.subset;
  if (destination.port) target.port = { number: destination.port };
  return { destination: target, weight };
}

function hostsEquivalent(specHost: string, liveHost: string, namespace: string): boolean {
  if (specHost === liveHost) return true;
  const [shorter, longer] = specHost.length < liveHost.length ? [specHost, liveHost] : [liveHost, specHost];
  return !shorter.includes('.') && longer.startsWith(`${shorter}.${namespace}.svc.`);
}

/** Whether a spec destination names this live destination (no port in the spec matches any port). */
export function matchesDestination(spec: DestinationSpec, live: IstioRouteDestination, namespace: string): boolean {
  const liveSpec = fromIstio(live);
  return (
    hostsEquivalent(spec.host, liveSpec.host, namespace) &&
    (spec.subset ?? '') === (liveSpec.subset ?? '') &&
    (spec.port === undefined || spec.port === liveSpec.port)
  );
}

/**
 * The weight Istio gives a destination: its `weight`, or all traffic when it is the route's only
 * destination and has none (Istio's rule for a single destination).
 */
export function effectiveWeight(entry: IstioRouteDestination, routeLength: number): number {
  if (typeof entry.weight === 'number') return entry.weight;
  return routeLength === 1 ? 100 : 0;
}
