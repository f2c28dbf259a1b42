/**
 * The team's plain manifests (k8s/*.yaml): parsed with line positions, checked against what the
 * parameter file says (the release Deployment, its Service, the VirtualService route, the
 * DestinationRule subsets), and the transient baseline and canary objects derived from them.
 * Nothing here is templated: derived objects are the author's objects with a name suffix, the
 * labels their subset (or Service) selects, a replica count, and the image left as the bare
 * repository so that Spinnaker binds the right image artifact at deploy time.
 */
import { Document, LineCounter, parseAllDocuments, isNode } from 'yaml';
import { InputProblem } from './problems';
import { ImageReference, artifactName, bindableImage, parseImage } from './docker-image';
import type { ResolvedParams } from './params';

export interface ManifestFile {
  file: string;
  text: string;
}

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;  
  [key: string]: unknown;
};

interface Located {
  object: KubeObject;
  file: string;
  /** 1-based line of a field path in this object's document (its first line when unknown). */
  lineOf(path: (string | number)[]): number;
}

export type Track = 'release' | 'baseline' | 'canary';
export const TRACKS: Track[] = ['release', 'baseline', 'canary'];
/** Label on every derived object: which track it is, so cleanup never touches the release. */
export const TRACK_LABEL = 'istio-traffic-shift.io/track';

export interface DerivedManifests {
  /** The docker image repository (no tag): the name of the image artifacts. */
  imageName: string;
  /** The release's image as written in k8s/ (for documentation; the pipeline reads it at run time). */
  authoredImage: string;
  /** That image parsed as Docker reads it, and where it is written (for the trigger's cross-check). */
  image: ImageReference;
  imageAt: { file: string; line: number };
  release: KubeObject;
  baseline: KubeObject[];
  canary: KubeObject[];
  /** The shift's destinations, release/baseline/canary, as the route writes hosts. */
  destinations: { host: string; subset?: string; port?: number }[];
  /** Names of the objects each track's cleanup deletes, as `kind name`. */
  cleanup: { baseline: string[]; canary: string[] };
  /**
   * The rest of k8s/ (Service, DestinationRule, ConfigMaps, …) as written: every object but the
   * release Deployment (deployed with its image bound) and the shifted VirtualService (deployed
   * only when no shift can be moving its weights: see render.ts).
   */
  appObjects: KubeObject[];
  /** The shifted VirtualService as written. */
  virtualService: KubeObject;
}

export type ManifestResult = { ok: true; manifests: DerivedManifests } | { ok: false; problems: InputProblem[] };

function load(files: ManifestFile[], problems: InputProblem[]): Located[] {
  const located: Located[] = [];
  for (const { file, text } of files) {
    const lineCounter = new LineCounter();
    const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
    const list: Document[] = Array.isArray(documents) ? documents : [documents as unknown as Document];
    for (const doc of list) {
      if (doc.errors.length) {
        for (const error of doc.errors) {
          problems.push({ file, line: lineCounter.linePos(error.pos[0]).line, path: '(YAML)', message: `not valid YAML: ${error.message.split('\n')[0]}`, fix: 'correct the YAML syntax' });
        }
        continue;
      }
      const firstLine = doc.contents && isNode(doc.contents) && doc.contents.range ? lineCounter.linePos(doc.contents.range[0]).line : 1;
      let object: KubeObject | null;
      try {
        // The yaml library stops alias expansion past maxAliasCount (default 100): a "billion laughs"
        // document throws a ReferenceError here instead of filling memory.
        object = doc.toJS({ maxAliasCount: 100 }) as KubeObject | null;
      } catch (error) {
        problems.push({ file, line: firstLine, path: '(YAML)', message: `the document starting here cannot be read: ${(error as Error).message}${/alias/i.test((error as Error).message) ? ' (its aliases expand past 100 references)' : ''}`, fix: 'write the values out instead of nesting anchors and aliases (*name)' });
        continue;
      }
      if (!object || typeof object !== 'object') continue;
      if (typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') {
        problems.push({ file, line: firstLine, path: 'kind, metadata.name', message: 'not a Kubernetes object (kind or metadata.name missing)', fix: 'give every YAML document a kind and metadata.name' });
        continue;
      }
      const lineOf = (path: (string | number)[]) => {
        for (let n = path.length; n > 0; n--) {
          const node = doc.getIn(path.slice(0, n), true);
          if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
        }
        return firstLine;
      };
      located.push({ object, file, lineOf });
    }
  }
  return located;
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** `ghcr.io/shop/checkout:1.4.2@sha256:…` -> `ghcr.io/shop/checkout`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** The short name a VirtualService host refers to in `namespace`, or undefined for another namespace. */
function serviceOfHost(host: string, namespace: string): string | undefined {
  const parts = host.split('.');
  if (parts.length === 1) return host;
  if (parts[1] !== namespace) return undefined;
  if (parts.length === 2 || host === `${parts[0]}.${namespace}.svc` || host === `${parts[0]}.${namespace}.svc.cluster.local`) return parts[0];
  return undefined;
}

/** `host` with its first label replaced (checkout.shop.svc.cluster.local -> checkout-canary.shop.svc.cluster.local). */
function renameHost(host: string, name: string): string {
  const parts = host.split('.');
  parts[0] = name;
  return parts.join('.');
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
}

const describeLabels = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([key, value]) => `${key}: ${value}`)
    .join(', ');

/**
 * The same object (kind, namespace, name) defined twice, in two files or one: refused, naming
 * both places (otherwise the first one found would win silently). Objects without a namespace are
 * in the parameter file's namespace, where the pipelines deploy them.
 */
function refuseDuplicates(objects: Located[], namespace: string, problems: InputProblem[]): void {
  const seen = new Map<string, Located>();
  for (const located of objects) {
    const { kind, metadata } = located.object;
    const ns = metadata.namespace ?? namespace;
    const key = `${kind}\u0000${ns}\u0000${metadata.name}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, located);
      continue;
    }
    problems.push({
      file: located.file,
      line: located.lineOf(['metadata', 'name']),
      path: 'metadata.name',
      message: `${kind} "${metadata.name}" (namespace ${ns}) is also defined in ${first.file}:${first.lineOf(['metadata', 'name'])}`,
      fix: `keep one definition of ${kind} "${metadata.name}": delete the other or rename it`,
    });
  }
}

/** Where the parameter file names things: a missing object is reported at the line that names it. */
export interface ParamsSource {
  file: string;
  lineOf(pointer: string): number | undefined;
}

/** Checks the manifests against the parameters and derives the baseline and canary objects. */
export function deriveManifests(files: ManifestFile[], params: ResolvedParams, manifestsDir: string, paramsSource?: ParamsSource): ManifestResult {
  const problems: InputProblem[] = [];
  const objects = load(files, problems);
  refuseDuplicates(objects, params.namespace, problems);
  const find = (kind: string, name: string) => objects.find((o) => o.object.kind === kind && o.object.metadata.name === name);
  // An object that is not there has no line of its own: the problem points at the parameter file's
  // field that names it (`deployment` defaults to `service`, so an absent one points there).
  const namedAt = (param: string): Pick<InputProblem, 'file' | 'line'> => {
    if (!paramsSource) return { file: manifestsDir };
    const pointer = `/${param.replace(/\./g, '/')}`;
    const line = paramsSource.lineOf(pointer) ?? (param === 'deployment' ? paramsSource.lineOf('/service') : undefined);
    return { file: paramsSource.file, line };
  };
  const missing = (kind: string, name: string, param: string) =>
    problems.push({
      ...namedAt(param),
      path: `${kind}/${name}`,
      message: `no ${kind} named "${name}" in ${manifestsDir}${objects.length ? ` (found: ${objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`).join(', ')})` : ''}`,
      fix: `add the ${kind} manifest to ${manifestsDir}, or set "${param}" in the parameter file to the name it has`,
    });

  const deployment = find('Deployment', params.deployment);
  const service = find('Service', params.service);
  const virtualService = find('VirtualService', params.virtualService.name);
  if (!deployment) missing('Deployment', params.deployment, 'deployment');
  if (!service) missing('Service', params.service, 'service');
  if (!virtualService) missing('VirtualService', params.virtualService.name, 'virtualService.name');
  for (const o of objects) {
    const namespace = o.object.metadata.namespace;
    if (namespace && namespace !== params.namespace) {
      problems.push({ file: o.file, line: o.lineOf(['metadata', 'namespace']), path: 'metadata.namespace', message: `${o.object.kind}/${o.object.metadata.name} is in namespace "${namespace}", the parameter file says "${params.namespace}"`, fix: 'remove metadata.namespace (the pipeline deploys to the parameter file\'s namespace) or make them agree' });
    }
  }
  if (!deployment || !service || !virtualService) return { ok: false, problems };

  // The route and its release destination.
  const routes: any[] = Array.isArray(virtualService.object.spec?.http) ? virtualService.object.spec.http : [];  
  const routeIndex = routes.findIndex((r) => r?.name === params.virtualService.route);
  if (routeIndex < 0) {
    problems.push({
      file: virtualService.file,
      line: virtualService.lineOf(['spec', 'http']),
      path: 'spec.http',
      message: `VirtualService/${params.virtualService.name} has no HTTP route named "${params.virtualService.route}" (routes: ${routes.map((r) => r?.name ?? '(unnamed)').join(', ') || 'none'})`,
      fix: 'give the route a name in the VirtualService, or set "virtualService.route" to the route\'s name',
    });
    return { ok: false, problems };
  }
  const route = routes[routeIndex];
  const routePath = ['spec', 'http', routeIndex, 'route'];
  const mode = params.addressing.mode;
  const releaseSubset = params.addressing.mode === 'subsets' ? params.addressing.release : undefined;
  const releaseHostName = params.service;
  const destinations: any[] = Array.isArray(route.route) ? route.route : [];  
  const releaseDestination = destinations.find(
    (d) => typeof d?.destination?.host === 'string' && serviceOfHost(d.destination.host, params.namespace) === releaseHostName && (mode === 'hosts' || d.destination.subset === releaseSubset),
  );
  if (!releaseDestination) {
    problems.push({
      file: virtualService.file,
      line: virtualService.lineOf(routePath),
      path: `spec.http[${routeIndex}].route`,
      message: `route "${params.virtualService.route}" does not route to Service "${params.service}"${mode === 'subsets' ? ` subset "${releaseSubset}"` : ''} in namespace "${params.namespace}"`,
      fix: `add a destination { host: ${params.service}${mode === 'subsets' ? `, subset: ${releaseSubset}` : ''} } with weight 100 to the route`,
    });
  }

  // The release Deployment and its container.
  const spec = deployment.object.spec ?? {};
  const containers: any[] = spec.template?.spec?.containers ?? [];  
  const containerIndex = params.container ? containers.findIndex((c) => c?.name === params.container) : containers.length ? 0 : -1;
  if (containerIndex < 0) {
    problems.push({
      file: deployment.file,
      line: deployment.lineOf(['spec', 'template', 'spec', 'containers']),
      path: 'spec.template.spec.containers',
      message: params.container ? `Deployment/${params.deployment} has no container named "${params.container}"` : `Deployment/${params.deployment} has no containers`,
      fix: params.container ? `set "container" to one of: ${containers.map((c) => c?.name).join(', ')}` : 'add the container that runs the service',
    });
  }
  const image: string = containers[containerIndex]?.image ?? '';
  if (containerIndex >= 0 && !image) {
    problems.push({ file: deployment.file, line: deployment.lineOf(['spec', 'template', 'spec', 'containers', containerIndex]), path: `spec.template.spec.containers[${containerIndex}].image`, message: 'the container has no image', fix: 'write the image the release runs today (e.g. ghcr.io/shop/checkout:1.4.2)' });
  }
  const imagePath = ['spec', 'template', 'spec', 'containers', containerIndex, 'image'];
  const parsedImage = image ? parseImage(image) : undefined;
  if (image.includes('${')) {
    problems.push({ file: deployment.file, line: deployment.lineOf(imagePath), path: `spec.template.spec.containers[${containerIndex}].image`, message: 'the image is a SpEL expression', fix: 'write a plain image reference: the pipeline binds the canary and baseline images as artifacts' });
  } else if (parsedImage && !parsedImage.ok) {
    problems.push({ file: deployment.file, line: deployment.lineOf(imagePath), path: `spec.template.spec.containers[${containerIndex}].image`, message: `"${image}" is not a Docker image reference: ${parsedImage.reason}`, fix: 'write [registry[:port]/]repository[:tag][@sha256:digest], e.g. ghcr.io/shop/checkout:1.4.2' });
  }
  const templateLabels: Record<string, string> = spec.template?.metadata?.labels ?? {};
  const selector: Record<string, string> = spec.selector?.matchLabels ?? {};
  const labelsLine = deployment.lineOf(['spec', 'template', 'metadata', 'labels']);

  // What distinguishes the tracks: subset labels from the DestinationRule, or one track label.
  const trackLabels: Partial<Record<Track, Record<string, string>>> = {};
  if (params.addressing.mode === 'subsets') {
    const addressing = params.addressing;
    const rule = objects.find((o) => o.object.kind === 'DestinationRule' && typeof o.object.spec?.host === 'string' && serviceOfHost(o.object.spec.host, params.namespace) === params.service);
    if (!rule) {
      problems.push({ file: manifestsDir, path: 'DestinationRule', message: `no DestinationRule for host "${params.service}" in ${manifestsDir}`, fix: `add a DestinationRule with host ${params.service} and subsets ${TRACKS.map((t) => addressing[t]).join(', ')} (or use "addressing": {"mode": "hosts"})` });
    } else {
      const subsets: any[] = rule.object.spec.subsets ?? [];  
      for (const track of TRACKS) {
        const subset = subsets.find((s) => s?.name === addressing[track]);
        if (!subset) {
          problems.push({ file: rule.file, line: rule.lineOf(['spec', 'subsets']), path: 'spec.subsets', message: `DestinationRule/${rule.object.metadata.name} has no subset "${addressing[track]}" (the ${track} track)`, fix: `add a subset { name: ${addressing[track]}, labels: {...} } whose labels select only ${track} pods` });
        } else if (!subset.labels || !Object.keys(subset.labels).length) {
          problems.push({ file: rule.file, line: rule.lineOf(['spec', 'subsets']), path: `spec.subsets[${subsets.indexOf(subset)}].labels`, message: `subset "${addressing[track]}" selects no labels, so it would route to every pod`, fix: `give it labels that only ${track} pods carry, e.g. { track: ${track} }` });
        } else trackLabels[track] = subset.labels;
      }
    }
  } else {
    const label = params.addressing.trackLabel;
    for (const track of TRACKS) trackLabels[track] = { [label]: track };
    if ((service.object.spec?.selector ?? {})[label] !== 'release') {
      problems.push({ file: service.file, line: service.lineOf(['spec', 'selector']), path: 'spec.selector', message: `Service/${params.service} does not select "${label}: release"`, fix: `add ${label}: release to its selector, so that the baseline and canary pods (${label}: baseline/canary) get Services of their own` });
    }
  }
  const release = trackLabels.release;
  if (release && !selects(release, templateLabels)) {
    problems.push({ file: deployment.file, line: labelsLine, path: 'spec.template.metadata.labels', message: `the release pods lack the labels the route needs (${describeLabels(release)})`, fix: `add ${describeLabels(release)} to spec.template.metadata.labels (and to spec.selector.matchLabels)` });
  }
  // A track's labels: the release's, with the labels that tell tracks apart swapped for the track's.
  const relabel = (labels: Record<string, string>, track: Track) => {
    const next = { ...labels };
    for (const key of Object.keys(release ?? {})) delete next[key];
    return { ...next, ...trackLabels[track] };
  };
  if (release && trackLabels.baseline && selects(selector, relabel(templateLabels, 'baseline'))) {
    problems.push({ file: deployment.file, line: deployment.lineOf(['spec', 'selector']), path: 'spec.selector.matchLabels', message: 'the release Deployment\'s selector would also select the baseline and canary pods', fix: `add ${describeLabels(release)} to spec.selector.matchLabels` });
  }
  if (mode === 'subsets' && release && trackLabels.canary && !selects(service.object.spec?.selector, relabel(templateLabels, 'canary'))) {
    problems.push({ file: service.file, line: service.lineOf(['spec', 'selector']), path: 'spec.selector', message: `Service/${params.service} would not select the canary pods, so subsets "baseline" and "canary" would have no endpoints`, fix: `remove the subset labels (${Object.keys(release).join(', ')}) from the Service's selector: the DestinationRule subsets tell the tracks apart` });
  }
  if (problems.length || !parsedImage?.ok) return { ok: false, problems };

  // The artifact name a Docker trigger carries (Docker Hub as index.docker.io/library/…), and the
  // image derived manifests carry so that Clouddriver binds that artifact (docker-image.ts).
  const imageName = artifactName(parsedImage.image);
  const derive = (track: Track): KubeObject => {
    const object = copy(deployment.object);
    const suffix = track === 'release' ? '' : `-${track}`;
    object.metadata = { ...object.metadata, name: `${params.deployment}${suffix}`, labels: { ...(track === 'release' ? object.metadata.labels : relabel(object.metadata.labels ?? {}, track)), [TRACK_LABEL]: track } };
    delete object.metadata.namespace;
    if (track !== 'release') {
      object.spec.replicas = params.replicas[track];
      object.spec.selector = { ...object.spec.selector, matchLabels: relabel(selector, track) };
      object.spec.template.metadata = { ...object.spec.template.metadata, labels: relabel(templateLabels, track) };
    }
    // The bare repository: Spinnaker replaces it with the bound image artifact (baseline: the
    // release's image found at run time; canary and release rollout: the triggering image).
    object.spec.template.spec.containers[containerIndex].image = bindableImage(parsedImage.image);
    return object;
  };
  const serviceFor = (track: Track): KubeObject => {
    const object = copy(service.object);
    object.metadata = { ...object.metadata, name: `${params.service}-${track}`, labels: { ...(object.metadata.labels ?? {}), [TRACK_LABEL]: track } };
    delete object.metadata.namespace;
    object.spec.selector = relabel(object.spec.selector ?? {}, track);
    delete object.spec.clusterIP;
    delete object.spec.clusterIPs;
    return object;
  };
  const host: string = releaseDestination.destination.host;
  const port: number | undefined = releaseDestination.destination.port?.number;
  const destinationFor = (track: Track) =>
    params.addressing.mode === 'subsets'
      ? { host, subset: params.addressing[track], ...(port ? { port } : {}) }
      : { host: track === 'release' ? host : renameHost(host, `${params.service}-${track}`), ...(port ? { port } : {}) };
  const withServices = (track: Track) => (mode === 'hosts' ? [derive(track), serviceFor(track)] : [derive(track)]);
  // As written, in file order; the namespace is the stage's (namespaceOverride), like the derived objects'.
  const asWritten = (located: Located): KubeObject => {
    const object = copy(located.object);
    object.metadata = { ...object.metadata };
    delete object.metadata.namespace;
    return object;
  };
  const appObjects = objects.filter((o) => o !== deployment && o !== virtualService).map(asWritten);
  const cleanupFor = (track: Track) => [`deployment ${params.deployment}-${track}`, ...(mode === 'hosts' ? [`service ${params.service}-${track}`] : [])];
  return {
    ok: true,
    manifests: {
      imageName,
      authoredImage: image,
      image: parsedImage.image,
      imageAt: { file: deployment.file, line: deployment.lineOf(imagePath) },
      release: derive('release'),
      baseline: withServices('baseline'),
      canary: withServices('canary'),
      destinations: TRACKS.map(destinationFor),
      cleanup: { baseline: cleanupFor('baseline'), canary: cleanupFor('canary') },
      appObjects,
      virtualService: asWritten(virtualService),
    },
  };
}
