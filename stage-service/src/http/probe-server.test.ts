/**
 * The probe port answers from a worker thread: a blocked main event loop neither delays /healthz
 * there nor makes it lie about a wedged process. The probes come from another process, since a
 * client in this one would be blocked with the loop.
 */
import { ChildProcess, spawn } from 'child_process';
import { sha256Hex } from '../auth';
import { loadConfig } from '../config';
import { silentLogger } from '../logger';
import { RunningService, startService } from '../service';
import { startProbeServer } from './probe-server';

/** Probes each URL every 10 ms; prints "ready" after the first round, then one JSON line when told to stop. */
const PROBER = `
const urls = process.argv.slice(1);
const seen = urls.map(() => ({ maxMs: 0, codes: {} }));
let stopping = false;
process.stdin.on('data', () => { stopping = true; });
(async () => {
  let first = true;
  while (!stopping) {
    await Promise.all(urls.map(async (url, i) => {
      const t = Date.now();
      const r = await fetch(url);
      await r.text();
      seen[i].maxMs = Math.max(seen[i].maxMs, Date.now() - t);
      seen[i].codes[r.status] = (seen[i].codes[r.status] || 0) + 1;
    }));
    if (first) { first = false; console.log('ready'); }
    await new Promise((r) => setTimeout(r, 10));
  }
  console.log(JSON.stringify(seen));
  process.exit(0);
})();
`;

interface Seen {
  maxMs: number;
  codes: Record<string, number>;
}

/** Starts the prober and resolves once it has probed every URL once. */
async function prober(urls: string[]): Promise<{ child: ChildProcess; results: Promise<Seen[]> }> {
  const child = spawn(process.execPath, ['-e', PROBER, ...urls], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const results = new Promise<Seen[]>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) onReady();
      const lines = out.split('\n');
      if (lines.length >= 3) resolve(JSON.parse(lines[1]) as Seen[]);
    });
  });
  await ready;
  return { child, results };
}

/** Keeps this thread's event loop busy, as a burst of work would. */
function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
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
    const { child, results } = await prober([`http://127.0.0.1:${service.probePort}/healthz`, `${service.url}/healthz`]);
    blockFor(800);
    // Let the prober see the main port answer again before stopping it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.stdin?.end('stop');
    const [probePort, mainPort] = await results;
    expect(probePort.codes).toEqual({ 200: expect.any(Number) });
    expect(mainPort.maxMs).toBeGreaterThanOrEqual(500);
    // Relative, for a busy CI machine: the worker never waits for the blocked loop.
    expect(probePort.maxMs).toBeLessThan(mainPort.maxMs / 2);
  });
});

describe('probe server', () => {
  it('turns /healthz to 503 "stalled" while the main loop has not turned for stalledAfterMs, and back', async () => {
    const probes = await startProbeServer({ host: '127.0.0.1', port: 0, stalledAfterMs: 300, readiness: async () => ({ code: 200, body: { status: 'ready' } }) });
    try {
      const { child, results } = await prober([`http://127.0.0.1:${probes.port}/healthz`]);
      blockFor(1200);
      await new Promise((resolve) => setTimeout(resolve, 400));
      child.stdin?.end('stop');
      const [healthz] = await results;
      expect(healthz.codes['503']).toBeGreaterThan(0);
      expect(healthz.codes['200']).toBeGreaterThan(0);
      const after = await fetch(`http://127.0.0.1:${probes.port}/healthz`);
      expect(after.status).toBe(200);
    } finally {
      await probes.stop();
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
