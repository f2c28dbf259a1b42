/**
 * The generated canary pipeline, walked stage by stage on the real kube-apiserver: the manifest
 * stages through the stage simulator (test/e2e/pipeline-simulator.ts, which says what of Orca it
 * simulates), the Istio Traffic Shift stages through the Orca webhook driver against the real
 * stage service process, whose canary analysis queries a real Prometheus: a healthy canary, one
 * that fails its analysis, and one whose route another writer changes mid-shift.
 *
 * The pipeline is rendered from the example's own spin/config.json and k8s/ with only what a test
 * must change (account, namespace, short steps, and the analysis' warm-up and interval), and its
 * stage graph and analysis are checked equal to the committed example's first. Prometheus scrapes
 * the live mesh exporter (test/prometheus/exporter.ts), which serves Istio and cAdvisor series for
 * the workloads the generator names in the analysis scopes; the pod-status metrics read pods that
 * test/e2e/workload-pods.ts creates as the ReplicaSet controller and kubelet would.
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { render, STAGE_NAMES } from '@istio-shift/pipelines';
import type { Pipeline } from '@istio-shift/pipelines';
import { runWebhookStage, FAST, PollEvent } from '../orca/driver';
import { loadPreconfiguredWebhook } from '../orca/webhook-config';
import { adminKubeConfig, apiError, createNamespace, getVirtualService, jsonPatchVirtualService } from '../cluster/test-helpers';
import { freePort, primaryWeights } from '../../stage-service/test/support';
import { RunningPrometheus, startPrometheus } from '../prometheus/harness';
import { TestExporter, startExporter } from '../prometheus/exporter';
import { ResourceProfile, TrafficProfile } from '../prometheus/mesh-model';
import { ServiceProcess, serviceProcess } from './service-process';
import { ShiftRunner, SimPipeline, StageRecord, UnevaluableExpression, UnsupportedPipelineError, dockerArtifact, evaluateStageExpression, topologicalOrder, walkPipeline } from './pipeline-simulator';
import { podNameFor, runDeploymentPod } from './workload-pods';

const EXAMPLE = path.resolve(__dirname, '../../examples/checkout');
const ACCOUNT = 'walk-cluster';
const RELEASE_IMAGE = 'ghcr.io/shop/checkout:v1.4.2'; // what examples/checkout/k8s/deployment.yaml runs
const NEW_IMAGE = 'ghcr.io/shop/checkout:v1.5.0'; // what the trigger brings
const SOURCE = 'prometheus'; // the metrics source the generator's analysis names (params judge.source default)
const CANARY = 'checkout-canary';
const BASELINE = 'checkout-baseline';

const HEALTHY: TrafficProfile = { rps: 50, errorRatio: 0.002, latencyMs: 20 };
const SPIKE: TrafficProfile = { ...HEALTHY, errorRatio: 0.08 }; // 8% 5xx, the canary only
const RESOURCES: ResourceProfile = { cpuCores: 0.25, memoryBytes: 256 * 2 ** 20 };

type Outcome = 'healthy' | 'failing' | 'conflict';
const namespaces: Record<Outcome, string> = { healthy: '', failing: '', conflict: '' };
const cleanups: Array<() => Promise<void>> = [];
let service: ServiceProcess;
let exporter: TestExporter;
let prometheus: RunningPrometheus;
const kc = adminKubeConfig();
const apps = kc.makeApiClient(k8s.AppsV1Api);

beforeAll(async () => {
  exporter = await startExporter();
  for (const outcome of ['healthy', 'failing', 'conflict'] as const) {
    const { name, cleanup } = await createNamespace(`walk-${outcome}`);
    namespaces[outcome] = name;
    cleanups.push(cleanup);
    // The mesh as the analysis scopes name it: equal, healthy traffic, except the failing canary's 5xx.
    exporter.define({ namespace: name, workload: CANARY, pods: [podNameFor(CANARY)], traffic: outcome === 'failing' ? SPIKE : HEALTHY, resources: RESOURCES });
    exporter.define({ namespace: name, workload: BASELINE, pods: [podNameFor(BASELINE)], traffic: HEALTHY, resources: RESOURCES });
  }
  prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalSeconds: 1 });
  await prometheus.waitForTargetsUp(30_000);
  service = serviceProcess(await freePort(), [{ name: ACCOUNT, namespaces: Object.values(namespaces) }], {
    metricsSources: [{ name: SOURCE, type: 'prometheus', url: prometheus.url, timeoutMs: 1500, accounts: [ACCOUNT] }],
  });
  await service.start();
}, 90_000);

afterAll(async () => {
  await service?.stop();
  await prometheus?.stop();
  await exporter?.close();
  for (const cleanup of cleanups) await cleanup();
});

function exampleManifests() {
  const dir = path.join(EXAMPLE, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ file: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') }));
}

/** The shift stage's payload (the stage JSON is loosely typed). */
const shiftPayload = (p: Pipeline) => (p.stages.find((s) => s.name === STAGE_NAMES.shift) as unknown as { payload: { steps: unknown[]; analysis: Record<string, unknown> } }).payload;

/**
 * The example's canary pipeline, for `namespace`, with the reference analysis the generator puts
 * in and timings short enough for a test: 80/10/10 for 2s warm-up + 6s analysis, 34/33/33 for 6s,
 * judged every 2s (three samples a window).
 */
function walkPipelineFor(namespace: string): Pipeline {
  const params = JSON.parse(readFileSync(path.join(EXAMPLE, 'spin/config.json'), 'utf8'));
  Object.assign(params, {
    account: ACCOUNT,
    namespace,
    steps: [{ weights: [80, 10, 10], warmup: '2s', analysis: '6s' }, { weights: [34, 33, 33], analysis: '6s' }],
  });
  const result = render({ paramsFile: 'spin/config.json', paramsText: JSON.stringify(params), manifestsDir: 'k8s', manifests: exampleManifests() });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const pipeline = result.files[0].pipeline;
  // The parameter file has no knob for the preset's interval (30s); the test shortens it in place.
  Object.assign(shiftPayload(pipeline).analysis, { warmup: '2s', interval: '2s' });
  return pipeline;
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

/** The last status body Orca stored for the canary shift (`webhook.monitor.body`). */
type ShiftBody = { status: string; failure?: { reason: string; message: string }; steps: Array<{ analysis?: { result: string; metrics: Array<{ name: string; classification: string }> } }> };

/**
 * Runs "Istio Traffic Shift" stages with the Orca driver and keeps each stage's last status body;
 * `sabotage` (if any) polls along with the canary shift only.
 */
function shiftRunner(sabotage?: (event: PollEvent) => Promise<void>): ShiftRunner & { bodies: Map<string, ShiftBody> } {
  const bodies = new Map<string, ShiftBody>();
  const run: ShiftRunner = async (stage, execution) => {
    const result = await runWebhookStage({
      preconfigured: loadPreconfiguredWebhook(service.baseUrl, service.token),
      stage,
      execution: { ...execution },
      options: { ...FAST, monitorTimeoutMs: 90_000, onPoll: stage.name === STAGE_NAMES.shift ? sabotage : undefined },
    });
    // Every expression evaluates (a missing key such as restartDetails reads as null, as in Orca).
    expect(result.expressionErrors).toEqual([]);
    bodies.set(stage.name, result.context.webhook?.monitor?.body as ShiftBody);
    return { status: result.status, detail: result.context.webhook?.monitor?.progressMessage };
  };
  return Object.assign(run, { bodies });
}

/** Each analysed step's metrics as [name, classification]. */
const classifications = (body: ShiftBody | undefined) =>
  (body?.steps ?? []).filter((s) => s.analysis).map((s) => s.analysis!.metrics.map((m) => [m.name, m.classification]));

async function walk(outcome: Outcome, runShift: ShiftRunner) {
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
      // What the ReplicaSet controller and kubelet would do once a track is deployed: a running, Ready pod.
      if (record.name === STAGE_NAMES.deployBaseline && record.status === 'SUCCEEDED') await runDeploymentPod(kc, namespace, BASELINE);
      if (record.name === STAGE_NAMES.deployCanary && record.status === 'SUCCEEDED') {
        await runDeploymentPod(kc, namespace, CANARY);
        for (const name of ['checkout', BASELINE, CANARY]) imagesWhileShifting[name] = await imageOf(namespace, name);
      }
    },
  });
  return { namespace, result, imagesWhileShifting, statuses: Object.fromEntries(result.stages.map((s) => [s.name, s.status])) };
}

it('walks the committed example graph and analysis (only account, namespace and timings differ)', () => {
  const committed = JSON.parse(readFileSync(path.join(EXAMPLE, 'pipelines/checkout-canary.json'), 'utf8')) as Pipeline;
  const walked = walkPipelineFor('shop');
  const withoutAccount = <T>(value: T): T => JSON.parse(JSON.stringify(value).split(`"${ACCOUNT}"`).join('"prod-k8s"'));
  expect(withoutAccount(graph(walked))).toEqual(graph(committed));
  expect(topologicalOrder(walked.stages).map((s) => s.refId)).toEqual(['1', '11', '12', '13', '14', '2', '3', '4', '6', '15', '7', '8', '9', '10']);
  // The committed reference analysis, scoped to the workloads the exporter serves, apart from its timings.
  const { warmup, interval, ...analysis } = shiftPayload(walked).analysis;
  expect({ warmup, interval }).toEqual({ warmup: '2s', interval: '2s' });
  const { warmup: _w, interval: _i, ...committedAnalysis } = shiftPayload(committed).analysis;
  expect(analysis).toEqual(committedAnalysis);
  expect(analysis).toMatchObject({
    source: SOURCE,
    scopes: { canary: { workload: CANARY, podSelector: { app: 'checkout', track: 'canary' } }, baseline: { workload: BASELINE, podSelector: { app: 'checkout', track: 'baseline' } } },
  });
  expect(shiftPayload(walked).steps).toEqual([
    { weights: [80, 10, 10], pause: '8s', analysis: { warmup: '2s' } },
    { weights: [34, 33, 33], pause: '6s', analysis: { warmup: '0s' } },
    { weights: [100, 0, 0], analysis: { skip: true } },
  ]);
});

/** The release exists: no first deploy; the rest of k8s/ (Service, DestinationRule) is deployed. */
const RELEASE_FOUND_STATUSES = {
  [STAGE_NAMES.findImage]: 'SUCCEEDED',
  [STAGE_NAMES.checkAbsent]: 'SKIPPED',
  [STAGE_NAMES.deployApp]: 'SUCCEEDED',
  [STAGE_NAMES.firstDeploy]: 'SKIPPED',
  [STAGE_NAMES.firstRoute]: 'SKIPPED',
};

const REFERENCE_METRICS = ['success-rate', 'latency-p99', 'cpu', 'memory', 'restarts', 'readiness', 'oom-killed'];

it('healthy canary: both steps pass the analysis; release rolled to the new image, route 100/0/0, baseline and canary gone, SUCCEEDED', async () => {
  const runner = shiftRunner();
  const { namespace, result, imagesWhileShifting, statuses } = await walk('healthy', runner);
  expect(statuses).toEqual({
    ...RELEASE_FOUND_STATUSES,
    [STAGE_NAMES.deployBaseline]: 'SUCCEEDED',
    [STAGE_NAMES.deployCanary]: 'SUCCEEDED',
    [STAGE_NAMES.shift]: 'SUCCEEDED',
    [STAGE_NAMES.rollout]: 'SUCCEEDED',
    [STAGE_NAMES.applyRoute]: 'SUCCEEDED',
    [STAGE_NAMES.restore]: 'SKIPPED',
    [STAGE_NAMES.deleteBaseline]: 'SUCCEEDED',
    [STAGE_NAMES.deleteCanary]: 'SUCCEEDED',
    [STAGE_NAMES.verdict]: 'SUCCEEDED',
  });
  expect(result.status).toBe('SUCCEEDED');
  // Baseline = the release's image found at run time; canary = the trigger's image.
  expect(imagesWhileShifting).toEqual({ checkout: RELEASE_IMAGE, 'checkout-baseline': RELEASE_IMAGE, 'checkout-canary': NEW_IMAGE });
  expect(result.stages.find((s) => s.name === STAGE_NAMES.shift)?.detail).toBe('completed 3 of 3 steps: release 100, baseline 0, canary 0');
  // Every reference metric measured something in both windows (pod status from the pods, no "no data").
  const passedAll = REFERENCE_METRICS.map((name) => [name, 'Pass']);
  expect(classifications(runner.bodies.get(STAGE_NAMES.shift))).toEqual([passedAll, passedAll]);
  expect(await imageOf(namespace, 'checkout')).toBe(NEW_IMAGE);
  expect(primaryWeights(await getVirtualService(namespace, 'checkout'))).toEqual([100, 0, 0]);
  expect(await deploymentGone(namespace, 'checkout-baseline')).toBe(true);
  expect(await deploymentGone(namespace, 'checkout-canary')).toBe(true);
}, 180_000);

const FAILED_CANARY_STATUSES = {
  ...RELEASE_FOUND_STATUSES,
  [STAGE_NAMES.deployBaseline]: 'SUCCEEDED',
  [STAGE_NAMES.deployCanary]: 'SUCCEEDED',
  [STAGE_NAMES.shift]: 'FAILED_CONTINUE',
  [STAGE_NAMES.rollout]: 'SKIPPED',
  [STAGE_NAMES.applyRoute]: 'SKIPPED',
  [STAGE_NAMES.restore]: 'SUCCEEDED',
  [STAGE_NAMES.deleteBaseline]: 'SUCCEEDED',
  [STAGE_NAMES.deleteCanary]: 'SUCCEEDED',
  [STAGE_NAMES.verdict]: 'TERMINAL',
};

/** What a failed canary leaves: release unchanged at 100, baseline and canary gone, the pipeline failed at the verdict. */
async function expectCanaryFailed({ namespace, result, statuses }: Awaited<ReturnType<typeof walk>>): Promise<void> {
  expect(statuses).toEqual(FAILED_CANARY_STATUSES);
  expect(result.status).toBe('TERMINAL'); // Orca's status of a failed pipeline
  expect(result.stages.find((s) => s.name === STAGE_NAMES.verdict)?.detail).toMatch(/^The canary failed/);
  expect(await imageOf(namespace, 'checkout')).toBe(RELEASE_IMAGE);
  expect(primaryWeights(await getVirtualService(namespace, 'checkout'))).toEqual([100, 0, 0]);
  expect(await deploymentGone(namespace, BASELINE)).toBe(true);
  expect(await deploymentGone(namespace, CANARY)).toBe(true);
}

it('failing canary (5xx spike): the analysis fails the shift stage; release unchanged at 100, baseline and canary gone, pipeline FAILED', async () => {
  const runner = shiftRunner();
  const walked = await walk('failing', runner);
  await expectCanaryFailed(walked);
  const body = runner.bodies.get(STAGE_NAMES.shift);
  expect(body).toMatchObject({ status: 'TERMINAL', failure: { reason: 'ANALYSIS_FAILED' } });
  // The error counts' sequential test stops the first step (a look every interval), naming the counts.
  expect(body!.failure!.message).toMatch(
    /^step 1 failed analysis( before its window ended)?: canary 5xx \d+ of [\d,]+ requests \(\d+(\.\d+)?%\) vs baseline \d+ of [\d,]+ \(\d+(\.\d+)?%\)( \(e-value \S+ >= \S+ after \d+ intervals\))? \(critical\); score 0\/75; weights restored to release 100, baseline 0, canary 0$/,
  );
  expect(classifications(body)[0].find(([name]) => name === 'success-rate')?.[1]).toBe('Low'); // Kayenta's word for "fell"
  console.log(`analysis failure: ${body!.failure!.message}`);
}, 180_000);

it('failing canary (another writer changes the route mid-shift): the shift stops without overwriting it; same clean-up, pipeline FAILED', async () => {
  const runner = shiftRunner(anotherWriterEditsTheRoute(namespaces.conflict));
  const walked = await walk('conflict', runner);
  await expectCanaryFailed(walked);
  expect(walked.result.stages.find((s) => s.name === STAGE_NAMES.shift)?.detail).toMatch(/another writer changed HTTP route "primary"/);
  // Step 1 had passed its analysis before the edit in step 2.
  expect(classifications(runner.bodies.get(STAGE_NAMES.shift))[0]).toEqual(REFERENCE_METRICS.map((name) => [name, 'Pass']));
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

  it("reads a failed stage's exception status as Orca records it; a missing one does not evaluate unless && already decided", () => {
    const status = (name: string) => (name === 'find' ? 'FAILED_CONTINUE' : 'SUCCEEDED');
    const contextOf = (name: string) => (name === 'find' ? { exception: { details: { status: 404, kind: 'HTTP' } } } : {});
    const notFound = (name: string) => `#stage('${name}')['context']['exception']['details']['status'] == 404`;
    expect(evaluateStageExpression(`\${${notFound('find')}}`, status, contextOf)).toBe(true);
    expect(() => evaluateStageExpression(notFound('ok'), status, contextOf)).toThrow(UnevaluableExpression);
    expect(evaluateStageExpression(`#stage('find')['status'].toString() == 'SUCCEEDED' && ${notFound('ok')}`, status, contextOf)).toBe(false);
    expect(() => evaluateStageExpression(`#stage('ok')['status'].toString() == 'SUCCEEDED' && ${notFound('ok')}`, status, contextOf)).toThrow(UnevaluableExpression);
  });

  it('a cycle in requisiteStageRefIds', () => {
    const stage = (refId: string, requires: string[]) => ({ refId, type: 'deleteManifest', name: refId, requisiteStageRefIds: requires });
    expect(() => topologicalOrder([stage('1', ['2']), stage('2', ['1'])])).toThrow(/cycle among 1, 2/);
  });
});
