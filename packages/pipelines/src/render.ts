/**
 * The pipelines: the canary pipeline (find the release image, deploy baseline + canary, shift
 * traffic with the Istio Traffic Shift stage, roll out or roll back, clean up, fail when the canary
 * failed), and the optional rollback and promote-only pipelines. Pure: text in, JSON out.
 */
import { createHash } from 'crypto';
import { buildShiftStage, formatDuration, parseDurationSeconds, ABANDON_AFTER_DEFAULT, EXECUTION_ID_EXPRESSION, RESTART_EXPRESSION } from '@istio-shift/core';
import type { PayloadDraft } from '@istio-shift/core';
import { DerivedManifests, KubeObject, ManifestFile, deriveManifests } from './manifests';
import { ResolvedParams, analysisFor, parseParams, resolveParams } from './params';
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
} as const;

export const BASELINE_IMAGE_ID = 'baseline-image';
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

function deployStage(params: ResolvedParams, refId: string, name: string, requisite: string[], manifests: KubeObject[], artifactId: string, options: Record<string, unknown>): Stage {
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
    requiredArtifactIds: [artifactId],
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

function canaryPipeline(params: ResolvedParams, manifests: DerivedManifests): Pipeline {
  const n = STAGE_NAMES;
  const shift = buildShiftStage(shiftDraft(params, manifests, canarySteps(params), params.judge.type === 'analysis'), '4', n.shift);
  // The shift is the only judge: a Kayenta stage beside it could not stop it (params.ts judgeProblems).
  const judged = ['4'];
  const judges = [n.shift];
  const restore = buildShiftStage(shiftDraft(params, manifests, [{ weights: [100, 0, 0] }], false), '7', n.restore);
  const stages: Stage[] = [
    {
      refId: '1',
      requisiteStageRefIds: [],
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
      expectedArtifacts: [imageArtifact(BASELINE_IMAGE_ID, 'release image (baseline)', manifests.imageName)],
    },
    deployStage(params, '2', n.deployBaseline, ['1'], manifests.baseline, BASELINE_IMAGE_ID, IGNORE_FAILURE),
    deployStage(params, '3', n.deployCanary, ['1'], manifests.canary, CANARY_IMAGE_ID, IGNORE_FAILURE),
    { ...shift, requisiteStageRefIds: ['2', '3'], stageEnabled: enabledWhen(n.deployBaseline, n.deployCanary), ...IGNORE_FAILURE },
  ];
  stages.push(
    deployStage(params, '6', n.rollout, judged, [manifests.release], CANARY_IMAGE_ID, { stageEnabled: enabledWhen(...judges), ...FAIL_AFTER_OTHER_BRANCHES }),
    { ...restore, requisiteStageRefIds: judged, stageEnabled: enabledUnless(n.shift) },
    ...deleteStage(params, '8', n.deleteBaseline, ['7'], manifests.cleanup.baseline),
    ...deleteStage(params, '9', n.deleteCanary, ['7'], manifests.cleanup.canary),
    {
      refId: '10',
      requisiteStageRefIds: ['6', '8', '9'],
      type: 'checkPreconditions',
      name: n.verdict,
      preconditions: [
        {
          type: 'expression',
          context: { expression: `\${${[...judges, n.rollout].map(succeeded).join(' && ')}}`, failureMessage: 'The canary failed: release kept its image and all traffic; baseline and canary were deleted.' },
          failPipeline: true,
        },
      ],
    },
  );
  return pipeline(params, `${params.application} canary`, `Canary of ${params.application}: baseline + canary next to the release, traffic shifted ${params.steps.map((s) => s.weights.join('/')).join(' -> ')} -> 100/0/0 by the Istio Traffic Shift stage, then the release rolled out (or not) and baseline + canary deleted. Generated from spin/config.json: edit that, not this.`, stages, {
    triggers: triggers(params, manifests),
    expectedArtifacts: [canaryImageArtifact(CANARY_IMAGE_ID, `${params.application} image (canary)`, manifests)],
  });
}

function rollbackPipeline(params: ResolvedParams, manifests: DerivedManifests): Pipeline {
  const restore = buildShiftStage(shiftDraft(params, manifests, [{ weights: [100, 0, 0] }], false), '1', STAGE_NAMES.restore);
  return pipeline(params, `${params.application} rollback`, 'All traffic back to release, then baseline and canary deleted (e.g. after a cancelled canary). Generated from spin/config.json.', [
    { ...restore, requisiteStageRefIds: [] },
    ...deleteStage(params, '2', STAGE_NAMES.deleteBaseline, ['1'], manifests.cleanup.baseline),
    ...deleteStage(params, '3', STAGE_NAMES.deleteCanary, ['1'], manifests.cleanup.canary),
  ], { triggers: [{ type: 'manual', enabled: true }], expectedArtifacts: [] });
}

function promotePipeline(params: ResolvedParams, manifests: DerivedManifests): Pipeline {
  return pipeline(params, `${params.application} promote`, 'Rolls the release to the given image without a canary (emergency fixes). Generated from spin/config.json.', [
    deployStage(params, '1', STAGE_NAMES.rollout, [], [manifests.release], CANARY_IMAGE_ID, {}),
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
  const params = resolveParams(parsed.params);
  if (!input.manifests.length) {
    return { ok: false, problems: [{ file: input.manifestsDir, path: '*.yaml', message: 'no manifests found', fix: 'put the release Deployment, Service, DestinationRule and VirtualService as .yaml files there' }] };
  }
  const derived = deriveManifests(input.manifests, params, input.manifestsDir);
  if (!derived.ok) return derived;
  const refusedTriggers = triggerProblems(params.triggers, derived.manifests.image, derived.manifests.imageAt, input.paramsFile, input.paramsText);
  if (refusedTriggers.length) return { ok: false, problems: refusedTriggers };
  const pipelines = [canaryPipeline(params, derived.manifests)];
  if (params.pipelines.rollback) pipelines.push(rollbackPipeline(params, derived.manifests));
  if (params.pipelines.promote) pipelines.push(promotePipeline(params, derived.manifests));
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
