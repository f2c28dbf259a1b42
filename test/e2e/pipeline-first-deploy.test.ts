/**
 * The generated canary pipeline on an empty namespace and then again, on the real kube-apiserver
 * with the official Istio CRDs: the first run finds no release (the find stage fails with the 404
 * Clouddriver answers, which Orca records in the stage context) and deploys the whole app directly,
 * release on the trigger's image and the route as written, with no canary; the second run is a
 * canary as usual, and while its shift is moving the route's weights, the pipeline's deploy of the
 * rest of k8s/ ("Deploy app objects") leaves the route's weights and the shift's annotation as
 * they are.
 *
 * Manifest stages run in test/e2e/pipeline-simulator.ts; the Istio Traffic Shift stages through the
 * Orca webhook driver against the real stage service. No analysis (judge none): this is about
 * what is deployed, not about the judge (test/e2e/pipeline-walk.test.ts walks that).
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { RESTART_EXPRESSION } from '@istio-shift/core';
import { render, STAGE_NAMES } from '@istio-shift/pipelines';
import type { Pipeline } from '@istio-shift/pipelines';
import { runWebhookStage, FAST, PollEvent } from '../orca/driver';
import { loadPreconfiguredWebhook } from '../orca/webhook-config';
import { adminKubeConfig, createNamespace, getVirtualService } from '../cluster/test-helpers';
import { freePort, primaryWeights } from '../../stage-service/test/support';
import { STATE_ANNOTATION } from '../../stage-service/src/engine/record';
import { ServiceProcess, serviceProcess } from './service-process';
import { ShiftRunner, SimPipeline, SimStage, dockerArtifact, walkPipeline } from './pipeline-simulator';

const EXAMPLE = path.resolve(__dirname, '../../examples/checkout');
const ACCOUNT = 'first-deploy-cluster';
const FIRST_IMAGE = 'ghcr.io/shop/checkout:v1.4.2';
const NEXT_IMAGE = 'ghcr.io/shop/checkout:v1.5.0';

let namespace: string;
let cleanup: () => Promise<void>;
let service: ServiceProcess;
const kc = adminKubeConfig();
const apps = kc.makeApiClient(k8s.AppsV1Api);
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('first-deploy'));
  service = serviceProcess(await freePort(), [{ name: ACCOUNT, namespaces: [namespace] }]);
  await service.start();
}, 90_000);

afterAll(async () => {
  await service?.stop();
  await cleanup?.();
});

/** The example's canary pipeline for this namespace: no judge, one short step (long enough to act in). */
function pipeline(): Pipeline {
  const params = JSON.parse(readFileSync(path.join(EXAMPLE, 'spin/config.json'), 'utf8'));
  Object.assign(params, { account: ACCOUNT, namespace, judge: { type: 'none' }, steps: [{ weights: [80, 10, 10], analysis: '6s' }] });
  const dir = path.join(EXAMPLE, 'k8s');
  const manifests = readdirSync(dir).sort().map((f) => ({ file: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') }));
  const result = render({ paramsFile: 'spin/config.json', paramsText: JSON.stringify(params), manifestsDir: 'k8s', manifests });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.files[0].pipeline;
}

function shiftRunner(onPoll?: (event: PollEvent) => Promise<void>): ShiftRunner {
  return async (stage, execution) => {
    const result = await runWebhookStage({
      preconfigured: loadPreconfiguredWebhook(service.baseUrl, service.token),
      stage,
      execution: { ...execution },
      options: { ...FAST, monitorTimeoutMs: 90_000, onPoll: stage.name === STAGE_NAMES.shift ? onPoll : undefined },
    });
    expect(result.expressionErrors.map((e) => e.expression).filter((e) => e !== RESTART_EXPRESSION)).toEqual([]);
    return { status: result.status, detail: result.context.webhook?.monitor?.progressMessage };
  };
}

const walk = (p: Pipeline, image: string, id: string, runShift: ShiftRunner) =>
  walkPipeline({
    pipeline: p as unknown as SimPipeline,
    execution: { id, application: p.application, trigger: { type: 'docker', user: 'anonymous', artifacts: [dockerArtifact(image)] } },
    kubeConfig: kc,
    runShift,
  });

const statuses = (result: Awaited<ReturnType<typeof walk>>) => Object.fromEntries(result.stages.map((s) => [s.name, s.status]));
const imageOf = async (name: string) => (await apps.readNamespacedDeployment({ name, namespace })).spec!.template.spec!.containers[0].image;
const exists = (apiVersion: string, kind: string, name: string) =>
  objects.read({ apiVersion, kind, metadata: { name, namespace } }).then(() => true, () => false);

/** What a shift must keep: the route's weights and the annotations (the shift's record among them). */
async function routeState() {
  const vs = await getVirtualService(namespace, 'checkout');
  return { weights: primaryWeights(vs), annotations: vs.metadata?.annotations ?? {} };
}

it('first run, nothing deployed yet: the find stage gets a 404, and the whole app is deployed directly (no canary)', async () => {
  const runShift: ShiftRunner = async (stage) => {
    throw new Error(`no shift may run on a first deploy (${stage.name})`);
  };
  const result = await walk(pipeline(), FIRST_IMAGE, '01FIRSTDEPLOY', runShift);
  expect(statuses(result)).toEqual({
    [STAGE_NAMES.findImage]: 'FAILED_CONTINUE',
    [STAGE_NAMES.checkAbsent]: 'SUCCEEDED',
    [STAGE_NAMES.deployApp]: 'SUCCEEDED',
    [STAGE_NAMES.firstDeploy]: 'SUCCEEDED',
    [STAGE_NAMES.firstRoute]: 'SUCCEEDED',
    [STAGE_NAMES.deployBaseline]: 'SKIPPED',
    [STAGE_NAMES.deployCanary]: 'SKIPPED',
    [STAGE_NAMES.shift]: 'SKIPPED',
    [STAGE_NAMES.rollout]: 'SKIPPED',
    [STAGE_NAMES.applyRoute]: 'SKIPPED',
    [STAGE_NAMES.restore]: 'SKIPPED',
    [STAGE_NAMES.deleteBaseline]: 'SUCCEEDED',
    [STAGE_NAMES.deleteCanary]: 'SUCCEEDED',
    [STAGE_NAMES.verdict]: 'SKIPPED',
  });
  expect(result.status).toBe('SUCCEEDED');
  expect(result.stages.find((s) => s.name === STAGE_NAMES.findImage)?.detail).toMatch(/404/);
  expect(await imageOf('checkout')).toBe(FIRST_IMAGE);
  expect(await exists('v1', 'Service', 'checkout')).toBe(true);
  expect(await exists('networking.istio.io/v1', 'DestinationRule', 'checkout')).toBe(true);
  expect((await routeState()).weights).toEqual([100, 0, 0]);
  expect(await exists('apps/v1', 'Deployment', 'checkout-canary')).toBe(false);
}, 120_000);

it('second run: a canary as usual; deploying the rest of k8s/ while the shift moves the route keeps its weights and the shift annotation', async () => {
  const p = pipeline();
  const deployApp = p.stages.find((s) => s.name === STAGE_NAMES.deployApp)!;
  expect((deployApp.manifests as Array<{ kind: string }>).map((m) => m.kind).sort()).toEqual(['DestinationRule', 'Service']);
  const during: Array<{ before: Awaited<ReturnType<typeof routeState>>; after: Awaited<ReturnType<typeof routeState>> }> = [];
  const deployRestOfAppMidShift = async () => {
    if (during.length) return;
    const before = await routeState();
    if (before.weights[0] === 100) return; // the shift has not moved the route yet
    // The pipeline's own stage, run on its own while the shift is in progress.
    const alone = { application: p.application, stages: [{ ...deployApp, requisiteStageRefIds: [] } as SimStage] };
    const applied = await walkPipeline({ pipeline: alone, execution: { id: '01APPDEPLOY', application: p.application, trigger: { type: 'manual', artifacts: [] } }, kubeConfig: kc, runShift: async () => ({ status: 'TERMINAL' }) });
    expect(applied.status).toBe('SUCCEEDED');
    during.push({ before, after: await routeState() });
  };
  const result = await walk(p, NEXT_IMAGE, '01SECONDRUN', shiftRunner(deployRestOfAppMidShift));
  expect(statuses(result)).toMatchObject({
    [STAGE_NAMES.findImage]: 'SUCCEEDED',
    [STAGE_NAMES.checkAbsent]: 'SKIPPED',
    [STAGE_NAMES.deployApp]: 'SUCCEEDED',
    [STAGE_NAMES.firstDeploy]: 'SKIPPED',
    [STAGE_NAMES.firstRoute]: 'SKIPPED',
    [STAGE_NAMES.shift]: 'SUCCEEDED',
    [STAGE_NAMES.rollout]: 'SUCCEEDED',
    [STAGE_NAMES.applyRoute]: 'SUCCEEDED',
    [STAGE_NAMES.restore]: 'SKIPPED',
    [STAGE_NAMES.verdict]: 'SUCCEEDED',
  });
  expect(result.status).toBe('SUCCEEDED');
  expect(during).toHaveLength(1);
  const [{ before, after }] = during;
  expect(before.weights).toEqual([80, 10, 10]);
  expect(before.annotations[STATE_ANNOTATION]).toContain('01SECONDRUN'); // the running shift's record
  expect(after).toEqual(before);
  expect(await imageOf('checkout')).toBe(NEXT_IMAGE);
  expect((await routeState()).weights).toEqual([100, 0, 0]);
}, 180_000);
