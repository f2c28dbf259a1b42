// "Restart stage" under what Orca really does to the stage context (driver.ts, steps 1, 2, 5, 6),
// against the real stage service on its embedded store. Run: npx jest --selectProjects unit test/orca/restart
import { createServer, request, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RESTART_TIME_HEADER, RESTART_TIME_HEADER_EXPRESSION, restartTimeFromHeader } from '@istio-shift/core';
import { sha256Hex } from '../../stage-service/src/auth';
import { EMBEDDED_DEV_TOKEN, loadConfig } from '../../stage-service/src/config';
import { EmbeddedVirtualServiceApi } from '../../stage-service/src/kube/embedded-api';
import { exampleVirtualServices } from '../../stage-service/src/kube/seed';
import { silentLogger } from '../../stage-service/src/logger';
import { RunningService, startService } from '../../stage-service/src/service';
import { checkoutStage } from '../e2e/checkout-stage';
import { DriverOptions, FAST, StageResult, runWebhookStage } from './driver';
import { loadPreconfiguredWebhook } from './webhook-config';

interface ShiftBody {
  id: string;
  status: string;
  cancelUrl: string;
  statusUrl: string;
  currentWeights: number[];
  attempts?: Array<{ id: string; status: string }>;
}

let store: EmbeddedVirtualServiceApi;
let service: RunningService;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  const port = await freePort();
  store = new EmbeddedVirtualServiceApi(exampleVirtualServices());
  service = await startService(loadConfig({ PORT: String(port), EXTERNAL_BASE_URL: `http://127.0.0.1:${port}` }, sha256Hex), { logger: silentLogger, embeddedStore: store, processMetrics: false });
});
afterAll(() => service.stop());

const execution = (id: string) => ({ id, application: 'shop', trigger: { type: 'manual', user: 'ana' } });
const stage = () => checkoutStage({ account: 'local', namespace: 'shop', virtualService: 'checkout', refId: '4', steps: [{ weights: [80, 10, 10], pause: '1s' }, { weights: [100, 0, 0] }] });

async function weights(): Promise<number[]> {
  const vs = await store.get('shop', 'checkout');
  return ((vs?.spec.http as Array<{ route: Array<{ weight?: number }> }>)[1].route).map((d) => d.weight ?? 0);
}

/** Another writer sets the route: the running attempt ends TERMINAL and leaves it alone. */
async function setWeights(values: number[]): Promise<void> {
  await store.patch('shop', 'checkout', values.map((value, i) => ({ op: 'replace' as const, path: `/spec/http/1/route/${i}/weight`, value })));
}

async function status(statusUrl: string): Promise<ShiftBody> {
  const response = await fetch(statusUrl, { headers: { Authorization: `Bearer ${EMBEDDED_DEV_TOKEN}` } });
  return (await response.json()) as ShiftBody;
}

async function run(executionId: string, options: DriverOptions = {}, restartOf?: StageResult, createUrl = service.url): Promise<StageResult> {
  return runWebhookStage({
    preconfigured: loadPreconfiguredWebhook(createUrl, EMBEDDED_DEV_TOKEN),
    stage: stage(),
    execution: execution(executionId),
    options: { ...FAST, monitorTimeoutMs: 20_000, ...options },
    restartOf: restartOf && { context: restartOf.context, restartTime: Date.now(), user: 'ana' },
  });
}

/** A first run that another writer ends TERMINAL; the route is then given back to the release. */
async function terminalRun(executionId: string): Promise<StageResult> {
  let interfered = false;
  const failed = await run(executionId, {
    onPoll: async (event) => {
      if (!interfered && event.taskStatus === 'RUNNING') {
        interfered = true;
        await setWeights([90, 0, 10]);
      }
    },
  });
  expect(failed.status).toBe('TERMINAL');
  await setWeights([100, 0, 0]);
  return failed;
}

const creates = (result: StageResult) => result.exchanges.filter((x) => x.phase === 'create' && x.sent);
const restartHeader = (result: StageResult) => creates(result).map((x) => x.requestHeaders.find(([name]) => name === RESTART_TIME_HEADER)?.[1]);

describe('Restart stage, with the context Orca stored', () => {
  it('keeps what the first run evaluated: the payload restart marker is 0 and the cancel endpoint is the old attempt\'s', async () => {
    const failed = await terminalRun('01RESTARTFACTS');
    const payload = failed.context.payload as { restartedAt: unknown };
    // Evaluated once when the stage started (restartDetails unknown -> null -> 0), stored as 0.
    expect(payload.restartedAt).toBe(0);
    expect(failed.context.cancelEndpoint).toBe((failed.context.webhook?.body as ShiftBody).cancelUrl);
    expect(restartHeader(failed)).toEqual(['null']);
  });

  it('runs a new attempt after a TERMINAL one', async () => {
    const failed = await terminalRun('01RESTARTTERMINAL');
    const restarted = await run('01RESTARTTERMINAL', {}, failed);
    expect(restarted.status).toBe('SUCCEEDED');
    const body = restarted.context.webhook?.monitor?.body as ShiftBody;
    expect(body.id).not.toBe((failed.context.webhook?.body as ShiftBody).id);
    expect(body.attempts?.map((a) => a.status)).toEqual(['TERMINAL', 'SUCCEEDED']);
    // The payload still says 0; the header carries this attempt's restart time.
    expect(JSON.parse(creates(restarted)[0].requestBody as string).restartedAt).toBe(0);
    expect(restartHeader(restarted)).toEqual([String((restarted.context.restartDetails as { restartTime: number }).restartTime)]);
    expect(await weights()).toEqual([100, 0, 0]);
  });

  it('runs a new attempt after a CANCELED one', async () => {
    const canceled = await run('01RESTARTCANCELED', { onPoll: (event, running) => void (event.poll === 2 && running.cancel()) });
    expect(canceled.status).toBe('CANCELED');
    expect(await weights()).toEqual([100, 0, 0]);
    const restarted = await run('01RESTARTCANCELED', {}, canceled);
    expect(restarted.status).toBe('SUCCEEDED');
    expect((restarted.context.webhook?.monitor?.body as ShiftBody).attempts?.map((a) => a.status)).toEqual(['CANCELED', 'SUCCEEDED']);
  });

  it('a create retried within the restarted attempt finds that attempt', async () => {
    const failed = await terminalRun('01RESTARTRETRY');
    // A proxy in front of the create: the restarted attempt's first create reaches the service,
    // but Orca gets a 502 and sends the same create again 50 ms later.
    let forwarded = 0;
    const proxy: Server = createServer((req, res) => {
      const upstream = request(`${service.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          forwarded++;
          if (forwarded === 1) res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
          else res.writeHead(answer.statusCode ?? 500, answer.headers).end(Buffer.concat(chunks));
        });
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    try {
      const restarted = await run('01RESTARTRETRY', {}, failed, `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
      expect(restarted.status).toBe('SUCCEEDED');
      expect(creates(restarted).map((x) => x.status)).toEqual([502, 200]);
      const [first, second] = restartHeader(restarted);
      expect(second).toBe(first);
      expect((restarted.context.webhook?.monitor?.body as ShiftBody).attempts?.map((a) => a.status)).toEqual(['TERMINAL', 'SUCCEEDED']);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('a cancel of the restarted stage reaches the new attempt, though Orca calls the old attempt\'s cancelUrl', async () => {
    const failed = await terminalRun('01RESTARTCANCEL');
    const oldCancelUrl = (failed.context.webhook?.body as ShiftBody).cancelUrl;
    const restarted = await run('01RESTARTCANCEL', { onPoll: (event, running) => void (event.poll === 2 && running.cancel()) }, failed);
    expect(restarted.status).toBe('CANCELED');
    // What Orca does: the preconfigured ${webhook.body.cancelUrl} was evaluated by the restarted
    // create task against the answer the restart kept, and stored.
    expect(restarted.cancelRequests).toMatchObject([{ reason: 'user', url: oldCancelUrl, sent: true, status: 200 }]);
    const newAttempt = await status(restarted.context.statusEndpoint as string);
    expect(newAttempt.id).not.toBe((failed.context.webhook?.body as ShiftBody).id);
    expect(newAttempt.status).toBe('CANCELED');
    expect(await weights()).toEqual([100, 0, 0]);
  });
});

describe('Restart stage after a rejected create', () => {
  it("a rejected create names its own stage's cancelUrl, so a cancel of the restarted stage reaches the new attempt", async () => {
    const auth = { Authorization: `Bearer ${EMBEDDED_DEV_TOKEN}`, 'Content-Type': 'application/json' };
    // Another execution shifts the route: this stage's create is refused with 409.
    const blocker = (await (await fetch(`${service.url}/v1/shifts`, { method: 'POST', headers: auth, body: JSON.stringify({ ...(stage().payload as object), executionId: '01BLOCKER', stageRef: '9', steps: [{ weights: [80, 10, 10], pause: '1h' }, { weights: [100, 0, 0] }] }) })).json()) as ShiftBody;
    expect(blocker.status).toBe('RUNNING');
    const rejected = await run('01RESTARTREJECTED');
    expect(rejected.status).toBe('TERMINAL');
    expect(rejected.context.webhook?.statusCodeValue).toBe(409);
    const cancelUrl = (rejected.context.webhook?.body as ShiftBody).cancelUrl;
    expect(cancelUrl).not.toContain('/rejected/');
    // Orca's cancel after the TERMINAL create: this stage has no shift yet, so nothing happens.
    expect(rejected.cancelRequests).toMatchObject([{ reason: 'terminal', url: cancelUrl, sent: true, status: 200 }]);
    expect(await weights()).toEqual([80, 10, 10]);
    await fetch(blocker.cancelUrl, { method: 'POST', headers: auth, body: '{}' });
    expect(await weights()).toEqual([100, 0, 0]);

    const restarted = await run('01RESTARTREJECTED', { onPoll: (event, running) => void (event.poll === 2 && running.cancel()) }, rejected);
    expect(restarted.status).toBe('CANCELED');
    expect(restarted.cancelRequests).toMatchObject([{ reason: 'user', url: cancelUrl, sent: true, status: 200 }]);
    expect((await status(restarted.context.statusEndpoint as string)).status).toBe('CANCELED');
    expect(await weights()).toEqual([100, 0, 0]);
  });
});

describe(`the ${RESTART_TIME_HEADER} header`, () => {
  it('reads null, absent or the unevaluated expression as no restart, digits as the restart time', () => {
    expect(restartTimeFromHeader(undefined)).toEqual({ ok: true });
    expect(restartTimeFromHeader('null')).toEqual({ ok: true });
    expect(restartTimeFromHeader(RESTART_TIME_HEADER_EXPRESSION)).toEqual({ ok: true });
    expect(restartTimeFromHeader('1764500000123')).toEqual({ ok: true, restartedAt: 1764500000123 });
  });

  it('refuses anything else with a 400 naming the header and how to configure it, and starts nothing', async () => {
    const response = await fetch(`${service.url}/v1/shifts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${EMBEDDED_DEV_TOKEN}`, 'Content-Type': 'application/json', [RESTART_TIME_HEADER]: ' 0:00' },
      body: JSON.stringify({ ...(stage().payload as object), executionId: '01BADHEADER' }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_restart_header');
    expect(body.error.message).toContain(`header ${RESTART_TIME_HEADER} must be Orca's restart time`);
    expect(body.error.message).toContain(RESTART_TIME_HEADER_EXPRESSION);
    expect(await weights()).toEqual([100, 0, 0]);
  });
});
