/**
 * The probe port answers from a worker thread: a blocked main event loop neither delays /healthz
 * there nor makes it lie about a wedged process. The probes come from another process, since a
 * client in this one would be blocked with the loop.
 */
import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { sha256Hex } from '../auth';
import { loadConfig } from '../config';
import { silentLogger } from '../logger';
import { RunningService, startService } from '../service';
import { startProbeServer } from './probe-server';

/**
 * Probes each URL in a loop of its own (10 ms apart), appending one line per request to a log
 * file as it starts (`S url# seq time`) and ends (`E url# seq time status`); prints "ready" once
 * every URL answered once. The blocked main thread reads the file synchronously, so it can wait
 * for what the prober saw without letting its event loop turn.
 */
const PROBER = `
const fs = require('fs');
const [log, ...urls] = process.argv.slice(1);
let stopping = false;
let answered = 0;
process.stdin.on('data', () => { stopping = true; });
const loop = async (url, i) => {
  let first = true;
  for (let seq = 0; !stopping; seq++) {
    fs.appendFileSync(log, 'S ' + i + ' ' + seq + ' ' + Date.now() + '\\n');
    const r = await fetch(url);
    await r.text();
    fs.appendFileSync(log, 'E ' + i + ' ' + seq + ' ' + Date.now() + ' ' + r.status + '\\n');
    if (first && ++answered === urls.length) console.log('ready');
    first = false;
    await new Promise((r) => setTimeout(r, 10));
  }
};
Promise.all(urls.map(loop)).then(() => process.exit(0));
`;

/** One request the prober made: URL index, start and end (epoch ms, the same clock as ours), status. */
interface Probe {
  url: number;
  start: number;
  end?: number;
  status?: number;
}

/** What the prober's log says so far (read synchronously: callable while the loop is blocked). */
function probes(log: string): Probe[] {
  const byKey = new Map<string, Probe>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [kind, url, seq, time, status] = line.split(' ');
    if (kind === 'S') byKey.set(`${url} ${seq}`, { url: Number(url), start: Number(time) });
    const probe = byKey.get(`${url} ${seq}`);
    if (kind === 'E' && probe) Object.assign(probe, { end: Number(time), status: Number(status) });
  }
  return [...byKey.values()];
}

/** Starts the prober; resolves once it has probed every URL once. `stop` ends it. */
async function prober(urls: string[]): Promise<{ log: string; stop: () => Promise<void> }> {
  const log = join(mkdtempSync(join(tmpdir(), 'prober-')), 'log');
  writeFileSync(log, '');
  const child: ChildProcess = spawn(process.execPath, ['-e', PROBER, log, ...urls], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) resolve();
    });
  });
  return { log, stop: async () => { child.stdin?.end('stop'); await exited; } };
}

/**
 * Keeps this thread's event loop busy (spinning, as a burst of work would) for at least `minMs`
 * and until `done()` holds, checked every 10 ms; at most `maxMs`. Returns when it started and ended.
 */
function blockUntil(done: (start: number, now: number) => boolean, minMs: number, maxMs: number): { start: number; end: number } {
  const start = Date.now();
  let next = start;
  for (;;) {
    const now = Date.now();
    if (now >= next) {
      if ((now - start >= minMs && done(start, now)) || now - start >= maxMs) return { start, end: Date.now() };
      next = now + 10;
    }
  }
}

describe('probe port', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await startService(loadConfig({ PORT: '0', PROBE_PORT: '0' }, sha256Hex), { logger: silentLogger, processMetrics: false });
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('answers /healthz and /readyz like the main port, and nothing else', async () => {
    const base = `http://127.0.0.1:${service.probePort}`;
    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'ok' });
    const readyz = await fetch(`${base}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual(await (await fetch(`${service.url}/readyz`)).json());
    const other = await fetch(`${base}/v1/shifts`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { message: string } }).error.message).toBe('the probe port serves only /healthz and /readyz');
  });

  it('answers at once while the main event loop is busy; the main port waits for it', async () => {
    const { log, stop } = await prober([`http://127.0.0.1:${service.probePort}/healthz`, `${service.url}/healthz`]);
    // Block the loop until the prober has seen the probe port answer 5 requests made during the
    // block, and a request to the main port has waited 500 ms; at least 800 ms, at most 8 s (the
    // worker's "stalled" 503 comes at 10 s). Synchronised on what the prober saw, not on timing:
    // a loaded machine only makes the block last longer.
    const block = blockUntil((start, now) => {
      const seen = probes(log);
      const answeredDuring = seen.filter((p) => p.url === 0 && p.start >= start && p.end !== undefined).length;
      const mainWaiting = seen.some((p) => p.url === 1 && p.end === undefined && p.start <= now - 500);
      return answeredDuring >= 5 && mainWaiting;
    }, 800, 8000);
    // Let the prober see the main port answer again before stopping it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await stop();
    const seen = probes(log);
    // The probe port: every answer 200, and 5 or more requested and answered while the main loop
    // was blocked, so by the worker (the main thread could not have answered them).
    expect(seen.filter((p) => p.url === 0 && p.status !== undefined && p.status !== 200)).toEqual([]);
    const during = seen.filter((p) => p.url === 0 && p.start >= block.start && p.end !== undefined && p.end <= block.end);
    expect(during.length).toBeGreaterThanOrEqual(5);
    // The main port: a request made 500 ms or more before the block ended was answered only after it.
    const waited = seen.filter((p) => p.url === 1 && p.start <= block.end - 500 && p.end !== undefined && p.end >= block.end);
    expect(waited.length).toBeGreaterThanOrEqual(1);
    expect(waited.every((p) => p.status === 200)).toBe(true);
    // At once: the probe port's median answer during the block took under half the main port's
    // shortest wait (relative, so a slow machine slows both sides).
    const latencies = during.map((p) => p.end! - p.start).sort((x, y) => x - y);
    const shortestWait = Math.min(...waited.map((p) => p.end! - p.start));
    expect(latencies[Math.floor(latencies.length / 2)]).toBeLessThan(shortestWait / 2);
  });
});

describe('probe server', () => {
  it('turns /healthz to 503 "stalled" while the main loop has not turned for stalledAfterMs, and back', async () => {
    const server = await startProbeServer({ host: '127.0.0.1', port: 0, stalledAfterMs: 300, readiness: async () => ({ code: 200, body: { status: 'ready' } }) });
    try {
      const { log, stop } = await prober([`http://127.0.0.1:${server.port}/healthz`]);
      // Blocked until the prober saw a 503 (at least 1.2 s, at most 8 s), then free again.
      blockUntil(() => probes(log).some((p) => p.status === 503), 1200, 8000);
      await new Promise((resolve) => setTimeout(resolve, 400));
      await stop();
      const codes = probes(log).map((p) => p.status);
      expect(codes).toContain(503);
      expect(codes).toContain(200);
      const after = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(after.status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('names the setting when the probe port is taken', async () => {
    const first = await startService(loadConfig({ PORT: '0', PROBE_PORT: '0' }, sha256Hex), { logger: silentLogger, processMetrics: false });
    try {
      const error = await startService(loadConfig({ PORT: '0', PROBE_PORT: String(first.probePort) }, sha256Hex), { logger: silentLogger, processMetrics: false }).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/^server\.probePort: 127\.0\.0\.1:\d+ is already in use by another process: stop that process, or set server\.probePort \(or PROBE_PORT\) to a free port$/);
    } finally {
      await first.stop();
    }
  });
});
