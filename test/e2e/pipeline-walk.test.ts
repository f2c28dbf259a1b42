/**
 * The generated canary pipeline, walked stage by stage on the real kube-apiserver: the manifest
 * stages through the stage simulator (test/e2e/pipeline-simulator.ts, which says what of Orca it
 * simulates), the Istio Traffic Shift stages through the Orca webhook driver against the real
 * stage service process, for a healthy and a failing canary.
 *
 * The pipeline is rendered from the example's own spin/config.json and k8s/ with only what a test
 * must change (account, namespace, short steps, no metric judge: there is no Prometheus with
 * checkout traffic here), and its stage graph is checked equal to the committed example's first.
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { RESTART_EXPRESSION } from '@istio-shift/core';
import { render, STAGE_NAMES } from '@istio-shift/pipelines';
import type { Pipeline } from '@istio-shift/pipelines';
import { runWebhookStage, FAST, PollEvent } from '../orca/driver';
import { loadPreconfiguredWebhook } from '../orca/webhook-config';
import { adminKubeConfig, apiError, createNamespace, getVirtualService, jsonPatchVirtualService } from '../cluster/test-helpers';
import { freePort, primaryWeights } from '../../stage-service/test/support';
import { ServiceProcess, serviceProcess } from './service-process';
import { ShiftRunner, SimPipeline, StageRecord, UnsupportedPipelineError, dockerArtifact, evaluateStageExpression, topologicalOrder, walkPipeline } from './pipeline-simulator';

const EXAMPLE = path.resolve(__dirname, '../../examples/checkout');
const ACCOUNT = 'walk-cluster';
const RELEASE_IMAGE = 'ghcr.io/shop/checkout:v1.4.2'; // what examples/checkout/k8s/deployment.yaml runs
const NEW_IMAGE = 'ghcr.io/shop/checkout:v1.5.0'; // what the trigger brings

const namespaces: Record<'healthy' | 'failing', string> = { healthy: '', failing: '' };
const cleanups: Array<() => Promise<void>> = [];
let service: ServiceProcess;
const kc = adminKubeConfig();
const apps = kc.makeApiClient(k8s.AppsV1Api);

beforeAll(async () => {
  for (const outcome of ['healthy', 'failing'] as const) {
    const { name, cleanup } = await createNamespace(`walk-${outcome}`);
    namespaces[outcome] = name;
    cleanups.push(cleanup);
  }
  service = serviceProcess(await freePort(), [{ name: ACCOUNT, namespaces: Object.values(namespaces) }]);
  await service.start();
}, 60_000);

afterAll(async () => {
  await service?.stop();
  for (const cleanup of cleanups) await cleanup();
});

function exampleManifests() {
  const dir = path.join(EXAMPLE, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ file: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') }));
}

/** The example's canary pipeline, for `namespace`, with steps short enough for a test. */
function walkPipelineFor(namespace: string): Pipeline {
  const params = JSON.parse(readFileSync(path.join(EXAMPLE, 'spin/config.json'), 'utf8'));
  Object.assign(params, {
    account: ACCOUNT,
    namespace,
    steps: [{ weights: [80, 10, 10], analysis: '1s' }, { weights: [34, 33, 33], analysis: '1s' }],
    judge: { type: 'none' },
  });
  const result = render({ paramsFile: 'spin/config.json', paramsText: JSON.stringify(params), manifestsDir: 'k8s', manifests: exampleManifests() });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.files[0].pipeline;
}

/** What decides the walk: the DAG, the names, the conditions, the failure options, the manifests. */
const graph = (p: Pipeline) =>
  p.stages.map((s) => ({
    refId: s.refId, type: s.type, name: s.name, requisiteStageRefIds: s.requisiteStageRefIds,
    stageEnabled: s.stageEnabled, failPipeline: s.failPipeline, continuePipeline: s.continuePipeline,
    completeOtherBranchesThenFail: s.completeOtherBranchesThenFail, preconditions: s.preconditions,
    manifests: s.manifests, manifestName: s.manifestName, requiredArtifactIds: s.requiredArtifactIds, expectedArtifacts: s.expectedArtifacts,
  }));

/** The team's first deploy: the example's k8s/ objects as committed (release on the old image, route 100/0/0). */
async function deployExample(namespace: string): Promise<void> {
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const { text } of exampleManifests()) {
    const object = parseYaml(text);
    object.metadata.namespace = namespace;
    await objects.patch(object, undefined, undefined, 'team-kubectl', true, k8s.PatchStrategy.ServerSideApply);
  }
}

const imageOf = async (namespace: string, name: string) =>
  (await apps.readNamespacedDeployment({ name, namespace })).spec!.template.spec!.containers[0].image;
const deploymentGone = async (namespace: string, name: string) =>
  apps.readNamespacedDeployment({ name, namespace }).then(() => false, (err) => apiError(err)?.code === 404 || Promise.reject(err));

/** Makes the canary fail mid-shift: another writer changes the route, the service stops (TERMINAL) without overwriting it. */
function anotherWriterEditsTheRoute(namespace: string) {
  let edited = false;
  return async (event: PollEvent) => {
    if (edited || (event.body as { currentStep?: number })?.currentStep !== 2) return;
    edited = true;
    await jsonPatchVirtualService(namespace, 'checkout', [
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 90 },
      { op: 'replace', path: '/spec/http/0/route/1/weight', value: 5 },
      { op: 'replace', path: '/spec/http/0/route/2/weight', value: 5 },
    ]);
  };
}

/** Runs "Istio Traffic Shift" stages with the Orca driver; `sabotage` (if any) polls along with the canary shift only. */
function shiftRunner(sabotage?: (event: PollEvent) => Promise<void>): ShiftRunner {
  return async (stage, execution) => {
    const result = await runWebhookStage({
      preconfigured: loadPreconfiguredWebhook(service.baseUrl, service.token),
      stage,
      execution: { ...execution },
      options: { ...FAST, monitorTimeoutMs: 90_000, onPoll: stage.name === STAGE_NAMES.shift ? sabotage : undefined },
    });
    // Only `restartedAt` may stay unevaluated (no restart yet: Orca leaves it, the service reads it as 0).
    expect(result.expressionErrors.map((e) => e.expression).filter((e) => e !== RESTART_EXPRESSION)).toEqual([]);
    return { status: result.status, detail: result.context.webhook?.monitor?.progressMessage };
  };
}

async function walk(outcome: 'healthy' | 'failing', runShift: ShiftRunner) {
  const namespace = namespaces[outcome];
  const pipeline = walkPipelineFor(namespace);
  await deployExample(namespace);
  const imagesWhileShifting: Record<string, string | undefined> = {};
  const result = await walkPipeline({
    pipeline: pipeline as unknown as SimPipeline,
    execution: { id: `01WALK${outcome.toUpperCase()}`, application: pipeline.application, trigger: { type: 'docker', user: 'anonymous', artifacts: [dockerArtifact(NEW_IMAGE)] } },
    kubeConfig: kc,
    runShift,
    afterStage: async (record: StageRecord) => {
      if (record.name === STAGE_NAMES.deployCanary) {
        for (const name of ['checkout', 'checkout-baseline', 'checkout-canary']) imagesWhileShifting[name] = await imageOf(namespace, name);
      }
    },
  });
  return { namespace, result, imagesWhileShifting, statuses: Object.fromEntries(result.stages.map((s) => [s.name, s.status])) };
}

it('walks the committed example graph (only account, namespace and step lengths differ)', () => {
  const committed = JSON.parse(readFileSync(path.join(EXAMPLE, 'pipelines/checkout-canary.json'), 'utf8')) as Pipeline;
  const walked = walkPipelineFor('shop');
  const withoutAccount = (p: Pipeline) => JSON.parse(JSON.stringify(graph(p)).split(`"${ACCOUNT}"`).join('"prod-k8s"'));
  expect(withoutAccount(walked)).toEqual(graph(committed));
  expect(topologicalOrder(walked.stages).map((s) => s.refId)).toEqual(['1', '2', '3', '4', '6', '7', '8', '9', '10']);
});

it('healthy canary: release rolled to the new image, route 100/0/0, baseline and canary gone, SUCCEEDED', async () => {
  const { namespace, result, imagesWhileShifting, statuses } = await walk('healthy', shiftRunner());
  expect(statuses).toEqual({
    [STAGE_NAMES.findImage]: 'SUCCEEDED',
    [STAGE_NAMES.deployBaseline]: 'SUCCEEDED',
    [STAGE_NAMES.deployCanary]: 'SUCCEEDED',
    [STAGE_NAMES.shift]: 'SUCCEEDED',
    [STAGE_NAMES.rollout]: 'SUCCEEDED',
    [STAGE_NAMES.restore]: 'SKIPPED',
    [STAGE_NAMES.deleteBaseline]: 'SUCCEEDED',
    [STAGE_NAMES.deleteCanary]: 'SUCCEEDED',
    [STAGE_NAMES.verdict]: 'SUCCEEDED',
  });
  expect(result.status).toBe('SUCCEEDED');
  // Baseline = the release's image found at run time; canary = the trigger's image.
  expect(imagesWhileShifting).toEqual({ checkout: RELEASE_IMAGE, 'checkout-baseline': RELEASE_IMAGE, 'checkout-canary': NEW_IMAGE });
  expect(result.stages.find((s) => s.name === STAGE_NAMES.shift)?.detail).toBe('completed 3 of 3 steps: release 100, baseline 0, canary 0');
  expect(await imageOf(namespace, 'checkout')).toBe(NEW_IMAGE);
  expect(primaryWeights(await getVirtualService(namespace, 'checkout'))).toEqual([100, 0, 0]);
  expect(await deploymentGone(namespace, 'checkout-baseline')).toBe(true);
  expect(await deploymentGone(namespace, 'checkout-canary')).toBe(true);
}, 180_000);

it('failing canary: release unchanged at 100, baseline and canary gone, the pipeline fails at the verdict', async () => {
  // How the canary fails. With a metric judge, an analysis failure ends the shift stage TERMINAL
  // the same way: replace this line with a runner whose analysis fails.
  const failCanary = shiftRunner(anotherWriterEditsTheRoute(namespaces.failing));
  const { namespace, result, statuses } = await walk('failing', failCanary);
  expect(statuses).toEqual({
    [STAGE_NAMES.findImage]: 'SUCCEEDED',
    [STAGE_NAMES.deployBaseline]: 'SUCCEEDED',
    [STAGE_NAMES.deployCanary]: 'SUCCEEDED',
    [STAGE_NAMES.shift]: 'FAILED_CONTINUE',
    [STAGE_NAMES.rollout]: 'SKIPPED',
    [STAGE_NAMES.restore]: 'SUCCEEDED',
    [STAGE_NAMES.deleteBaseline]: 'SUCCEEDED',
    [STAGE_NAMES.deleteCanary]: 'SUCCEEDED',
    [STAGE_NAMES.verdict]: 'TERMINAL',
  });
  expect(result.status).toBe('TERMINAL'); // Orca's status of a failed pipeline
  expect(result.stages.find((s) => s.name === STAGE_NAMES.shift)?.detail).toMatch(/another writer changed HTTP route "primary"/);
  expect(result.stages.find((s) => s.name === STAGE_NAMES.verdict)?.detail).toMatch(/^The canary failed/);
  expect(await imageOf(namespace, 'checkout')).toBe(RELEASE_IMAGE);
  expect(primaryWeights(await getVirtualService(namespace, 'checkout'))).toEqual([100, 0, 0]);
  expect(await deploymentGone(namespace, 'checkout-baseline')).toBe(true);
  expect(await deploymentGone(namespace, 'checkout-canary')).toBe(true);
}, 180_000);

describe('the simulator refuses what it does not simulate', () => {
  const statusOf = () => 'SUCCEEDED' as const;
  it.each([
    ["#stage('a')['status'].toString() == 'SUCCEEDED' || true"],
    ["#stage('a').status == 'SUCCEEDED'"],
    ['${trigger.type == "docker"}'],
  ])('expression %s', (expression) => {
    expect(() => evaluateStageExpression(expression, statusOf)).toThrow(UnsupportedPipelineError);
  });

  it('evaluates the forms the generator emits', () => {
    const status = (name: string) => (name === 'ok' ? 'SUCCEEDED' : 'FAILED_CONTINUE');
    expect(evaluateStageExpression("#stage('ok')['status'].toString() == 'SUCCEEDED'", status)).toBe(true);
    expect(evaluateStageExpression("!(#stage('bad')['status'].toString() == 'SUCCEEDED')", status)).toBe(true);
    expect(evaluateStageExpression("${#stage('ok')['status'].toString() == 'SUCCEEDED' && #stage('bad')['status'].toString() == 'SUCCEEDED'}", status)).toBe(false);
  });

  it('a cycle in requisiteStageRefIds', () => {
    const stage = (refId: string, requires: string[]) => ({ refId, type: 'deleteManifest', name: refId, requisiteStageRefIds: requires });
    expect(() => topologicalOrder([stage('1', ['2']), stage('2', ['1'])])).toThrow(/cycle among 1, 2/);
  });
});
