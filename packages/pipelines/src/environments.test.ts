/**
 * Environments (staging, then prod) in one canary pipeline, the first deploy when no release exists
 * yet, and the rest of k8s/ deployed without the shifted VirtualService.
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import { CANARY_IMAGE_ID, STAGE_NAMES, render, stageNamesFor } from '@istio-shift/pipelines';
import type { Pipeline, Stage } from '@istio-shift/pipelines';

const EXAMPLE = path.resolve(__dirname, '../../../examples/checkout');
const manifests = readdirSync(`${EXAMPLE}/k8s`)
  .sort()
  .map((name) => ({ file: `k8s/${name}`, text: readFileSync(`${EXAMPLE}/k8s/${name}`, 'utf8') }));
const single = JSON.parse(readFileSync(`${EXAMPLE}/spin/config.json`, 'utf8'));
const multi = JSON.parse(readFileSync(`${EXAMPLE}/spin/config.multi-env.json`, 'utf8'));

function renderParams(params: unknown) {
  return render({ paramsFile: 'spin/config.json', paramsText: JSON.stringify(params, null, 2), manifestsDir: 'k8s', manifests });
}
function pipelines(params: unknown): Pipeline[] {
  const result = renderParams(params);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.files.map((f) => f.pipeline);
}
const byName = (p: Pipeline, name: string) => {
  const stage = p.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage ${name}`);
  return stage;
};
const kinds = (s: Stage) => (s.manifests as Array<{ kind: string }>).map((m) => m.kind);

describe('first deploy and the whole app', () => {
  const [canary] = pipelines(single);
  const n = STAGE_NAMES;

  it('deploys Service and DestinationRule on both paths, never the shifted VirtualService', () => {
    expect(kinds(byName(canary, n.deployApp))).toEqual(['DestinationRule', 'Service']);
    expect(byName(canary, n.deployApp).stageEnabled).toBeUndefined();
    const withRoute = canary.stages.filter((s) => s.type === 'deployManifest' && kinds(s).includes('VirtualService')).map((s) => s.name);
    expect(withRoute).toEqual([n.firstRoute, n.applyRoute]);
  });

  it('applies the route only when no release exists, or after the shift and the rollout succeeded', () => {
    expect(byName(canary, n.firstRoute).stageEnabled).toEqual({ type: 'expression', expression: "!(#stage('Find release image')['status'].toString() == 'SUCCEEDED')" });
    expect(byName(canary, n.applyRoute).stageEnabled).toEqual({
      type: 'expression',
      expression: "#stage('Shift traffic to canary')['status'].toString() == 'SUCCEEDED' && #stage('Roll out release')['status'].toString() == 'SUCCEEDED'",
    });
  });

  it('a missing release continues the pipeline; only a 404 leads to the first deploy', () => {
    expect(byName(canary, n.findImage)).toMatchObject({ continuePipeline: true, failPipeline: false });
    expect(byName(canary, n.checkAbsent).preconditions).toEqual([
      expect.objectContaining({ context: expect.objectContaining({ expression: "${#stage('Find release image')['context']['exception']['details']['status'] == 404}" }), failPipeline: true }),
    ]);
    expect(byName(canary, n.firstDeploy)).toMatchObject({ requiredArtifactIds: [CANARY_IMAGE_ID], requisiteStageRefIds: [byName(canary, n.deployApp).refId] });
    expect(byName(canary, n.firstDeploy).failPipeline).toBeUndefined(); // Orca's default: a failed first deploy fails the pipeline
  });

  it('the canary path waits for the rest of the app and runs only when the release was found', () => {
    for (const name of [n.deployBaseline, n.deployCanary]) {
      expect(byName(canary, name).requisiteStageRefIds).toEqual([byName(canary, n.deployApp).refId]);
      expect(byName(canary, name).stageEnabled).toEqual({ type: 'expression', expression: "#stage('Find release image')['status'].toString() == 'SUCCEEDED'" });
    }
    expect(byName(canary, n.verdict).stageEnabled).toEqual(byName(canary, n.deployBaseline).stageEnabled);
  });

  it('hosts addressing without a DestinationRule: the app deploy holds the Service alone', () => {
    const result = render({
      paramsFile: 'spin/config.json',
      paramsText: JSON.stringify({ ...single, addressing: { mode: 'hosts' } }),
      manifestsDir: 'k8s',
      // In this mode the release Service selects only release pods.
      manifests: manifests.filter((m) => !m.file.endsWith('destinationrule.yaml')).map((m) => (m.file.endsWith('/service.yaml') ? { ...m, text: m.text.replace('    app: checkout\n  ports', '    app: checkout\n    track: release\n  ports') } : m)),
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(kinds(byName(result.files[0].pipeline, n.deployApp))).toEqual(['Service']);
  });
});

describe('environments', () => {
  const rendered = pipelines(multi);
  const [canary] = rendered;
  const staging = stageNamesFor('staging');
  const prod = stageNamesFor('prod');

  it('one canary pipeline, a rollback and a promote per environment', () => {
    expect(rendered.map((p) => p.name)).toEqual(['checkout canary', 'checkout staging rollback', 'checkout staging promote', 'checkout prod rollback', 'checkout prod promote']);
  });

  it('each environment deploys to its own account and namespace, with its own replicas and steps', () => {
    expect(byName(canary, staging.deployCanary)).toMatchObject({ account: 'staging-k8s', namespaceOverride: 'shop-staging' });
    expect(byName(canary, prod.deployCanary)).toMatchObject({ account: 'prod-k8s', namespaceOverride: 'shop' });
    expect((byName(canary, prod.deployCanary).manifests as Array<{ spec: { replicas: number } }>)[0].spec.replicas).toBe(2);
    const weights = (name: string) => ((byName(canary, name) as unknown as { payload: { steps: Array<{ weights: number[] }> } }).payload.steps.map((s) => s.weights));
    expect(weights(staging.shift)).toEqual([[50, 25, 25], [100, 0, 0]]);
    expect(weights(prod.shift)).toEqual([[80, 10, 10], [34, 33, 33], [100, 0, 0]]);
  });

  it('prod starts after staging ends, behind a manual judgment whose Stop ends the pipeline', () => {
    const approve = byName(canary, prod.approve);
    expect(approve).toMatchObject({ type: 'manualJudgment', failPipeline: true, judgmentInputs: [] });
    expect(approve.requisiteStageRefIds).toEqual([byName(canary, staging.verdict).refId, byName(canary, staging.firstRoute).refId]);
    expect(byName(canary, prod.findImage).requisiteStageRefIds).toEqual([approve.refId]);
    expect(byName(canary, staging.findImage).requisiteStageRefIds).toEqual([]);
  });

  it('prod deploys the exact image that passed staging: the one pipeline artifact, bound once from the trigger', () => {
    expect((canary.expectedArtifacts as Array<{ id: string }>).map((a) => a.id)).toEqual([CANARY_IMAGE_ID]);
    for (const names of [staging, prod]) {
      for (const name of [names.deployCanary, names.rollout, names.firstDeploy]) expect(byName(canary, name).requiredArtifactIds).toEqual([CANARY_IMAGE_ID]);
    }
    // Each environment's baseline is its own release image, under its own id.
    expect(byName(canary, prod.deployBaseline).requiredArtifactIds).toEqual(['prod-baseline-image']);
    expect((byName(canary, prod.findImage).expectedArtifacts as Array<{ id: string }>).map((a) => a.id)).toEqual(['prod-baseline-image']);
  });

  it('stage names and refIds are unique across environments', () => {
    expect(new Set(canary.stages.map((s) => s.name)).size).toBe(canary.stages.length);
    expect(new Set(canary.stages.map((s) => s.refId)).size).toBe(canary.stages.length);
  });

  it('an environment inherits what it does not set from the top level', () => {
    const [p] = pipelines({ ...multi, account: 'shared-k8s', environments: [{ name: 'staging', namespace: 'shop-staging' }, { name: 'prod', namespace: 'shop' }] });
    expect(byName(p, stageNamesFor('staging').deployCanary)).toMatchObject({ account: 'shared-k8s', namespaceOverride: 'shop-staging' });
    expect(p.stages.some((s) => s.type === 'manualJudgment')).toBe(false);
  });
});

describe('environments: bad input', () => {
  const problems = (params: unknown) => {
    const result = renderParams(params);
    if (result.ok) throw new Error('expected problems');
    return result.problems.map((p) => ({ path: p.path, message: p.message, line: p.line }));
  };

  it('an environment without an account (own or top-level), a repeated name, bad weights: each named with its line', () => {
    const params = { ...multi, environments: [{ name: 'staging', namespace: 'a' }, { name: 'staging', account: 'x', namespace: 'b', steps: [{ weights: [50, 30, 20], analysis: '1m' }] }] };
    const found = problems(params);
    expect(found).toEqual([
      { path: '$.environments[0]', message: 'environment "staging" has no account', line: expect.any(Number) },
      { path: '$.environments[1].steps[0].weights', message: 'baseline (30) and canary (20) get different weights', line: expect.any(Number) },
      { path: '$.environments[1].name', message: 'environment name "staging" is also used by environments[0]', line: expect.any(Number) },
    ]);
    expect(found.every((p) => p.line! > 1)).toBe(true);
  });

  it('without environments, account and namespace are required as before', () => {
    const { account: _a, namespace: _n, ...params } = single;
    expect(problems(params).map((p) => p.message)).toEqual(['missing field "account"', 'missing field "namespace"']);
  });
});
