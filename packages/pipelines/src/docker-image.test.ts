/**
 * Image names as the three systems read them. Each row cites the source line it follows:
 * - distribution/reference@0965666a normalize.go `splitDockerDomain` (lines 146-190) and regexp.go;
 * - spinnaker/echo@989e20b5 echo-pipelinetriggers/.../eventhandlers/DockerEventHandler.java:76
 *   (`name = registry + "/" + repository`) and echo-webhooks/.../DockerHubArtifactExtractor.java:51
 *   (`index.docker.io/%s`);
 * - spinnaker/clouddriver@2f5e98f0 clouddriver-kubernetes/.../artifact/Replacer.java:177-196
 *   (`DOCKER_IMAGE.nameFromReference`: before '@', else before the last ':').
 */
import { artifactName, artifactReference, bindableImage, clouddriverImageName, normalizeTriggerRepository, parseImage, triggerMismatch } from './docker-image';

const parsed = (image: string) => {
  const result = parseImage(image);
  if (!result.ok) throw new Error(result.reason);
  return result.image;
};

describe('parseImage follows Docker (normalize.go splitDockerDomain)', () => {
  it.each([
    // image, domain, path, tag, digest; why
    ['nginx', 'docker.io', 'library/nginx', undefined, undefined], // single element: docker.io + library/ (normalize.go:147-157)
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', undefined],
    ['shop/checkout:2', 'docker.io', 'shop/checkout', '2', undefined], // first element without '.' or ':' is no domain (normalize.go:176-179)
    ['docker.io/nginx', 'docker.io', 'library/nginx', undefined, undefined], // familiar name on docker.io gets library/ (normalize.go:182-187)
    ['index.docker.io/library/alpine:3.12', 'docker.io', 'library/alpine', '3.12', undefined], // legacy domain = docker.io (normalize.go:163-165)
    ['ghcr.io/shop/checkout:1.4.2', 'ghcr.io', 'shop/checkout', '1.4.2', undefined], // '.' makes a domain (normalize.go:166-171)
    ['registry.internal:5000/fin/payments', 'registry.internal:5000', 'fin/payments', undefined, undefined], // ':' makes a domain, the port is no tag
    ['registry.internal:5000/fin/payments:7', 'registry.internal:5000', 'fin/payments', '7', undefined],
    ['localhost/app', 'localhost', 'app', undefined, undefined], // localhost is always a domain (normalize.go:160-162)
    ['Registry/app', 'Registry', 'app', undefined, undefined], // upper case first element is a domain (normalize.go:172-175)
    [`ghcr.io/shop/checkout@sha256:${'a'.repeat(64)}`, 'ghcr.io', 'shop/checkout', undefined, `sha256:${'a'.repeat(64)}`],
    [`registry.internal:5000/fin/payments:7@sha256:${'b'.repeat(64)}`, 'registry.internal:5000', 'fin/payments', '7', `sha256:${'b'.repeat(64)}`],
  ])('%s -> domain %s, path %s, tag %s, digest %s', (image, domain, path, tag, digest) => {
    const result = parsed(image);
    expect({ domain: result.domain, path: result.path, tag: result.tag, digest: result.digest }).toEqual({ domain, path, tag, digest });
  });

  it.each([
    ['', 'empty'],
    ['ghcr.io/Shop/checkout', '"Shop" is not a valid repository path component'],
    ['nginx@sha256:xyz', 'is not a digest'],
    ['nginx:bad tag', 'white space'],
    ['a@b@c', 'more than one "@"'],
  ])('refuses %j (%s)', (image, reason) => {
    const result = parseImage(image);
    expect(result.ok ? 'accepted' : result.reason).toContain(reason);
  });
});

describe('artifact names as echo builds them (registry + "/" + repository)', () => {
  it.each([
    ['nginx:1.25', 'index.docker.io/library/nginx', 'index.docker.io/library/nginx:1.25'], // Docker Hub as Spinnaker names it (DockerHubArtifactExtractor.java:51)
    ['shop/checkout', 'index.docker.io/shop/checkout', 'index.docker.io/shop/checkout:latest'],
    ['docker.io/library/nginx:1', 'index.docker.io/library/nginx', 'index.docker.io/library/nginx:1'],
    ['ghcr.io/shop/checkout:1.4.2', 'ghcr.io/shop/checkout', 'ghcr.io/shop/checkout:1.4.2'],
    ['registry.internal:5000/fin/payments:7', 'registry.internal:5000/fin/payments', 'registry.internal:5000/fin/payments:7'],
    [`ghcr.io/shop/checkout:1@sha256:${'c'.repeat(64)}`, 'ghcr.io/shop/checkout', `ghcr.io/shop/checkout@sha256:${'c'.repeat(64)}`],
  ])('%s -> name %s, reference %s', (image, name, reference) => {
    expect(artifactName(parsed(image))).toBe(name);
    expect(artifactReference(parsed(image))).toBe(reference);
  });
});

describe('what Clouddriver binds (Replacer.DOCKER_IMAGE.nameFromReference)', () => {
  it.each([
    ['ghcr.io/shop/checkout', 'ghcr.io/shop/checkout'],
    ['ghcr.io/shop/checkout:1.4.2', 'ghcr.io/shop/checkout'],
    [`ghcr.io/shop/checkout@sha256:${'d'.repeat(64)}`, 'ghcr.io/shop/checkout'], // '@' first (Replacer.java:180-184)
    ['registry.internal:5000/fin/payments', 'registry.internal'], // the port is read as a tag (Replacer.java:186-193)
    ['registry.internal:5000/fin/payments:7', 'registry.internal:5000/fin/payments'],
  ])('%s reads as %s', (reference, name) => {
    expect(clouddriverImageName(reference)).toBe(name);
  });

  it.each(['nginx', 'ghcr.io/shop/checkout:1.4.2', 'registry.internal:5000/fin/payments', 'registry.internal:5000/fin/payments:7', 'localhost:5000/app'])(
    'the placeholder written for %s reads back as the artifact name, so the bound artifact replaces it',
    (image) => {
      const ref = parsed(image);
      expect(clouddriverImageName(bindableImage(ref))).toBe(artifactName(ref));
    },
  );

  it('keeps the bare name where it binds (no churn for registries without a port)', () => {
    expect(bindableImage(parsed('ghcr.io/shop/checkout:1.4.2'))).toBe('ghcr.io/shop/checkout');
    expect(bindableImage(parsed('registry.internal:5000/fin/payments:7'))).toBe('registry.internal:5000/fin/payments:7');
  });
});

describe('trigger repositories as echo compares them (DockerEventHandler.isMatchingTrigger: equals)', () => {
  it.each([
    ['nginx', 'nginx:1.25', undefined],
    ['library/nginx', 'nginx', undefined],
    ['shop/checkout', 'ghcr.io/shop/checkout:1.4.2', undefined],
    ['fin/payments', 'registry.internal:5000/fin/payments:7', undefined],
    ['fin/payments-WRONG', 'registry.internal:5000/fin/payments:7', 'is not the release image\'s repository "fin/payments"'],
    ['ghcr.io/shop/checkout', 'ghcr.io/shop/checkout:1', 'includes the registry'],
    ['shop/checkout', 'nginx', 'is not the release image\'s repository "library/nginx"'],
  ])('trigger %s vs image %s', (repository, image, problem) => {
    const mismatch = triggerMismatch(repository, parsed(image));
    if (problem === undefined) expect(mismatch).toBeUndefined();
    else expect(mismatch).toContain(problem);
  });

  it('adds library/ only on Docker Hub', () => {
    expect(normalizeTriggerRepository('nginx', parsed('nginx'))).toBe('library/nginx');
    expect(normalizeTriggerRepository('payments', parsed('registry.internal:5000/payments'))).toBe('payments');
  });
});
