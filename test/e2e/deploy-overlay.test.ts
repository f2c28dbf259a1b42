/**
 * The install path of docs/install.md on the real kube-apiserver (issue 17, items 2 and 5):
 * - `kubectl apply -k deploy/overlays/example --dry-run=server` accepts every object the overlay
 *   renders (kubectl of the API server's version; output saved to test-artifacts/).
 * - The rendered pod is consistent with the image and the configuration it mounts (ports, probes,
 *   user, entrypoint, file paths), and its permissions are stage-service/deploy/rbac.yaml's Role.
 * - The ConfigMap's configuration file really starts the service: the overlay is applied, the
 *   tokens Secret is created with the documented command, and `node stage-service/dist/main.js`
 *   runs with the rendered file as the pod would (its service account's token instead of the
 *   mounted one, the Secret's keys as files), becomes ready, and shifts a VirtualService in one of
 *   the overlay's namespaces for a request carrying the Secret's token.
 * The overlay's namespaces (spinnaker, shop, payments) have fixed names: they are created if
 * missing and never deleted (no kube-controller-manager here would finish deleting them).
 */
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, posix, relative } from 'path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { adminKubeConfig, apiError, getVirtualService, requireEnv, waitFor } from '../cluster/test-helpers';
import { freePort } from '../free-port';
import { applyCheckout, exampleShift, primaryWeights } from '../../stage-service/test/support';
import { IMAGE, buildah, containerProcess, imageConfig } from '../../stage-service/test/image';
import { KubeObject, REPO, kubectl, kubectlName, renderOverlay, runnableConfig, serviceAccountKubeconfig, serviceParts, writeSecretFiles } from './deploy-overlay';

const OVERLAY = 'deploy/overlays/example';
const ARTIFACTS = join(REPO, 'test-artifacts');
let objects: KubeObject[];
let kubeconfig: string;
const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);

beforeAll(async () => {
  kubeconfig = requireEnv('TEST_KUBECONFIG');
  objects = renderOverlay(join(REPO, OVERLAY));
  for (const name of new Set(objects.map((o) => o.metadata.namespace).filter((n): n is string => Boolean(n)))) {
    await core.createNamespace({ body: { metadata: { name } } }).catch((err) => {
      if (apiError(err)?.code !== 409) throw err;
    });
  }
}, 300_000);

it('kubectl is the API server\'s version (inside the version skew policy)', () => {
  const version = JSON.parse(kubectl(['version', '--client', '-o', 'json'], kubeconfig).stdout);
  expect(version.clientVersion.gitVersion).toBe(requireEnv('TEST_KUBE_VERSION'));
});

it('kubectl apply -k deploy/overlays/example --dry-run=server: the API server accepts every object', () => {
  const result = kubectl(['apply', '-k', OVERLAY, '--dry-run=server'], kubeconfig);
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'deploy-dry-run.txt'), `$ kubectl apply -k ${OVERLAY} --dry-run=server\n${result.stdout}${result.stderr}exit ${result.status}\n`);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const lines = result.stdout.trim().split('\n');
  // One line per rendered object, each accepted by the server (created, or unchanged/configured
  // on a reused control plane where an earlier run applied the overlay).
  expect(lines).toHaveLength(objects.length);
  for (const line of lines) expect(line).toMatch(/^\S+ (created|configured|unchanged) \(server dry run\)$/);
  expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual(objects.map(kubectlName).sort());
  expect(objects.map((o) => o.kind).sort()).toEqual(
    ['ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount'],
  );
});

describe('the rendered objects', () => {
  it('run the image\'s service entrypoint as the image\'s non-root user, hardened, with probes on the probe port', () => {
    const { deployment, pod, container, configText } = serviceParts(objects);
    const config = parseAllDocuments(configText)[0].toJS();
    const dockerfile = readFileSync(join(REPO, 'stage-service', 'Dockerfile'), 'utf8');
    const imageUser = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    expect(imageUser).not.toBeNull();
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(imageUser?.[1]), runAsGroup: Number(imageUser?.[2]), seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
    expect(container.resources.limits).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
    // The image's working directory is /app with the repository's layout: the command's script is
    // the service's entry point (the Run Job's is dist/cli.js, the image's default).
    expect([...container.command, ...container.args]).toEqual(['/usr/local/bin/node', '/app/stage-service/dist/main.js']);
    expect(existsSync(join(REPO, posix.relative('/app', container.args[0])))).toBe(true);
    const portNumber = (name: string) => container.ports.find((p: any) => p.name === name)?.containerPort;
    expect(portNumber('http')).toBe(config.server.port);
    expect(portNumber('probes')).toBe(config.server.probePort);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(container[probe].httpGet.port).toBe('probes');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget');
    expect(pdb?.spec.minAvailable).toBe(1);
    expect(pdb?.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it('grant in each of the account\'s namespaces exactly the Role of stage-service/deploy/rbac.yaml, bound to the pod\'s service account', () => {
    const { namespace, serviceAccount, configText } = serviceParts(objects);
    const config = parseAllDocuments(configText)[0].toJS();
    const source = parseAllDocuments(readFileSync(join(REPO, 'stage-service', 'deploy', 'rbac.yaml'), 'utf8')).map((d) => d.toJS());
    const sourceRole = source.find((d) => d.kind === 'Role');
    const namespaces: string[] = config.accounts.flatMap((a: any) => a.namespaces);
    for (const target of namespaces) {
      const role = objects.find((o) => o.kind === 'Role' && o.metadata.namespace === target);
      const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === target);
      expect(role?.rules).toEqual(sourceRole.rules);
      expect(binding?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role?.metadata.name });
      expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: serviceAccount, namespace }]);
    }
    expect(objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.namespace).sort()).toEqual([...namespaces].sort());
    expect(objects.some((o) => o.kind.startsWith('Cluster'))).toBe(false);
  });

  it('admit only Orca\'s pods and Prometheus, to the http port', () => {
    const policy = objects.find((o) => o.kind === 'NetworkPolicy');
    const { deployment } = serviceParts(objects);
    expect(policy?.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(policy?.spec.policyTypes).toEqual(['Ingress']);
    expect(policy?.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'orca', 'app.kubernetes.io/part-of': 'spinnaker' } } }], ports: [{ port: 'http', protocol: 'TCP' }] },
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
        ports: [{ port: 'http', protocol: 'TCP' }],
      },
    ]);
  });
});

describe('the ConfigMap\'s configuration starts the service', () => {
  let parts: ReturnType<typeof serviceParts>;
  let config: any;
  let token: string;
  let prometheusToken: string;
  let secretData: Record<string, string>;
  let dir: string;
  let saKubeconfig: string;
  const children: ChildProcess[] = [];

  // The overlay applied for real, the tokens Secret made with the command docs/install.md gives,
  // and a token of the pod's service account (what the kubelet would mount).
  beforeAll(async () => {
    parts = serviceParts(objects);
    config = parseAllDocuments(parts.configText)[0].toJS();
    const applied = kubectl(['apply', '-k', OVERLAY], kubeconfig);
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    token = randomBytes(32).toString('hex');
    prometheusToken = randomBytes(32).toString('hex');
    kubectl(['delete', 'secret', parts.tokensSecret, '-n', parts.namespace, '--ignore-not-found'], kubeconfig);
    const created = kubectl(['create', 'secret', 'generic', parts.tokensSecret, '-n', parts.namespace, '--save-config', `--from-literal=orca=${token}`, `--from-literal=prometheus=${prometheusToken}`], kubeconfig);
    expect(created.stderr).toBe('');
    secretData = JSON.parse(kubectl(['get', 'secret', parts.tokensSecret, '-n', parts.namespace, '-o', 'json'], kubeconfig).stdout).data;
    const tokenRequest = await core.createNamespacedServiceAccountToken({ name: parts.serviceAccount, namespace: parts.namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    dir = mkdtempSync(join(tmpdir(), 'deploy-overlay-'));
    const caData = readFileSync(requireEnv('TEST_KUBE_CA_FILE')).toString('base64');
    saKubeconfig = serviceAccountKubeconfig(requireEnv('TEST_KUBE_SERVER'), caData, tokenRequest.status?.token as string, join(dir, 'service-account.kubeconfig'));
  }, 120_000);

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });

  /**
   * Waits for the readiness probe of a process started with PROBE_PORT=probePort to answer 200 with
   * every namespace's watch synced; returns that body. The service answers 200 `degraded` while a
   * watch has not synced yet (it then reads the API server directly), which on a loaded machine can
   * be the first answer: that is waited past, and a watch that never syncs (a Role without list or
   * watch) times out with the last body in the message.
   */
  async function ready(child: ChildProcess, probePort: number, log: () => string): Promise<unknown> {
    // A process that exits (e.g. a configuration error) fails at once, with its log.
    const exited = new Promise<never>((_resolve, reject) => child.once('exit', (code) => reject(new Error(`the service exited with ${code}: ${log()}`))));
    const probed = waitFor(`the service's readiness probe, every watch synced (log: ${log().slice(-800)})`, async () => {
      const response = await fetch(`http://127.0.0.1:${probePort}${parts.container.readinessProbe.httpGet.path}`).catch(() => undefined);
      if (response?.status !== 200) return undefined;
      const body = (await response.json()) as { degraded?: unknown };
      if (body.degraded) throw new Error(`ready but degraded: ${JSON.stringify(body)}`);
      return body;
    }, 60_000);
    exited.catch(() => undefined);
    return Promise.race([probed, exited]);
  }

  function logged(child: ChildProcess): () => string {
    let log = '';
    child.stdout?.on('data', (chunk) => (log += chunk));
    child.stderr?.on('data', (chunk) => (log += chunk));
    return () => log;
  }

  it('as the pod would run it: ready, and it shifts traffic for the token in the Secret', async () => {
    const localTokens = join(dir, 'tokens');
    writeSecretFiles(secretData, localTokens);
    const configPath = join(dir, 'config.yaml');
    writeFileSync(configPath, runnableConfig(parts.configText, saKubeconfig, { from: parts.tokensDir, to: localTokens }));

    // The container's command and environment; PORT/PROBE_PORT move the rendered ports to free ones.
    const [port, probePort] = [await freePort(), await freePort()];
    const script = join(REPO, posix.relative('/app', parts.container.args[0]));
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...parts.env, TRAFFIC_SHIFT_CONFIG: configPath, PORT: String(port), PROBE_PORT: String(probePort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    // Ready, and every namespace's watch synced (no `degraded`): the Role grants list and watch.
    expect(await ready(child, probePort, logged(child))).toEqual({ status: 'ready' });
    expect((await fetch(`http://127.0.0.1:${probePort}${parts.container.livenessProbe.httpGet.path}`)).status).toBe(200);

    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const auth = { Authorization: `Bearer ${token}` };
    const account = config.accounts[0];
    const namespace: string = account.namespaces[0];
    const virtualService = `deploy-${randomBytes(3).toString('hex')}`;
    await applyCheckout(namespace, virtualService);
    const spec = exampleShift(account.name, namespace, { virtualService, steps: [{ weights: [0, 0, 100] }] });
    // Prometheus' token reads /metrics and may start no shift.
    const prometheus = { Authorization: `Bearer ${prometheusToken}` };
    expect((await fetch(`${base}/metrics`, { headers: prometheus })).status).toBe(200);
    const refused = await fetch(`${base}/v1/shifts`, { method: 'POST', headers: { ...prometheus, 'Content-Type': 'application/json' }, body: JSON.stringify(spec) });
    expect(refused.status).toBe(403);
    const create = await fetch(`${base}/v1/shifts`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(spec) });
    expect(create.status).toBe(202);
    // Orca gets the Service's address from server.externalBaseUrl; here the same path on localhost.
    const location = create.headers.get('location') as string;
    expect(location.startsWith(`${config.server.externalBaseUrl}/v1/shifts/`)).toBe(true);
    const statusPath = new URL(location).pathname;
    const done = await waitFor('the shift to succeed', async () => {
      const body = (await fetch(`${base}${statusPath}`, { headers: auth }).then((r) => r.json())) as { status: string };
      return body.status === 'RUNNING' ? undefined : body;
    }, 30_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(primaryWeights(await getVirtualService(namespace, virtualService))).toEqual([0, 0, 100]);
  }, 180_000);

  it('inside the image the project builds: the Deployment\'s command as its user, files at the pod\'s paths', async () => {
    const image = imageConfig();
    expect(image.User).toBe(`${parts.pod.securityContext.runAsUser}:${parts.pod.securityContext.runAsGroup}`);
    expect(image.WorkingDir).toBe('/app');
    const container = buildah(['from', '--quiet', '--pull-never', IMAGE]).trim();
    try {
      // What the volumes would mount: the ConfigMap's file at TRAFFIC_SHIFT_CONFIG, the Secret's keys
      // under the tokens mount; and a kubeconfig standing in for the service account's token.
      const inImageKubeconfig = '/home/nonroot/service-account.kubeconfig';
      const staged = join(dir, 'image');
      writeSecretFiles(secretData, join(staged, 'tokens'));
      writeFileSync(join(staged, 'config.yaml'), runnableConfig(parts.configText, inImageKubeconfig));
      const copy = (from: string, to: string) => buildah(['copy', '--quiet', '--chown', image.User, container, from, to]);
      copy(join(staged, 'config.yaml'), parts.env.TRAFFIC_SHIFT_CONFIG);
      copy(join(staged, 'tokens'), parts.tokensDir);
      copy(saKubeconfig, inImageKubeconfig);

      const [port, probePort] = [await freePort(), await freePort()];
      const env = { ...parts.env, PORT: String(port), PROBE_PORT: String(probePort) };
      const child = spawn('buildah', [
        '--storage-driver', 'vfs', 'run', '--isolation', 'chroot', '--user', image.User, '--workingdir', image.WorkingDir,
        ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
        container, '--', ...parts.container.command, ...(parts.container.args ?? []),
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      const log = logged(child);
      expect(await ready(child, probePort, log)).toEqual({ status: 'ready' });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
      // buildah does not forward signals: SIGTERM the container's node process, as the kubelet would.
      const pid = containerProcess(child.pid as number, parts.container.command[0]);
      expect(pid).toBeDefined();
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      process.kill(pid as number, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(log()).toMatch(/shutting down/);
    } finally {
      buildah(['rm', container]);
    }
  }, 180_000);

  it('token rotation (docs/install.md section 2): the Secret replaced in place, the pods restarted', () => {
    const rotated = randomBytes(32).toString('hex');
    const manifest = kubectl(['create', 'secret', 'generic', parts.tokensSecret, '-n', parts.namespace, `--from-literal=orca=${rotated}`, `--from-literal=prometheus=${prometheusToken}`, '--dry-run=client', '-o', 'yaml'], kubeconfig);
    expect(manifest.status).toBe(0);
    const applied = kubectl(['apply', '-f', '-'], kubeconfig, manifest.stdout);
    expect(applied.stderr).toBe('');
    expect(applied.stdout.trim()).toBe(`secret/${parts.tokensSecret} configured`);
    const data = JSON.parse(kubectl(['get', 'secret', parts.tokensSecret, '-n', parts.namespace, '-o', 'json'], kubeconfig).stdout).data;
    expect(Buffer.from(data.orca, 'base64').toString()).toBe(rotated);
    const restarted = kubectl(['rollout', 'restart', `deployment/${parts.deployment.metadata.name}`, '-n', parts.namespace], kubeconfig);
    expect(restarted.stderr).toBe('');
    expect(restarted.stdout.trim()).toBe(`deployment.apps/${parts.deployment.metadata.name} restarted`);
  });

  it('upgrade (docs/install.md section 8): a new image tag in an overlay changes only the Deployment\'s image', () => {
    // An operator's overlay on top of the example, as install.md suggests: only the tag differs.
    const upgrade = join(ARTIFACTS, 'deploy-upgrade');
    mkdirSync(upgrade, { recursive: true });
    const image = parts.container.image as string;
    const [name] = image.split(':');
    writeFileSync(join(upgrade, 'kustomization.yaml'), [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative(upgrade, join(REPO, OVERLAY))}`, // Kustomize refuses an absolute path here
      'images:',
      `  - name: ${name}`,
      '    newTag: 9.9.9',
      '',
    ].join('\n'));
    const dryRun = kubectl(['apply', '-k', upgrade, '--dry-run=server'], kubeconfig);
    expect(dryRun.stderr).toBe('');
    const applied = kubectl(['apply', '-k', upgrade], kubeconfig);
    expect(applied.stderr).toBe('');
    // The PodDisruptionBudget's selector has patchStrategy "replace" (k8s.io/api policy/v1
    // PodDisruptionBudgetSpec.Selector), so kubectl sends it on every apply and says
    // "configured" though nothing changes; every other object is unchanged.
    const changed = applied.stdout.trim().split('\n').filter((line) => !line.endsWith(' unchanged') && line !== 'poddisruptionbudget.policy/istio-traffic-shift configured');
    expect(changed).toEqual(['deployment.apps/istio-traffic-shift configured']);
    const deployment = JSON.parse(kubectl(['get', 'deployment', 'istio-traffic-shift', '-n', parts.namespace, '-o', 'json'], kubeconfig).stdout);
    expect(deployment.spec.template.spec.containers[0].image).toBe(`${name}:9.9.9`);
    // And back to the example's own tag.
    expect(kubectl(['apply', '-k', OVERLAY], kubeconfig).stdout).toMatch(/^deployment\.apps\/istio-traffic-shift configured$/m);
  });

  it('uninstall (docs/install.md section 9): kubectl delete -k removes every object of the overlay', () => {
    const deleted = kubectl(['delete', '-k', OVERLAY], kubeconfig);
    expect(deleted.stderr).toBe('');
    expect(deleted.status).toBe(0);
    // kubectl names them `kind "name" deleted` here.
    expect(deleted.stdout.trim().split('\n').map((line) => line.replace(/^(\S+) "([^"]+)" deleted.*$/, '$1/$2')).sort()).toEqual(objects.map(kubectlName).sort());
    for (const object of objects) {
      const found = kubectl(['get', kubectlName(object).split('/')[0], object.metadata.name, '-n', object.metadata.namespace as string, '--ignore-not-found', '-o', 'name'], kubeconfig);
      expect(found.stdout).toBe('');
    }
    expect(kubectl(['delete', 'secret', parts.tokensSecret, '-n', parts.namespace], kubeconfig).status).toBe(0);
  });
});
