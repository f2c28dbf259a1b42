/**
 * The live VirtualService, read through Gate once account, namespace and name are literal: a
 * picker of its routes, "use its destinations", and the service's own pre-flight (route selection
 * and destination matching) run against it.
 */
import React from 'react';
import { isExpression, planShift, selectRoute, validateShiftSpec } from '@istio-shift/core';
import type { Problem } from '@istio-shift/core';
import { PayloadDraft, RouteDraft, cleanPayload } from '../model';
import { inFormLanguage } from '../formLanguage';
import { LiveLookup, LiveRoute, lookupBlocker, readVirtualService } from '../live';
import { StageFormik, getIn } from './fields';

const LOOKUP_DELAY_MS = 500;

export function useLiveVirtualService(account: unknown, namespace: unknown, virtualService: unknown): LiveLookup {
  const blocker = lookupBlocker(account, namespace, virtualService);
  const [lookup, setLookup] = React.useState<LiveLookup>({ state: 'idle', reason: blocker || '' });
  React.useEffect(() => {
    if (blocker) {
      setLookup({ state: 'idle', reason: blocker });
      return undefined;
    }
    let current = true;
    setLookup({ state: 'loading' });
    const timer = setTimeout(() => {
      readVirtualService(String(account), String(namespace), String(virtualService)).then((result) => current && setLookup(result));
    }, LOOKUP_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [account, namespace, virtualService, blocker]);
  return lookup;
}

function describeLiveRoute(route: LiveRoute): string {
  const weights = route.destinations.map((d) => `${d.host}${d.subset ? `/${d.subset}` : ''}${d.port ? `:${d.port}` : ''} ${d.weight}`).join(', ');
  return `${route.description}: ${weights || 'no weighted destinations'}`;
}

function sameSelector(route: RouteDraft, live: LiveRoute): boolean {
  const { selector } = live;
  if (route.protocol !== selector.protocol) return false;
  if (selector.name !== undefined) return route.name === selector.name;
  if (selector.port !== undefined) return Number(route.port) === selector.port;
  return Number(route.index) === selector.index && (route.name === undefined || route.name === '');
}

/** The service's own pre-flight (route selection and destination matching) run against the live route. */
function liveCheck(payload: PayloadDraft, spec: unknown): { ok: boolean; message: string } | undefined {
  const validation = validateShiftSpec(cleanPayload(payload), { allowExpressions: true });
  if (!validation.ok) return undefined;
  const normalized = validation.spec;
  if (isExpression(normalized.virtualService)) return undefined;
  const selection = selectRoute(spec, normalized.route, normalized.virtualService);
  if (!selection.ok) return { ok: false, message: inFormLanguage(selection.problem.message) };
  if (normalized.destinations.some((d) => isExpression(d.host) || isExpression(d.subset))) {
    return { ok: true, message: `The route is ${selection.selected.description}; SpEL destinations are matched at run time.` };
  }
  const plan = planShift(normalized, selection.selected);
  if (!plan.ok) return { ok: false, message: plan.problems.map((p: Problem) => inFormLanguage(p.message)).join('; ') };
  const added = plan.plan.added.map((i) => normalized.destinations[i].label);
  const pruned = plan.plan.pruned.map((d) => d.destination.host + (d.destination.subset ? `/${d.destination.subset}` : ''));
  const notes = [added.length ? `adds ${added.join(', ')}` : '', pruned.length ? `removes ${pruned.join(', ')}` : ''].filter(Boolean);
  return {
    ok: true,
    message: `Matches ${selection.selected.description}; weights now ${plan.plan.originalWeights.join('/')}${notes.length ? `; the first step ${notes.join(' and ')}` : ''}.`,
  };
}

export function LivePanel({ formik, lookup }: { formik: StageFormik; lookup: LiveLookup }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  if (lookup.state === 'idle') {
    return (
      <div className="its-live" data-testid="live-status">
        {lookup.reason}
      </div>
    );
  }
  if (lookup.state === 'loading') {
    return (
      <div className="its-live" data-testid="live-status">
        Reading VirtualService {payload.namespace}/{payload.virtualService}…
      </div>
    );
  }
  if (lookup.state === 'unavailable') {
    return (
      <div className="its-live its-live-unavailable" data-testid="live-status">
        <span className="fa fa-info-circle" /> {lookup.reason}
      </div>
    );
  }
  const { routes } = lookup.live;
  const selectedIndex = routes.findIndex((route) => sameSelector(payload.route || { protocol: 'http' }, route));
  const selected = selectedIndex >= 0 ? routes[selectedIndex] : undefined;
  const check = liveCheck(payload, lookup.spec);
  const useDestinations = () => {
    if (!selected) return;
    const next: PayloadDraft = JSON.parse(JSON.stringify(payload));
    next.destinations = selected.destinations.map(({ host, subset, port }) => ({ host, ...(subset ? { subset } : {}), ...(port ? { port } : {}) }));
    const count = next.destinations.length;
    next.steps = next.steps.map((step) => ({ ...step, weights: Array.from({ length: count }, (_, j) => step.weights[j] ?? 0) }));
    formik.setFieldValue('payload', next);
  };
  return (
    <div className="its-live its-live-loaded" data-testid="live-status">
      <div className="sp-formItem">
        <div className="sp-formItem__left">
          <div className="sp-formLabel">Live routes</div>
        </div>
        <div className="sp-formItem__right">
          <select
            className="form-control input-sm"
            aria-label="Route in the live VirtualService"
            value={selectedIndex >= 0 ? String(selectedIndex) : ''}
            onChange={(event) => {
              const route = routes[Number(event.target.value)];
              if (route) formik.setFieldValue('payload.route', { ...route.selector });
            }}
          >
            <option value="">{routes.length ? `Pick one of ${routes.length} routes…` : 'The VirtualService has no routes'}</option>
            {routes.map((route, i) => (
              <option key={i} value={String(i)}>
                {describeLiveRoute(route)}
              </option>
            ))}
          </select>
          {selected && (
            <button type="button" className="btn btn-sm btn-default its-use-destinations" onClick={useDestinations}>
              Use its destinations ({selected.destinations.length})
            </button>
          )}
        </div>
      </div>
      {check && (
        <div className={check.ok ? 'its-live-ok' : 'its-live-bad'} data-testid="live-check">
          <span className={`fa ${check.ok ? 'fa-check-circle' : 'fa-exclamation-triangle'}`} /> {check.message}
        </div>
      )}
    </div>
  );
}
