/**
 * The stage service as a real process (`node stage-service/dist/main.js`, what `npm start` runs)
 * with a configuration file, for tests that kill and restart it like a crashed pod.
 */
import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { stringify as toYaml } from 'yaml';
import { requireEnv, waitFor } from '../cluster/test-helpers';

const MAIN = resolve(__dirname, '..', '..', 'stage-service', 'dist', 'main.js');

export interface ServiceProcess {
  baseUrl: string;
  token: string;
  /** Starts (or starts again) the process and waits until /readyz answers 200. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown hook runs, as when a node dies. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  output(): string;
}

/** `extra`: more top-level configuration keys, e.g. `metricsSources`. */
export function serviceProcess(port: number, accounts: Array<{ name: string; namespaces: string[] }>, extra: Record<string, unknown> = {}): ServiceProcess {
  const token = `e2e-${Math.random().toString(36).slice(2)}-token`;
  const dir = mkdtempSync(join(tmpdir(), 'shift-service-'));
  const configPath = join(dir, 'config.yaml');
  const baseUrl = `http://127.0.0.1:${port}`;
  writeFileSync(configPath, toYaml({
    server: { host: '127.0.0.1', port, externalBaseUrl: baseUrl },
    auth: { tokens: [{ name: 'orca', fromEnv: 'ORCA_TOKEN', accounts: ['*'] }] },
    accounts: accounts.map((a) => ({ ...a, kubeconfig: requireEnv('TEST_KUBECONFIG'), context: 'admin' })),
    ...extra,
  }));
  let child: ChildProcess | undefined;
  let log = '';

  const exited = (process: ChildProcess) => new Promise<void>((resolveExit) => {
    if (process.exitCode !== null || process.signalCode !== null) resolveExit();
    else process.once('exit', () => resolveExit());
  });

  return {
    baseUrl,
    token,
    async start() {
      child = spawn(globalThis.process.execPath, [MAIN], {
        env: { ...globalThis.process.env, TRAFFIC_SHIFT_CONFIG: configPath, ORCA_TOKEN: token, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk) => (log += chunk));
      child.stderr?.on('data', (chunk) => (log += chunk));
      const started = child;
      await waitFor(`the service on ${baseUrl} to be ready (log: ${log.slice(-500)})`, async () => {
        if (started.exitCode !== null) throw new Error(`the service exited with ${started.exitCode}: ${log}`);
        const response = await fetch(`${baseUrl}/readyz`).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      }, 20000);
    },
    async kill() {
      if (!child) return;
      const dying = child;
      dying.kill('SIGKILL');
      await exited(dying);
    },
    async stop() {
      if (!child) return;
      const stopping = child;
      stopping.kill('SIGTERM');
      await exited(stopping);
    },
    output: () => log,
  };
}
