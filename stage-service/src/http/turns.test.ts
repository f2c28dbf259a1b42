import * as http from 'http';
import * as net from 'net';
import { AddressInfo } from 'net';
import { TurnTaker } from './turns';

/** Burns CPU like a create's validation and planning would. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

/**
 * BURST expensive requests and then one /healthz, all written in one go on connections opened
 * beforehand, so the server reads all of them in the same poll phase (as in a real burst).
 * Returns how long /healthz took and how long the burst took.
 */
async function healthzDuringBurst(turns: TurnTaker | undefined): Promise<{ healthzMs: number; burstMs: number }> {
  const BURST = 40;
  const server = http.createServer(async (req, res) => {
    if (req.url === '/healthz') {
      res.end('ok');
      return;
    }
    if (turns) await turns.turn();
    busy(10);
    res.end('done');
  });
  let accepted = 0;
  let allAccepted!: () => void;
  const acceptedAll = new Promise<void>((resolve) => (allAccepted = resolve));
  server.on('connection', () => {
    if (++accepted === BURST + 1) allAccepted();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const sockets = await Promise.all(
      Array.from({ length: BURST + 1 }, () => new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      })),
    );
    await acceptedAll;
    const answered = (socket: net.Socket) => new Promise<number>((resolve) => socket.once('data', () => resolve(Date.now())));
    const done = sockets.map(answered);
    const started = Date.now();
    sockets.forEach((socket, i) => socket.write(`GET ${i === BURST ? '/healthz' : '/work'} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`));
    const times = await Promise.all(done);
    for (const socket of sockets) socket.destroy();
    return { healthzMs: times[BURST] - started, burstMs: Math.max(...times) - started };
  } finally {
    server.close();
  }
}

describe('TurnTaker', () => {
  it('lets /healthz through while a burst of expensive requests is worked off, a small batch per loop turn', async () => {
    // Without turns, the 40 x 10 ms of work read in the same poll phase run back to back.
    const blocked = await healthzDuringBurst(undefined);
    const taking = await healthzDuringBurst(new TurnTaker(2));
    console.log(`/healthz behind 40 x 10 ms of work: ${blocked.healthzMs} ms without turns, ${taking.healthzMs} ms with`);
    expect(blocked.burstMs).toBeGreaterThanOrEqual(400);
    // The setup reproduces the problem: /healthz waited behind (nearly) all the work.
    expect(blocked.healthzMs).toBeGreaterThanOrEqual(300);
    expect(taking.burstMs).toBeGreaterThanOrEqual(400);
    // With turns of 2, /healthz waits for about two requests' work, not all of them (~25-45 ms vs
    // ~400 ms on a quiet machine; relative, because a busy machine slows both alike).
    expect(taking.healthzMs).toBeLessThan(blocked.healthzMs / 3);
  });

  it('goes on at once while the turn has room, and serves waiters in order, a batch per turn', async () => {
    const turns = new TurnTaker(1);
    const order: number[] = [];
    await turns.turn();
    const waiters = [1, 2, 3].map((i) => turns.turn().then(() => order.push(i)));
    expect(turns.queued).toBe(3);
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(turns.queued).toBe(0);
    // Once the queue drained and a turn passed, the next caller is not queued.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    let immediate = false;
    void turns.turn().then(() => (immediate = true));
    await Promise.resolve();
    expect(immediate).toBe(true);

    // A batch of 3: three go at once, the fourth waits for the next turn.
    const batched = new TurnTaker(3);
    const went: number[] = [];
    const all = [1, 2, 3, 4].map((i) => batched.turn().then(() => went.push(i)));
    await Promise.resolve();
    expect(went).toEqual([1, 2, 3]);
    expect(batched.queued).toBe(1);
    await Promise.all(all);
    expect(went).toEqual([1, 2, 3, 4]);
  });
});
