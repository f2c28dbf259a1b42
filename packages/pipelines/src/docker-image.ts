/**
 * Docker image names as Spinnaker sees them. Three systems must agree on one string, and each
 * writes it its own way:
 *
 * - the team's manifest (`nginx:1.25`, `ghcr.io/shop/checkout:1.4.2`,
 *   `registry.internal:5000/fin/payments@sha256:…`): Docker's reference grammar
 *   (distribution/reference normalize.go `splitDockerDomain`, commit 0965666a);
 * - the artifact a Docker trigger carries: echo `DockerEventHandler.getArtifactsFromEvent` names it
 *   `registry + "/" + repository` (echo 989e20b5), where registry is the Docker registry account's
 *   address without its scheme (clouddriver `DockerRegistryNamedAccountCredentials` constructor,
 *   lines 346-353, clouddriver 2f5e98f0) and repository the account's repository
 *   (`library/nginx` for Docker Hub's official images); Docker Hub pushes are named
 *   `index.docker.io/<repo>` (echo `DockerHubArtifactExtractor.getArtifacts`);
 * - Clouddriver, which swaps a bound artifact into a container whose image's name equals the
 *   artifact's name, the name being the text before `@`, else before the last `:`
 *   (clouddriver `kubernetes/artifact/Replacer.java` `DOCKER_IMAGE.nameFromReference`, lines
 *   177-196): a port with no tag after it is taken for a tag.
 *
 * Pure string logic; spinnaker-facts.json holds the same citations.
 */

export interface ImageReference {
  /** As the team wrote it. */
  original: string;
  /** Docker's domain: `docker.io` for Docker Hub, else the first path element (may carry a port). */
  domain: string;
  /** The path after the domain (`library/nginx`, `shop/checkout`, `fin/payments`). */
  path: string;
  tag?: string;
  digest?: string;
}

/** Docker Hub under the names Docker accepts for it (normalize.go: defaultDomain, legacyDefaultDomain). */
const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
/** How Spinnaker names Docker Hub: echo's DockerHubArtifactExtractor and the Halyard/Clouddriver account address. */
export const SPINNAKER_DOCKER_HUB = 'index.docker.io';

const TAG = /^[\w][\w.-]{0,127}$/; // regexp.go `tag`
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/; // regexp.go `digestPat`
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/; // regexp.go `pathComponent`

export type ParsedImage = { ok: true; image: ImageReference } | { ok: false; reason: string };

/** Splits an image reference the way Docker does (normalize.go `splitDockerDomain`). */
export function parseImage(original: string): ParsedImage {
  const text = original.trim();
  if (!text) return { ok: false, reason: 'the image is empty' };
  if (/\s/.test(text)) return { ok: false, reason: 'the image contains white space' };
  const [withoutDigest, digest, ...extra] = text.split('@');
  if (extra.length) return { ok: false, reason: 'the image has more than one "@"' };
  if (digest !== undefined && !DIGEST.test(digest)) return { ok: false, reason: `"${digest}" is not a digest (sha256:<64 hex digits>)` };
  // A tag is after the last ':' that follows the last '/': a ':' before it is a registry port.
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  const tag = colon > slash ? withoutDigest.slice(colon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) return { ok: false, reason: `"${tag}" is not a valid tag` };
  const first = name.indexOf('/');
  let domain: string;
  let path: string;
  if (first < 0) {
    domain = 'docker.io';
    path = name;
  } else {
    const maybeDomain = name.slice(0, first);
    const rest = name.slice(first + 1);
    if (maybeDomain === 'localhost' || /[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain) {
      domain = DOCKER_HUB.includes(maybeDomain) ? 'docker.io' : maybeDomain;
      path = rest;
    } else {
      domain = 'docker.io';
      path = name;
    }
  }
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  const bad = path.split('/').find((component) => !PATH_COMPONENT.test(component));
  if (bad !== undefined) return { ok: false, reason: `"${bad}" is not a valid repository path component (lower-case letters, digits, and . _ - between them)` };
  return { ok: true, image: { original, domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) } };
}

/** The registry part of the artifact name: Docker Hub as Spinnaker's account names it. */
export function spinnakerRegistry(image: ImageReference): string {
  return image.domain === 'docker.io' ? SPINNAKER_DOCKER_HUB : image.domain;
}

/** The `docker/image` artifact name a Docker trigger carries for this image (echo: registry + "/" + repository). */
export function artifactName(image: ImageReference): string {
  return `${spinnakerRegistry(image)}/${image.path}`;
}

/** The artifact reference echo builds for a tag (`name:tag`), or the digest form Clouddriver also accepts. */
export function artifactReference(image: ImageReference): string {
  const name = artifactName(image);
  if (image.digest) return `${name}@${image.digest}`;
  return `${name}:${image.tag ?? 'latest'}`;
}

/** Clouddriver's name for an image in a manifest (Replacer.DOCKER_IMAGE.nameFromReference). */
export function clouddriverImageName(reference: string): string {
  const at = reference.indexOf('@');
  if (at >= 0) return reference.slice(0, at);
  const lastColon = reference.lastIndexOf(':');
  return lastColon >= 0 ? reference.slice(0, lastColon) : reference;
}

/**
 * What derived manifests carry in place of the image: a string Clouddriver reads back as exactly
 * the artifact's name, so the bound artifact replaces it. The bare name works unless the registry
 * has a port (`registry.internal:5000/fin/payments` reads as name `registry.internal`): then a tag
 * is added, which Clouddriver strips again.
 */
export function bindableImage(image: ImageReference): string {
  const name = artifactName(image);
  return clouddriverImageName(name) === name ? name : `${name}:${image.tag ?? 'latest'}`;
}

/**
 * The trigger's repository as echo will compare it: a Docker Hub official image written without
 * `library/` gets it (the account lists `library/nginx`, as clouddriver's own examples write it:
 * `DeployDcosServerGroupAtomicOperation` `"repository": "library/nginx", "registry": "index.docker.io"`).
 */
export function normalizeTriggerRepository(repository: string, image: ImageReference): string {
  const trimmed = repository.trim();
  if (image.domain === 'docker.io' && trimmed && !trimmed.includes('/')) return `library/${trimmed}`;
  return trimmed;
}

/** Why a trigger's repository does not match the image, or undefined when it does. */
export function triggerMismatch(repository: string, image: ImageReference): string | undefined {
  const normalized = normalizeTriggerRepository(repository, image);
  if (normalized === image.path) return undefined;
  const parsed = parseImage(repository);
  if (parsed.ok && parsed.image.domain !== 'docker.io' && parsed.image.path === image.path) {
    return `the trigger's repository "${repository}" includes the registry; echo compares it with the registry account's repository "${image.path}"`;
  }
  return `the trigger's repository "${repository}" is not the release image's repository "${image.path}" (image "${image.original}")`;
}
