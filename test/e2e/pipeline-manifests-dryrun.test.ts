/**
 * Every object the generated pipelines deploy, and the example's own manifests, pass the real
 * kube-apiserver's validation (server-side dry-run, `dryRun=All`, with the official Istio CRDs for
 * DestinationRule and VirtualService): the committed example pipelines (subsets addressing) and
 * the same app rendered with one host per track (which adds the baseline and canary Services).
 * Images are bound first the way Clouddriver binds them (test/e2e/pipeline-simulator.ts), since a
 * bare repository is what the pipeline JSON holds until Spinnaker binds the artifact.
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { render } from '@istio-shift/pipelines';
import type { Pipeline } from '@istio-shift/pipelines';
import { adminKubeConfig, apiError, createNamespace } from '../cluster/test-helpers';
import { bindImages, dockerArtifact } from './pipeline-simulator';

const EXAMPLE = path.resolve(__dirname, '../../examples/checkout');
const IMAGES: Record<string, string> = { 'baseline-image': 'ghcr.io/shop/checkout:v1.4.2', 'canary-image': 'ghcr.io/shop/checkout:v1.5.0' };

let namespace: string;
let cleanup: () => Promise<void>;
const objects = k8s.KubernetesObjectApi.makeApiClient(adminKubeConfig());

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('pipeline-dryrun'));
});
afterAll(async () => cleanup?.());

const readDir = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((f) => ({ file: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') }));

/** Each deployManifest stage's objects, images bound from its required artifacts, in `namespace`. */
function deployedObjects(pipeline: Pipeline): Array<{ stage: string; object: any }> {
  return pipeline.stages
    .filter((s) => s.type === 'deployManifest')
    .flatMap((s) => {
      const artifacts = (s.requiredArtifactIds as string[]).map((id) => dockerArtifact(IMAGES[id]));
      return (s.manifests as any[]).map((m) => ({ stage: `${pipeline.name} / ${s.name}`, object: { ...bindImages(m, artifacts), metadata: { ...m.metadata, namespace } } }));
    });
}

async function dryRunCreate(object: any): Promise<void> {
  try {
    await objects.create(object, undefined, 'All');
  } catch (err) {
    throw new Error(`${object.kind}/${object.metadata.name} rejected: ${apiError(err)?.body ?? String(err)}`);
  }
}

/** Nothing a dry-run sent may exist afterwards. */
async function expectNotPersisted(object: any): Promise<void> {
  const code = await objects.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, namespace } }).then(() => 200, (err) => apiError(err)?.code);
  expect(code).toBe(404);
}

it('the committed example pipelines: baseline, canary and release Deployments pass dry-run', async () => {
  const pipelines = readDir(path.join(EXAMPLE, 'pipelines')).map((f) => JSON.parse(f.text) as Pipeline);
  const deployed = pipelines.flatMap(deployedObjects);
  const image = (object: any) => (object.spec.template ? ` ${object.spec.template.spec.containers[0].image}` : '');
  expect(deployed.map((d) => `${d.stage}: ${d.object.kind}/${d.object.metadata.name}${image(d.object)}`)).toEqual([
    'checkout canary / Deploy app objects: DestinationRule/checkout',
    'checkout canary / Deploy app objects: Service/checkout',
    'checkout canary / Deploy release (first deploy): Deployment/checkout ghcr.io/shop/checkout:v1.5.0',
    'checkout canary / Apply route (first deploy): VirtualService/checkout',
    'checkout canary / Deploy baseline: Deployment/checkout-baseline ghcr.io/shop/checkout:v1.4.2',
    'checkout canary / Deploy canary: Deployment/checkout-canary ghcr.io/shop/checkout:v1.5.0',
    'checkout canary / Roll out release: Deployment/checkout ghcr.io/shop/checkout:v1.5.0',
    'checkout canary / Apply route: VirtualService/checkout',
    'checkout promote / Roll out release: Deployment/checkout ghcr.io/shop/checkout:v1.5.0',
  ]);
  for (const { object } of deployed) await dryRunCreate(object);
  for (const { object } of deployed) await expectNotPersisted(object);
});

it("the example's own manifests (Deployment, Service, DestinationRule, VirtualService) pass dry-run", async () => {
  const manifests = readDir(path.join(EXAMPLE, 'k8s')).map((f) => ({ ...parseYaml(f.text), metadata: { ...parseYaml(f.text).metadata, namespace } }));
  expect(manifests.map((m) => m.kind).sort()).toEqual(['Deployment', 'DestinationRule', 'Service', 'VirtualService']);
  for (const object of manifests) await dryRunCreate(object);
  for (const object of manifests) await expectNotPersisted(object);
});

it('one host per track: the derived baseline and canary Services and Deployments pass dry-run', async () => {
  const params = { ...JSON.parse(readFileSync(path.join(EXAMPLE, 'spin/config.json'), 'utf8')), addressing: { mode: 'hosts' } };
  const manifests = readDir(path.join(EXAMPLE, 'k8s')).map((f) =>
    // In this mode the release Service selects only release pods; the tracks get Services of their own.
    f.file.endsWith('service.yaml') && !f.file.endsWith('virtualservice.yaml') ? { ...f, text: f.text.replace('    app: checkout\n  ports', '    app: checkout\n    track: release\n  ports') } : f,
  );
  const result = render({ paramsFile: 'spin/config.json', paramsText: JSON.stringify(params), manifestsDir: 'k8s', manifests });
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  const deployed = deployedObjects(result.files[0].pipeline);
  expect(deployed.map((d) => `${d.object.kind}/${d.object.metadata.name}`)).toEqual([
    'DestinationRule/checkout', 'Service/checkout', 'Deployment/checkout', 'VirtualService/checkout',
    'Deployment/checkout-baseline', 'Service/checkout-baseline', 'Deployment/checkout-canary', 'Service/checkout-canary', 'Deployment/checkout', 'VirtualService/checkout',
  ]);
  for (const { object } of deployed) await dryRunCreate(object);
});

it('the dry-run really validates: a broken derived Deployment is rejected and names the field', async () => {
  const pipeline = JSON.parse(readFileSync(path.join(EXAMPLE, 'pipelines/checkout-canary.json'), 'utf8')) as Pipeline;
  const { object } = deployedObjects(pipeline).find((d) => d.object.kind === 'Deployment')!;
  object.spec.selector.matchLabels.track = 'not-the-template-label';
  await expect(dryRunCreate(object)).rejects.toThrow(/spec\.template\.metadata\.labels: Invalid value.*`selector` does not match template `labels`/);
});
