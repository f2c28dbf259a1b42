/**
 * The probe port's server, in its own worker thread (see probe-server.ts). It never waits for the
 * main event loop: /healthz reads the main loop's heartbeat from shared memory, /readyz the last
 * readiness the main thread published.
 */
import { createServer } from 'http';
import { parentPort, workerData } from 'worker_threads';

interface ProbeWorkerData {
  host: string;
  port: number;
  /** One BigInt64 slot: the time (ms since epoch) of the main loop's last beat. */
  heartbeat: SharedArrayBuffer;
  stalledAfterMs: number;
}

const data = workerData as ProbeWorkerData;
const beat = new BigInt64Array(data.heartbeat);
let readiness = { code: 503, body: JSON.stringify({ status: 'starting' }) };

parentPort?.on('message', (message: { code: number; body: string }) => {
  readiness = message;
});

function lastBeatMs(): number {
  return Number(Atomics.load(beat, 0));
}

const server = createServer((req, res) => {
  const path = (req.url ?? '').split('?')[0];
  res.setHeader('Content-Type', 'application/json');
  if (path === '/healthz') {
    const silentMs = Date.now() - lastBeatMs();
    if (silentMs > data.stalledAfterMs) {
      // The main loop is wedged: let the kubelet restart the process.
      res.writeHead(503).end(JSON.stringify({ status: 'stalled', message: `the service's event loop has not turned for ${Math.round(silentMs / 1000)}s` }));
      return;
    }
    res.writeHead(200).end('{"status":"ok"}');
    return;
  }
  if (path === '/readyz') {
    res.writeHead(readiness.code).end(readiness.body);
    return;
  }
  res.writeHead(404).end(JSON.stringify({ error: { code: 'not_found', message: 'the probe port serves only /healthz and /readyz' } }));
});

server.on('error', (error) => parentPort?.postMessage({ error: error.message, code: (error as NodeJS.ErrnoException).code }));
server.listen(data.port, data.host, () => {
  const address = server.address();
  parentPort?.postMessage({ listening: typeof address === 'object' && address ? address.port : data.port });
});
