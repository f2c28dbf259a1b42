/**
 * A real Prometheus (Debian's /usr/bin/prometheus) for tests: a private temp dir, a free loopback
 * port, optional backfilled blocks (promtool tsdb create-blocks-from openmetrics) and optional
 * scrape targets every second. Readiness is polled on /-/ready, never slept for.
 *
 * Checked on Prometheus 2.42: backfilled blocks load next to an actively scraped head with no
 * extra flag (overlapping blocks are always allowed since 2.39; --storage.tsdb.allow-overlapping-blocks
 * no longer exists), and data right up to "now" is queryable.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { get as httpGet } from 'http';
import { get as httpsGet } from 'https';
import { tmpdir } from 'os';
import { join } from 'path';
import { freePort } from '../free-port';
import { freeze, thaw } from '../process-freeze';

const INSTALL_HINT = 'install it with `apt-get install -y --no-install-recommends prometheus` (Debian/Ubuntu; it ships promtool too), or set PROMETHEUS_BIN/PROMTOOL_BIN';

export interface StartOptions {
  /** host:port targets scraped every `scrapeIntervalSeconds` at /metrics. */
  scrapeTargets?: string[];
  scrapeIntervalSeconds?: number;
  /** OpenMetrics text turned into TSDB blocks before start. */
  backfill?: string;
  /** Serve HTTPS with this PEM certificate and key (Prometheus' --web.config.file); `ca` verifies it. */
  tls?: { cert: string; key: string; ca: string };
  /** Readiness deadline (a busy machine can be slow). */
  startTimeoutMs?: number;
}

export interface RunningPrometheus {
  url: string;
  port: number;
  pid: number;
  dir: string;
  /** SIGTERM, wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGSTOP, resolved once every thread has stopped: the port still accepts connections but nothing answers (a hung server). */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Resolves when every scrape target has been scraped successfully at least once. */
  waitForTargetsUp(timeoutMs?: number): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
}

export function binary(envName: 'PROMETHEUS_BIN' | 'PROMTOOL_BIN', name: string): string {
  const path = process.env[envName] ?? `/usr/bin/${name}`;
  if (!existsSync(path)) throw new Error(`${name} not found at ${path}: ${INSTALL_HINT}`);
  return path;
}


/** Polls `probe` until it returns a value; throws with the last error after `timeoutMs` (at once for an error marked `fatal`). */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let wait = 20;
  let last = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if ((error as { fatal?: boolean }).fatal) throw error;
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 250);
  }
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve();
    });
  });
}

function scrapeConfig(targets: string[], intervalSeconds: number): string {
  // JSON is YAML: no YAML library needed, and no quoting surprises.
  return JSON.stringify({
    global: { scrape_interval: `${intervalSeconds}s`, scrape_timeout: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
    scrape_configs: targets.length ? [{ job_name: 'mesh', metrics_path: '/metrics', static_configs: [{ targets }] }] : [],
  });
}

/** HTTP status of a GET (0 when nothing answers), trusting `ca` for https. */
function status(url: string, ca?: string): Promise<number> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https:') ? httpsGet : httpGet)(url, ca ? { ca } : {}, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startPrometheus(options: StartOptions = {}): Promise<RunningPrometheus> {
  const prometheus = binary('PROMETHEUS_BIN', 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'prom-test-'));
  const data = join(dir, 'data');
  try {
    if (options.backfill !== undefined) {
      const file = join(dir, 'backfill.om');
      writeFileSync(file, options.backfill);
      await run(binary('PROMTOOL_BIN', 'promtool'), ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', file, data]);
    }
    const config = join(dir, 'prometheus.yml');
    const targets = options.scrapeTargets ?? [];
    writeFileSync(config, scrapeConfig(targets, options.scrapeIntervalSeconds ?? 1));
    const extraArgs: string[] = [];
    if (options.tls) {
      writeFileSync(join(dir, 'server.pem'), options.tls.cert);
      writeFileSync(join(dir, 'server.key'), options.tls.key);
      const web = join(dir, 'web.yml');
      writeFileSync(web, JSON.stringify({ tls_server_config: { cert_file: join(dir, 'server.pem'), key_file: join(dir, 'server.key') } }));
      extraArgs.push(`--web.config.file=${web}`);
    }
    // A port found free can be taken before Prometheus binds it: try a few.
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await launch(prometheus, dir, config, data, await freePort(), targets.length, options.startTimeoutMs ?? 30_000, extraArgs, options.tls?.ca);
      } catch (error) {
        lastError = error as Error;
        if (!/address already in use/.test(lastError.message)) break;
      }
    }
    throw lastError;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  bin: string,
  dir: string,
  config: string,
  data: string,
  port: number,
  targetCount: number,
  timeoutMs: number,
  extraArgs: string[],
  ca: string | undefined,
): Promise<RunningPrometheus> {
  const logFile = join(dir, `prometheus-${port}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(
    bin,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Backfilled test data may be weeks old in model time; never drop it.
      '--storage.tsdb.retention.time=10y',
      '--log.level=info',
      ...extraArgs,
    ],
    { stdio: ['ignore', out, out] },
  );
  closeSync(out);
  const url = `${ca ? 'https' : 'http'}://127.0.0.1:${port}`;
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.signalCode === null && child.exitCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await poll(
      `Prometheus on ${url}/-/ready`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw Object.assign(new Error(`prometheus exited (${child.exitCode ?? child.signalCode}): ${log().split('\n').slice(-5).join('\n')}`), { fatal: true });
        }
        return (await status(`${url}/-/ready`, ca)) === 200 ? true : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    child.kill('SIGKILL');
    await exited(child);
    throw new Error(`${(error as Error).message}\n${log().split('\n').slice(-5).join('\n')}`);
  }
  return {
    url,
    port,
    pid: child.pid ?? 0,
    dir,
    stop,
    pause: () => freeze(child.pid ?? 0),
    resume: () => {
      if (child.exitCode === null && child.signalCode === null) thaw(child.pid ?? 0);
    },
    log,
    waitForTargetsUp: async (waitMs = 30_000) => {
      await poll(
        `${targetCount} scrape target(s) up`,
        async () => {
          const res = await fetch(`${url}/api/v1/targets?state=active`);
          const body = (await res.json()) as { data: { activeTargets: Array<{ health: string; lastError: string }> } };
          const up = body.data.activeTargets.filter((t) => t.health === 'up').length;
          if (up === targetCount) return true;
          const errors = body.data.activeTargets.map((t) => t.lastError).filter(Boolean);
          if (errors.length) throw new Error(errors.join('; '));
          return undefined;
        },
        waitMs,
      );
    },
  };
}
