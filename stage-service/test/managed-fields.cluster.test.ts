/**
 * GitOps: name who fought the shift (issue 17 item 4), on a real kube-apiserver. A shift is
 * started; then another manager writes the route's weights as GitOps controllers and kubectl do:
 * a forced server-side apply (PATCH application/apply-patch+yaml, fieldManager, force=true) by
 * argocd-controller and kustomize-controller, and an update (merge PATCH with fieldManager) by
 * kubectl-edit and kubectl-client-side-apply. The TERMINAL message names each, from the
 * VirtualService's managedFields, and the Conflict Event says the same. The messages are written
 * to test-artifacts/events/managed-fields.txt.
 */
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { createNamespace, getVirtualService, rawRequest, waitFor } from '../../test/cluster/test-helpers';
import { applyCheckout, call, clusterAccount, exampleShift, freePort, pollUntilDone, serviceConfig, startTestService } from './support';
import { RunningService } from '../src/service';

const ACCOUNT = 'managed-fields-cluster';
let namespace: string;
let cleanup: () => Promise<void>;
let service: RunningService;
let base: string;
const messages: string[] = [];

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('fight'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}/v1/shifts`;
  service = await startTestService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace])]));
});

afterAll(async () => {
  await service?.stop();
  await cleanup?.();
  const dir = join(__dirname, '..', '..', 'test-artifacts', 'events');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'managed-fields.txt'), `${messages.join('\n')}\n`);
});

const writers = [
  { manager: 'argocd-controller', operation: 'Apply' },
  { manager: 'kustomize-controller', operation: 'Apply' },
  { manager: 'kubectl-edit', operation: 'Update' },
  { manager: 'kubectl-client-side-apply', operation: 'Update' },
] as const;

/** The route list with the primary route at 50/25/25: what the other writer's Git says. */
async function theirHttp(name: string): Promise<unknown[]> {
  const vs = await getVirtualService(namespace, name);
  const http = JSON.parse(JSON.stringify((vs.spec as { http: Array<{ name?: string; route: Array<{ weight: number }> }> }).http));
  http.find((r: { name?: string }) => r.name === 'primary').route.forEach((d: { weight: number }, i: number) => (d.weight = [50, 25, 25][i]));
  return http;
}

describe.each(writers)('a shift fought by $manager ($operation)', ({ manager, operation }) => {
  it('ends TERMINAL naming the manager, its operation and time from managedFields', async () => {
    const name = `fight-${manager}`;
    await applyCheckout(namespace, name);
    const created = await call(base, { body: exampleShift(ACCOUNT, namespace, { virtualService: name, steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] }) });
    expect(created.status).toBe(202);
    const path = `/apis/networking.istio.io/v1/namespaces/${namespace}/virtualservices/${name}`;
    const http = await theirHttp(name);
    const written = operation === 'Apply'
      // Server-side apply as Argo CD (ServerSideApply=true) and Flux's kustomize-controller do it: forced.
      ? await rawRequest(`${path}?fieldManager=${manager}&force=true`, {
        method: 'PATCH',
        contentType: 'application/apply-patch+yaml',
        body: JSON.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace }, spec: { http } }),
      })
      // kubectl edit and client-side apply send a patch of the changed fields with their fieldManager.
      : await rawRequest(`${path}?fieldManager=${manager}`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: JSON.stringify({ spec: { http } }) });
    expect(written.status).toBe(200);
    const entry = (JSON.parse(written.body).metadata.managedFields as Array<{ manager: string; operation: string; time: string }>).find((e) => e.manager === manager)!;
    expect(entry.operation).toBe(operation);

    const done = await pollUntilDone(created.body.statusUrl);
    expect(done.status).toBe('TERMINAL');
    const failure = done.failure as { reason: string; message: string };
    expect(failure.reason).toBe('ROUTE_CHANGED');
    expect(failure.message).toContain(`changed by "${manager}" (${operation}, ${entry.time})`);
    messages.push(`${manager}: ${failure.message}`);
    const conflict = await waitFor('the Conflict event', async () => {
      const vs = await getVirtualService(namespace, name);
      const selector = `involvedObject.kind=VirtualService,involvedObject.name=${name},involvedObject.namespace=${namespace},involvedObject.uid=${vs.metadata.uid}`;
      const events = JSON.parse((await rawRequest(`/api/v1/namespaces/${namespace}/events?fieldSelector=${encodeURIComponent(selector)}`)).body).items as Array<{ reason: string; message: string }>;
      return events.find((e) => e.reason === 'Conflict');
    });
    expect(conflict.message).toContain(`changed by "${manager}"`);
  });
});
