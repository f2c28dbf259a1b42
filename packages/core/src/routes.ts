/**
 * Finding the route a spec selects inside a live VirtualService, as Istio defines routes:
 * `spec.http[]` (named), `spec.tls[]` and `spec.tcp[]` (matched by port).
 */
import { IstioRouteDestination } from './destinations';
import { RouteProtocol, RouteSelector } from './spec';
import { Problem } from './validate';

export interface SelectedRoute {
  protocol: RouteProtocol;
  /** Position in `spec.<protocol>`; the JSON Pointer is `/spec/<protocol>/<index>`. */
  index: number;
  pointer: string;
  /** The whole route object as read (tested verbatim before any write). */
  route: Record<string, unknown>;
  destinations: IstioRouteDestination[];
  /** "HTTP route primary" / "TCP route #1 (port 5432)" for messages. */
  description: string;
}

export type RouteSelection = { ok: true; selected: SelectedRoute } | { ok: false; problem: Problem };

type RouteObject = Record<string, unknown>;

/** The ports a TLS/TCP route's match blocks name (how Istio identifies those routes). */
export function routePorts(route: RouteObject): number[] {
  const match = Array.isArray(route.match) ? (route.match as Array<Record<string, unknown>>) : [];
  return match.map((m) => m?.port).filter((p): p is number => typeof p === 'number');
}

/** "HTTP route \"primary\"", "HTTP route #2 (unnamed)" or "TCP route #0 (port 5432)", for people. */
export function describeRoute(protocol: RouteProtocol, route: RouteObject, index: number): string {
  if (protocol === 'http' && typeof route.name === 'string' && route.name) return `HTTP route "${route.name}"`;
  const ports = routePorts(route);
  const portText = ports.length ? ` (port ${ports.join(', ')})` : '';
  return `${protocol.toUpperCase()} route #${index}${protocol === 'http' ? ' (unnamed)' : portText}`;
}

function summarize(protocol: RouteProtocol, routes: RouteObject[]): string {
  if (routes.length === 0) return `it has no ${protocol.toUpperCase()} routes`;
  return `its ${protocol.toUpperCase()} routes are: ${routes.map((r, i) => describeRoute(protocol, r, i)).join(', ')}`;
}

/** Selects the route named by `selector` in a VirtualService `spec`, or explains why it cannot. */
export function selectRoute(spec: unknown, selector: RouteSelector, vsName: string): RouteSelection {
  const list = (spec as Record<string, unknown> | undefined)?.[selector.protocol];
  const routes: RouteObject[] = Array.isArray(list) ? (list as RouteObject[]) : [];
  const fail = (field: string, message: string): RouteSelection => ({ ok: false, problem: { field, message } });

  let index: number;
  if (selector.name !== undefined) {
    const found = routes.map((r, i) => (r?.name === selector.name ? i : -1)).filter((i) => i >= 0);
    if (found.length === 0) {
      return fail('route.name', `VirtualService ${vsName} has no HTTP route named "${selector.name}": ${summarize(selector.protocol, routes)}`);
    }
    if (found.length > 1) {
      return fail('route.name', `VirtualService ${vsName} has ${found.length} HTTP routes named "${selector.name}": select one by index (${found.join(' or ')})`);
    }
    index = found[0];
  } else if (selector.port !== undefined) {
    const found = routes.map((r, i) => (routePorts(r ?? {}).includes(selector.port as number) ? i : -1)).filter((i) => i >= 0);
    if (found.length === 0) {
      return fail('route.port', `VirtualService ${vsName} has no ${selector.protocol.toUpperCase()} route matching port ${selector.port}: ${summarize(selector.protocol, routes)}`);
    }
    if (found.length > 1) {
      return fail('route.port', `VirtualService ${vsName} has ${found.length} ${selector.protocol.toUpperCase()} routes matching port ${selector.port}: select one by index (${found.join(' or ')})`);
    }
    index = found[0];
  } else {
    index = selector.index ?? 0;
    if (index >= routes.length) {
      return fail('route.index', `VirtualService ${vsName} has no ${selector.protocol.toUpperCase()} route at index ${index}: ${summarize(selector.protocol, routes)}`);
    }
  }

  const route = routes[index] ?? {};
  const description = describeRoute(selector.protocol, route, index);
  if (route.delegate) {
    const target = route.delegate as { name?: string; namespace?: string };
    return fail('route', `${description} of ${vsName} delegates to VirtualService ${target.namespace ? `${target.namespace}/` : ''}${target.name}: shift the delegate's route instead`);
  }
  if (!Array.isArray(route.route) || route.route.length === 0) {
    return fail('route', `${description} of ${vsName} has no weighted destinations (it redirects or answers directly): select a route with a "route" list`);
  }
  const destinations = route.route as IstioRouteDestination[];
  if (destinations.some((d) => typeof d?.destination?.host !== 'string')) {
    return fail('route', `${description} of ${vsName} has a destination without a host: fix the VirtualService first`);
  }
  return {
    ok: true,
    selected: {
      protocol: selector.protocol,
      index,
      pointer: `/spec/${selector.protocol}/${index}`,
      route,
      destinations,
      description,
    },
  };
}
