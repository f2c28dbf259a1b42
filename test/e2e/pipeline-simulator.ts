/**
 * A small "stage simulator" for the pipelines `@istio-shift/pipelines` generates: it walks a
 * pipeline's stages the way Orca schedules them and does what each stage does to the cluster, on
 * the real kube-apiserver. It knows EXACTLY the stage types, options and expressions the generator
 * emits and refuses anything else loudly (like test/orca/spel.ts), so a generator change that
 * leaves this subset fails the walk instead of being simulated wrongly.
 *
 * Simulated (with the Orca / Clouddriver / Kork source it follows):
 * - Scheduling: stages run in a topological order over `requisiteStageRefIds`; a stage starts only
 *   when all its upstream stages are SUCCEEDED, FAILED_CONTINUE or SKIPPED (Orca StartStageHandler
 *   `allUpstreamStagesComplete` / `anyUpstreamStagesFailed`). Parallel branches run one after the
 *   other (one of the interleavings Orca may choose).
 * - `stageEnabled` (Orca StartStageHandler `shouldSkip`): false -> SKIPPED. Expression subset: see
 *   {@link evaluateStageExpression}.
 * - Failure options (Orca `StageExecution.failureStatus`): continuePipeline -> FAILED_CONTINUE,
 *   else failPipeline (default true) -> TERMINAL and the pipeline stops, else STOPPED (with
 *   completeOtherBranchesThenFail: the other branches finish, then the pipeline ends TERMINAL).
 * - Artifacts: the trigger's artifacts bind the pipeline's `expectedArtifacts` (Kork
 *   ExpectedArtifact.matches: every field of `matchArtifact` is a regex that must match whole);
 *   an expected artifact the trigger does not bind stops the pipeline before it starts (Orca
 *   ArtifactUtils.resolveArtifacts, no default artifact is used by the generator).
 * - findArtifactsFromResource: reads the manifest and outputs what Clouddriver's ArtifactReplacer
 *   finds in it (one docker/image artifact per container image: name = image without tag/digest,
 *   reference = the image), then binds the stage's `expectedArtifacts` from those.
 * - deployManifest: binds `requiredArtifactIds` (unbound -> TERMINAL), replaces container images
 *   equal to the artifact's name by its reference (Clouddriver's docker/image Replacer,
 *   `$..spec.template.spec.containers[?(@.image == name)].image`, also initContainers), applies
 *   `namespaceOverride` and the moniker annotations, and server-side-applies the objects.
 * - deleteManifest (static mode): deletes `kind name` in `location`, cascading = Background
 *   propagation, a missing object counts as deleted (kubectl delete --ignore-not-found).
 * - checkPreconditions with `expression` preconditions: false -> the stage fails with its
 *   failureMessage (precondition `failPipeline`, default true).
 * - A failed stage keeps its exception in its context (Orca RunTaskHandler); a findArtifactsFromResource
 *   whose manifest does not exist fails with `details.status` 404, as Orca's
 *   SpinnakerServerExceptionHandler records Clouddriver's NotFoundException (spinnaker-facts.json).
 * - manualJudgment: the caller's `judge` answers continue (SUCCEEDED) or stop (TERMINAL), as
 *   Orca's WaitForManualJudgmentTask turns `judgmentStatus` into a status.
 * - istioTrafficShift: handed to the caller (the tests run it through the Orca webhook driver
 *   against the real stage service).
 *
 * NOT simulated: Orca's queue, parallel execution, retries and timeouts of the manifest stages;
 * Clouddriver's caching, WaitForManifestStable (the test control plane runs no controllers, so
 * Deployments never get pods), kubectl client-side apply and last-applied annotations, the
 * `app.kubernetes.io/managed-by` labels, artifact accounts; notifications; triggers other than
 * the artifacts they carry; concurrent-execution limits (`limitConcurrent`); cancellation of a
 * whole execution; SpEL outside the subset below.
 */
import * as k8s from '@kubernetes/client-node';
import { KNOWN_STAGE_TYPES } from '@istio-shift/pipelines';
import { apiError } from '../cluster/test-helpers';

export type StageStatus = 'NOT_STARTED' | 'SUCCEEDED' | 'FAILED_CONTINUE' | 'TERMINAL' | 'STOPPED' | 'SKIPPED' | 'CANCELED';
export type ExecutionStatus = 'SUCCEEDED' | 'TERMINAL' | 'CANCELED';

export interface Artifact {
  type: string;
  name: string;
  reference: string;
}

export interface SimStage {
  refId: string;
  type: string;
  name: string;
  requisiteStageRefIds: string[];
  [key: string]: unknown;
}

export interface SimPipeline {
  application: string;
  stages: SimStage[];
  expectedArtifacts?: Array<{ id: string; matchArtifact: Partial<Artifact> }>;
  [key: string]: unknown;
}

export interface SimExecution {
  id: string;
  application: string;
  trigger: { type: string; user?: string; artifacts: Artifact[]; [key: string]: unknown };
}

/** What running one stage produced: a task-level outcome before the failure options apply. */
export interface StageOutcome {
  status: 'SUCCEEDED' | 'TERMINAL' | 'CANCELED';
  detail?: string;
}

export type ShiftRunner = (stage: SimStage, execution: SimExecution) => Promise<StageOutcome>;

export interface StageRecord {
  refId: string;
  name: string;
  type: string;
  status: StageStatus;
  detail?: string;
}

export interface WalkResult {
  status: ExecutionStatus;
  /** Every stage in the order the walk visited it (NOT_STARTED ones never ran). */
  stages: StageRecord[];
  statusOf(name: string): StageStatus;
}

export class UnsupportedPipelineError extends Error {
  constructor(detail: string) {
    super(`the pipeline simulator does not simulate this: ${detail}`);
    this.name = 'UnsupportedPipelineError';
  }
}

// ---------------------------------------------------------------------------------------------
// Order

/** Kahn's algorithm over requisiteStageRefIds; ties in pipeline order. Throws on unknown refs and cycles. */
export function topologicalOrder(stages: SimStage[]): SimStage[] {
  const byRef = new Map(stages.map((s) => [s.refId, s]));
  if (byRef.size !== stages.length) throw new UnsupportedPipelineError('duplicate refIds');
  for (const s of stages) {
    for (const r of s.requisiteStageRefIds) if (!byRef.has(r)) throw new UnsupportedPipelineError(`stage ${s.refId} requires unknown stage ${r}`);
  }
  const done = new Set<string>();
  const order: SimStage[] = [];
  while (order.length < stages.length) {
    const next = stages.find((s) => !done.has(s.refId) && s.requisiteStageRefIds.every((r) => done.has(r)));
    if (!next) throw new UnsupportedPipelineError(`requisiteStageRefIds form a cycle among ${stages.filter((s) => !done.has(s.refId)).map((s) => s.refId).join(', ')}`);
    done.add(next.refId);
    order.push(next);
  }
  return order;
}

// ---------------------------------------------------------------------------------------------
// Expressions

/**
 * SpEL indexing into a context field that is not there fails to evaluate: Orca skips a stage whose
 * `stageEnabled` does not evaluate (OptionalStageSupport) and fails a precondition that does not.
 */
export class UnevaluableExpression extends Error {}

/**
 * The SpEL subset the generator emits for `stageEnabled` and preconditions, optionally wrapped in
 * `${...}`:
 *   expr   := term ('&&' term)*
 *   term   := '!(' expr ')' | "#stage('NAME')['status'].toString() == 'STATUS'"
 *           | "#stage('NAME')['context']['exception']['details']['status'] == CODE"
 * `#stage` of a name no stage has throws, as Orca's `#stage` helper does; a context path that is
 * not there throws {@link UnevaluableExpression} unless a false left side of `&&` short-circuits it
 * (SpEL's OpAnd). Anything else throws {@link UnsupportedPipelineError}.
 */
export function evaluateStageExpression(source: string, statusOf: (name: string) => StageStatus, contextOf: (name: string) => Record<string, any> = () => ({})): boolean {
  let text = source.trim();
  const template = /^\$\{([\s\S]*)\}$/.exec(text);
  if (template) text = template[1];
  let pos = 0;
  const skipSpace = () => {
    while (/\s/.test(text[pos] ?? '')) pos++;
  };
  const fail = (why: string): never => {
    throw new UnsupportedPipelineError(`expression ${JSON.stringify(source)}: ${why} at offset ${pos}`);
  };
  const STATUS_CHECK = /^#stage\('([^']+)'\)\['status'\]\.toString\(\)\s*==\s*'([A-Z_]+)'/;
  const EXCEPTION_STATUS = /^#stage\('([^']+)'\)\['context'\]\['exception'\]\['details'\]\['status'\]\s*==\s*(\d+)/;
  const term = (): boolean => {
    skipSpace();
    if (text.startsWith('!(', pos)) {
      pos += 2;
      const value = expr();
      skipSpace();
      if (text[pos] !== ')') fail('expected )');
      pos++;
      return !value;
    }
    const exception = EXCEPTION_STATUS.exec(text.slice(pos));
    if (exception) {
      pos += exception[0].length;
      statusOf(exception[1]); // an unknown stage name fails first
      // Indexing into a missing exception fails; a missing key of its details map reads as null.
      const details = contextOf(exception[1])?.exception?.details;
      if (details === undefined) throw new UnevaluableExpression(`${source}: stage ${exception[1]} has no exception in its context`);
      return details.status === Number(exception[2]);
    }
    const match = STATUS_CHECK.exec(text.slice(pos));
    if (!match) return fail("expected !( or #stage('name')['status'].toString() == 'STATUS'");
    pos += match[0].length;
    return statusOf(match[1]) === match[2];
  };
  const expr = (): boolean => {
    let value = term();
    for (;;) {
      skipSpace();
      if (!text.startsWith('&&', pos)) return value;
      pos += 2;
      // Evaluated anyway: an unknown stage name must fail even when short-circuited; a missing
      // context field only when the left side did not already decide.
      let right: boolean;
      try {
        right = term();
      } catch (err) {
        if (!(err instanceof UnevaluableExpression) || value) throw err;
        right = false;
      }
      value = value && right;
    }
  };
  const value = expr();
  skipSpace();
  if (pos !== text.length) fail('unexpected text');
  return value;
}

// ---------------------------------------------------------------------------------------------
// Artifacts

/** Kork ExpectedArtifact.matches: every field given in matchArtifact is a regex matching the whole value. */
export function matchesArtifact(match: Partial<Artifact>, artifact: Artifact): boolean {
  return (Object.entries(match) as Array<[keyof Artifact, string]>).every(([key, pattern]) => {
    if (pattern === undefined || pattern === null || pattern === '') return true;
    return new RegExp(`^(?:${pattern})$`).test(String(artifact[key] ?? ''));
  });
}

/** `ghcr.io/shop/checkout:v1.4.2` -> docker/image artifact { name: ghcr.io/shop/checkout, reference: the image }. */
export function dockerArtifact(image: string): Artifact {
  const withoutDigest = image.split('@')[0];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return { type: 'docker/image', name: colon > slash ? withoutDigest.slice(0, colon) : withoutDigest, reference: image };
}

function containersOf(object: any): any[] {
  const pod = object?.spec?.template?.spec;
  return [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])];
}

/** Clouddriver's docker/image replacer: images equal to the artifact's name get its reference. */
export function bindImages(object: any, artifacts: Artifact[]): any {
  const copy = JSON.parse(JSON.stringify(object));
  for (const artifact of artifacts.filter((a) => a.type === 'docker/image')) {
    for (const container of containersOf(copy)) if (container.image === artifact.name) container.image = artifact.reference;
  }
  return copy;
}

function bindExpected(expected: Array<{ id: string; matchArtifact: Partial<Artifact> }>, available: Artifact[], where: string): Map<string, Artifact> {
  const bound = new Map<string, Artifact>();
  for (const e of expected) {
    const artifact = available.find((a) => matchesArtifact(e.matchArtifact, a));
    if (!artifact) throw new StageFailure(`${where}: expected artifact ${e.id} (${JSON.stringify(e.matchArtifact)}) was not found in ${JSON.stringify(available)}`);
    bound.set(e.id, artifact);
  }
  return bound;
}

class StageFailure extends Error {
  /** What Orca keeps in the failed stage's context (`exception`), for later expressions. */
  constructor(message: string, readonly context: Record<string, unknown> = {}) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

const KINDS: Record<string, { apiVersion: string; kind: string }> = {
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment' },
  service: { apiVersion: 'v1', kind: 'Service' },
};

function objectRef(manifestName: string, namespace: string): k8s.KubernetesObject {
  const [kind, name, ...rest] = manifestName.split(' ');
  const type = KINDS[kind?.toLowerCase()];
  if (!type || !name || rest.length) throw new UnsupportedPipelineError(`manifestName ${JSON.stringify(manifestName)} (supported kinds: ${Object.keys(KINDS).join(', ')})`);
  return { ...type, metadata: { name, namespace } };
}

const FIELD_MANAGER = 'spinnaker-pipeline-simulator';

// ---------------------------------------------------------------------------------------------
// The walk

/** What this simulator walks; each must also be in the Spinnaker facts table (KNOWN_STAGE_TYPES). */
const STAGE_TYPES = ['findArtifactsFromResource', 'deployManifest', 'deleteManifest', 'istioTrafficShift', 'checkPreconditions', 'manualJudgment'];

export interface WalkInput {
  pipeline: SimPipeline;
  execution: SimExecution;
  kubeConfig: k8s.KubeConfig;
  runShift: ShiftRunner;
  /** A person's answer to a manualJudgment stage (without it, such a stage is refused). */
  judge?: (stage: SimStage) => Promise<'continue' | 'stop'>;
  /** Called after each stage ends (e.g. to record the cluster's state). */
  afterStage?: (record: StageRecord) => void | Promise<void>;
}

export async function walkPipeline(input: WalkInput): Promise<WalkResult> {
  const { pipeline, execution } = input;
  const objects = k8s.KubernetesObjectApi.makeApiClient(input.kubeConfig);
  const order = topologicalOrder(pipeline.stages);
  for (const stage of order) {
    // Orca fails a stage type it does not register ("No StageDefinitionBuilder implementation for …").
    if (!KNOWN_STAGE_TYPES.includes(stage.type)) throw new UnsupportedPipelineError(`stage type ${stage.type} (${stage.name}) is not in the Spinnaker facts table (packages/pipelines/src/spinnaker-facts.json): Orca registers no such stage`);
    if (!STAGE_TYPES.includes(stage.type)) throw new UnsupportedPipelineError(`stage type ${stage.type} (${stage.name})`);
  }

  const records = new Map<string, StageRecord>(order.map((s) => [s.refId, { refId: s.refId, name: s.name, type: s.type, status: 'NOT_STARTED' as StageStatus }]));
  const byName = new Map(order.map((s) => [s.name, s.refId]));
  const statusOf = (name: string): StageStatus => {
    const refId = byName.get(name);
    if (!refId) throw new Error(`#stage('${name}'): no stage of that name (Orca: "Unable to locate [${name}] stage")`);
    return records.get(refId)!.status;
  };
  const contexts = new Map<string, Record<string, any>>();
  const contextOf = (name: string) => contexts.get(name) ?? {};
  const result = (status: ExecutionStatus): WalkResult => ({ status, stages: order.map((s) => records.get(s.refId)!), statusOf });

  // Trigger artifacts bind the pipeline's expected artifacts before any stage runs.
  const bound = bindExpected(pipeline.expectedArtifacts ?? [], execution.trigger.artifacts, 'trigger');
  let stopThenFail = false;

  for (const stage of order) {
    const record = records.get(stage.refId)!;
    const upstream = stage.requisiteStageRefIds.map((r) => records.get(r)!.status);
    if (!upstream.every((s) => s === 'SUCCEEDED' || s === 'FAILED_CONTINUE' || s === 'SKIPPED')) continue; // this branch halted
    const enabled = stage.stageEnabled as { type?: string; expression?: string } | undefined;
    if (enabled) {
      if (enabled.type !== 'expression' || typeof enabled.expression !== 'string') throw new UnsupportedPipelineError(`stageEnabled ${JSON.stringify(enabled)}`);
      let on: boolean;
      try {
        on = evaluateStageExpression(enabled.expression, statusOf, contextOf);
      } catch (err) {
        if (!(err instanceof UnevaluableExpression)) throw err;
        on = false; // OptionalStageSupport: InvalidExpression -> the stage is skipped
      }
      if (!on) {
        record.status = 'SKIPPED';
        await input.afterStage?.(record);
        continue;
      }
    }
    let outcome: StageOutcome;
    try {
      outcome = await runStage(stage, input, objects, bound, statusOf, contextOf);
    } catch (err) {
      if (!(err instanceof StageFailure)) throw err;
      outcome = { status: 'TERMINAL', detail: err.message };
      contexts.set(stage.name, err.context);
    }
    record.detail = outcome.detail;
    if (outcome.status === 'SUCCEEDED') record.status = 'SUCCEEDED';
    else if (outcome.status === 'CANCELED') {
      record.status = 'CANCELED';
      await input.afterStage?.(record);
      return result('CANCELED');
    } else {
      const options = failureOptions(stage);
      if (options.continuePipeline) record.status = 'FAILED_CONTINUE';
      else if (options.failPipeline) {
        record.status = 'TERMINAL';
        await input.afterStage?.(record);
        return result('TERMINAL');
      } else {
        record.status = 'STOPPED';
        stopThenFail = true;
      }
    }
    await input.afterStage?.(record);
  }
  return result(stopThenFail ? 'TERMINAL' : 'SUCCEEDED');
}

function failureOptions(stage: SimStage | Record<string, unknown>): { failPipeline: boolean; continuePipeline: boolean } {
  const continuePipeline = stage.continuePipeline === true;
  const failPipeline = stage.failPipeline === undefined || stage.failPipeline === null || stage.failPipeline === true;
  if (!continuePipeline && !failPipeline && stage.completeOtherBranchesThenFail !== true) {
    // Orca halts the branch and the pipeline ends... depending on the version; the generator never emits this.
    throw new UnsupportedPipelineError(`stage ${String(stage.name)}: failPipeline false without continuePipeline or completeOtherBranchesThenFail`);
  }
  return { failPipeline, continuePipeline };
}

async function runStage(
  stage: SimStage,
  input: WalkInput,
  objects: k8s.KubernetesObjectApi,
  bound: Map<string, Artifact>,
  statusOf: (name: string) => StageStatus,
  contextOf: (name: string) => Record<string, any>,
): Promise<StageOutcome> {
  switch (stage.type) {
    case 'findArtifactsFromResource': {
      if (stage.mode !== 'static') throw new UnsupportedPipelineError(`findArtifactsFromResource mode ${String(stage.mode)}`);
      let manifest: any;
      try {
        manifest = await objects.read(objectRef(String(stage.manifestName), String(stage.location)) as any);
      } catch (err) {
        // Clouddriver answers 404 for a manifest that does not exist; Orca records the status (spinnaker-facts.json).
        const code = apiError(err)?.code;
        const details = code ? { status: code, kind: 'HTTP' } : { kind: 'NETWORK' };
        throw new StageFailure(`${stage.manifestName} in ${String(stage.location)}: ${code ?? String(err)}`, { exception: { details } });
      }
      const found = containersOf(manifest).map((c) => dockerArtifact(String(c.image)));
      const expected = (stage.expectedArtifacts ?? []) as Array<{ id: string; matchArtifact: Partial<Artifact> }>;
      for (const [id, artifact] of bindExpected(expected, found, stage.name)) bound.set(id, artifact);
      return { status: 'SUCCEEDED', detail: `found ${found.map((a) => a.reference).join(', ')}` };
    }
    case 'deployManifest': {
      if (stage.source !== 'text') throw new UnsupportedPipelineError(`deployManifest source ${String(stage.source)}`);
      const required = ((stage.requiredArtifactIds ?? []) as string[]).map((id) => {
        const artifact = bound.get(id);
        if (!artifact) throw new StageFailure(`${stage.name}: required artifact ${id} is not bound`);
        return artifact;
      });
      if (((stage.requiredArtifacts ?? []) as unknown[]).length) throw new UnsupportedPipelineError('inline requiredArtifacts');
      const namespace = String(stage.namespaceOverride);
      const application = (stage.moniker as { app?: string } | undefined)?.app;
      for (const manifest of stage.manifests as any[]) {
        const object = bindImages(manifest, required);
        object.metadata = { ...object.metadata, namespace };
        object.metadata.annotations = { ...object.metadata.annotations, 'moniker.spinnaker.io/application': application, 'moniker.spinnaker.io/cluster': `${String(object.kind).toLowerCase()} ${object.metadata.name}` };
        try {
          await objects.patch(object, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
        } catch (err) {
          throw new StageFailure(`${stage.name}: ${object.kind}/${object.metadata.name}: ${apiError(err)?.body ?? String(err)}`);
        }
      }
      return { status: 'SUCCEEDED', detail: `applied ${(stage.manifests as any[]).map((m) => `${m.kind}/${m.metadata.name}`).join(', ')} with ${required.map((a) => a.reference).join(', ')}` };
    }
    case 'deleteManifest': {
      if (stage.mode !== 'static') throw new UnsupportedPipelineError(`deleteManifest mode ${String(stage.mode)}`);
      const cascading = (stage.options as { cascading?: boolean } | undefined)?.cascading !== false;
      const ref = objectRef(String(stage.manifestName), String(stage.location));
      try {
        await objects.delete(ref, undefined, undefined, undefined, undefined, cascading ? 'Background' : 'Orphan');
      } catch (err) {
        if (apiError(err)?.code !== 404) throw new StageFailure(`${stage.name}: ${apiError(err)?.body ?? String(err)}`);
      }
      return { status: 'SUCCEEDED', detail: `deleted ${String(stage.manifestName)}` };
    }
    case 'checkPreconditions': {
      for (const precondition of (stage.preconditions ?? []) as Array<{ type: string; context: { expression: string; failureMessage?: string }; failPipeline?: boolean }>) {
        if (precondition.type !== 'expression') throw new UnsupportedPipelineError(`precondition type ${precondition.type}`);
        let holds: boolean;
        try {
          holds = evaluateStageExpression(precondition.context.expression, statusOf, contextOf);
        } catch (err) {
          if (!(err instanceof UnevaluableExpression)) throw err;
          holds = false; // ExpressionPreconditionTask: an expression that does not evaluate fails
        }
        if (!holds) {
          if (precondition.failPipeline === false) throw new UnsupportedPipelineError('a precondition with failPipeline false');
          throw new StageFailure(precondition.context.failureMessage ?? `precondition ${precondition.context.expression} is false`);
        }
      }
      return { status: 'SUCCEEDED' };
    }
    case 'istioTrafficShift':
      return input.runShift(stage, input.execution);
    case 'manualJudgment': {
      if (!input.judge) throw new UnsupportedPipelineError(`manualJudgment ${stage.name} without a judge`);
      const answer = await input.judge(stage);
      return answer === 'continue' ? { status: 'SUCCEEDED', detail: 'continue' } : { status: 'TERMINAL', detail: 'stopped by the judge' };
    }
    default:
      throw new UnsupportedPipelineError(`stage type ${stage.type}`);
  }
}
