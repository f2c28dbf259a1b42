/**
 * What happens when Orca stops watching, end to end: the Orca driver (configured from docs/orca.md)
 * against the real service process on the real kube-apiserver (issue 6 §1, §2).
 *
 * - The only replica dies right after a poll: Orca's next poll is refused, so Orca ends the stage
 *   TERMINAL and its cancel is refused too (Orca does not retry it). The restarted service must not
 *   move traffic further, and restores it once the shift has gone abandonAfter without a poll.
 * - The create's answer is lost (connection reset after the patch was committed): Orca fails the
 *   stage with no cancelUrl. The shift must not progress, and is restored after abandonAfter.
 * - Orca's "Restart stage" after a TERMINAL shift runs a new attempt to SUCCEEDED.
 */
import { createServer, request } from 'http';
import { AddressInfo } from 'net';
import { runWebhookStage, FAST, StageJson } from '../orca/driver';
import { loadPreconfiguredWebhook } from '../orca/webhook-config';
import { createNamespace, getVirtualService, jsonPatchVirtualService, waitFor } from '../cluster/test-helpers';
import { applyCheckout, freePort, primaryWeights } from '../../stage-service/test/support';
import { ServiceProcess, serviceProcess } from './service-process';
import { checkoutStage } from './checkout-stage';

const ACCOUNT = 'safety-cluster';
let namespace: string;
let cleanup: () => Promise<void>;
let service: ServiceProcess;

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('orca-safety'));
  service = serviceProcess(await freePort(), [{ name: ACCOUNT, namespaces: [namespace] }]);
  await service.start();
});

afterAll(async () => {
  await service?.stop();
  await cleanup?.();
});

function stage(virtualService: string, steps: Array<{ weights: number[]; pause?: string }>): StageJson {
  return checkoutStage({ account: ACCOUNT, namespace, virtualService, steps, refId: '4', payload: { abandonAfter: '30s' } });
}


const execution = (id: string) => ({ id, application: 'checkout', trigger: { type: 'manual', user: 'anonymous' } });
const weightsNow = async (name: string) => primaryWeights(await getVirtualService(namespace, name));
const steps = [{ weights: [80, 10, 10], pause: '2s' }, { weights: [34, 33, 33], pause: '2s' }, { weights: [100, 0, 0] }];

it('restores, and never advances, a shift whose only replica died during Orca\'s 1 s polling', async () => {
  await applyCheckout(namespace, 'orphaned');
  let killed = false;
  const result = await runWebhookStage({
    preconfigured: loadPreconfiguredWebhook(service.baseUrl, service.token),
    stage: stage('orphaned', steps),
    execution: execution('01SAFEKILL'),
    options: {
      ...FAST,
      pollIntervalMs: () => 1000,
      onPoll: async (event) => {
        if (!killed && event.taskStatus === 'RUNNING') {
          killed = true;
          await service.kill();
        }
      },
    },
  });
  // Orca's view: the refused poll ended the stage, and its cancel was refused as well.
  expect(result.status).toBe('TERMINAL');
  expect(result.context.webhook?.monitor?.error).toMatch(/Connection refused|ECONNREFUSED|connect/i);
  expect(result.cancelRequests.every((c) => c.status === undefined)).toBe(true);
  expect(await weightsNow('orphaned')).toEqual([80, 10, 10]);

  await service.start();
  const statusUrl = result.context.statusEndpoint as string;
  const createdAt = Date.now();
  // Well past the 2 s pause the restarted service has not moved the unwatched shift...
  await waitFor('the first pause to be long over', async () => (Date.now() > createdAt + 8000 ? true : undefined), 15_000);
  expect(await weightsNow('orphaned')).toEqual([80, 10, 10]);
  // ...and once 30 s pass without a poll it restores the route by itself.
  await waitFor('the abandoned shift to be restored', async () => ((await weightsNow('orphaned'))[0] === 100 ? true : undefined), 90_000);
  expect(await weightsNow('orphaned')).toEqual([100, 0, 0]);
  const final = await fetch(statusUrl, { headers: { Authorization: `Bearer ${service.token}` } }).then((r) => r.json());
  expect(final).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ABANDONED' } });
}, 180_000);

it('restores, and never advances, a shift whose create answer was lost', async () => {
  await applyCheckout(namespace, 'lost-answer');
  // A proxy forwards the create to the service and then resets Orca's connection: the first step
  // is committed, but Orca never hears of it (a POST with a socket error fails the stage at once).
  const proxy = createServer((req, res) => {
    const upstream = request(`${service.baseUrl}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      answer.resume();
      answer.on('end', () => res.socket?.destroy());
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolveListen) => proxy.listen(0, '127.0.0.1', () => resolveListen()));
  try {
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const result = await runWebhookStage({
      preconfigured: loadPreconfiguredWebhook(proxyUrl, service.token),
      stage: stage('lost-answer', steps),
      execution: execution('01SAFELOST'),
      options: FAST,
    });
    expect(result.status).toBe('TERMINAL');
    expect(result.createRequests).toBe(1);
    expect(result.cancelRequests.filter((c) => c.sent)).toEqual([]);
  } finally {
    await new Promise((resolveClose) => proxy.close(resolveClose));
  }
  expect(await weightsNow('lost-answer')).toEqual([80, 10, 10]);
  const committedAt = Date.now();
  await waitFor('the first pause to be long over', async () => (Date.now() > committedAt + 8000 ? true : undefined), 15_000);
  expect(await weightsNow('lost-answer')).toEqual([80, 10, 10]);
  await waitFor('the abandoned shift to be restored', async () => ((await weightsNow('lost-answer'))[0] === 100 ? true : undefined), 90_000);
  expect(await weightsNow('lost-answer')).toEqual([100, 0, 0]);
}, 180_000);

it('runs a new attempt when Orca restarts a stage that ended TERMINAL', async () => {
  await applyCheckout(namespace, 'restart-stage');
  const input = {
    preconfigured: loadPreconfiguredWebhook(service.baseUrl, service.token),
    stage: stage('restart-stage', [{ weights: [80, 10, 10], pause: '1s' }, { weights: [100, 0, 0] }]),
    execution: execution('01SAFERESTART'),
  };
  let interfered = false;
  const failed = await runWebhookStage({
    ...input,
    options: {
      ...FAST,
      onPoll: async (event) => {
        if (!interfered && event.taskStatus === 'RUNNING') {
          interfered = true;
          // Someone else moves the route: the attempt ends TERMINAL and leaves it alone.
          await jsonPatchVirtualService(namespace, 'restart-stage', [{ op: 'replace', path: '/spec/http/1/route/0/weight', value: 90 }, { op: 'replace', path: '/spec/http/1/route/1/weight', value: 0 }]);
        }
      },
    },
  });
  expect(failed.status).toBe('TERMINAL');
  await jsonPatchVirtualService(namespace, 'restart-stage', [{ op: 'replace', path: '/spec/http/1/route/0/weight', value: 100 }, { op: 'replace', path: '/spec/http/1/route/2/weight', value: 0 }]);

  const restarted = await runWebhookStage({ ...input, options: FAST, restartOf: { context: failed.context, restartTime: Date.now(), user: 'ana' } });
  expect(restarted.status).toBe('SUCCEEDED');
  const body = restarted.context.webhook?.monitor?.body as { id: string; attempts: Array<{ status: string }> };
  expect(body.id).not.toBe((failed.context.webhook?.body as { id: string }).id);
  expect(body.attempts.map((a) => a.status)).toEqual(['TERMINAL', 'SUCCEEDED']);
  expect(await weightsNow('restart-stage')).toEqual([100, 0, 0]);
}, 120_000);
