/**
 * The install manifests under deploy/ as kubectl sees them, and the service's pod as a process:
 * kubectl (built at the API server's version by test/cluster/build-kube-binary.sh), the rendered
 * objects of an overlay, and the mapping from what the pod would get (its ConfigMap, its Secret
 * volume, its service account) to files and a kubeconfig on this machine.
 */
import { execFileSync, spawnSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import { join, posix, resolve } from 'path';
import { parseAllDocuments, parse as parseYaml, stringify as toYaml } from 'yaml';

export const REPO = resolve(__dirname, '..', '..');
const BUILD_SCRIPT = join(REPO, 'test', 'cluster', 'build-kube-binary.sh');

/** $KUBECTL_BIN, or the cached build (instant when cached; .ci/run builds it before the tests). */
export function kubectlBinary(): string {
  if (process.env.KUBECTL_BIN) return process.env.KUBECTL_BIN;
  return execFileSync('bash', [BUILD_SCRIPT, 'kubectl'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export interface KubectlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function kubectl(args: string[], kubeconfig: string, input?: string): KubectlResult {
  const result = spawnSync(kubectlBinary(), ['--kubeconfig', kubeconfig, '--context', 'admin', ...args], { encoding: 'utf8', input, timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: any;
}

/** `kubectl kustomize DIR`: the objects `kubectl apply -k DIR` sends. */
export function renderOverlay(dir: string): KubeObject[] {
  const out = execFileSync(kubectlBinary(), ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as KubeObject).filter(Boolean);
}

/** `kind/name` as kubectl names objects in its output (`deployment.apps/x`): kind lower-cased, group kept. */
export function kubectlName(object: KubeObject): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  const kind = object.kind.toLowerCase();
  return `${group ? `${kind}.${group}` : kind}/${object.metadata.name}`;
}

export function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0];
}

/** The service Deployment's container, its configuration ConfigMap and the tokens Secret's mount. */
export function serviceParts(objects: KubeObject[]) {
  const deployment = only(objects.filter((o) => o.kind === 'Deployment'), 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = only(pod.containers as any[], 'container');
  const env = Object.fromEntries((container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
  const mountOf = (volumeName: string) => only((container.volumeMounts as any[]).filter((m) => m.name === volumeName), `volumeMount ${volumeName}`).mountPath as string;
  const volumeOf = (pred: (v: any) => boolean, what: string) => only((pod.volumes as any[]).filter(pred), what);
  const configVolume = volumeOf((v) => v.configMap, 'ConfigMap volume');
  const tokensVolume = volumeOf((v) => v.secret, 'Secret volume');
  const configMap = only(objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === configVolume.configMap.name), `ConfigMap ${configVolume.configMap.name}`);
  const configPath: string = env.TRAFFIC_SHIFT_CONFIG;
  const configDir = mountOf(configVolume.name);
  if (posix.dirname(configPath) !== configDir) throw new Error(`TRAFFIC_SHIFT_CONFIG ${configPath} is not in the ConfigMap's mount ${configDir}`);
  const configText: string | undefined = configMap.data?.[posix.basename(configPath)];
  if (configText === undefined) throw new Error(`ConfigMap ${configMap.metadata.name} has no key ${posix.basename(configPath)} (TRAFFIC_SHIFT_CONFIG ${configPath})`);
  return {
    deployment,
    pod,
    container,
    env,
    namespace: deployment.metadata.namespace as string,
    serviceAccount: pod.serviceAccountName as string,
    configText,
    tokensSecret: tokensVolume.secret.secretName as string,
    tokensDir: mountOf(tokensVolume.name),
  };
}

/**
 * The pod's configuration file, changed only where the pod's environment differs from where it
 * runs here: `inCluster: true` accounts read the pod's service account (token, CA,
 * KUBERNETES_SERVICE_*), so here they get `kubeconfig`, a file with the same service account's
 * token and the same API server. With `tokens`, files under the Secret's mount path (`from`) are
 * read from `to` instead. Everything else (ports, tokens, accounts, namespaces, metrics sources)
 * is the rendered file's.
 */
export function runnableConfig(configText: string, kubeconfig: string, tokens?: { from: string; to: string }): string {
  const config = parseYaml(configText);
  for (const token of config.auth?.tokens ?? []) {
    if (tokens && typeof token.fromFile === 'string' && token.fromFile.startsWith(`${tokens.from}/`)) {
      token.fromFile = posix.join(tokens.to, token.fromFile.slice(tokens.from.length + 1));
    }
  }
  for (const account of config.accounts ?? []) {
    if (account.inCluster === true) {
      delete account.inCluster;
      account.kubeconfig = kubeconfig;
    }
  }
  return toYaml(config);
}

/** The Secret's keys as files in `dir`, as its volume shows them to the pod. */
export function writeSecretFiles(data: Record<string, string>, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, key), Buffer.from(value, 'base64'));
}

/** A kubeconfig that authenticates as a service account with `token`, like the pod's in-cluster config. */
export function serviceAccountKubeconfig(server: string, caData: string, token: string, path: string): string {
  writeFileSync(path, toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'cluster', cluster: { server, 'certificate-authority-data': caData } }],
    users: [{ name: 'service-account', user: { token } }],
    contexts: [{ name: 'in-cluster', context: { cluster: 'cluster', user: 'service-account' } }],
    'current-context': 'in-cluster',
  }), { mode: 0o600 });
  return path;
}
