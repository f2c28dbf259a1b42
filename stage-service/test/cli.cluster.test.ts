/**
 * The engine as a Run Job command, against the real API server: the same shift runs to the end,
 * and SIGTERM (the Job deleted, the pipeline cancelled) rolls the traffic back. With the Run Job's
 * own Role it records the shift's Kubernetes Events, written before it returns; with a Role
 * without events the shift still succeeds and says so in one line.
 */
import { spawn } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { AddressInfo, Server, Socket, createServer, connect } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { run } from '../src/cli';
import { STATE_ANNOTATION } from '../src/engine/record';
import { applyVirtualService, createNamespace, getVirtualService, grantRestricted, jsonPatchVirtualService, requireEnv, waitFor } from '../../test/cluster/test-helpers';
import { checkoutVirtualService, exampleShift, primaryWeights } from './support';
import { describeEvents } from './vs-events';

let namespace: string;
let cleanup: () => Promise<void>;
const dir = mkdtempSync(join(tmpdir(), 'shift-cli-'));

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('cli'));
});
afterAll(async () => cleanup?.());

/** CLI processes still running when a test failed early: killed so that jest can exit. */
const running = new Set<ReturnType<typeof spawn>>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

/** The built CLI as its own process, as the Job's container runs it: it exits right after `run`. */
function cliProcess(args: string[]): { child: ReturnType<typeof spawn>; exited: Promise<{ code: number | null; stdout: string }>; output: () => string } {
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  running.add(child);
  const exited = new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve({ code, stdout });
    }),
  );
  return { child, exited, output: () => stdout };
}

function specFile(name: string, spec: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

it('runs a shift to the end and prints outputs Orca captures', async () => {
  const vs = checkoutVirtualService(namespace);
  await applyVirtualService(namespace, vs);
  const lines: string[] = [];
  const spec = specFile('run', exampleShift('any', namespace, { steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [100, 0, 0] }] }));
  const code = await run(['run', '--spec', spec, '--kubeconfig', requireEnv('TEST_KUBECONFIG'), '--context', 'admin'], (l) => lines.push(l));
  expect(code).toBe(0);
  expect(lines[0]).toMatch(/^step 1 of 2: release 80, baseline 10, canary 10/);
  expect(lines).toContain('completed 2 of 2 steps: release 100, baseline 0, canary 0');
  const output = lines.find((l) => l.startsWith('SPINNAKER_CONFIG_JSON='));
  expect(JSON.parse((output as string).slice('SPINNAKER_CONFIG_JSON='.length))).toMatchObject({ shiftStatus: 'SUCCEEDED', shiftWeights: [100, 0, 0] });
});

it('rejects an invalid spec with exit code 2 and the field in the message', async () => {
  const lines: string[] = [];
  const spec = specFile('bad', exampleShift('any', namespace, { steps: [{ weights: [80, 10] }] }));
  expect(await run(['run', '--spec', spec], (l) => lines.push(l))).toBe(2);
  expect(lines[0]).toMatch(/steps\[0\]\.weights has 2 weights but there are 3 destinations/);
});

it('rolls back when the container is stopped mid-shift', async () => {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = 'sigterm';
  await applyVirtualService(namespace, vs);
  const spec = specFile('sigterm', exampleShift('any', namespace, { virtualService: 'sigterm', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] }));
  const { child, exited } = cliProcess(['run', '--spec', spec, '--kubeconfig', requireEnv('TEST_KUBECONFIG'), '--context', 'admin']);
  await waitFor('the first step to be live', async () => (primaryWeights(await getVirtualService(namespace, 'sigterm'))[0] === 80 ? true : undefined));
  child.kill('SIGTERM');
  const { code, stdout } = await exited;
  expect(code).toBe(1);
  expect(stdout).toMatch(/cancelled; weights restored to release 100, baseline 0, canary 0/);
  expect(primaryWeights(await getVirtualService(namespace, 'sigterm'))).toEqual([100, 0, 0]);
  // The rollback's Events were written before the process exited (the bounded flush).
  expect((await describeEvents(namespace, 'sigterm')).map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal StepApplied', 'Normal Cancelled', 'Warning RolledBack']);
});

/** A TCP relay to the test API server, and a kubeconfig that goes through it; `cut` makes it unreachable. */
async function relayedKubeconfig(): Promise<{ path: string; cut: () => void }> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(requireEnv('TEST_KUBECONFIG'));
  kc.setCurrentContext('admin');
  const target = new URL((kc.getCurrentCluster() as k8s.Cluster).server);
  const sockets = new Set<Socket>();
  const relay: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const relayed = new k8s.KubeConfig();
  relayed.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${(relay.address() as AddressInfo).port}` })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: 'admin',
  });
  const path = join(dir, `relayed-${Date.now()}.kubeconfig`);
  writeFileSync(path, relayed.exportConfig());
  return {
    path,
    cut: () => {
      relay.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

it('after SIGTERM, a cancel the API server does not answer is retried about once a second, not in a busy loop', async () => {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = 'sigterm-unreachable';
  await applyVirtualService(namespace, vs);
  const { path, cut } = await relayedKubeconfig();
  const spec = specFile('sigterm-unreachable', exampleShift('any', namespace, { virtualService: 'sigterm-unreachable', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] }));
  const { child, output } = cliProcess(['run', '--spec', spec, '--kubeconfig', path]);
  await waitFor('the first step to be live', async () => (primaryWeights(await getVirtualService(namespace, 'sigterm-unreachable'))[0] === 80 ? true : undefined), 30_000);
  cut();
  const before = output().length;
  const signalledAt = Date.now();
  child.kill('SIGTERM');
  const retries = () => output().slice(before).split('\n').filter((l) => l.startsWith('warning:') && l.endsWith('; retrying')).length;
  await waitFor('three failed cancels', async () => (retries() >= 3 ? true : undefined), 30_000);
  // Each failed try waits before the next: three take two waits at least. A busy loop took
  // milliseconds and filled the Job's log for the whole grace period.
  expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2000);
}, 120_000);

it('renews the watch lease as the poller, so a long pause outlives abandonAfter', async () => {
  const vs = checkoutVirtualService(namespace);
  vs.metadata.name = 'cli-lease';
  await applyVirtualService(namespace, vs);
  // A 40 s pause with a 30 s lease: only the CLI's own polls keep the shift from being abandoned.
  const spec = specFile('lease', exampleShift('any', namespace, { virtualService: 'cli-lease', abandonAfter: '30s', steps: [{ weights: [80, 10, 10], pause: '40s' }, { weights: [100, 0, 0] }] }));
  const lines: string[] = [];
  const code = await run(['run', '--spec', spec, '--kubeconfig', requireEnv('TEST_KUBECONFIG'), '--context', 'admin'], (l) => lines.push(l));
  expect(code).toBe(0);
  expect(lines).toContain('completed 2 of 2 steps: release 100, baseline 0, canary 0');
  const stored = JSON.parse((await getVirtualService(namespace, 'cli-lease')).metadata.annotations?.[STATE_ANNOTATION] as string);
  const record = Object.values(stored.shifts)[0] as { createdAt: string; polledAt: string };
  // The persisted lease moved on during the pause (renewed at half the lease, about every 15 s).
  expect(Date.parse(record.polledAt) - Date.parse(record.createdAt)).toBeGreaterThanOrEqual(15_000);
}, 120_000);

/** The shifts stored on a VirtualService, by id. */
async function storedShifts(name: string): Promise<Record<string, { phase: string; spec: { restartedAt: number } }>> {
  return JSON.parse((await getVirtualService(namespace, name)).metadata.annotations?.[STATE_ANNOTATION] as string).shifts;
}

const outputsOf = (stdout: string) => JSON.parse((stdout.split('\n').find((l) => l.startsWith('SPINNAKER_CONFIG_JSON=')) as string).slice('SPINNAKER_CONFIG_JSON='.length));

/**
 * Orca's "Restart stage" deploys a new Job with the spec it evaluated at the stage's first start
 * (RunJobStage keeps the context; docs/run-job.md "Restart stage"), so the CLI meets its own ended
 * attempt. A pod that replaces a lost pod of the same Job meets a running one.
 */
describe('Restart stage in the Run Job path', () => {
  const kubeArgs = () => ['--kubeconfig', requireEnv('TEST_KUBECONFIG'), '--context', 'admin'];

  it('after a CANCELED attempt a run starts a new attempt; a replaced pod resumes the running attempt, never a second shift', async () => {
    const vs = checkoutVirtualService(namespace);
    vs.metadata.name = 'restart-cancel';
    await applyVirtualService(namespace, vs);
    const spec = specFile('restart-cancel', exampleShift('any', namespace, { virtualService: 'restart-cancel', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] }));
    const firstStepLive = async () => (primaryWeights(await getVirtualService(namespace, 'restart-cancel'))[0] === 80 ? true : undefined);

    // The first Job: the pipeline is cancelled, Orca deletes the Job, the CLI rolls back.
    const first = cliProcess(['run', '--spec', spec, ...kubeArgs()]);
    await waitFor('the first attempt to apply its first step', firstStepLive, 30_000);
    first.child.kill('SIGTERM');
    const cancelled = await first.exited;
    expect(cancelled.code).toBe(1);
    const firstId = outputsOf(cancelled.stdout).shiftId;
    expect(primaryWeights(await getVirtualService(namespace, 'restart-cancel'))).toEqual([100, 0, 0]);

    // Restart stage: a new Job, the same spec. It must shift again, as a new attempt.
    const restarted = cliProcess(['run', '--spec', spec, ...kubeArgs()]);
    await waitFor('the restarted attempt to apply its first step', firstStepLive, 30_000);
    expect(restarted.output()).toContain(`shift ${firstId} of this stage ended CANCELED; the stage was restarted: starting a new attempt`);
    const afterRestart = await storedShifts('restart-cancel');
    const secondId = Object.keys(afterRestart).find((id) => id !== firstId) as string;
    expect(Object.keys(afterRestart)).toHaveLength(2);
    expect(afterRestart[secondId].phase).toBe('RUNNING');
    expect(afterRestart[secondId].spec.restartedAt).toBeGreaterThan(0);

    // Its pod is lost (no SIGTERM handler runs) and the Job starts another pod: that pod resumes
    // the running attempt, and neither starts a third nor re-applies the first step.
    restarted.child.kill('SIGKILL');
    await restarted.exited;
    const replacement = cliProcess(['run', '--spec', spec, ...kubeArgs()]);
    await waitFor('the replacement pod to resume', async () => (replacement.output().includes(`resuming shift ${secondId} of this stage`) ? true : undefined), 30_000);
    expect(Object.keys(await storedShifts('restart-cancel'))).toEqual(Object.keys(afterRestart));
    replacement.child.kill('SIGTERM');
    const { code, stdout } = await replacement.exited;
    expect(code).toBe(1);
    expect(outputsOf(stdout)).toMatchObject({ shiftId: secondId, shiftStatus: 'CANCELED', shiftWeights: [100, 0, 0] });
    expect(primaryWeights(await getVirtualService(namespace, 'restart-cancel'))).toEqual([100, 0, 0]);
    // One StepApplied per attempt: the replacement pod applied nothing again.
    expect((await describeEvents(namespace, 'restart-cancel')).filter((e) => e.reason === 'StepApplied')).toHaveLength(2);
  }, 120_000);

  it('after a TERMINAL attempt (another writer changed the route) a run starts a new attempt and completes it', async () => {
    const vs = checkoutVirtualService(namespace);
    vs.metadata.name = 'restart-terminal';
    await applyVirtualService(namespace, vs);
    const spec = specFile('restart-terminal', exampleShift('any', namespace, { virtualService: 'restart-terminal', steps: [{ weights: [80, 10, 10], pause: '2s' }, { weights: [100, 0, 0] }] }));
    const first = cliProcess(['run', '--spec', spec, ...kubeArgs()]);
    await waitFor('the first step', async () => (primaryWeights(await getVirtualService(namespace, 'restart-terminal'))[0] === 80 ? true : undefined), 30_000);
    // Someone else sets the weights during the pause: the shift stops without touching them.
    const routes = (await getVirtualService(namespace, 'restart-terminal')).spec?.http as { name?: string }[];
    const primary = routes.findIndex((r) => r.name === 'primary');
    await jsonPatchVirtualService(namespace, 'restart-terminal', [0, 1, 2].map((i) => ({ op: 'replace' as const, path: `/spec/http/${primary}/route/${i}/weight`, value: [60, 20, 20][i] })));
    const terminal = await first.exited;
    expect(terminal.code).toBe(1);
    expect(outputsOf(terminal.stdout).shiftStatus).toBe('TERMINAL');

    const lines: string[] = [];
    expect(await run(['run', '--spec', spec, ...kubeArgs()], (l) => lines.push(l))).toBe(0);
    expect(lines).toContain(`shift ${outputsOf(terminal.stdout).shiftId} of this stage ended TERMINAL; the stage was restarted: starting a new attempt`);
    expect(lines).toContain('completed 2 of 2 steps: release 100, baseline 0, canary 0');
    expect(outputsOf(lines.join('\n')).shiftId).not.toBe(outputsOf(terminal.stdout).shiftId);
  }, 120_000);
});

/** The rules of the Run Job's Role, as stage-service/deploy/run-job/rbac.yaml ships them. */
function runJobRoleRules(): k8s.V1PolicyRule[] {
  const docs = parseAllDocuments(readFileSync(join(__dirname, '..', 'deploy', 'run-job', 'rbac.yaml'), 'utf8')).map((d) => d.toJS());
  return (docs.find((d) => d.kind === 'Role') as k8s.V1Role).rules as k8s.V1PolicyRule[];
}

describe('Kubernetes Events from the Run Job', () => {
  it('a run with only the Run Job Role records each step and the completion on the VirtualService before the process exits', async () => {
    // Its own namespace: the restricted user gets exactly the Job's Role there, nothing more.
    const { name: jobNamespace, cleanup: cleanupJob } = await createNamespace('cli-events');
    try {
      await grantRestricted(jobNamespace, runJobRoleRules());
      await applyVirtualService(jobNamespace, checkoutVirtualService(jobNamespace));
      const shift = exampleShift('any', jobNamespace, { steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [100, 0, 0] }] });
      // A process of its own: it exits as soon as the shift ends, so only its flush gets the last Events out.
      const { code, stdout } = await cliProcess(['run', '--spec', specFile('events', shift), '--kubeconfig', requireEnv('TEST_KUBECONFIG'), '--context', 'restricted']).exited;
      expect(code).toBe(0);
      const lines = stdout.split('\n');
      expect(lines.filter((l) => l.startsWith('warning:'))).toEqual([]);
      // No waiting here: what the process did not write before exiting is lost.
      const events = await describeEvents(jobNamespace, 'checkout');
      expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal StepApplied', 'Normal StepApplied', 'Normal Completed']);
      const shiftId = JSON.parse((lines.find((l) => l.startsWith('SPINNAKER_CONFIG_JSON=')) as string).slice('SPINNAKER_CONFIG_JSON='.length)).shiftId;
      expect(events.map((e) => e.message)).toEqual([
        `step 1 of 2: release 80, baseline 10, canary 10, pause 1s (execution ${shift.executionId} stage ${shift.stageRef}, shift ${shiftId})`,
        `step 2 of 2: release 100, baseline 0, canary 0 (execution ${shift.executionId} stage ${shift.stageRef}, shift ${shiftId})`,
        `shift completed at step 2 of 2: release 100, baseline 0, canary 0 (execution ${shift.executionId} stage ${shift.stageRef}, shift ${shiftId})`,
      ]);
      for (const event of events) {
        expect(event).toMatchObject({
          involvedObject: { kind: 'VirtualService', name: 'checkout', namespace: jobNamespace },
          source: { component: 'istio-traffic-shift' },
          reportingComponent: 'istio-traffic-shift',
        });
      }
    } finally {
      await cleanupJob();
    }
  }, 120_000);

  it('a run under a Role without events still succeeds, with one warning line naming the Role to fix', async () => {
    const { name: jobNamespace, cleanup: cleanupJob } = await createNamespace('cli-noevents');
    try {
      // The Run Job Role as it was before Events: VirtualServices only.
      const rules = runJobRoleRules().filter((rule) => !rule.resources?.includes('events'));
      expect(rules).toHaveLength(1);
      await grantRestricted(jobNamespace, rules);
      await applyVirtualService(jobNamespace, checkoutVirtualService(jobNamespace));
      const shift = exampleShift('any', jobNamespace, { steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [100, 0, 0] }] });
      const lines: string[] = [];
      const code = await run(['run', '--spec', specFile('noevents', shift), '--kubeconfig', requireEnv('TEST_KUBECONFIG'), '--context', 'restricted'], (l) => lines.push(l));
      expect(code).toBe(0);
      expect(lines).toContain('completed 2 of 2 steps: release 100, baseline 0, canary 0');
      // Three Events refused with 403, one line: the recorder logs a kind of failure once per 10 minutes.
      const warnings = lines.filter((l) => l.startsWith('warning:'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^warning: could not record a Kubernetes Event; shifts go on without it \(account: any; status: 403; error: .*events.* is forbidden/);
      expect(warnings[0]).toContain('fix: grant create and patch on events (core API group) in the Role: see stage-service/deploy/run-job/rbac.yaml');
      expect(primaryWeights(await getVirtualService(jobNamespace, 'checkout'))).toEqual([100, 0, 0]);
      expect(await describeEvents(jobNamespace, 'checkout')).toEqual([]);
    } finally {
      await cleanupJob();
    }
  }, 120_000);
});
