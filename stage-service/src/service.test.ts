/**
 * `npm start` with no configuration: the embedded store, driven with the README's own curl
 * example, behaves like the API server (resourceVersion, atomic guarded patches).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { validateShiftSpec } from '@istio-shift/core';
import { sha256Hex } from './auth';
import { EMBEDDED_DEV_TOKEN, loadConfig } from './config';
import { EmbeddedVirtualServiceApi } from './kube/embedded-api';
import { PreconditionFailedError } from './kube/types';
import { exampleVirtualServices } from './kube/seed';
import { silentLogger } from './logger';
import { RunningService, startService } from './service';

/** The JSON body of the README's curl example, exactly as a newcomer would paste it. */
function readmeCurlBody(): unknown {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const match = /-d '([\s\S]*?)'\n/.exec(readme);
  if (!match) throw new Error('README.md has no curl -d example');
  return JSON.parse(match[1]);
}

describe('embedded default', () => {
  let service: RunningService;
  let store: EmbeddedVirtualServiceApi;

  beforeAll(async () => {
    const config = loadConfig({ PORT: '0' }, sha256Hex);
    expect(config.embedded).toBe(true);
    expect(config.host).toBe('127.0.0.1');
    store = new EmbeddedVirtualServiceApi(exampleVirtualServices());
    service = await startService(config, { logger: silentLogger, embeddedStore: store, processMetrics: false });
  });
  afterAll(() => service.stop());

  it('runs the README example with the development token', async () => {
    const body = readmeCurlBody() as { steps: Array<{ pause?: string }> };
    body.steps.forEach((step) => (step.pause = '0s'));
    const response = await fetch(`${service.url}/v1/shifts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${EMBEDDED_DEV_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    const created: any = await response.json();
    expect(created.currentWeights).toEqual([80, 10, 10]);
    // The status URL is absolute; this instance listens on a random port, so follow its path.
    const path = new URL(created.statusUrl).pathname;
    let status = created;
    while (status.status === 'RUNNING') {
      status = await (await fetch(`${service.url}${path}`, { headers: { Authorization: `Bearer ${EMBEDDED_DEV_TOKEN}` } })).json();
    }
    expect(status).toMatchObject({ status: 'SUCCEEDED', currentWeights: [100, 0, 0] });
    const vs = await store.get('shop', 'checkout');
    expect((vs?.spec.http as any[])[1].route.map((d: any) => d.weight)).toEqual([100, 0, 0]);
    expect((vs?.spec.http as any[])[1].retries).toEqual({ attempts: 3, perTryTimeout: '2s' });
  });

  it('answers a poll on its direct path exactly as the express route does, errors included', async () => {
    const auth = { Authorization: `Bearer ${EMBEDDED_DEV_TOKEN}` };
    const body = readmeCurlBody() as { executionId?: string; stageRef?: string; steps: Array<{ pause?: string }> };
    body.executionId = 'direct-path-test';
    body.stageRef = '1';
    body.steps.forEach((step) => (step.pause = '1h'));
    const created: any = await (await fetch(`${service.url}/v1/shifts`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
    const path = new URL(created.statusUrl).pathname;
    const unknown = path.replace(/[0-9a-f]{20}$/, '0'.repeat(20));
    // The exact status URL takes the direct path; a trailing slash is the same route in express.
    for (const [direct, viaExpress] of [[path, `${path}/`], [unknown, `${unknown}/`]]) {
      const a = await fetch(`${service.url}${direct}`, { headers: auth });
      const b = await fetch(`${service.url}${viaExpress}`, { headers: auth });
      expect(a.status).toBe(b.status);
      expect(a.headers.get('content-type')).toBe(b.headers.get('content-type'));
      const [x, y]: any[] = [await a.json(), await b.json()];
      // Only what depends on the moment of the poll may differ.
      for (const v of [x, y]) {
        delete v.message;
        delete v.percentComplete;
        delete v.watch;
      }
      expect(x).toEqual(y);
    }
    expect((await fetch(`${service.url}${unknown}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${service.url}${path}`)).status).toBe(401);
    expect((await fetch(`${service.url}${path.replace('/checkout/', '/checkout%2Fstatus/')}`, { headers: auth })).status).toBe(400);
    await fetch(`${service.url}${path}/cancel`, { method: 'POST', headers: auth });
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(/traffic_shift_http_requests_total\{route="status",code="200"\} [2-9]/);
    expect(metrics).toMatch(/traffic_shift_http_requests_total\{route="status",code="404"\} [2-9]/);
  });

  it('rejects requests without the token', async () => {
    const response = await fetch(`${service.url}/v1/shifts`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
  });

  it('serves its OpenAPI document', async () => {
    const response = await fetch(`${service.url}/openapi.json`, { headers: { Authorization: `Bearer ${EMBEDDED_DEV_TOKEN}` } });
    const document: any = await response.json();
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/shifts', '/v1/shifts/{account}/{namespace}/{virtualService}/{id}/cancel']));
  });
});

describe('the embedded store', () => {
  it('bumps resourceVersion on writes and applies a patch atomically or not at all', async () => {
    const store = new EmbeddedVirtualServiceApi(exampleVirtualServices());
    const before = await store.get('shop', 'checkout');
    await expect(store.patch('shop', 'checkout', [
      { op: 'replace', path: '/spec/http/1/route/0/weight', value: 50 },
      { op: 'test', path: '/metadata/resourceVersion', value: 'stale' },
    ])).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await store.get('shop', 'checkout')).toEqual(before);
    const after = await store.patch('shop', 'checkout', [
      { op: 'test', path: '/metadata/resourceVersion', value: before?.metadata.resourceVersion },
      { op: 'replace', path: '/spec/http/1/route/0/weight', value: 50 },
    ]);
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before?.metadata.resourceVersion));
  });
});

describe("the README's analysis example", () => {
  it('is a valid shift spec whose windows fit its pauses', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const block = /## Canary analysis[\s\S]*?```json\n([\s\S]*?)```/.exec(readme);
    if (!block) throw new Error('README.md has no analysis example');
    const result = validateShiftSpec(JSON.parse(block[1]));
    expect(result.problems).toEqual([]);
    expect(result.ok && result.spec.analysis?.source).toBe('prometheus');
  });
});
