import { applyPatch, deepClone } from 'fast-json-patch';
import { IstioRouteDestination } from './destinations';
import { buildShiftPatch, destinationOperations, escapePointerSegment, pointer } from './patch';
import { describeDrift, destinationsForWeights, planShift, weightsOf } from './plan';
import { selectRoute } from './routes';
import { NormalizedShiftSpec, validateShiftSpec } from './validate';

const host = 'checkout.shop.svc.cluster.local';

function virtualService(): Record<string, any> {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '41', annotations: { 'team.example.com/owner': 'payments' } },
    spec: {
      hosts: ['checkout'],
      http: [
        { name: 'a/b~c', match: [{ headers: { 'x-canary': { exact: '1' } } }], route: [{ destination: { host, subset: 'canary' } }] },
        {
          name: 'primary',
          retries: { attempts: 3 },
          mirror: { host: 'shadow' },
          route: [
            { destination: { host, subset: 'release' }, weight: 100, headers: { response: { set: { 'x-stage': 'release' } } } },
            { destination: { host, subset: 'baseline' }, weight: 0 },
          ],
        },
      ],
      tcp: [{ match: [{ port: 5432 }], route: [{ destination: { host: 'db-release' }, weight: 100 }] }],
      tls: [{ match: [{ port: 443, sniHosts: ['checkout.example.com'] }], route: [{ destination: { host: 'tls-release' } }] }],
    },
  };
}

function spec(overrides: Record<string, unknown> = {}): NormalizedShiftSpec {
  const result = validateShiftSpec({
    account: 'prod',
    namespace: 'shop',
    virtualService: 'checkout',
    route: { name: 'primary' },
    destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
    steps: [{ weights: [80, 10, 10] }, { weights: [100, 0, 0] }],
    ...overrides,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

describe('selectRoute', () => {
  it('finds HTTP routes by name and index, TCP and TLS routes by port', () => {
    const vs = virtualService();
    expect(selectRoute(vs.spec, { protocol: 'http', name: 'primary' }, 'shop/checkout')).toMatchObject({ ok: true, selected: { index: 1, pointer: '/spec/http/1' } });
    expect(selectRoute(vs.spec, { protocol: 'http', index: 0 }, 'shop/checkout')).toMatchObject({ ok: true, selected: { index: 0 } });
    expect(selectRoute(vs.spec, { protocol: 'tcp', port: 5432 }, 'shop/checkout')).toMatchObject({ ok: true, selected: { pointer: '/spec/tcp/0' } });
    expect(selectRoute(vs.spec, { protocol: 'tls', port: 443 }, 'shop/checkout')).toMatchObject({ ok: true, selected: { pointer: '/spec/tls/0' } });
  });

  it('explains what routes exist when the selected one does not', () => {
    const result = selectRoute(virtualService().spec, { protocol: 'http', name: 'main' }, 'shop/checkout');
    expect(result).toMatchObject({ ok: false, problem: { field: 'route.name' } });
    expect(!result.ok && result.problem.message).toMatch(/no HTTP route named "main".*HTTP route "a\/b~c", HTTP route "primary"/);
    expect(selectRoute(virtualService().spec, { protocol: 'tcp', port: 3306 }, 'shop/checkout')).toMatchObject({ ok: false, problem: { field: 'route.port' } });
  });

  it('refuses delegating routes and routes without destinations', () => {
    const vs = virtualService();
    vs.spec.http[1] = { name: 'primary', delegate: { name: 'checkout-routes', namespace: 'shop' } };
    const result = selectRoute(vs.spec, { protocol: 'http', name: 'primary' }, 'shop/checkout');
    expect(!result.ok && result.problem.message).toMatch(/delegates to VirtualService shop\/checkout-routes/);
    vs.spec.http[1] = { name: 'primary', redirect: { uri: '/x' } };
    expect(selectRoute(vs.spec, { protocol: 'http', name: 'primary' }, 'shop/checkout')).toMatchObject({ ok: false });
  });
});

describe('planShift and destinationsForWeights', () => {
  it('matches short hosts to the FQDNs in the route and adds missing destinations at the end', () => {
    const vs = virtualService();
    const selection = selectRoute(vs.spec, { protocol: 'http', name: 'primary' }, 'shop/checkout');
    if (!selection.ok) throw new Error('route');
    const planned = planShift(spec(), selection.selected);
    expect(planned).toMatchObject({ ok: true, plan: { originalWeights: [100, 0, 0], added: [2], pruned: [] } });
    const target = destinationsForWeights(spec(), selection.selected.destinations, [80, 10, 10]);
    expect(target).toEqual([
      { destination: { host, subset: 'release' }, weight: 80, headers: { response: { set: { 'x-stage': 'release' } } } },
      { destination: { host, subset: 'baseline' }, weight: 10 },
      { destination: { host: 'checkout', subset: 'canary' }, weight: 10 },
    ]);
  });

  it('refuses routes with destinations the spec does not list, unless it prunes them', () => {
    const vs = virtualService();
    vs.spec.http[1].route.push({ destination: { host, subset: 'legacy' }, weight: 0 });
    const selection = selectRoute(vs.spec, { protocol: 'http', name: 'primary' }, 'shop/checkout');
    if (!selection.ok) throw new Error('route');
    const refused = planShift(spec(), selection.selected);
    expect(!refused.ok && refused.problems[0].message).toMatch(/also routes to checkout.shop.svc.cluster.local\/legacy \(weight 0\).*set pruneUnlisted/);
    const pruned = planShift(spec({ pruneUnlisted: true }), selection.selected);
    expect(pruned.ok && pruned.plan.pruned).toHaveLength(1);
    expect(destinationsForWeights(spec(), selection.selected.destinations, [80, 10, 10]).map((d) => d.destination.subset)).toEqual(['release', 'baseline', 'canary']);
  });

  it('asks for a port when a destination is ambiguous', () => {
    const vs = virtualService();
    vs.spec.http[1].route = [
      { destination: { host, subset: 'release', port: { number: 80 } }, weight: 50 },
      { destination: { host, subset: 'release', port: { number: 8080 } }, weight: 50 },
    ];
    const selection = selectRoute(vs.spec, { protocol: 'http', name: 'primary' }, 'shop/checkout');
    if (!selection.ok) throw new Error('route');
    const result = planShift(spec({ destinations: [{ host: 'checkout', subset: 'release' }], steps: [{ weights: [100] }] }), selection.selected);
    expect(!result.ok && result.problems[0]).toMatchObject({ field: 'destinations[0]', message: expect.stringMatching(/ports 80 and 8080\): give its port/) });
  });

  it('reads the weight of a lone destination without one as 100', () => {
    const vs = virtualService();
    const selection = selectRoute(vs.spec, { protocol: 'tls', port: 443 }, 'shop/checkout');
    if (!selection.ok) throw new Error('route');
    expect(weightsOf({ namespace: 'shop', destinations: [{ host: 'tls-release', label: 'r' }] }, selection.selected.destinations)).toEqual([100]);
  });

  it('describes drift in weights and destinations', () => {
    const ours: IstioRouteDestination[] = [{ destination: { host: 'a' }, weight: 80 }, { destination: { host: 'b' }, weight: 20 }];
    expect(describeDrift(ours, deepClone(ours))).toBeUndefined();
    expect(describeDrift(ours, [{ destination: { host: 'a' }, weight: 50 }, { destination: { host: 'c' }, weight: 50 }])).toBe('a has weight 50, expected 80; b was removed (it had weight 20); c was added with weight 50');
  });
});

describe('patches', () => {
  it('escapes JSON Pointer segments', () => {
    expect(escapePointerSegment('a/b~c')).toBe('a~1b~0c');
    expect(pointer('metadata', 'annotations', 'traffic-shift.spinnaker.io/shifts')).toBe('/metadata/annotations/traffic-shift.spinnaker.io~1shifts');
  });

  it('turns any destination list into any other, keeping order and untouched fields', () => {
    const a = { destination: { host: 'a' }, weight: 50, headers: { request: { set: { x: '1' } } } };
    const b = { destination: { host: 'b' }, weight: 50 };
    const c = { destination: { host: 'c' }, weight: 0 };
    const d = { destination: { host: 'd' } };
    const cases: Array<[IstioRouteDestination[], IstioRouteDestination[]]> = [
      [[a, b], [{ ...a, weight: 80 }, { ...b, weight: 20 }]],
      [[a, b], [{ ...a, weight: 80 }, { ...b, weight: 10 }, { ...c, weight: 10 }]],
      [[a, b, c], [{ ...a, weight: 100 }, { ...c, weight: 0 }]],
      [[{ ...a, weight: 100 }, { ...c, weight: 0 }], [a, b, c]],
      [[d], [{ ...d, weight: 90 }, { ...c, weight: 10 }]],
      [[{ ...d, weight: 90 }, { ...c, weight: 10 }], [d]],
      [[a, b], [b, a]],
    ];
    for (const [current, target] of cases) {
      const document = { spec: { http: [{ name: 'r', route: deepClone(current) }] } };
      const ops = destinationOperations('/spec/http/0', current, target);
      const result = applyPatch(document, deepClone(ops) as any, true, false).newDocument as any;
      expect(result.spec.http[0].route).toEqual(target);
    }
  });

  it('changes nothing outside the selected route and the shift annotation', () => {
    const before = virtualService();
    const selection = selectRoute(before.spec, { protocol: 'http', name: 'primary' }, 'shop/checkout');
    if (!selection.ok) throw new Error('route');
    const target = destinationsForWeights(spec(), selection.selected.destinations, [80, 10, 10]);
    const ops = buildShiftPatch(
      { routePointer: selection.selected.pointer, routeAsRead: selection.selected.route, target },
      { key: 'traffic-shift.spinnaker.io/shifts', previous: undefined, next: '{}', hadAnnotations: true, resourceVersion: '41' },
    );
    expect(ops[0]).toEqual({ op: 'test', path: '/spec/http/1', value: before.spec.http[1] });
    const after = applyPatch(deepClone(before), deepClone(ops) as any, true, false).newDocument as any;
    const expected = deepClone(before);
    expected.spec.http[1].route = target;
    expected.metadata.annotations['traffic-shift.spinnaker.io/shifts'] = '{}';
    expect(after).toEqual(expected);
    expect(Object.keys(after.spec.http[1])).toEqual(Object.keys(before.spec.http[1]));
  });

  it('fails as a whole when the route changed since it was read', () => {
    const before = virtualService();
    const selection = selectRoute(before.spec, { protocol: 'http', name: 'primary' }, 'shop/checkout');
    if (!selection.ok) throw new Error('route');
    const ops = buildShiftPatch(
      { routePointer: selection.selected.pointer, routeAsRead: deepClone(selection.selected.route), target: [] },
      { key: 'k', previous: 'old', next: 'new', hadAnnotations: true, resourceVersion: '41' },
    );
    const changed = deepClone(before);
    changed.spec.http[1].route[0].weight = 60;
    expect(() => applyPatch(changed, deepClone(ops) as any, true, false)).toThrow(/Test operation failed/);
  });
});
