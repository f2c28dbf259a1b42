/**
 * The engine as a Run Job command, against the real API server: the same shift runs to the end,
 * and SIGTERM (the Job deleted, the pipeline cancelled) rolls the traffic back.
 */
import { spawn } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { run } from '../src/cli';
import { STATE_ANNOTATION } from '../src/engine/record';
import { applyVirtualService, createNamespace, getVirtualService, requireEnv, waitFor } from '../../test/cluster/test-helpers';
import { checkoutVirtualService, exampleShift, primaryWeights } from './support';

let namespace: string;
let cleanup: () => Promise<void>;
const dir = mkdtempSync(join(tmpdir(), 'shift-cli-'));

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('cli'));
});
afterAll(async () => cleanup?.());

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
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'cli.js'), 'run', '--spec', spec, '--kubeconfig', requireEnv('TEST_KUBECONFIG'), '--context', 'admin'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await waitFor('the first step to be live', async () => (primaryWeights(await getVirtualService(namespace, 'sigterm'))[0] === 80 ? true : undefined));
  child.kill('SIGTERM');
  expect(await exited).toBe(1);
  expect(stdout).toMatch(/cancelled; weights restored to release 100, baseline 0, canary 0/);
  expect(primaryWeights(await getVirtualService(namespace, 'sigterm'))).toEqual([100, 0, 0]);
});

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
