/**
 * Status polls take one of two paths (the direct one for an exact status URL, express for other
 * spellings) through one function (poll.ts): the same answers, headers, counts and log lines.
 * During an API server outage an expected 503 is one warn line per account per interval, with a
 * count and no stack; an unexpected error stays an error with its stack. `/metrics` names no
 * account or namespace unless configured to.
 */
import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { AccountRegistry } from '../accounts';
import { TokenAuthenticator, sha256Hex } from '../auth';
import { ShiftEngine } from '../engine/engine';
import { StepScheduler } from '../engine/scheduler';
import { EmbeddedVirtualServiceApi } from '../kube/embedded-api';
import { exampleVirtualServices } from '../kube/seed';
import { KubernetesApiError, VirtualServiceObject } from '../kube/types';
import { createLogger, silentLogger } from '../logger';
import { ServiceMetrics } from '../metrics';
import { createApp } from './app';

const TOKEN = 'poll-test-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
const ID = '0'.repeat(20);

/** The embedded store, with an API server outage (or any other failure) switched on at will. */
class FlakyStore extends EmbeddedVirtualServiceApi {
  failure: (() => Error) | undefined;
  override async get(namespace: string, name: string): Promise<VirtualServiceObject | undefined> {
    if (this.failure) throw this.failure();
    return super.get(namespace, name);
  }
}

const outage = () => new KubernetesApiError('Kubernetes get failed: connect ECONNREFUSED 10.0.0.1:443', 'get', undefined, 'unreachable');

interface Harness {
  url: string;
  store: FlakyStore;
  accounts: AccountRegistry;
  lines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function harness(options: { intervalMs?: number; accountLabels?: boolean } = {}): Promise<Harness> {
  const store = new FlakyStore(exampleVirtualServices());
  const accounts = new AccountRegistry(
    ['east', 'west'].map((name) => ({ name, backend: { kind: 'embedded' as const }, namespaces: ['shop', 'payments'] })),
    () => store,
    () => undefined,
  );
  const engine = new ShiftEngine({ apiFor: (account) => accounts.apiFor(account) });
  const scheduler = new StepScheduler(engine, silentLogger);
  const lines: Array<Record<string, unknown>> = [];
  const app = createApp({
    engine,
    scheduler,
    accounts,
    authenticator: new TokenAuthenticator([{ name: 'test', sha256: sha256Hex(TOKEN), accounts: ['*'] }]),
    metrics: new ServiceMetrics(false),
    metricsAccountLabels: options.accountLabels,
    logger: createLogger('debug', (line) => lines.push(JSON.parse(line))),
    externalBaseUrl: 'http://stage-service.test',
    bodyLimitBytes: 65536,
    isReady: () => true,
    outageLogIntervalMs: options.intervalMs,
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    store,
    accounts,
    lines,
    close: () => new Promise<void>((resolve) => {
      scheduler.stop();
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}

const statusPath = (account: string) => `/v1/shifts/${account}/shop/checkout/${ID}`;

describe('status polls during an API server outage', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('log one warn line per account per interval, without a stack (the count: outage-log.test.ts)', async () => {
    h = await harness({ intervalMs: 60_000 });
    h.store.failure = outage;
    // 60 polls of each of two accounts, by both paths, inside one interval.
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => ['east', 'west'].map((account) => fetch(`${h.url}${statusPath(account)}${i % 2 ? '/' : ''}`, { headers: auth }))).flat(),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 503));
    const body: any = await answers[0].json();
    expect(body.error).toMatchObject({ status: 503, code: 'kubernetes_unavailable' });
    expect(h.lines.map((l) => [l.level, l.account]).sort()).toEqual([['warn', 'east'], ['warn', 'west']]);
    for (const line of h.lines) {
      expect(line).toMatchObject({ status: 503, code: 'kubernetes_unavailable', intervalMs: 60_000, message: expect.stringContaining('unavailable') });
      expect(JSON.stringify(line)).not.toMatch(/\\n\s+at /); // no stack trace
    }
  });

  it('still logs an unexpected failure at error, with its stack, every time', async () => {
    h = await harness({ intervalMs: 400 });
    h.store.failure = () => new TypeError('boom');
    for (const path of [statusPath('east'), `${statusPath('east')}/`]) {
      const answer = await fetch(`${h.url}${path}`, { headers: auth });
      expect(answer.status).toBe(500);
      expect(await answer.json()).toEqual({ error: { status: 500, code: 'internal_error', message: 'internal error: the details are in the service log' } });
    }
    expect(h.lines).toHaveLength(2);
    for (const line of h.lines) expect(line).toMatchObject({ level: 'error', status: 500, error: expect.stringMatching(/^TypeError: boom\n\s+at /) });
  });
});

describe('the two poll paths', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('answer every error alike, headers included, and count both under the status route', async () => {
    h = await harness();
    const cases: Array<[string, Record<string, string>, number]> = [
      [statusPath('east'), {}, 401],
      [statusPath('east'), { Authorization: 'Bearer wrong' }, 401],
      [statusPath('nowhere'), auth, 422],
      ['/v1/shifts/east/kube-system/checkout/' + ID, auth, 403],
      ['/v1/shifts/east/shop/Not_A_Name/' + ID, auth, 400],
      [statusPath('east'), auth, 404],
    ];
    for (const [path, headers, status] of cases) {
      const direct = await fetch(`${h.url}${path}`, { headers });
      const viaExpress = await fetch(`${h.url}${path}?via=express`, { headers });
      expect([path, direct.status]).toEqual([path, status]);
      expect(viaExpress.status).toBe(status);
      for (const name of ['content-type', 'www-authenticate']) expect(direct.headers.get(name)).toBe(viaExpress.headers.get(name));
      expect(await direct.text()).toBe(await viaExpress.text());
    }
    const metrics = await (await fetch(`${h.url}/metrics`, { headers: auth })).text();
    for (const code of ['401', '422', '403', '400', '404']) {
      const count = Number(new RegExp(`traffic_shift_http_requests_total\\{route="status",code="${code}"\\} (\\d+)`).exec(metrics)?.[1]);
      expect([code, count]).toEqual([code, code === '401' ? 4 : 2]);
    }
  });
});

describe('/metrics', () => {
  let h: Harness;
  afterEach(() => h.close());
  const watches = [
    { account: 'east', namespace: 'shop', synced: true },
    { account: 'east', namespace: 'payments', synced: false, problem: 'forbidden' },
  ];

  it('names no account or namespace by default', async () => {
    h = await harness();
    jest.spyOn(h.accounts, 'watches').mockReturnValue(watches);
    const text = await (await fetch(`${h.url}/metrics`, { headers: auth })).text();
    expect(text).toContain('traffic_shift_watches{synced="true"} 1');
    expect(text).toContain('traffic_shift_watches{synced="false"} 1');
    expect(text).not.toMatch(/east|shop|payments|account=|namespace=/);
  });

  it('names them with metrics.accountLabels', async () => {
    h = await harness({ accountLabels: true });
    jest.spyOn(h.accounts, 'watches').mockReturnValue(watches);
    const text = await (await fetch(`${h.url}/metrics`, { headers: auth })).text();
    expect(text).toContain('traffic_shift_watch_synced{account="east",namespace="shop"} 1');
    expect(text).toContain('traffic_shift_watch_synced{account="east",namespace="payments"} 0');
    expect(text).toContain('traffic_shift_watches{synced="false"} 1');
  });
});
