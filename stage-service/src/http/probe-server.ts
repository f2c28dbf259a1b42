/**
 * Health probes on their own port, answered by a worker thread.
 *
 * On the main port, /healthz waits its turn behind whatever the event loop is doing: a burst of
 * creates on a busy node delays it by tens to hundreds of ms, and a liveness probe that times out
 * gets a healthy, merely busy replica killed (taking its in-flight work with it). The worker
 * answers at once, and still tells a wedged process from a busy one: the main loop writes a
 * heartbeat to shared memory every BEAT_MS, and /healthz turns 503 once it is older than
 * `stalledAfterMs`. /readyz answers the readiness the main thread last published (at most
 * BEAT_MS old). The main port keeps serving both paths too.
 */
import { existsSync } from 'fs';
import { join } from 'path';
import { Worker } from 'worker_threads';

const BEAT_MS = 250;
export const DEFAULT_STALLED_AFTER_MS = 10_000;

export interface Readiness {
  code: number;
  body: unknown;
}

export interface ProbeServerOptions {
  host: string;
  port: number;
  /** The readiness /readyz reports (the same as the main port's), computed on the main thread. */
  readiness: () => Promise<Readiness>;
  stalledAfterMs?: number;
  /** A failure of the worker after it started (its probes then fail, and the kubelet restarts us). */
  onError?: (error: Error) => void;
}

export interface ProbeServer {
  port: number;
  /** Publishes the readiness now (the service became ready, or is stopping). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The compiled worker beside this file; when this file runs from source (the jest tests), the
 * build's copy (npm test builds dist/ first, as the CLI tests also rely on).
 */
function workerFile(): string {
  const beside = join(__dirname, 'probe-worker.js');
  return existsSync(beside) ? beside : join(__dirname, '..', '..', 'dist', 'http', 'probe-worker.js');
}

export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  const heartbeat = new SharedArrayBuffer(8);
  const beat = new BigInt64Array(heartbeat);
  const tick = () => Atomics.store(beat, 0, BigInt(Date.now()));
  tick();
  const worker = new Worker(workerFile(), {
    workerData: { host: options.host, port: options.port, heartbeat, stalledAfterMs: options.stalledAfterMs ?? DEFAULT_STALLED_AFTER_MS },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (message: { listening?: number; error?: string; code?: string }) => {
      if (message.listening !== undefined) resolve(message.listening);
      else reject(Object.assign(new Error(message.error ?? 'the probe server did not start'), { code: message.code }));
    });
    worker.once('error', reject);
  }).catch(async (error) => {
    await worker.terminate();
    throw error;
  });

  worker.on('error', (error) => options.onError?.(error));
  let published = '';
  const publish = async () => {
    tick();
    const readiness = await options.readiness().catch((error: Error) => ({ code: 503, body: { status: 'unavailable', message: error.message } }));
    const message = { code: readiness.code, body: JSON.stringify(readiness.body) };
    const key = `${message.code} ${message.body}`;
    if (key !== published) {
      published = key;
      worker.postMessage(message);
    }
  };
  await publish();
  // unref: the beat must not keep a stopping process alive.
  const timer = setInterval(() => void publish(), BEAT_MS);
  timer.unref();
  worker.unref();
  return {
    port,
    refresh: publish,
    stop: async () => {
      clearInterval(timer);
      await worker.terminate();
    },
  };
}
