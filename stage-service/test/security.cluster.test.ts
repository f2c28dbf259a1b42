/**
 * Least privilege and secrets: the service works with exactly the Role in deploy/rbac.yaml,
 * fails clearly without it, and never writes a token to its log.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';
import type { V1PolicyRule } from '@kubernetes/client-node';
import { createLogger } from '../src/logger';
import { RunningService, startService } from '../src/service';
import { applyVirtualService, createNamespace, getVirtualService, getVirtualServiceRaw, grantRestricted, requireEnv } from '../../test/cluster/test-helpers';
import { ORCA_TOKEN, call, checkoutVirtualService, clusterAccount, exampleShift, freePort, pollUntilDone, primaryWeights, serviceConfig } from './support';

const ACCOUNT = 'least-privilege';
let namespace: string;
let cleanup: () => Promise<void>;
let service: RunningService;
let base: string;
const logLines: string[] = [];

function shippedRoleRules(): V1PolicyRule[] {
  const documents = parseAllDocuments(readFileSync(join(__dirname, '..', 'deploy', 'rbac.yaml'), 'utf8')).map((d) => d.toJS()) as Array<{ kind: string; rules?: V1PolicyRule[] }>;
  const role = documents.find((d) => d.kind === 'Role');
  if (!role?.rules) throw new Error('deploy/rbac.yaml has no Role with rules');
  return role.rules;
}

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('least-privilege'));
  await applyVirtualService(namespace, checkoutVirtualService(namespace));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = await startService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace], 'restricted')]), {
    logger: createLogger('debug', (line) => logLines.push(line)),
    processMetrics: false,
  });
});

afterAll(async () => {
  await service?.stop();
  await cleanup?.();
});

it('answers 403 with the fix when its own credentials lack RBAC, and changes nothing', async () => {
  const before = await getVirtualServiceRaw(namespace, 'checkout');
  const response = await call(`${base}/v1/shifts`, { body: exampleShift(ACCOUNT, namespace) });
  expect(response.status).toBe(403);
  expect(response.body.error.code).toBe('kubernetes_forbidden');
  expect(response.body.error.message).toMatch(/cannot get resource "virtualservices".*see docs\/deploy.md for the Role it needs/);
  expect(await getVirtualServiceRaw(namespace, 'checkout')).toBe(before);
});

it('runs, cancels and resumes shifts with exactly the Role in deploy/rbac.yaml', async () => {
  const revoke = await grantRestricted(namespace, shippedRoleRules());
  try {
    const created = await call(`${base}/v1/shifts`, { body: exampleShift(ACCOUNT, namespace) });
    expect(created.status).toBe(202);
    const final = await pollUntilDone(created.body.statusUrl);
    expect(final.status).toBe('SUCCEEDED');

    const second = await call(`${base}/v1/shifts`, { body: exampleShift(ACCOUNT, namespace, { steps: [{ weights: [50, 25, 25], pause: '1h' }] }) });
    expect(second.status).toBe(202);
    // Resuming after a restart lists VirtualServices: also covered by the Role.
    const port = Number(new URL(base).port);
    await service.stop();
    service = await startService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace], 'restricted')]), { logger: createLogger('debug', (line) => logLines.push(line)), processMetrics: false });
    expect(service.scheduler.size).toBe(1);
    const cancelled = await call(second.body.cancelUrl, { method: 'POST' });
    expect(cancelled.body).toMatchObject({ status: 'CANCELED', rollback: { result: 'restored' } });
    expect(primaryWeights(await getVirtualService(namespace, 'checkout'))).toEqual([100, 0, 0]);
  } finally {
    await revoke();
  }
});

it('never logs a token', () => {
  expect(logLines.length).toBeGreaterThan(3);
  const log = logLines.join('\n');
  expect(log).not.toContain(ORCA_TOKEN);
  expect(log).not.toContain(requireEnv('TEST_RESTRICTED_TOKEN'));
  expect(log).not.toMatch(/Bearer/i);
  expect(log).toContain('shift started');
});
