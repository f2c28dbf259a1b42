/**
 * The playground is served in embedded mode only: with the embedded default its page answers at `/`
 * and its API (patch log, simulated metrics, Gate stand-in) answers authenticated calls; with a
 * cluster account, or with a configuration file, `/` and every playground path stay closed.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { sha256Hex } from '../auth';
import { EMBEDDED_DEV_TOKEN, ServiceConfig, embeddedConfig, parseConfig } from '../config';
import { silentLogger } from '../logger';
import { RunningService, startService } from '../service';

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
const dev = auth(EMBEDDED_DEV_TOKEN);

function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'playground-build-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>playground</title>');
  writeFileSync(join(dir, 'page.js'), 'console.log("page")');
  return dir;
}

async function start(config: ServiceConfig): Promise<RunningService> {
  return startService({ ...config, port: 0, host: '127.0.0.1' }, { logger: silentLogger, processMetrics: false, playgroundBuildDir: fakeBuild() });
}

const SPEC = {
  account: 'local',
  namespace: 'shop',
  virtualService: 'checkout',
  route: { protocol: 'http', name: 'primary' },
  destinations: ['release', 'baseline', 'canary'].map((subset) => ({ host: 'checkout.shop.svc.cluster.local', subset })),
  steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [0, 0, 100] }],
};

describe('embedded default (npm start without a configuration)', () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await start(embeddedConfig({}, sha256Hex));
  });
  afterAll(() => service.stop());

  it('serves the page at / and its assets without a token', async () => {
    const page = await fetch(`${service.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>playground</title>');
    expect((await fetch(`${service.url}/playground/assets/page.js`)).status).toBe(200);
    expect((await fetch(`${service.url}/playground/assets/missing.js`)).status).toBe(404);
  });

  it('answers the playground API only with a token', async () => {
    for (const path of ['/playground/virtual-services', '/playground/simulated-metrics', '/playground/gate/credentials', '/playground/patches?account=local&namespace=shop&virtualService=checkout']) {
      expect([path, (await fetch(`${service.url}${path}`)).status]).toEqual([path, 401]);
      expect([path, (await fetch(`${service.url}${path}`, { headers: auth('wrong') })).status]).toEqual([path, 401]);
      expect([path, (await fetch(`${service.url}${path}`, { headers: dev })).status]).toEqual([path, 200]);
    }
    expect((await fetch(`${service.url}/playground/simulated-metrics`, { method: 'PUT', body: '{"canaryHealth":"failing"}' })).status).toBe(401);
  });

  it('logs the exact JSON Patch a shift sent to the store', async () => {
    const created = await fetch(`${service.url}/v1/shifts`, { method: 'POST', headers: { ...dev, 'Content-Type': 'application/json' }, body: JSON.stringify({ ...SPEC, executionId: 'log', stageRef: '1' }) });
    expect(created.status).toBe(202);
    const { patches } = (await (await fetch(`${service.url}/playground/patches?account=local&namespace=shop&virtualService=checkout`, { headers: dev })).json()) as { patches: Array<{ outcome: string; operations: Array<{ op: string; path: string; value?: unknown }> }> };
    expect(patches).toHaveLength(1);
    expect(patches[0].outcome).toBe('applied');
    expect(patches[0].operations.filter((o) => o.path.endsWith('/weight'))).toEqual([
      { op: 'replace', path: '/spec/http/1/route/0/weight', value: 80 },
      { op: 'replace', path: '/spec/http/1/route/1/weight', value: 10 },
      { op: 'replace', path: '/spec/http/1/route/2/weight', value: 10 },
    ]);
    const { id } = (await created.json()) as { id: string };
    await fetch(`${service.url}/v1/shifts/local/shop/checkout/${id}/cancel`, { method: 'POST', headers: dev });
  });

  it('offers the simulated metrics source, toggled healthy or failing; a bad value is a 400 naming the field', async () => {
    const sources = (await (await fetch(`${service.url}/v1/metrics-sources`, { headers: dev })).json()) as { sources: Array<{ name: string; type: string }> };
    expect(sources.sources).toEqual([{ name: 'simulated', type: 'simulated', accounts: ['*'] }]);
    const put = (body: string) => fetch(`${service.url}/playground/simulated-metrics`, { method: 'PUT', headers: dev, body });
    expect(await (await put('{"canaryHealth":"failing"}')).json()).toEqual({ source: 'simulated', simulated: true, canaryHealth: 'failing' });
    const bad = await put('{"canaryHealth":"sick"}');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('canaryHealth must be one of healthy, failing');
    await put('{"canaryHealth":"healthy"}');
  });

  it('answers the editor\'s Gate calls from the embedded store', async () => {
    const manifest = (await (await fetch(`${service.url}/playground/gate/manifests/local/shop/virtualService.networking.istio.io%20checkout`, { headers: dev })).json()) as { manifest: { metadata: { name: string } } };
    expect(manifest.manifest.metadata.name).toBe('checkout');
    expect((await fetch(`${service.url}/playground/gate/manifests/local/kube-system/virtualService.networking.istio.io%20x`, { headers: dev })).status).toBe(403);
  });
});

/** What `/` and the playground paths answer when the playground is off. */
async function expectClosed(service: RunningService, token: string) {
  expect((await fetch(`${service.url}/`)).status).toBe(401);
  expect((await fetch(`${service.url}/playground/assets/page.js`)).status).toBe(401);
  for (const path of ['/', '/playground/assets/page.js', '/playground/virtual-services', '/playground/simulated-metrics', '/playground/gate/credentials', '/playground/patches?account=local&namespace=shop&virtualService=checkout']) {
    expect([path, (await fetch(`${service.url}${path}`, { headers: auth(token) })).status]).toEqual([path, 404]);
  }
  expect((await fetch(`${service.url}/playground/simulated-metrics`, { method: 'PUT', headers: auth(token), body: '{"canaryHealth":"failing"}' })).status).toBe(404);
  const sources = (await (await fetch(`${service.url}/v1/metrics-sources`, { headers: auth(token) })).json()) as { sources: Array<{ name: string }> };
  expect(sources.sources.map((s) => s.name)).not.toContain('simulated');
}

describe('closed with a configuration file', () => {
  const token = 'cluster-token';
  const config = (accounts: object[]) =>
    parseConfig({ server: { externalBaseUrl: 'http://127.0.0.1:8080' }, auth: { tokens: [{ name: 'orca', sha256: sha256Hex(token), accounts: ['*'] }] }, accounts }, {}, sha256Hex);

  it('with a cluster account', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'playground-kubeconfig-'));
    const kubeconfig = join(dir, 'config');
    // A cluster that is not there: the service starts (watches retry), and the playground must not.
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:9', 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    }));
    const service = await start(config([{ name: 'local', kubeconfig, namespaces: ['shop'] }]));
    try {
      await expectClosed(service, token);
    } finally {
      await service.stop();
    }
    // Startup lists the unreachable cluster's VirtualServices with retries (about 3 s on an idle
    // machine; it passed 30 s once on a loaded CI machine): a generous limit, not a sleep.
  }, 120_000);

  it('with embedded accounts only (the development token is not in use)', async () => {
    const service = await start(config([{ name: 'local', embedded: true, namespaces: ['shop'] }]));
    try {
      await expectClosed(service, token);
    } finally {
      await service.stop();
    }
  });
});
