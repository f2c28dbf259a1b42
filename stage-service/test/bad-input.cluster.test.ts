/**
 * Every invalid request gets a 4xx whose message names the field and how to fix it, no stack
 * trace, and the VirtualService stays byte-for-byte what it was.
 */
import { RunningService } from '../src/service';
import { applyVirtualService, createNamespace, getVirtualServiceRaw } from '../../test/cluster/test-helpers';
import {
  LIMITED_TOKEN,
  call,
  checkoutVirtualService,
  clusterAccount,
  exampleShift,
  freePort,
  serviceConfig,
  startTestService,
} from './support';

const ACCOUNT = 'bad-input';
let namespace: string;
let otherNamespace: string;
let cleanups: Array<() => Promise<void>> = [];
let base: string;
let service: RunningService;

beforeAll(async () => {
  const first = await createNamespace('bad-input');
  const second = await createNamespace('bad-input-other');
  namespace = first.name;
  otherNamespace = second.name;
  cleanups = [first.cleanup, second.cleanup];
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = await startTestService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace]), clusterAccount('second-account', [otherNamespace])]));
  const vs = checkoutVirtualService(namespace);
  // A route with a destination the spec does not list, and an unnamed route, for plan errors.
  vs.spec.http.push({ name: 'legacy', route: [{ destination: { host: 'old' }, weight: 50 }, { destination: { host: 'new' }, weight: 50 }] });
  vs.spec.http.push({ name: 'delegating', delegate: { name: 'elsewhere', namespace } });
  vs.spec.tcp = [{ match: [{ port: 5432 }], route: [{ destination: { host: 'db' } }] }, { match: [{ port: 5432 }], route: [{ destination: { host: 'db2' } }] }];
  await applyVirtualService(namespace, vs);
});

afterAll(async () => {
  await service?.stop();
  for (const cleanup of cleanups) await cleanup();
});

type Case = {
  name: string;
  status: number;
  message: RegExp;
  field?: string;
  body?: unknown;
  rawBody?: string;
  token?: string | null;
  url?: string;
  method?: string;
  contentType?: string;
};

const spec = (overrides: Record<string, unknown> = {}) => exampleShift(ACCOUNT, '__NS__', overrides);

const cases: Case[] = [
  { name: 'no token', token: null, body: spec(), status: 401, message: /missing or invalid bearer token/ },
  { name: 'wrong token', token: 'not-the-token', body: spec(), status: 401, message: /missing or invalid bearer token/ },
  { name: 'token for another account', token: LIMITED_TOKEN, body: spec({ account: 'second-account', namespace: '__OTHER__' }), status: 403, message: /token "limited" may not use account "second-account"/ },
  { name: 'namespace the account may not touch', body: spec({ namespace: 'kube-system' }), status: 403, message: /account "bad-input" may not touch namespace "kube-system": its allowed namespaces are/ },
  { name: 'unknown account', body: spec({ account: 'nope' }), status: 422, field: 'account', message: /account "nope" is not configured in this service: use one of bad-input, second-account/ },
  { name: 'empty body', rawBody: '', status: 400, message: /request body is empty/ },
  { name: 'malformed JSON', rawBody: '{"account": "x",', status: 400, message: /not valid JSON/ },
  { name: 'JSON array', body: [spec()], status: 422, field: '', message: /must be a JSON object/ },
  { name: 'huge body', rawBody: JSON.stringify({ ...spec(), padding: 'x'.repeat(70 * 1024) }), status: 413, message: /too large/ },
  { name: 'missing namespace', body: spec({ namespace: undefined }), status: 422, field: 'namespace', message: /namespace is required/ },
  { name: 'bad virtualService name', body: spec({ virtualService: 'Checkout_1' }), status: 422, field: 'virtualService', message: /is not valid/ },
  { name: 'weights not summing to 100', body: spec({ steps: [{ weights: [80, 10, 5] }] }), status: 422, field: 'steps[0].weights', message: /sum to 95; they must sum to 100 \(add 5\)/ },
  { name: 'weight as words', body: spec({ steps: [{ weights: ['all', 0, 0] }] }), status: 422, field: 'steps[0].weights[0]', message: /whole number/ },
  { name: 'negative weight', body: spec({ steps: [{ weights: [110, -10, 0] }] }), status: 422, field: 'steps[0].weights[1]', message: /between 0 and 100/ },
  { name: 'too few weights', body: spec({ steps: [{ weights: [100, 0] }] }), status: 422, field: 'steps[0].weights', message: /has 2 weights but there are 3 destinations/ },
  { name: 'bad pause', body: spec({ steps: [{ weights: [100, 0, 0], pause: '5 minutes' }] }), status: 422, field: 'steps[0].pause', message: /write it like 90s, 10m or 1h30m/ },
  { name: 'unevaluated SpEL', body: spec({ steps: [{ weights: ['${trigger.parameters.w}', 0, 0] }] }), status: 422, field: 'steps[0].weights[0]', message: /SpEL expression Orca did not evaluate/ },
  { name: 'unknown field', body: spec({ weights: [1] }), status: 422, field: 'weights', message: /not a known field: remove it/ },
  { name: 'duplicate destination', body: spec({ destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'canary' }] }), status: 422, field: 'destinations[1]', message: /repeats destinations\[0\]/ },
  { name: 'route name and index', body: spec({ route: { name: 'primary', index: 1 } }), status: 422, field: 'route', message: /exactly one of name or index/ },
  { name: 'VirtualService that does not exist', body: spec({ virtualService: 'missing' }), status: 404, message: /VirtualService __NS__\/missing does not exist in account bad-input/ },
  { name: 'route that does not exist', body: spec({ route: { name: 'main' } }), status: 422, field: 'route.name', message: /has no HTTP route named "main": its HTTP routes are: HTTP route "admin", HTTP route "primary"/ },
  { name: 'route index out of range', body: spec({ route: { index: 9 } }), status: 422, field: 'route.index', message: /no HTTP route at index 9/ },
  { name: 'delegating route', body: spec({ route: { name: 'delegating' } }), status: 422, field: 'route', message: /delegates to VirtualService __NS__\/elsewhere: shift the delegate's route instead/ },
  { name: 'ambiguous TCP port', body: spec({ route: { protocol: 'tcp', port: 5432 }, destinations: [{ host: 'db' }], steps: [{ weights: [100] }] }), status: 422, field: 'route.port', message: /2 TCP routes matching port 5432: select one by index/ },
  { name: 'TLS route that does not exist', body: spec({ route: { protocol: 'tls', port: 443 } }), status: 422, field: 'route.port', message: /no TLS route matching port 443: it has no TLS routes/ },
  { name: 'unlisted destination', body: spec({ route: { name: 'legacy' }, destinations: [{ host: 'new' }], steps: [{ weights: [100] }] }), status: 422, field: 'destinations', message: /also routes to old \(weight 50\).*set pruneUnlisted to true/ },
  { name: 'two spec destinations on one route destination', body: spec({ route: { name: 'legacy' }, destinations: [{ host: 'old' }, { host: 'old.__NS__.svc.cluster.local', label: 'old-fqdn' }, { host: 'new' }], steps: [{ weights: [50, 0, 50] }] }), status: 422, field: 'destinations[1]', message: /destinations\[1\] and destinations\[0\] both name the route's destination old: list it once/ },
  { name: 'status of an unknown shift', url: '/v1/shifts/bad-input/__NS__/checkout/0123456789abcdef0123', method: 'GET', status: 404, message: /no shift 0123456789abcdef0123 on VirtualService __NS__\/checkout/ },
  { name: 'status in a namespace the account may not touch', url: '/v1/shifts/bad-input/kube-system/checkout/0123456789abcdef0123', method: 'GET', status: 403, message: /may not touch namespace "kube-system"/ },
  { name: 'status without a token', url: '/v1/shifts/bad-input/__NS__/checkout/0123456789abcdef0123', method: 'GET', token: null, status: 401, message: /bearer token/ },
  { name: 'cancel in another account with a limited token', url: '/v1/shifts/second-account/__OTHER__/checkout/0123456789abcdef0123/cancel', method: 'POST', token: LIMITED_TOKEN, status: 403, message: /may not use account "second-account"/ },
  { name: 'unknown endpoint', url: '/v1/shiftz', method: 'GET', status: 404, message: /no such endpoint: see \/openapi.json/ },
  { name: 'metrics without a token', url: '/metrics', method: 'GET', token: null, status: 401, message: /bearer token/ },
];

function fill(value: unknown): unknown {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value).replace(/__NS__/g, namespace).replace(/__OTHER__/g, otherNamespace));
}

describe('invalid requests', () => {
  it('has at least 30 distinct cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$name -> $status', async (c) => {
    const before = await getVirtualServiceRaw(namespace, 'checkout');
    const path = (c.url ?? '/v1/shifts').replace('__NS__', namespace).replace('__OTHER__', otherNamespace);
    const response = await call(`${base}${path}`, {
      method: c.method,
      body: fill(c.body),
      rawBody: c.rawBody,
      token: c.token,
      contentType: c.contentType,
    });
    expect(response.status).toBe(c.status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body.error.status).toBe(c.status);
    const expected = new RegExp(c.message.source.replace(/__NS__/g, namespace));
    expect(response.body.error.message).toMatch(expected);
    if (c.field !== undefined) expect(response.body.error.problems.map((p: { field: string }) => p.field)).toContain(c.field);
    expect(response.text).not.toMatch(/\n\s+at |Error:|node_modules/);
    expect(await getVirtualServiceRaw(namespace, 'checkout')).toBe(before);
  });
});
