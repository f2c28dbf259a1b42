/**
 * Kubernetes Events of a shift on a real kube-apiserver (issue 17 item 3): listed with the field
 * selector `kubectl describe` uses (kubectl pkg/describe searchEvents -> client-go
 * EventInterface.GetFieldSelector: involvedObject.{name,namespace,kind,uid}), they tell the story;
 * a repeated event is one Event with a count (strategic merge PATCH accepted by the real server);
 * and a Role without events does not stop a shift. The story is written to
 * test-artifacts/events/checkout-events.txt in kubectl describe's layout.
 */
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { ClusterVirtualServiceApi } from '../src/kube/cluster-api';
import { CoreEvent } from '../src/kube/event-types';
import { ClusterEventWriter } from '../src/kube/event-writers';
import { EventRecorder } from '../src/kube/events';
import { silentLogger } from '../src/logger';
import { RunningService } from '../src/service';
import { adminKubeConfig, createNamespace, grantRestricted, requireEnv, waitFor } from '../../test/cluster/test-helpers';
import { kubectl } from '../../test/e2e/deploy-overlay';
import { applyCheckout, call, clusterAccount, exampleShift, freePort, pollUntilDone, serviceConfig, startTestService } from './support';
import { describeEvents as describeEventsOf } from './vs-events';

const ACCOUNT = 'events-cluster';
const ARTIFACT_DIR = join(__dirname, '..', '..', 'test-artifacts', 'events');
let namespace: string;
let cleanup: () => Promise<void>;
let service: RunningService;
let base: string;

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('events'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}/v1/shifts`;
  service = await startTestService(serviceConfig(port, [clusterAccount(ACCOUNT, [namespace]), clusterAccount('events-restricted', [namespace], 'restricted')]));
});

afterAll(async () => {
  await service?.stop();
  await cleanup?.();
});

/** The Events kubectl describe shows for a VirtualService (vs-events.ts). */
const describeEvents = (name: string) => describeEventsOf(namespace, name);

/** kubectl describe's Events table (pkg/describe DescribeEvents), Age given as the timestamps. */
function table(events: CoreEvent[]): string {
  const rows = events.map((e) => [e.type, e.reason, e.count > 1 ? `${e.lastTimestamp} (x${e.count} since ${e.firstTimestamp})` : e.firstTimestamp, e.source.component || e.reportingComponent, e.message.trim()]);
  const header = [['Type', 'Reason', 'Age', 'From', 'Message'], ['----', '------', '----', '----', '-------']];
  const all = [...header, ...rows];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...all.map((r) => r[i].length)));
  return `Events:\n${all.map((r) => `  ${r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]) : cell)).join('  ')}`).join('\n')}\n`;
}

describe('Events of a shift on the real API server', () => {
  it('tell each step and the completion, with the weights and the execution id', async () => {
    await applyCheckout(namespace);
    const spec = exampleShift(ACCOUNT, namespace);
    const created = await call(base, { body: spec });
    expect(created.status).toBe(202);
    expect((await pollUntilDone(created.body.statusUrl)).status).toBe('SUCCEEDED');
    const events = await waitFor('the Completed event', async () => {
      const found = await describeEvents('checkout');
      return found.some((e) => e.reason === 'Completed') ? found : undefined;
    });
    expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal StepApplied', 'Normal StepApplied', 'Normal StepApplied', 'Normal Completed']);
    expect(events.map((e) => e.message)).toEqual([
      `step 1 of 3: release 80, baseline 10, canary 10, pause 1s (execution ${spec.executionId} stage 2, shift ${created.body.id})`,
      `step 2 of 3: release 34, baseline 33, canary 33, pause 1s (execution ${spec.executionId} stage 2, shift ${created.body.id})`,
      `step 3 of 3: release 100, baseline 0, canary 0 (execution ${spec.executionId} stage 2, shift ${created.body.id})`,
      `shift completed at step 3 of 3: release 100, baseline 0, canary 0 (execution ${spec.executionId} stage 2, shift ${created.body.id})`,
    ]);
    for (const event of events) {
      expect(event).toMatchObject({
        involvedObject: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', name: 'checkout', namespace },
        source: { component: 'istio-traffic-shift' },
        reportingComponent: 'istio-traffic-shift',
        count: 1,
      });
    }
    mkdirSync(ARTIFACT_DIR, { recursive: true });
    writeFileSync(join(ARTIFACT_DIR, 'checkout-events.txt'), table(events));

    // And kubectl itself (built at the API server's version) shows them.
    const described = kubectl(['describe', 'virtualservice', 'checkout', '-n', namespace], requireEnv('TEST_KUBECONFIG'));
    expect(described.stderr).toBe('');
    const section = described.stdout.slice(described.stdout.indexOf('Events:'));
    expect(section).toMatch(/Type\s+Reason\s+Age\s+From\s+Message/);
    const rows = section.split('\n').filter((line) => /istio-traffic-shift/.test(line));
    // kubectl sorts by lastTimestamp with sort.Sort (not stable): rows of the same second may come in any order.
    expect(rows.map((line) => line.trim().split(/\s+/).slice(0, 2).join(' ')).sort()).toEqual(['Normal StepApplied', 'Normal StepApplied', 'Normal StepApplied', 'Normal Completed'].sort());
    for (const event of events) expect(section).toContain(event.message);
    writeFileSync(join(ARTIFACT_DIR, 'checkout-describe.txt'), described.stdout);
  });

  it('tell a cancel and its rollback', async () => {
    await applyCheckout(namespace, 'cancelled');
    const created = await call(base, { body: exampleShift(ACCOUNT, namespace, { virtualService: 'cancelled', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] }) });
    expect((await call(created.body.cancelUrl, { method: 'POST', body: {} })).status).toBe(200);
    const events = await waitFor('the RolledBack event', async () => {
      const found = await describeEvents('cancelled');
      return found.some((e) => e.reason === 'RolledBack') ? found : undefined;
    });
    expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal StepApplied', 'Normal Cancelled', 'Warning RolledBack']);
    expect(events[2].message).toMatch(/^weights restored to release 100, baseline 0, canary 0 \(execution /);
    writeFileSync(join(ARTIFACT_DIR, 'cancelled-events.txt'), table(events));
  });

  it('count a repeated event on one Event (strategic merge PATCH of count and lastTimestamp)', async () => {
    await applyCheckout(namespace, 'repeated');
    const api = new ClusterVirtualServiceApi(adminKubeConfig());
    const recorder = new EventRecorder({ writer: new ClusterEventWriter(() => api.client()), log: silentLogger, account: ACCOUNT, instance: 'test' });
    const vs = (await api.get(namespace, 'repeated'))!;
    for (let i = 0; i < 3; i++) recorder.record(vs, { type: 'Warning', reason: 'Conflict', message: 'the same thing again' });
    await recorder.flush();
    const events = await describeEvents('repeated');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ reason: 'Conflict', count: 3 });
    (await api.client()).close();
  });

  it('cannot be written without events in the Role, and the shift still completes', async () => {
    await applyCheckout(namespace, 'no-events');
    const revoke = await grantRestricted(namespace, [
      { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get', 'list', 'watch', 'patch'] },
    ]);
    try {
      const created = await call(base, { body: exampleShift('events-restricted', namespace, { virtualService: 'no-events' }) });
      expect(created.status).toBe(202);
      expect((await pollUntilDone(created.body.statusUrl)).status).toBe('SUCCEEDED');
      expect(await describeEvents('no-events')).toEqual([]);
    } finally {
      await revoke();
    }
  });
});
