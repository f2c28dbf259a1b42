/**
 * The transport against a small local HTTP server started here: what it does with 429 and
 * Retry-After, a server that never answers, restart-style 403s, keep-alive and the limiter.
 * (Behaviour against the real kube-apiserver is in stage-service/test/kube-transport.cluster.test.ts.)
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { FairLimiter } from './fair-limiter';
import { KubeHttpClient, KubeTransportError, retryAfterMs } from './http-client';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; server: Server; sockets: () => number }> {
  let sockets = 0;
  const server = createServer(handler);
  server.on('connection', () => sockets++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, sockets: () => sockets };
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const auth = async () => 'Bearer test';
const get = (client: KubeHttpClient, path = '/apis/x') => client.request({ method: 'GET', path, flow: 'ns/vs' });

describe('KubeHttpClient', () => {
  const clients: KubeHttpClient[] = [];
  const servers: Server[] = [];
  const client = (url: string, settings = {}) => {
    const c = new KubeHttpClient(url, {}, auth, settings);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await Promise.all(servers.splice(0).map(stop));
  });

  it('waits for Retry-After on 429 (API Priority and Fairness), then returns the answer', async () => {
    const seen: number[] = [];
    const { url, server } = await serve((_req, res) => {
      seen.push(Date.now());
      if (seen.length === 1) json(res, 429, { kind: 'Status', message: 'too many requests' }, { 'Retry-After': '1' });
      else json(res, 200, { ok: true });
    });
    servers.push(server);
    const response = await get(client(url));
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(950);
  });

  it('returns the 429 when Retry-After is beyond the deadline, without waiting for it', async () => {
    let calls = 0;
    const { url, server } = await serve((_req, res) => {
      calls++;
      json(res, 429, { message: 'slow down' }, { 'Retry-After': '30' });
    });
    servers.push(server);
    const started = Date.now();
    const response = await get(client(url, { requestTimeoutMs: 2000 }));
    expect(response.status).toBe(429);
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives up on a server that never answers at the deadline, then fails fast until it answers again', async () => {
    let hang = true;
    const { url, server } = await serve((req, res) => {
      if (hang) return; // never answers, like a SIGSTOPped API server
      json(res, 200, req.url === '/readyz' ? 'ok' : { ok: true });
    });
    servers.push(server);
    const c = client(url, { requestTimeoutMs: 800, probeIntervalMs: 400, probeTimeoutMs: 300 });
    const started = Date.now();
    await expect(get(c)).rejects.toMatchObject({ failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(c.health.state).toBe('down');
    const fast = Date.now();
    await expect(get(c)).rejects.toMatchObject({ failure: 'down', message: expect.stringContaining('is not answering') });
    expect(Date.now() - fast).toBeLessThan(100);
    hang = false;
    const deadline = Date.now() + 5000;
    while (c.health.state !== 'ok' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(c.health.state).toBe('ok');
    expect((await get(c)).status).toBe(200);
  });

  it('retries a 403 while /readyz is not ok (a restarting API server), and answers with success', async () => {
    // Like kube-apiserver 1.36 after a restart: everything, /readyz included, is 403 for a moment.
    const forbiddenUntil = Date.now() + 700;
    let forbiddenAnswers = 0;
    const { url, server } = await serve((req, res) => {
      const forbidden = Date.now() < forbiddenUntil;
      if (req.url === '/readyz') return json(res, forbidden ? 403 : 200, {});
      if (forbidden) {
        forbiddenAnswers++;
        return json(res, 403, { message: 'forbidden: User "x" cannot get path' });
      }
      json(res, 200, { ok: true });
    });
    servers.push(server);
    expect((await get(client(url))).status).toBe(200);
    expect(forbiddenAnswers).toBeGreaterThan(1);
  });

  it('reports a 403 that outlasts the deadline while the server is not ready as `starting`, never as 403', async () => {
    const { url, server } = await serve((req, res) => json(res, req.url === '/readyz' ? 500 : 403, { message: 'forbidden' }));
    servers.push(server);
    const error = await get(client(url, { requestTimeoutMs: 1000 })).catch((e) => e);
    expect(error).toBeInstanceOf(KubeTransportError);
    expect(error.failure).toBe('starting');
  });

  it('returns a 403 from a ready server at once: missing RBAC is permanent', async () => {
    let calls = 0;
    const { url, server } = await serve((req, res) => {
      if (req.url === '/readyz') return json(res, 200, 'ok');
      calls++;
      json(res, 403, { message: 'forbidden' });
    });
    servers.push(server);
    const response = await get(client(url));
    expect(response.status).toBe(403);
    expect(calls).toBe(1);
  });

  it('keeps one connection alive across sequential calls', async () => {
    const { url, server, sockets } = await serve((_req, res) => json(res, 200, {}));
    servers.push(server);
    const c = client(url);
    for (let i = 0; i < 20; i++) expect((await get(c)).status).toBe(200);
    expect(sockets()).toBe(1);
    expect(c.stats()).toMatchObject({ connections: 1, requests: 20 });
  });

  it('resends a request whose reused keep-alive socket the server had closed', async () => {
    const { url, server } = await serve((_req, res) => json(res, 200, {}));
    servers.push(server);
    const c = client(url);
    expect((await get(c)).status).toBe(200);
    // Kill the idle socket from the server side without telling the client first.
    server.closeAllConnections();
    expect((await get(c)).status).toBe(200);
  });

  it('never has more than maxInFlight calls on the wire', async () => {
    let active = 0;
    let peak = 0;
    const { url, server } = await serve((_req, res) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        json(res, 200, {});
      }, 20);
    });
    servers.push(server);
    const c = client(url, { maxInFlight: 4 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => c.request({ method: 'GET', path: '/x', flow: `f${i % 5}` })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(peak).toBe(4);
  });
});

describe('FairLimiter', () => {
  it('serves waiting flows round-robin, so one busy flow cannot starve another', async () => {
    const limiter = new FairLimiter(1);
    const first = await limiter.acquire('busy', 1000);
    const order: string[] = [];
    const waits = [
      ...Array.from({ length: 3 }, () => limiter.acquire('busy', 1000).then((release) => (order.push('busy'), release()))),
      limiter.acquire('quiet', 1000).then((release) => (order.push('quiet'), release())),
    ];
    first();
    await Promise.all(waits);
    expect(order).toEqual(['busy', 'quiet', 'busy', 'busy']);
  });

  it('rejects a waiter that is not served in time and forgets it', async () => {
    const limiter = new FairLimiter(1);
    const held = await limiter.acquire('a', 1000);
    await expect(limiter.acquire('b', 50)).rejects.toThrow(/waited 50 ms/);
    expect(limiter.queued).toBe(0);
    held();
    expect(limiter.inFlight).toBe(0);
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
