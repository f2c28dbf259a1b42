/**
 * Every rendered pipeline is backed by the Spinnaker facts table: each stage type is one Orca
 * registers, each field and trigger form is listed with its source; docs/pipelines.md shows the table.
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
// Through the package (as its users see it), so the type check reads the built declarations.
import { KNOWN_STAGE_TYPES, SPINNAKER_FACTS, checkAgainstFacts, render, withFactsTable } from '@istio-shift/pipelines';

const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLE = path.join(ROOT, 'examples/checkout');
const manifests = readdirSync(`${EXAMPLE}/k8s`)
  .sort()
  .map((name) => ({ file: `k8s/${name}`, text: readFileSync(`${EXAMPLE}/k8s/${name}`, 'utf8') }));
const exampleParams = JSON.parse(readFileSync(`${EXAMPLE}/spin/config.json`, 'utf8'));
const multiEnvParams = JSON.parse(readFileSync(`${EXAMPLE}/spin/config.multi-env.json`, 'utf8'));

function rendered(params: Record<string, unknown>) {
  const result = render({ paramsFile: 'spin/config.json', paramsText: JSON.stringify(params), manifestsDir: 'k8s', manifests });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.files.map((f) => f.pipeline);
}

const variants: Array<[string, Record<string, unknown>]> = [
  ['the example', exampleParams],
  ['environments (staging, then prod after a manual judgment)', multiEnvParams],
  [
    'every trigger type',
    {
      ...exampleParams,
      triggers: [
        { type: 'docker', account: 'ghcr', repository: 'shop/checkout' },
        { type: 'manual' },
        { type: 'pubsub', subscription: 'gcr' },
      ],
    },
  ],
];

describe('rendered pipelines against the Spinnaker facts table', () => {
  it.each(variants)('%s: every stage type, field and trigger is in the table', (_name, params) => {
    for (const pipeline of rendered(params)) expect(checkAgainstFacts(pipeline)).toEqual([]);
  });

  it.each(['pipelines', 'pipelines-multi-env'])('the committed example pipelines (%s) pass too', (dir) => {
    for (const file of readdirSync(`${EXAMPLE}/${dir}`)) expect(checkAgainstFacts(JSON.parse(readFileSync(`${EXAMPLE}/${dir}/${file}`, 'utf8')))).toEqual([]);
  });

  it('stage 1 is findArtifactsFromResource, the type Orca derives from FindArtifactsFromResourceStage', () => {
    const [canary] = rendered(exampleParams);
    expect(canary.stages[0].type).toBe('findArtifactsFromResource');
    expect(KNOWN_STAGE_TYPES).not.toContain('findArtifactFromResource');
  });

  it('refuses a stage type or field the table does not hold', () => {
    const pipeline = { name: 'p', stages: [{ refId: '1', requisiteStageRefIds: [], name: 'Find', type: 'findArtifactFromResource' }, { refId: '2', requisiteStageRefIds: [], name: 'D', type: 'deployManifest', manifest: {} }] };
    expect(checkAgainstFacts(pipeline)).toEqual([
      'pipeline "p": stage "Find" has type "findArtifactFromResource", which Orca does not register (known: findArtifactsFromResource, deployManifest, deleteManifest, istioTrafficShift, kayentaCanary, checkPreconditions, manualJudgment)',
      'pipeline "p": stage "D" (deployManifest): field "manifest" is not in the facts table',
    ]);
  });

  it('every fact names its source repo, path, symbol and the commit read', () => {
    const sources = [
      ...SPINNAKER_FACTS.stageTypes.flatMap((s) => [s.source, ...s.fields.map((f) => f.source)]),
      ...SPINNAKER_FACTS.stageFields.map((f) => f.source),
      ...SPINNAKER_FACTS.pipelineFields.map((f) => f.source),
      ...SPINNAKER_FACTS.triggerTypes.map((t) => t.source),
      ...SPINNAKER_FACTS.orcaStageContract.map((f) => f.source),
      ...SPINNAKER_FACTS.runJobContract.map((f) => f.source),
      ...SPINNAKER_FACTS.expressions.map((e) => e.source),
      ...SPINNAKER_FACTS.gateEndpoints.map((e) => e.source),
      ...SPINNAKER_FACTS.artifacts.map((e) => e.source),
    ];
    for (const source of sources) {
      expect(source.path && source.symbol).toBeTruthy();
      // The research file's commit of the repo, or the full id of a commit read for this fact alone.
      expect([SPINNAKER_FACTS.commits[source.repo], /^[0-9a-f]{40}$/.test(source.commit) ? source.commit : undefined]).toContain(source.commit);
    }
  });

  it('docs/pipelines.md shows the current table (run `node packages/pipelines/scripts/facts-doc.js` after a build when this fails)', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/pipelines.md'), 'utf8');
    expect(doc).toBe(withFactsTable(doc));
  });
});

describe('no Kayenta judge', () => {
  it('refuses judge.type "kayenta", naming the field, why and what to use instead, and renders nothing', () => {
    const params = { ...exampleParams, judge: { type: 'kayenta', canaryConfigId: 'cfg', metricsAccount: 'prom', storageAccount: 'gcs' } };
    const result = render({ paramsFile: 'spin/config.json', paramsText: JSON.stringify(params, null, 2), manifestsDir: 'k8s', manifests });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.objectContaining({ file: 'spin/config.json', path: '$.judge.type', message: expect.stringContaining('a failing Kayenta score cannot stop the traffic shift'), fix: expect.stringContaining('"judge": {"type": "analysis"}') }),
    ]);
    expect(result.problems[0].line).toBeGreaterThan(1);
  });
});

describe('pipeline order as Deck keeps it', () => {
  it('gives every rendered pipeline its position as index, so Deck re-saves none of them on open', () => {
    const pipelines = rendered(exampleParams) as Array<{ index?: number; name: string }>;
    expect(pipelines.length).toBeGreaterThan(1);
    // Deck: sortBy(pipelines, ['index', 'name']), then saves each whose index !== its position.
    const sorted = [...pipelines].sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity) || a.name.localeCompare(b.name));
    expect(sorted.map((p, position) => p.index === position)).toEqual(pipelines.map(() => true));
  });
});
