/**
 * The stage JSON the Deck editor saves (the fixture the browser test asserts) is exactly what
 * the service accepts: it passes the service's validator once Orca has evaluated its SpEL, and
 * through the Orca driver it runs a shift on the real API server.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import * as k8s from '@kubernetes/client-node';
import { validateShiftSpec } from '@istio-shift/core';
import { runWebhookStage, FAST, StageJson } from '../orca/driver';
import { loadPreconfiguredWebhook } from '../orca/webhook-config';
import { adminKubeConfig, apiError, applyVirtualService, getVirtualService, VS } from '../cluster/test-helpers';
import { checkoutVirtualService, freePort, primaryWeights } from '../../stage-service/test/support';
import { ServiceProcess, serviceProcess } from './service-process';

const savedStage = (): StageJson => JSON.parse(readFileSync(join(__dirname, '..', '..', 'deck-plugin', 'test', 'fixtures', 'saved-stage.json'), 'utf8'));

let service: ServiceProcess;
let namespace: string;

beforeAll(async () => {
  const stage = savedStage() as { payload: { account: string; namespace: string } };
  namespace = stage.payload.namespace;
  // The editor's account and namespace, exactly as saved: the operator maps the account.
  const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch((error) => {
    if (apiError(error)?.code !== 409) throw error;
  });
  const custom = adminKubeConfig().makeApiClient(k8s.CustomObjectsApi);
  await custom.deleteNamespacedCustomObject({ ...VS, namespace, name: 'checkout' }).catch((error) => {
    if (apiError(error)?.code !== 404) throw error;
  });
  await applyVirtualService(namespace, checkoutVirtualService(namespace));
  service = serviceProcess(await freePort(), [{ name: stage.payload.account, namespaces: [namespace] }]);
  await service.start();
});

afterAll(async () => service?.stop());

it('is a valid spec once Orca has evaluated ${execution.id}, and carries no URL or secret', () => {
  const stage = savedStage();
  const text = JSON.stringify(stage);
  expect(text).not.toMatch(/https?:|token|Bearer|Authorization/i);
  const payload = JSON.parse(text.replace('${execution.id}', '01DECKSTAGE')).payload;
  const result = validateShiftSpec(payload);
  expect(result.problems).toEqual([]);
  expect(payload.stageRef).toBe(stage.refId);
  // Long enough for every pause (Orca's monitor gives up after 1 h otherwise).
  const pauses = result.ok ? result.spec.steps.reduce((sum, step) => sum + step.pauseSeconds, 0) : 0;
  expect(stage.stageTimeoutMs).toBeGreaterThan(pauses * 1000);
});

it('runs through the Orca driver against the real API server', async () => {
  const stage = savedStage() as StageJson & { payload: { steps: Array<{ pause?: string }> } };
  // Real time cannot wait 1.5 h: only the pauses are shortened, everything else is as saved.
  stage.payload.steps.forEach((step) => step.pause && (step.pause = '1s'));
  const executionId = `01DECK${Date.now()}`;
  const result = await runWebhookStage({
    preconfigured: loadPreconfiguredWebhook(service.baseUrl, service.token),
    stage,
    execution: { id: executionId, application: 'checkout' },
    options: FAST,
  });
  expect(result.status).toBe('SUCCEEDED');
  const body = result.context.webhook?.monitor?.body as { executionId: string; stageRef: string; currentWeights: number[] };
  expect(body).toMatchObject({ executionId, stageRef: stage.refId, currentWeights: (stage.payload as any).steps.at(-1).weights });
  expect(primaryWeights(await getVirtualService(namespace, 'checkout'))).toEqual((stage.payload as any).steps.at(-1).weights);
});
