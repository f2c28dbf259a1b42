/**
 * End to end, the way Spinnaker runs it: the Orca driver (createWebhook + monitorWebhook + cancel,
 * configured from the exact block in docs/orca.md) calls the real service process, which shifts
 * a VirtualService on the real kube-apiserver.
 */
import { createServer } from 'http';
import { AddressInfo } from 'net';
import { runWebhookStage, startWebhookStage, FAST, PollEvent, StageJson } from '../orca/driver';
import { loadPreconfiguredWebhook } from '../orca/webhook-config';
import { createNamespace, getVirtualService, jsonPatchVirtualService } from '../cluster/test-helpers';
import { applyCheckout, freePort, primaryWeights } from '../../stage-service/test/support';
import { ServiceProcess, serviceProcess } from './service-process';
import { checkoutStage } from './checkout-stage';
import type { PayloadDraft } from '@istio-shift/core';

const ACCOUNT = 'e2e-cluster';
let namespace: string;
let cleanup: () => Promise<void>;
let service: ServiceProcess;

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('orca-e2e'));
  service = serviceProcess(await freePort(), [{ name: ACCOUNT, namespaces: [namespace] }]);
  await service.start();
});

afterAll(async () => {
  await service?.stop();
  await cleanup?.();
});

/** The stage as the Deck editor saves it: payload with ${execution.id} and the stage's refId. */
function stage(virtualService: string, steps: Array<{ weights: number[]; pause?: string }>, extra: Partial<PayloadDraft> = {}): StageJson {
  return checkoutStage({ account: ACCOUNT, namespace, virtualService, steps, refId: '3', payload: extra });
}


const execution = (id: string) => ({ id, application: 'checkout', trigger: { type: 'manual', user: 'anonymous' } });
const preconfigured = () => loadPreconfiguredWebhook(service.baseUrl, service.token);
const weightsNow = async (name: string) => primaryWeights(await getVirtualService(namespace, name));

it('runs 100/0/0 -> 80/10/10 -> 34/33/33 -> 100/0/0 with pauses, as Orca sees it', async () => {
  await applyCheckout(namespace, 'orca-full');
  const observed: string[] = [];
  const result = await runWebhookStage({
    preconfigured: preconfigured(),
    stage: stage('orca-full', [{ weights: [80, 10, 10], pause: '1s' }, { weights: [34, 33, 33], pause: '1s' }, { weights: [100, 0, 0] }]),
    execution: execution('01E2EFULL'),
    options: {
      ...FAST,
      onPoll: async (event: PollEvent) => {
        const live = (await weightsNow('orca-full')).join('/');
        const changed = observed[observed.length - 1] !== live;
        if (changed) observed.push(live);
        // What Orca shows as "Info" matches the weights live in the cluster; the service's own timer
        // may take the next step between its answer and this read (the pause ended meanwhile), and
        // then the answer shows the step just before the live one.
        if (event.taskStatus === 'RUNNING') {
          const shown = /release (\d+)/.exec(event.monitor?.progressMessage ?? '')?.[1];
          const allowed = [live, ...(changed && observed.length > 1 ? [observed[observed.length - 2]] : [])].map((w) => w.split('/')[0]);
          expect(allowed).toContain(shown);
        }
      },
    },
  });
  expect(result.status).toBe('SUCCEEDED');
  expect(result.createRequests).toBe(1);
  expect(observed).toEqual(['80/10/10', '34/33/33', '100/0/0']);
  expect(result.context.webhook?.statusCode).toBe('ACCEPTED');
  expect(result.context.webhook?.monitor?.progressMessage).toBe('completed 3 of 3 steps: release 100, baseline 0, canary 0');
  expect(result.context.statusEndpoint).toMatch(new RegExp(`^${service.baseUrl}/v1/shifts/${ACCOUNT}/${namespace}/orca-full/[0-9a-f]{20}$`));
  expect((result.context.webhook?.monitor?.body as { executionId: string }).executionId).toBe('01E2EFULL');
  expect(result.cancelRequests).toEqual([]);
});

it('restores the weights when the pipeline is cancelled mid-way', async () => {
  await applyCheckout(namespace, 'orca-cancel');
  const running = startWebhookStage({
    preconfigured: preconfigured(),
    stage: stage('orca-cancel', [{ weights: [80, 10, 10], pause: '1s' }, { weights: [34, 33, 33], pause: '1h' }, { weights: [100, 0, 0] }]),
    execution: execution('01E2ECANCEL'),
    options: {
      ...FAST,
      onPoll: (event, stage) => {
        if ((event.body as { currentStep?: number })?.currentStep === 2) stage.cancel();
      },
    },
  });
  const result = await running.result;
  expect(result.status).toBe('CANCELED');
  expect(result.cancelRequests).toEqual([expect.objectContaining({ reason: 'user', sent: true, status: 200 })]);
  expect(await weightsNow('orca-cancel')).toEqual([100, 0, 0]);
});

it('ends TERMINAL without clobbering when another client changes the route mid-way', async () => {
  await applyCheckout(namespace, 'orca-conflict');
  let edited = false;
  const result = await runWebhookStage({
    preconfigured: preconfigured(),
    stage: stage('orca-conflict', [{ weights: [80, 10, 10], pause: '1s' }, { weights: [34, 33, 33], pause: '1s' }, { weights: [100, 0, 0] }]),
    execution: execution('01E2ECONFLICT'),
    options: {
      ...FAST,
      onPoll: async (event) => {
        if (!edited && (event.body as { currentStep?: number })?.currentStep === 2) {
          edited = true;
          await jsonPatchVirtualService(namespace, 'orca-conflict', [
            { op: 'replace', path: '/spec/http/1/route/0/weight', value: 100 },
            { op: 'replace', path: '/spec/http/1/route/1/weight', value: 0 },
            { op: 'replace', path: '/spec/http/1/route/2/weight', value: 0 },
          ]);
        }
      },
    },
  });
  expect(result.status).toBe('TERMINAL');
  expect(result.context.webhook?.monitor?.progressMessage).toMatch(/another writer changed HTTP route "primary".*release has weight 100, expected 34/);
  // Orca calls cancel after TERMINAL; the service leaves the other writer's weights.
  expect(result.cancelRequests).toEqual([expect.objectContaining({ reason: 'terminal', sent: true, status: 200 })]);
  expect(await weightsNow('orca-conflict')).toEqual([100, 0, 0]);
});

it('carries on after the service process is killed and restarted mid-way', async () => {
  await applyCheckout(namespace, 'orca-crash');
  let crashed = false;
  const result = await runWebhookStage({
    preconfigured: preconfigured(),
    stage: stage('orca-crash', [{ weights: [80, 10, 10], pause: '1s' }, { weights: [34, 33, 33], pause: '2s' }, { weights: [100, 0, 0] }]),
    execution: execution('01E2ECRASH'),
    options: {
      ...FAST,
      // The service is killed and started again inside this poll's hook: on a busy machine that
      // takes longer than FAST's 5 s monitor timeout (Orca's own is an hour).
      monitorTimeoutMs: 60_000,
      onPoll: async (event) => {
        if (!crashed && (event.body as { currentStep?: number })?.currentStep === 2) {
          crashed = true;
          await service.kill();
          expect(await weightsNow('orca-crash')).toEqual([34, 33, 33]);
          await service.start();
        }
      },
    },
  });
  expect(crashed).toBe(true);
  expect(result.status).toBe('SUCCEEDED');
  expect(await weightsNow('orca-crash')).toEqual([100, 0, 0]);
  expect(service.output()).toMatch(/"resumedShifts":1/);
});

it('retries a create whose answer was a 5xx without starting a second shift', async () => {
  await applyCheckout(namespace, 'orca-retry');
  // A proxy in front of the service forwards the first POST but answers Orca 503, as a load
  // balancer does when the service's answer is lost: Orca re-sends the same POST.
  let posts = 0;
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const upstream = await fetch(`${service.baseUrl}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body: chunks.length ? Buffer.concat(chunks) : undefined });
      const text = await upstream.text();
      if (req.method === 'POST' && ++posts === 1) {
        res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"error":"upstream answer lost"}');
        return;
      }
      const headers: Record<string, string> = {};
      upstream.headers.forEach((value, key) => (headers[key] = value));
      delete headers['content-length'];
      delete headers['transfer-encoding'];
      res.writeHead(upstream.status, headers).end(text);
    });
  });
  await new Promise<void>((resolveListen) => proxy.listen(0, '127.0.0.1', () => resolveListen()));
  try {
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const result = await runWebhookStage({
      preconfigured: loadPreconfiguredWebhook(proxyUrl, service.token),
      stage: stage('orca-retry', [{ weights: [90, 5, 5], pause: '1s' }, { weights: [100, 0, 0] }]),
      execution: execution('01E2ERETRY'),
      options: FAST,
    });
    expect(result.createRequests).toBe(2);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.context.webhook?.statusCodeValue).toBe(200);
    const vs = await getVirtualService(namespace, 'orca-retry');
    expect(Object.keys(JSON.parse((vs.metadata.annotations as Record<string, string>)['traffic-shift.spinnaker.io/shifts']).shifts)).toHaveLength(1);
  } finally {
    await new Promise((resolveClose) => proxy.close(resolveClose));
  }
});

it('fails a rejected create at once, and the cancel Orca then sends is harmless', async () => {
  await applyCheckout(namespace, 'orca-rejected');
  const before = await getVirtualService(namespace, 'orca-rejected');
  const result = await runWebhookStage({
    preconfigured: preconfigured(),
    stage: stage('orca-rejected', [{ weights: [80, 10, 5] }]),
    execution: execution('01E2EREJECTED'),
    options: FAST,
  });
  expect(result.status).toBe('TERMINAL');
  expect(result.context.webhook?.statusCodeValue).toBe(422);
  expect(JSON.stringify(result.context.webhook?.body)).toMatch(/steps\[0\]\.weights sum to 95; they must sum to 100 \(add 5\)/);
  expect(result.createRequests).toBe(1);
  // The error body names the service's no-op cancel endpoint: Orca's cancel resolves, does nothing,
  // and leaves no exception in the stage context.
  const cancels = result.cancelRequests.filter((c) => c.sent);
  expect(cancels.map((c) => [c.url, c.status])).toEqual([[`${service.baseUrl}/v1/shifts/rejected/cancel`, 200]]);
  expect(result.context.exception).toBeUndefined();
  expect((await getVirtualService(namespace, 'orca-rejected')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
});
