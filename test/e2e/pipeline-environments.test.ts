/**
 * The multi-environment example (examples/checkout/spin/config.multi-env.json: staging, then prod
 * behind a manual judgment) walked on the real kube-apiserver with the official Istio CRDs: manifest
 * stages in test/e2e/pipeline-simulator.ts, the Istio Traffic Shift stages through the Orca webhook
 * driver against the real stage service. Only accounts, namespaces, the judge (none) and the step
 * timings differ from the committed example, whose stage graph is checked equal first.
 *
 * 1. Nothing deployed anywhere: staging's first deploy, the judge approves, prod's first deploy.
 * 2. A new image: staging's canary passes, the judge approves, prod's canary runs on the same image.
 * 3. Another image: staging's canary passes, the judge stops: prod keeps its image, untouched.
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { RESTART_EXPRESSION } from '@istio-shift/core';
import { render, stageNamesFor } from '@istio-shift/pipelines';
import type { Pipeline } from '@istio-shift/pipelines';
import { runWebhookStage, FAST } from '../orca/driver';
import { loadPreconfiguredWebhook } from '../orca/webhook-config';
import { adminKubeConfig, createNamespace, getVirtualService } from '../cluster/test-helpers';
import { freePort, primaryWeights } from '../../stage-service/test/support';
import { ServiceProcess, serviceProcess } from './service-process';
import { ShiftRunner, SimPipeline, SimStage, dockerArtifact, walkPipeline } from './pipeline-simulator';

const EXAMPLE = path.resolve(__dirname, '../../examples/checkout');
const ENVIRONMENTS = ['staging', 'prod'] as const;
type Environment = (typeof ENVIRONMENTS)[number];
const IMAGES = ['ghcr.io/shop/checkout:v1.4.2', 'ghcr.io/shop/checkout:v1.5.0', 'ghcr.io/shop/checkout:v1.6.0'];

const namespaces: Record<Environment, string> = { staging: '', prod: '' };
const accounts: Record<Environment, string> = { staging: 'env-staging-cluster', prod: 'env-prod-cluster' };
const cleanups: Array<() => Promise<void>> = [];
let service: ServiceProcess;
const kc = adminKubeConfig();
const apps = kc.makeApiClient(k8s.AppsV1Api);

beforeAll(async () => {
  for (const environment of ENVIRONMENTS) {
    const { name, cleanup } = await createNamespace(`env-${environment}`);
    namespaces[environment] = name;
    cleanups.push(cleanup);
  }
  service = serviceProcess(await freePort(), ENVIRONMENTS.map((e) => ({ name: accounts[e], namespaces: [namespaces[e]] })));
  await service.start();
}, 90_000);

afterAll(async () => {
  await service?.stop();
  for (const cleanup of cleanups) await cleanup();
});

const exampleParams = () => JSON.parse(readFileSync(path.join(EXAMPLE, 'spin/config.multi-env.json'), 'utf8'));
function manifests() {
  const dir = path.join(EXAMPLE, 'k8s');
  return readdirSync(dir).sort().map((f) => ({ file: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') }));
}
function canaryOf(params: unknown): Pipeline {
  const result = render({ paramsFile: 'spin/config.multi-env.json', paramsText: JSON.stringify(params), manifestsDir: 'k8s', manifests: manifests() });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.files[0].pipeline;
}

/** The example for the test's namespaces and accounts; no judge, one short step in each environment. */
function testPipeline(): Pipeline {
  const params = exampleParams();
  params.judge = { type: 'none' };
  params.environments = params.environments.map((e: { name: Environment }) => ({ ...e, account: accounts[e.name], namespace: namespaces[e.name], steps: [{ weights: [50, 25, 25], analysis: '2s' }] }));
  return canaryOf(params);
}

const graph = (p: Pipeline) => p.stages.map((s) => ({ refId: s.refId, type: s.type, name: s.name, requisiteStageRefIds: s.requisiteStageRefIds, stageEnabled: s.stageEnabled, requiredArtifactIds: s.requiredArtifactIds }));

const runShift: ShiftRunner = async (stage, execution) => {
  const result = await runWebhookStage({ preconfigured: loadPreconfiguredWebhook(service.baseUrl, service.token), stage, execution: { ...execution }, options: { ...FAST, monitorTimeoutMs: 90_000 } });
  expect(result.expressionErrors.map((e) => e.expression).filter((e) => e !== RESTART_EXPRESSION)).toEqual([]);
  return { status: result.status, detail: result.context.webhook?.monitor?.progressMessage };
};

/** Walks the pipeline for a pushed image; `approve` answers prod's manual judgment. */
async function run(image: string, approve: boolean, id: string) {
  const judged: string[] = [];
  const p = testPipeline();
  const result = await walkPipeline({
    pipeline: p as unknown as SimPipeline,
    execution: { id, application: p.application, trigger: { type: 'docker', user: 'anonymous', artifacts: [dockerArtifact(image)] } },
    kubeConfig: kc,
    runShift,
    judge: async (stage: SimStage) => {
      judged.push(stage.name);
      // What the approver sees: staging already runs the image prod is asked to take.
      expect(await imageOf('staging', 'checkout')).toBe(image);
      return approve ? 'continue' : 'stop';
    },
  });
  return { result, judged, statuses: Object.fromEntries(result.stages.map((s) => [s.name, s.status])) };
}

const imageOf = async (environment: Environment, name: string) =>
  (await apps.readNamespacedDeployment({ name, namespace: namespaces[environment] })).spec!.template.spec!.containers[0].image;
const staging = stageNamesFor('staging');
const prod = stageNamesFor('prod');

it('walks the committed multi-environment graph (only accounts, namespaces, judge and timings differ)', () => {
  const committed = JSON.parse(readFileSync(path.join(EXAMPLE, 'pipelines-multi-env/checkout-canary.json'), 'utf8')) as Pipeline;
  const unchangedTimings = exampleParams();
  unchangedTimings.environments = unchangedTimings.environments.map((e: { name: Environment }) => ({ ...e, account: accounts[e.name], namespace: namespaces[e.name] }));
  const walked = testPipeline();
  expect(graph(walked)).toEqual(graph(committed));
  expect(graph(canaryOf(unchangedTimings))).toEqual(graph(committed));
});

it('nothing deployed yet: staging is deployed directly, the judge approves, then prod is deployed directly with the same image', async () => {
  const { result, judged, statuses } = await run(IMAGES[0], true, '01ENVFIRST');
  expect(result.status).toBe('SUCCEEDED');
  expect(judged).toEqual([prod.approve]);
  for (const names of [staging, prod]) {
    expect(statuses).toMatchObject({ [names.findImage]: 'FAILED_CONTINUE', [names.checkAbsent]: 'SUCCEEDED', [names.firstDeploy]: 'SUCCEEDED', [names.firstRoute]: 'SUCCEEDED', [names.shift]: 'SKIPPED', [names.verdict]: 'SKIPPED' });
  }
  expect(await imageOf('staging', 'checkout')).toBe(IMAGES[0]);
  expect(await imageOf('prod', 'checkout')).toBe(IMAGES[0]);
}, 120_000);

it('a new image: staging canary, approval, prod canary on the exact image that passed staging', async () => {
  const { result, judged, statuses } = await run(IMAGES[1], true, '01ENVSECOND');
  expect(result.status).toBe('SUCCEEDED');
  expect(judged).toEqual([prod.approve]);
  for (const names of [staging, prod]) {
    expect(statuses).toMatchObject({ [names.findImage]: 'SUCCEEDED', [names.checkAbsent]: 'SKIPPED', [names.firstDeploy]: 'SKIPPED', [names.shift]: 'SUCCEEDED', [names.rollout]: 'SUCCEEDED', [names.applyRoute]: 'SUCCEEDED', [names.verdict]: 'SUCCEEDED' });
  }
  expect(result.stages.find((s) => s.name === prod.deployCanary)?.detail).toContain(IMAGES[1]);
  expect(result.stages.find((s) => s.name === prod.deployBaseline)?.detail).toContain(IMAGES[0]); // prod's own release image
  expect(await imageOf('staging', 'checkout')).toBe(IMAGES[1]);
  expect(await imageOf('prod', 'checkout')).toBe(IMAGES[1]);
  for (const environment of ENVIRONMENTS) expect(primaryWeights(await getVirtualService(namespaces[environment], 'checkout'))).toEqual([100, 0, 0]);
}, 180_000);

it('the judge stops: staging has the new image, prod keeps its own and nothing of prod ran', async () => {
  const { result, statuses } = await run(IMAGES[2], false, '01ENVSTOP');
  expect(result.status).toBe('TERMINAL');
  expect(statuses[staging.verdict]).toBe('SUCCEEDED');
  expect(statuses[prod.approve]).toBe('TERMINAL');
  expect(Object.entries(statuses).filter(([name, status]) => name.startsWith('prod: ') && name !== prod.approve && status !== 'NOT_STARTED')).toEqual([]);
  expect(await imageOf('staging', 'checkout')).toBe(IMAGES[2]);
  expect(await imageOf('prod', 'checkout')).toBe(IMAGES[1]);
}, 180_000);
