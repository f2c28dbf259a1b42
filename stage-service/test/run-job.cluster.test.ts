/**
 * The Run Job path end to end against the real API server: the CLI inside the built image (buildah,
 * chroot isolation, the host's network) shifts a VirtualService with only the Job's Role, prints
 * outputs that Orca's clouddriver parses, leaves the shift's Kubernetes Events on the
 * VirtualService, rolls back on SIGTERM; and the Job/RBAC manifests pass
 * the API server's own validation (server-side dry run).
 *
 * The image is built before the tests (`bash stage-service/image/build.sh`, run by .ci/run); a
 * missing or stale image fails here with that command, it is never skipped or built by the test.
 */
import { ChildProcess, spawn } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { runJobDeadlineSeconds, runJobManifest, RUN_JOB_CONTAINER, ShiftSpec, validateShiftSpec } from '@istio-shift/core';
import { adminKubeConfig, applyVirtualService, createNamespace, getVirtualService, requireEnv, waitFor } from '../../test/cluster/test-helpers';
import { run } from '../src/cli';
import { checkoutVirtualService, exampleShift, primaryWeights } from './support';
import { describeEvents } from './vs-events';
import { IMAGE, ImageConfig, buildah, containerProcess as containerProcessOf, imageConfig } from './image';

const repo = join(__dirname, '..', '..');

/**
 * What clouddriver's PropertyParser.extractPropertiesFromLog makes of a job's log: every line that
 * starts (after blanks) with SPINNAKER_CONFIG_JSON= must be one JSON object, merged in order.
 */
function orcaOutputs(log: string): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const line of log.split('\n')) {
    const match = /^\s*SPINNAKER_CONFIG_JSON=(.*)$/.exec(line);
    if (!match) continue;
    const value = JSON.parse(match[1]) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not a JSON object: ${line}`);
    Object.assign(outputs, value);
  }
  return outputs;
}

function documents(file: string, namespaces: Record<string, string>): k8s.KubernetesObject[] {
  let text = readFileSync(join(repo, 'stage-service', 'deploy', 'run-job', file), 'utf8');
  for (const [from, to] of Object.entries(namespaces)) text = text.replace(new RegExp(`namespace: ${from}$`, 'gm'), `namespace: ${to}`);
  return parseAllDocuments(text).map((d) => d.toJS()) as k8s.KubernetesObject[];
}

let config: ImageConfig;
let container: string;
let namespace: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  config = imageConfig();
  ({ name: namespace, cleanup } = await createNamespace('run-job'));
  container = buildah(['from', '--quiet', '--pull-never', IMAGE]).trim();
  // The test's kubeconfig stands in for the pod's service-account token (in-cluster config).
  buildah(['copy', '--quiet', '--chown', '65532:65532', container, requireEnv('TEST_KUBECONFIG'), '/home/nonroot/kubeconfig']);
  // The Job's Role, bound to the test's restricted user: the shift must succeed with exactly that.
  const client = k8s.KubernetesObjectApi.makeApiClient(adminKubeConfig());
  for (const doc of documents('rbac.yaml', { shop: namespace, 'spinnaker-jobs': namespace })) {
    if (doc.kind === 'ServiceAccount') continue;
    if (doc.kind === 'RoleBinding') (doc as k8s.V1RoleBinding).subjects = [{ kind: 'User', name: requireEnv('TEST_RESTRICTED_USER'), apiGroup: 'rbac.authorization.k8s.io' }];
    await client.create(doc);
  }
}, 60_000);

afterAll(async () => {
  if (container) buildah(['rm', container]);
  await cleanup?.();
});

/** `buildah run` of the image's own entrypoint and user, with the spec in SHIFT_SPEC as in the Job. */
function runInImage(spec: Record<string, unknown>): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const args = ['run', '--spec-env', 'SHIFT_SPEC', '--kubeconfig', '/home/nonroot/kubeconfig', '--context', 'restricted'];
  const child = spawn(
    'buildah',
    ['--storage-driver', 'vfs', 'run', '--isolation', 'chroot', '--user', config.User, '--workingdir', config.WorkingDir, '-e', `SHIFT_SPEC=${JSON.stringify(spec)}`, container, '--', ...config.Entrypoint, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/** The container's main process (the CLI), a descendant of `buildah run`: what kubelet signals. */
const containerProcess = (root: number) => containerProcessOf(root, config.Entrypoint[0]);

it('is the image the Dockerfile describes: node LTS, non-root, the CLI as entrypoint', () => {
  const dockerfile = readFileSync(join(repo, 'stage-service', 'Dockerfile'), 'utf8');
  const nodeVersion = /^ARG NODE_VERSION=(.+)$/m.exec(dockerfile)?.[1];
  expect(config.Labels['io.github.istio-traffic-shift.node-version']).toBe(nodeVersion);
  expect(JSON.stringify(config.Entrypoint)).toBe(/^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1]?.replace(/, /g, ','));
  expect(config.User).toBe(/^USER (.+)$/m.exec(dockerfile)?.[1]);
  expect(config.User).toBe('65532:65532');
});

it('runs a shift to SUCCEEDED inside the image with only the Job Role, printing outputs Orca parses and recording Events', async () => {
  const vs = checkoutVirtualService(namespace);
  await applyVirtualService(namespace, vs);
  const spec = exampleShift('any', namespace, { steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [100, 0, 0] }] });
  const { code, stdout, stderr } = await runInImage(spec).done;
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(/^step 1 of 2: release 80, baseline 10, canary 10/);
  expect(stdout.split('\n').filter((line) => line.includes('SPINNAKER_'))).toHaveLength(1);
  expect(orcaOutputs(stdout)).toMatchObject({ shiftStatus: 'SUCCEEDED', shiftWeights: [100, 0, 0] });
  expect(primaryWeights(await getVirtualService(namespace, 'checkout'))).toEqual([100, 0, 0]);
  // Written with the Job's Role before the container exited (no warning line above, no waiting here).
  expect(stdout).not.toMatch(/^warning:/m);
  expect((await describeEvents(namespace, 'checkout')).map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal StepApplied', 'Normal StepApplied', 'Normal Completed']);
}, 120_000);

it('rolls back when the container gets SIGTERM mid-shift (the Job deleted or past its deadline)', async () => {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = 'sigterm';
  await applyVirtualService(namespace, vs);
  const spec = exampleShift('any', namespace, { virtualService: 'sigterm', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] });
  const { child, done } = runInImage(spec);
  await waitFor('the first step to be live', async () => (primaryWeights(await getVirtualService(namespace, 'sigterm'))[0] === 80 ? true : undefined), 60_000);
  // buildah does not forward signals: signal the container's process as kubelet would.
  const pid = await waitFor('the CLI process in the container', async () => containerProcess(child.pid as number));
  process.kill(pid, 'SIGTERM');
  const { code, stdout } = await done;
  expect(code).toBe(1);
  expect(stdout).toMatch(/cancelled; weights restored to release 100, baseline 0, canary 0/);
  expect(primaryWeights(await getVirtualService(namespace, 'sigterm'))).toEqual([100, 0, 0]);
  // The rollback's Events were written in the second the CLI gives them before exiting.
  expect((await describeEvents(namespace, 'sigterm')).map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal StepApplied', 'Normal Cancelled', 'Warning RolledBack']);
}, 120_000);

it('exits 2 naming the variable when the Job gives no spec in SHIFT_SPEC', async () => {
  const lines: string[] = [];
  delete process.env.SHIFT_SPEC;
  expect(await run(['run', '--spec-env', 'SHIFT_SPEC', '--in-cluster'], (line) => lines.push(line))).toBe(2);
  expect(lines).toEqual(['error: environment variable SHIFT_SPEC (from --spec-env) is empty or not set: set it to the shift spec JSON']);
  expect(await run(['run', '--spec', 'a.json', '--spec-env', 'SHIFT_SPEC'], (line) => lines.push(line))).toBe(2);
  expect(lines[1]).toMatch(/give exactly one of --spec FILE .* or --spec-env NAME/);
});

describe('the Job manifest for Orca runJobManifest', () => {
  const dryRun = (doc: k8s.KubernetesObject) => k8s.KubernetesObjectApi.makeApiClient(adminKubeConfig()).create(doc, undefined, 'All');
  // Its own namespace: the tests above created the real Role, which a dry-run create would collide with.
  let jobs: string;
  let cleanupJobs: () => Promise<void>;
  beforeAll(async () => {
    ({ name: jobs, cleanup: cleanupJobs } = await createNamespace('run-job-dry'));
  });
  afterAll(async () => cleanupJobs?.());

  it('job.yaml and rbac.yaml pass the API server validation (server-side dry run)', async () => {
    const docs = [...documents('rbac.yaml', { shop: jobs, 'spinnaker-jobs': jobs }), ...documents('job.yaml', { 'spinnaker-jobs': jobs })];
    expect(docs.map((doc) => doc.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding', 'Job']);
    for (const doc of docs) expect(await dryRun(doc)).toMatchObject({ kind: doc.kind, metadata: { namespace: jobs } });
  });

  it('job.yaml is what runJobManifest() builds from its spec', () => {
    const [job] = documents('job.yaml', {}) as any[];
    const container = job.spec.template.spec.containers[0];
    // SpEL (`${execution.id}`) stays: Orca evaluates the manifest before it deploys it.
    const spec = JSON.parse(container.env[0].value) as ShiftSpec;
    const result = validateShiftSpec(spec, { allowExpressions: true });
    if (!result.ok) throw new Error(`job.yaml SHIFT_SPEC is invalid: ${JSON.stringify(result.problems)}`);
    const built = runJobManifest(spec, { image: container.image, namespace: 'spinnaker-jobs' }) as any;
    const builtEnv = built.spec.template.spec.containers[0].env[0];
    expect(JSON.parse(builtEnv.value)).toEqual(spec);
    builtEnv.value = container.env[0].value;
    expect(built).toEqual(job);
    expect(() => runJobManifest(result.spec as unknown as ShiftSpec, { image: container.image, namespace: 'spinnaker-jobs' })).toThrow(/as written/);
  });

  it('two shifts at once: the same Job manifest created twice (clouddriver creates a generateName Job with kubectl create) gives two Jobs, neither replaced', async () => {
    const spec = exampleShift('any', namespace);
    const job = runJobManifest(spec as unknown as ShiftSpec, { image: IMAGE, namespace: jobs }) as k8s.KubernetesObject;
    // A fixed metadata.name makes clouddriver's run-job operation RECREATE: delete the same-named Job, then create.
    expect(job.metadata).not.toHaveProperty('name');
    expect(job.metadata?.generateName).toBe('istio-traffic-shift-');
    const client = k8s.KubernetesObjectApi.makeApiClient(adminKubeConfig());
    const created = await Promise.all([client.create(job), client.create(job)]);
    const names = created.map((c) => c.metadata?.name as string);
    expect(names[0]).not.toBe(names[1]);
    for (const name of names) expect(name).toMatch(/^istio-traffic-shift-[a-z0-9]{5}$/);
    const listed = await adminKubeConfig().makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: jobs });
    expect(listed.items.map((j) => j.metadata?.name).sort()).toEqual([...names].sort());
    // Each shift's Job carries its own spec, untouched by the other's creation.
    for (const name of names) {
      const read = await adminKubeConfig().makeApiClient(k8s.BatchV1Api).readNamespacedJob({ name, namespace: jobs });
      expect(JSON.parse(read.spec?.template.spec?.containers[0].env?.[0].value as string)).toEqual(spec);
    }
  });

  it('runJobManifest() output is accepted by the API server, with no retries and a deadline from the pauses', async () => {
    const spec = exampleShift('any', namespace, { steps: [{ weights: [80, 10, 10], pause: '10m' }, { weights: [50, 25, 25], pause: '1h' }, { weights: [100, 0, 0] }] });
    const job = runJobManifest(spec as unknown as ShiftSpec, { image: IMAGE, namespace: jobs, generateName: 'shift-checkout-' });
    const accepted = (await dryRun(job as k8s.KubernetesObject)) as k8s.V1Job;
    expect(accepted.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600 + 3600 + 3 * 60 + 300 });
    expect(runJobDeadlineSeconds(spec as unknown as ShiftSpec)).toBe(accepted.spec?.activeDeadlineSeconds);
    const pod = accepted.spec?.template.spec;
    expect(pod?.containers[0].name).toBe(RUN_JOB_CONTAINER);
    expect(JSON.parse(pod?.containers[0].env?.[0].value as string)).toEqual(spec);
    expect(pod?.restartPolicy).toBe('Never');
  });
});
