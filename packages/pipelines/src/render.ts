/**
 * The pipelines: the canary pipeline (find the release image, deploy baseline + canary, shift
 * traffic with the Istio Traffic Shift stage, roll out or roll back, clean up, fail when the canary
 * failed), and the optional rollback and promote-only pipelines. Pure: text in, JSON out.
 */
import { createHash } from 'crypto';
import { buildShiftStage, formatDuration, parseDurationSeconds, ABANDON_AFTER_DEFAULT, EXECUTION_ID_EXPRESSION, RESTART_EXPRESSION } from '@istio-shift/core';
import type { PayloadDraft } from '@istio-shift/core';
import { DerivedManifests, KubeObject, ManifestFile, deriveManifests } from './manifests';
import { ResolvedParams, analysisFor, parseParams, resolveEnvironments } from './params';
import { InputProblem } from './problems';
import { artifactName, artifactReference, normalizeTriggerRepository } from './docker-image';
import { triggerProblems } from './trigger-check';

export type Stage = Record<string, unknown> & { refId: string; type: string; name: string; requisiteStageRefIds: string[] };
export type Pipeline = Record<string, unknown> & { id: string; name: string; application: string; stages: Stage[] };

/** Names the walk (and people reading executions) rely on. */
export const STAGE_NAMES = {
  findImage: 'Find release image',
  deployBaseline: 'Deploy baseline',
  deployCanary: 'Deploy canary',
  shift: 'Shift traffic to canary',
  rollout: 'Roll out release',
  restore: 'Return all traffic to release',
  deleteBaseline: 'Delete baseline',
  deleteCanary: 'Delete canary',
  verdict: 'Fail if the canary failed',
  // First deploy (no release yet) and the rest of the app.
  checkAbsent: 'Check the release does not exist yet',
  deployApp: 'Deploy app objects',
  firstDeploy: 'Deploy release (first deploy)',
  firstRoute: 'Apply route (first deploy)',
  applyRoute: 'Apply route',
  approve: 'Approve',
} as const;

export type StageNames = { -readonly [K in keyof typeof STAGE_NAMES]: string };

/**
 * The stage names of one environment: as above for a file without environments, else prefixed
 * with the environment's name ("prod: Deploy canary"), since `#stage('…')` finds stages by name.
 */
export function stageNamesFor(environment?: string): StageNames {
  const names = { ...STAGE_NAMES } as StageNames;
  if (environment) for (const key of Object.keys(names) as Array<keyof StageNames>) names[key] = `${environment}: ${names[key]}`;
  return names;
}

export const BASELINE_IMAGE_ID = 'baseline-image';
/** The release image each environment's find stage binds: one id per environment (ids are pipeline-wide). */
export const baselineImageId = (environment?: string) => (environment ? `${environment}-${BASELINE_IMAGE_ID}` : BASELINE_IMAGE_ID);
export const CANARY_IMAGE_ID = 'canary-image';

/** SpEL Orca evaluates for `stageEnabled` and preconditions: did the named stage succeed? */
export function succeeded(stageName: string): string {
  return `#stage('${stageName}')['status'].toString() == 'SUCCEEDED'`;
}

/** A stable UUID for a pipeline, so `apply` updates the same pipeline every time. */
export function pipelineId(application: string, name: string): string {
  const hex = createHash('sha256').update(`istio-traffic-shift/${application}/${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const enabledWhen = (...stageNames: string[]) => ({ type: 'expression', expression: stageNames.map(succeeded).join(' && ') });
const enabledUnless = (stageName: string) => ({ type: 'expression', expression: `!(${succeeded(stageName)})` });

/** Orca execution options as Deck's "If stage fails" radio writes them. */
const IGNORE_FAILURE = { failPipeline: false, continuePipeline: true, completeOtherBranchesThenFail: false };
const FAIL_AFTER_OTHER_BRANCHES = { failPipeline: false, continuePipeline: false, completeOtherBranchesThenFail: true };

function imageArtifact(id: string, displayName: string, imageName: string) {
  return { id, displayName, matchArtifact: { type: 'docker/image', name: imageName }, useDefaultArtifact: false, usePriorArtifact: false };
}

/**
 * The canary's image for a run no Docker push started (manual, or a trigger without the image):
 * the image the last run was given (usePriorArtifact), else the release image k8s/ names, in the
 * shape echo gives a Docker trigger's artifact (name, version = tag, reference). Orca tries the
 * trigger's artifacts, then prior, then default (ArtifactResolver.resolveSingleArtifact), and
 * resolves an expected artifact with either flag even when the trigger does not list it
 * (ArtifactUtils.resolveArtifacts).
 */
function canaryImageArtifact(id: string, displayName: string, manifests: DerivedManifests) {
  const image = manifests.image;
  const defaultArtifact = { type: 'docker/image', name: artifactName(image), version: image.digest ?? image.tag ?? 'latest', reference: artifactReference(image) };
  return { ...imageArtifact(id, displayName, manifests.imageName), useDefaultArtifact: true, defaultArtifact, usePriorArtifact: true };
}

function deployStage(params: ResolvedParams, refId: string, name: string, requisite: string[], manifests: KubeObject[], artifactIds: string[], options: Record<string, unknown>): Stage {
  return {
    refId,
    requisiteStageRefIds: requisite,
    type: 'deployManifest',
    name,
    account: params.account,
    cloudProvider: 'kubernetes',
    namespaceOverride: params.namespace,
    moniker: { app: params.application },
    source: 'text',
    manifests,
    // The manifests are the team's own objects: nothing in them is SpEL, so Orca must not evaluate them.
    skipExpressionEvaluation: true,
    // Only artifacts an image of these manifests uses: Clouddriver fails a deploy whose required artifact binds nothing.
    requiredArtifactIds: artifactIds,
    requiredArtifacts: [],
    ...options,
  };
}

function deleteStage(params: ResolvedParams, refId: string, name: string, requisite: string[], manifestNames: string[]): Stage[] {
  return manifestNames.map((manifestName, i) => ({
    refId: i === 0 ? refId : `${refId}-${i}`,
    requisiteStageRefIds: requisite,
    type: 'deleteManifest',
    name: i === 0 ? name : `${name} (${manifestName.split(' ')[0]})`,
    account: params.account,
    cloudProvider: 'kubernetes',
    location: params.namespace,
    mode: 'static',
    manifestName,
    options: { cascading: true },
  }));
}

function shiftDraft(params: ResolvedParams, manifests: DerivedManifests, steps: PayloadDraft['steps'], withAnalysis: boolean): PayloadDraft {
  // The Deployment leads each track's objects; its selector picks exactly that track's pods.
  const track = (objects: DerivedManifests['canary']) => ({ workload: objects[0].metadata.name, podSelector: { ...objects[0].spec.selector.matchLabels } });
  const analysis = withAnalysis ? analysisFor(params, { baseline: track(manifests.baseline), canary: track(manifests.canary) }) : undefined;
  return {
    account: params.account,
    namespace: params.namespace,
    virtualService: params.virtualService.name,
    route: { protocol: 'http', name: params.virtualService.route },
    destinations: manifests.destinations.map((d, i) => ({ ...d, label: ['release', 'baseline', 'canary'][i] })),
    steps,
    onCancel: 'rollback',
    pruneUnlisted: false,
    executionId: EXECUTION_ID_EXPRESSION,
    stageRef: '',
    // Written out (not left to the service's defaults) so the pipeline JSON shows them: a Restart
    // stage in Deck is told apart from a retry, and a pipeline that stops polling (cancelled,
    // Orca down) has its traffic returned to release after this long.
    restartedAt: RESTART_EXPRESSION,
    abandonAfter: ABANDON_AFTER_DEFAULT,
    ...(analysis ? { analysis } : {}),
  };
}

function canarySteps(params: ResolvedParams): PayloadDraft['steps'] {
  const withAnalysis = params.judge.type === 'analysis';
  const steps: PayloadDraft['steps'] = params.steps.map((step) => {
    const seconds = (parseDurationSeconds(step.warmup ?? '0s') ?? 0) + (parseDurationSeconds(step.analysis) ?? 0);
    // Every analysed step states its warm-up: the parameter file's (none = 0s), never the
    // analysis block's default, so the window judged is exactly the step's "analysis" duration.
    return { weights: [...step.weights], pause: formatDuration(seconds), ...(withAnalysis ? { analysis: { warmup: step.warmup ?? '0s' } } : {}) };
  });
  steps.push({ weights: [100, 0, 0], ...(withAnalysis ? { analysis: { skip: true } } : {}) });
  return steps;
}

function notifications(params: ResolvedParams) {
  return params.notifications.map((n) => ({
    type: n.type,
    address: n.address,
    level: 'pipeline',
    when: n.when ?? ['pipeline.complete', 'pipeline.failed'],
  }));
}

function triggers(params: ResolvedParams, manifests: DerivedManifests) {
  return params.triggers.map((trigger) => {
    const common = { enabled: true, expectedArtifactIds: [CANARY_IMAGE_ID] };
    switch (trigger.type) {
      case 'manual':
        return { type: 'manual', ...common };
      case 'docker': {
        // Echo compares the repository with equals: Docker Hub's official images as library/<name>.
        const repository = normalizeTriggerRepository(trigger.repository, manifests.image);
        return { type: 'docker', account: trigger.account, organization: trigger.organization ?? repository.split('/')[0], repository, tag: trigger.tag ?? '', ...common };
      }
      case 'pubsub':
        return { type: 'pubsub', pubsubSystem: trigger.pubsubSystem ?? 'google', subscriptionName: trigger.subscription, ...common };
      case 'git':
        return { type: 'git', source: trigger.source, project: trigger.project, slug: trigger.slug, branch: trigger.branch ?? 'main', ...common };
    }
  });
}

function pipeline(params: ResolvedParams, name: string, description: string, stages: Stage[], extra: Record<string, unknown>): Pipeline {
  return {
    id: pipelineId(params.application, name),
    name,
    application: params.application,
    description,
    keepWaitingPipelines: false,
    limitConcurrent: true,
    spelEvaluator: 'v4',
    parameterConfig: [],
    notifications: notifications(params),
    ...extra,
    stages,
  };
}

/**
 * Orca stores a failed task's exception in the stage context (RunTaskHandler); for a Clouddriver
 * answer it holds the HTTP status (SpinnakerServerExceptionHandler), and Clouddriver answers 404 for
 * a manifest that does not exist (ManifestController). spinnaker-facts.json cites all three.
 */
const notFound = (stageName: string) => `#stage('${stageName}')['context']['exception']['details']['status'] == 404`;

/**
 * One environment's stages: find the release; when there is none (Clouddriver said 404), deploy the
 * rest of the app, the release and its route directly; else deploy the rest of the app and run the
 * canary. `after` are the stages it waits for (the previous environment's ends); `index` spaces the
 * refIds (environment i uses i*100 + n; a file without environments keeps 1..15).
 */
function environmentStages(params: ResolvedParams, manifests: DerivedManifests, index: number, after: string[]): { stages: Stage[]; ends: string[] } {
  const environment = params.environment?.name;
  const n = stageNamesFor(environment);
  const ref = (k: number) => String(index * 100 + k);
  const baselineId = baselineImageId(environment);
  const shift = buildShiftStage(shiftDraft(params, manifests, canarySteps(params), params.judge.type === 'analysis'), ref(4), n.shift);
  // The shift is the only judge: a Kayenta stage beside it could not stop it (params.ts judgeProblems).
  const judged = [ref(4)];
  const judges = [n.shift];
  const restore = buildShiftStage(shiftDraft(params, manifests, [{ weights: [100, 0, 0] }], false), ref(7), n.restore);
  const stages: Stage[] = [];
  let start = after;
  if (params.environment?.manualJudgment) {
    stages.push({
      refId: ref(20),
      requisiteStageRefIds: after,
      type: 'manualJudgment',
      name: n.approve,
      instructions: params.environment.manualJudgment.instructions ?? `Deploy ${params.application} to ${environment} (${params.account}, namespace ${params.namespace})?`,
      judgmentInputs: [],
      // Stop = TERMINAL (ManualJudgmentStage): the pipeline ends before this environment.
      failPipeline: true,
    });
    start = [ref(20)];
  }
  const hasApp = manifests.appObjects.length > 0;
  const appRef = hasApp ? ref(12) : ref(11);
  stages.push(
    {
      refId: ref(1),
      requisiteStageRefIds: start,
      // Orca resolves types by StageDefinitionBuilder.getType() (class FindArtifactsFromResourceStage):
      // its PIPELINE_CONFIG_TYPE "findArtifactFromResource" is registered nowhere (spinnaker-facts.json).
      type: 'findArtifactsFromResource',
      name: n.findImage,
      account: params.account,
      cloudProvider: 'kubernetes',
      location: params.namespace,
      manifestName: `deployment ${params.deployment}`,
      mode: 'static',
      // Bound from the stage's output artifacts: the image the release runs right now.
      expectedArtifacts: [imageArtifact(baselineId, 'release image (baseline)', manifests.imageName)],
      // No release yet fails this stage; the pipeline goes on to tell "not found" from other errors.
      ...IGNORE_FAILURE,
    },
    {
      refId: ref(11),
      requisiteStageRefIds: [ref(1)],
      type: 'checkPreconditions',
      name: n.checkAbsent,
      stageEnabled: enabledUnless(n.findImage),
      preconditions: [
        {
          type: 'expression',
          context: {
            expression: `\${${notFound(n.findImage)}}`,
            failureMessage: `Deployment ${params.deployment} could not be read in namespace ${params.namespace}, and Clouddriver did not answer "not found": nothing was deployed. Run the pipeline again once Clouddriver can read the account.`,
          },
          failPipeline: true,
        },
      ],
    },
  );
  // The rest of k8s/ goes out on both paths, before the tracks that need its Service and subsets.
  // Never the shifted VirtualService: applying it would reset the weights a shift is moving.
  if (hasApp) stages.push(deployStage(params, ref(12), n.deployApp, [ref(11)], manifests.appObjects, [], {}));
  stages.push(
    deployStage(params, ref(13), n.firstDeploy, [appRef], [manifests.release], [CANARY_IMAGE_ID], { stageEnabled: enabledUnless(n.findImage) }),
    // First deploy: no release, so no shift of this route can be running; the route as written.
    deployStage(params, ref(14), n.firstRoute, [ref(13)], [manifests.virtualService], [], { stageEnabled: enabledUnless(n.findImage) }),
    deployStage(params, ref(2), n.deployBaseline, [appRef], manifests.baseline, [baselineId], { stageEnabled: enabledWhen(n.findImage), ...IGNORE_FAILURE }),
    deployStage(params, ref(3), n.deployCanary, [appRef], manifests.canary, [CANARY_IMAGE_ID], { stageEnabled: enabledWhen(n.findImage), ...IGNORE_FAILURE }),
    { ...shift, requisiteStageRefIds: [ref(2), ref(3)], stageEnabled: enabledWhen(n.deployBaseline, n.deployCanary), ...IGNORE_FAILURE },
  );
  stages.push(
    deployStage(params, ref(6), n.rollout, judged, [manifests.release], [CANARY_IMAGE_ID], { stageEnabled: enabledWhen(...judges), ...FAIL_AFTER_OTHER_BRANCHES }),
    // After a successful canary the shift is over and the route is at 100/0/0, as written: route
    // edits in k8s/ go out here (limitConcurrent: no other canary of this pipeline is shifting it).
    deployStage(params, ref(15), n.applyRoute, [ref(6)], [manifests.virtualService], [], { stageEnabled: enabledWhen(...judges, n.rollout), ...FAIL_AFTER_OTHER_BRANCHES }),
    { ...restore, requisiteStageRefIds: judged, stageEnabled: { type: 'expression', expression: `${succeeded(n.findImage)} && !(${succeeded(n.shift)})` } },
    ...deleteStage(params, ref(8), n.deleteBaseline, [ref(7)], manifests.cleanup.baseline),
    ...deleteStage(params, ref(9), n.deleteCanary, [ref(7)], manifests.cleanup.canary),
    {
      refId: ref(10),
      requisiteStageRefIds: [ref(6), ref(8), ref(9), ref(15)],
      type: 'checkPreconditions',
      name: n.verdict,
      // The canary path only; a first deploy fails the pipeline at its own failing stage.
      stageEnabled: enabledWhen(n.findImage),
      preconditions: [
        {
          type: 'expression',
          context: { expression: `\${${[...judges, n.rollout, n.applyRoute].map(succeeded).join(' && ')}}`, failureMessage: 'The canary failed: release kept its image and all traffic; baseline and canary were deleted.' },
          failPipeline: true,
        },
      ],
    },
  );
  return { stages, ends: [ref(10), ref(14)] };
}

interface Environment {
  params: ResolvedParams;
  manifests: DerivedManifests;
}

function canaryPipeline(environments: Environment[]): Pipeline {
  const stages: Stage[] = [];
  let after: string[] = [];
  environments.forEach(({ params, manifests }, index) => {
    const next = environmentStages(params, manifests, index, after);
    stages.push(...next.stages);
    after = next.ends;
  });
  const [{ params, manifests }] = environments;
  const schedule = (p: ResolvedParams) => `${p.steps.map((s) => s.weights.join('/')).join(' -> ')} -> 100/0/0`;
  const description = params.environment
    ? `Canary of ${params.application} in ${environments.map((e) => `${e.params.environment!.name} (${schedule(e.params)})`).join(', then ')}, each on the image that passed the one before; in each, baseline + canary next to the release, traffic shifted by the Istio Traffic Shift stage, then the release rolled out (or not) and baseline + canary deleted; a first deploy where no release exists yet. Generated from spin/config.json: edit that, not this.`
    : `Canary of ${params.application}: baseline + canary next to the release, traffic shifted ${schedule(params)} by the Istio Traffic Shift stage, then the release rolled out (or not) and baseline + canary deleted; a first deploy (release and route, no canary) when no release exists yet. Generated from spin/config.json: edit that, not this.`;
  return pipeline(params, `${params.application} canary`, description, stages, {
    triggers: triggers(params, manifests),
    expectedArtifacts: [canaryImageArtifact(CANARY_IMAGE_ID, `${params.application} image (canary)`, manifests)],
  });
}

/** `checkout rollback`, or `checkout prod rollback` for an environment. */
const extraName = (params: ResolvedParams, kind: string) => `${params.application}${params.environment ? ` ${params.environment.name}` : ''} ${kind}`;

function rollbackPipeline(params: ResolvedParams, manifests: DerivedManifests): Pipeline {
  const restore = buildShiftStage(shiftDraft(params, manifests, [{ weights: [100, 0, 0] }], false), '1', STAGE_NAMES.restore);
  return pipeline(params, extraName(params, 'rollback'), 'All traffic back to release, then baseline and canary deleted (e.g. after a cancelled canary). Generated from spin/config.json.', [
    { ...restore, requisiteStageRefIds: [] },
    ...deleteStage(params, '2', STAGE_NAMES.deleteBaseline, ['1'], manifests.cleanup.baseline),
    ...deleteStage(params, '3', STAGE_NAMES.deleteCanary, ['1'], manifests.cleanup.canary),
  ], { triggers: [{ type: 'manual', enabled: true }], expectedArtifacts: [] });
}

function promotePipeline(params: ResolvedParams, manifests: DerivedManifests): Pipeline {
  return pipeline(params, extraName(params, 'promote'), 'Rolls the release to the given image without a canary (emergency fixes). Generated from spin/config.json.', [
    deployStage(params, '1', STAGE_NAMES.rollout, [], [manifests.release], [CANARY_IMAGE_ID], {}),
  ], { triggers: [{ type: 'manual', enabled: true, expectedArtifactIds: [CANARY_IMAGE_ID] }], expectedArtifacts: [imageArtifact(CANARY_IMAGE_ID, `${params.application} image`, manifests.imageName)] });
}

export interface RenderInput {
  paramsFile: string;
  paramsText: string;
  manifestsDir: string;
  manifests: ManifestFile[];
  /** The parameter file's path in its repository, written into every pipeline (default: paramsFile). */
  generatedFrom?: string;
}

export interface RenderedFile {
  /** File name in the output directory, e.g. `checkout-canary.json`. */
  name: string;
  pipeline: Pipeline;
  text: string;
}

export type RenderResult = { ok: true; files: RenderedFile[] } | { ok: false; problems: InputProblem[] };

export function render(input: RenderInput): RenderResult {
  const parsed = parseParams(input.paramsText, input.paramsFile);
  if (!parsed.ok) return parsed;
  const resolved = resolveEnvironments(parsed.params);
  if (!input.manifests.length) {
    return { ok: false, problems: [{ file: input.manifestsDir, path: '*.yaml', message: 'no manifests found', fix: 'put the release Deployment, Service, DestinationRule and VirtualService as .yaml files there' }] };
  }
  // Each environment checks the manifests against its own namespace; a problem they share is said once.
  const environments: Environment[] = [];
  const problems = new Map<string, InputProblem>();
  for (const params of resolved) {
    const derived = deriveManifests(input.manifests, params, input.manifestsDir, { file: input.paramsFile, lineOf: parsed.lineOf });
    if (derived.ok) environments.push({ params, manifests: derived.manifests });
    else for (const problem of derived.problems) problems.set(JSON.stringify(problem), problem);
  }
  if (problems.size) return { ok: false, problems: [...problems.values()] };
  // Triggers are the pipeline's (all environments share them), checked against the one release image.
  const [{ params: first, manifests: firstManifests }] = environments;
  const refusedTriggers = triggerProblems(first.triggers, firstManifests.image, firstManifests.imageAt, input.paramsFile, input.paramsText);
  if (refusedTriggers.length) return { ok: false, problems: refusedTriggers };
  const pipelines = [canaryPipeline(environments)];
  for (const { params, manifests } of environments) {
    if (params.pipelines.rollback) pipelines.push(rollbackPipeline(params, manifests));
    if (params.pipelines.promote) pipelines.push(promotePipeline(params, manifests));
  }
  return {
    ok: true,
    files: pipelines.map(withIndex).map((p) => withOrigin(p, input.generatedFrom ?? input.paramsFile)).map((p) => ({ name: `${p.name.replace(/\s+/g, '-')}.json`, pipeline: p, text: `${JSON.stringify(p, null, 2)}\n` })),
  };
}

/**
 * Deck sorts an application's pipelines by [index, name] and saves again every one whose index is not
 * its position (PipelineConfigService.sortPipelines, spinnaker-facts.json): without an index, opening
 * the application re-saved every generated pipeline. Each gets its place in the rendered order (the
 * canary first), written after `application`.
 */
function withIndex(pipeline: Pipeline, index: number): Pipeline {
  const { id, name, application, ...rest } = pipeline;
  return { id, name, application, index, ...rest } as Pipeline;
}

/**
 * The field that marks a pipeline as generated, with the parameter file it came from: `apply
 * --prune` deletes only pipelines that carry it with its own file. Front50 keeps fields its
 * Pipeline model does not name (PipelineMixins @JsonAnySetter/@JsonAnyGetter, spinnaker-facts.json).
 */
export const GENERATED_FROM_FIELD = 'generatedFrom';

/**
 * Marked as generated and locked in Deck (IPipelineLock {ui, allowUnlockUi, description}; Deck then
 * offers no edit, rename, delete or unlock, only "Show JSON", and shows the description): changes
 * go through the parameter file, and the next apply would overwrite a Deck edit anyway. The lock is
 * Deck's only: Gate and Front50 do not check it, so apply (and an admin's API call) still work.
 */
function withOrigin(pipeline: Pipeline, source: string): Pipeline {
  const { id, name, application, index, ...rest } = pipeline;
  const locked = { ui: true, allowUnlockUi: false, description: `Generated from ${source} by istio-traffic-shift pipelines apply: edit that file, not this pipeline.` };
  return { id, name, application, index, [GENERATED_FROM_FIELD]: source, locked, ...rest } as Pipeline;
}
