// @ts-check
'use strict';
/**
 * Benchmark: how long the README's first command (`npm start`) takes until the playground is
 * served, on a fresh clone. Clones this repository's HEAD into a temporary directory and runs
 * `npm start` there twice:
 *   cold  fresh clone: npm ci (prestart), tsc, the playground page's webpack build, service start;
 *   warm  the same clone again: packages installed, page up to date (only tsc and the hash check).
 * Each run ends when `/` answers 200 (the page) and `/readyz` 200; then the service is stopped.
 * Prints both times and the page build's own line. Usage: node bench/start-time.js [repository]
 * (npm's download cache makes `npm ci` faster than on a machine that never installed these packages).
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');

const repository = process.argv[2] || path.resolve(__dirname, '..');
const LIMIT_MS = 30 * 60_000;

/** @returns {Promise<number>} */
const freePort = () => new Promise((resolve, reject) => {
  const server = net.createServer();
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    const address = /** @type {net.AddressInfo} */ (server.address());
    server.close(() => resolve(address.port));
  });
});

/** @param {string} dir @param {string} label */
async function timeStart(dir, label) {
  const port = await freePort();
  const started = Date.now();
  const env = { ...process.env, PORT: String(port) };
  delete env.TRAFFIC_SHIFT_CONFIG;
  const child = spawn('npm', ['start'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const ok = async (/** @type {string} */ p) => (await fetch(`http://127.0.0.1:${port}${p}`).catch(() => undefined))?.status === 200;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${log}`);
      if (Date.now() - started > LIMIT_MS) throw new Error(`npm start did not serve the playground within ${LIMIT_MS / 60_000} min:\n${log}`);
      if ((await ok('/readyz')) && (await ok('/'))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const seconds = (Date.now() - started) / 1000;
    const build = log.split('\n').find((line) => line.startsWith('playground: page')) ?? '';
    console.log(`${label}: npm start served the playground after ${seconds.toFixed(1)} s (${build.trim()})`);
    return seconds;
  } finally {
    // npm start's whole process group: npm, sh and node.
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-shift-start-'));
  execFileSync('git', ['clone', '--quiet', repository, dir]);
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  console.log(`fresh clone of ${head} in a temporary directory, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);
  await timeStart(dir, 'cold');
  await timeStart(dir, 'warm');
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
