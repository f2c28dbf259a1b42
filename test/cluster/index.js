// @ts-check
'use strict';

// A real Kubernetes control plane for tests: etcd + kube-apiserver as child processes, no container
// engine. Plain CommonJS so that `node test/cluster/cli.js` and jest's globalSetup can both load it
// without a build step. See README.md in this folder.

const { spawn, execFileSync } = require('node:child_process');
const { generateKeyPairSync, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');
const yaml = require('yaml');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BUILD_SCRIPT = path.join(__dirname, 'build-kube-apiserver.sh');
const DEFAULT_ETCD_BIN = '/usr/bin/etcd';
const OWN_CRDS = path.join(__dirname, 'crds', 'istio-networking.yaml');
const RESTRICTED_USER = 'istio-traffic-shift';
const ADMIN_USER = 'admin';
const STATE_FILE = 'state.json';
const STATE_SCHEMA = 1;

/** How long each phase may take before we give up (ms). CLUSTER_START_TIMEOUT_MS overrides the apiserver one. */
const TIMEOUTS = {
  etcdReady: 30_000,
  apiserverReady: Number(process.env.CLUSTER_START_TIMEOUT_MS || 180_000),
  crdEstablished: 60_000,
  stop: 30_000,
};

/**
 * @typedef {object} ClusterState  What `<stateDir>/state.json` holds, so another process can reuse or stop the cluster.
 * @property {number} schema
 * @property {'starting' | 'ready'} status
 * @property {string} stateDir
 * @property {{ etcd: number, apiserver: number }} pids
 * @property {{ etcd: string, apiserver: string }} binaries
 * @property {{ etcd: string, apiserver: string }} logs
 * @property {string} etcdUrl
 * @property {string} etcdDataDir
 * @property {boolean} etcdDataDirIsTemp  true when the data dir lives outside stateDir (tmpfs) and must be removed on stop
 * @property {string} server
 * @property {string} caFile
 * @property {string} kubeconfigPath
 * @property {string} version
 * @property {string} adminToken
 * @property {string} restrictedToken
 * @property {string} restrictedUser
 * @property {string} crdsFile
 * @property {boolean} detached
 * @property {string} startedAt
 * @property {number} startupMs
 * @property {StartupPhases} phases
 */

/**
 * @typedef {object} StartupPhases  milliseconds spent in each phase of startCluster
 * @property {number} prepare    binaries, keys, tokens, ports
 * @property {number} etcd       spawn until /health is ok
 * @property {number} apiserver  spawn until /readyz is ok
 * @property {number} crds       create CRDs until every served version answers
 */

/**
 * @typedef {object} ClusterHandle
 * @property {string} stateDir
 * @property {string} kubeconfigPath  admin is the current context; `restricted` is the other one
 * @property {string} server          https://127.0.0.1:<port>
 * @property {string} version         gitVersion from /version, e.g. v1.36.3
 * @property {string} adminToken      static token of user `admin` (group system:masters)
 * @property {string} restrictedToken static token of user `istio-traffic-shift` (no RBAC unless a test grants it)
 * @property {string} restrictedUser
 * @property {string} caFile          PEM that verifies the apiserver's serving certificate
 * @property {string} crdsFile        the Istio CRD file that was applied
 * @property {number} startupMs       wall time of startCluster
 * @property {StartupPhases} phases
 * @property {{ etcd: string, apiserver: string }} logs
 * @property {{ etcd: number, apiserver: number }} pids  current process ids (for fault-injection tests: SIGSTOP/SIGCONT)
 * @property {() => Promise<void>} stop  SIGTERM both processes and wait until they have exited
 * @property {(() => Promise<void>) | undefined} restartApiserver  only on handles from startCluster: SIGTERM
 *   kube-apiserver and start it again with the same flags (same etcd, port, certs and tokens). Resolves once the
 *   new process is spawned, NOT when it is ready: tests use it to observe the restart window.
 */

// ---------------------------------------------------------------------------------------------
// Binaries

/** @returns {string} the default state dir, `<repo>/.cluster` (git-ignored) */
function defaultStateDir() {
  return path.join(REPO_ROOT, '.cluster');
}

/**
 * @param {string} p
 * @returns {boolean}
 */
function isExecutableFile(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * @param {string} cmd
 * @returns {string | undefined} the command's path on PATH
 */
function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return undefined;
}

/**
 * The kube-apiserver binary: `$KUBE_APISERVER_BIN` if set (it must exist), else the one
 * build-kube-apiserver.sh builds from the Go module proxy and caches (~5-20 min cold, instant when cached).
 * @returns {string}
 */
function kubeApiserverBinary() {
  const fromEnv = process.env.KUBE_APISERVER_BIN;
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) {
      throw new Error(
        `KUBE_APISERVER_BIN=${fromEnv} is not an executable file. Point it at a kube-apiserver binary, ` +
          `or unset it to build one with ${path.relative(REPO_ROOT, BUILD_SCRIPT)} (needs Go >= 1.26 and the Go module proxy).`,
      );
    }
    return fromEnv;
  }
  let out;
  try {
    // stderr is inherited so a cold build shows its progress; stdout is just the path.
    out = execFileSync('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  } catch (err) {
    const go = which('go');
    throw new Error(
      `building kube-apiserver with ${BUILD_SCRIPT} failed (${errorMessage(err)}; its output is above). ` +
        (go
          ? `Go is at ${go}; the build needs Go >= 1.26 (GOTOOLCHAIN=local) and access to the Go module proxy. `
          : 'Go is not on PATH: install Go >= 1.26 (https://go.dev/dl/, put its bin/ on PATH) so the script can build kube-apiserver. ') +
        'Alternatively set KUBE_APISERVER_BIN to an existing kube-apiserver binary.',
    );
  }
  const binary = out.trim().split('\n').pop() || '';
  if (!isExecutableFile(binary)) {
    throw new Error(`${BUILD_SCRIPT} printed ${JSON.stringify(binary)}, which is not an executable kube-apiserver binary`);
  }
  return binary;
}

/**
 * The etcd binary: `$ETCD_BIN` if set, else /usr/bin/etcd (Debian package etcd-server). Must exist.
 * @returns {string}
 */
function etcdBinary() {
  const bin = process.env.ETCD_BIN || DEFAULT_ETCD_BIN;
  if (!isExecutableFile(bin)) {
    throw new Error(
      process.env.ETCD_BIN
        ? `ETCD_BIN=${bin} is not an executable file. Point it at an etcd >= 3.4 binary, or unset it to use ${DEFAULT_ETCD_BIN}.`
        : `etcd is not installed at ${DEFAULT_ETCD_BIN}. Install it with \`sudo apt-get install -y etcd-server\` ` +
            '(Debian/Ubuntu; it does not start a daemon), or set ETCD_BIN to an etcd >= 3.4 binary.',
    );
  }
  return bin;
}

/**
 * @param {string} etcd
 * @returns {boolean} whether this etcd has --unsafe-no-fsync (>= 3.5)
 */
function etcdSupportsNoFsync(etcd) {
  try {
    const help = execFileSync(etcd, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return help.includes('--unsafe-no-fsync');
  } catch (err) {
    const e = /** @type {{ stdout?: string }} */ (err);
    return typeof e.stdout === 'string' && e.stdout.includes('--unsafe-no-fsync');
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities

/**
 * @param {unknown} err
 * @returns {string}
 */
function errorMessage(err) {
  return err instanceof Error ? err.message : String(err);
}

/** @param {number} ms */
function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** @returns {Promise<number>} a free TCP port on 127.0.0.1 */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Distinct free ports (a port released by freePort() could be handed out twice otherwise).
 * @param {number} n
 */
async function freePorts(n) {
  /** @type {Set<number>} */
  const ports = new Set();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/**
 * Poll `probe` until it returns a value other than undefined, or throw after `timeoutMs`.
 * `check` runs before every attempt and should throw if waiting is pointless (e.g. a process died).
 * @template T
 * @param {string} what  for the timeout message
 * @param {number} timeoutMs
 * @param {() => Promise<T | undefined>} probe
 * @param {{ check?: () => void, intervalMs?: number, lastError?: () => string }} [opts]
 * @returns {Promise<T>}
 */
async function pollUntil(what, timeoutMs, probe, opts = {}) {
  const deadline = Date.now() + timeoutMs;
  let interval = opts.intervalMs ?? 50;
  let last = '';
  for (;;) {
    opts.check?.();
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = errorMessage(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    }
    await delay(interval);
    interval = Math.min(interval * 2, 500);
  }
}

/**
 * A minimal HTTP(S) GET used before client-node can be (and where it must not be) involved.
 * @param {string} url
 * @param {{ ca?: string | Buffer, token?: string, timeoutMs?: number }} [opts]
 * @returns {Promise<{ status: number, body: string }>}
 */
function httpGet(url, opts = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  /** @type {https.RequestOptions} */
  const options = { method: 'GET', timeout: opts.timeoutMs ?? 5000, headers: {} };
  if (opts.ca) options.ca = opts.ca;
  if (opts.token) options.headers = { Authorization: `Bearer ${opts.token}` };
  return new Promise((resolve, reject) => {
    const req = mod.request(u, options, (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode || 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * @param {string} file
 * @param {number} lines
 */
function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

/**
 * Is `pid` a live (not zombie) process running `binary`? Guards against pid reuse after a reboot.
 * @param {number} pid
 * @param {string} [binary]
 */
function processAlive(pid, binary) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    if (state === 'Z' || state === 'X') return false; // exited, not yet reaped
    if (binary) {
      const argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      if (path.basename(argv0) !== path.basename(binary)) return false;
    }
  } catch {
    // no /proc (not Linux) or the process is gone: trust kill(0)
  }
  return true;
}

/**
 * @param {number} pid
 * @param {NodeJS.Signals} signal
 */
function signal(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * SIGTERM the process and wait for it to exit; SIGKILL if it is still alive after the timeout.
 * @param {number} pid
 * @param {string} binary
 * @param {import('node:child_process').ChildProcess} [child] when we spawned it: its 'exit' event is authoritative
 */
async function terminate(pid, binary, child) {
  if (child ? child.exitCode !== null || child.signalCode !== null : !processAlive(pid, binary)) return;
  /** @type {Promise<void> | undefined} */
  const exited = child
    ? new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      })
    : undefined;
  signal(pid, 'SIGTERM');
  const gone = async () => {
    if (exited) {
      const done = await Promise.race([exited.then(() => true), delay(100).then(() => false)]);
      return done ? true : undefined;
    }
    return processAlive(pid, binary) ? undefined : true;
  };
  try {
    await pollUntil(`${path.basename(binary)} (pid ${pid}) to exit after SIGTERM`, TIMEOUTS.stop, gone);
  } catch {
    signal(pid, 'SIGKILL');
    await pollUntil(`${path.basename(binary)} (pid ${pid}) to exit after SIGKILL`, 10_000, gone);
  }
}

/**
 * @param {string} binary
 * @param {string[]} args
 * @param {string} logFile
 * @param {string} cwd
 * @param {boolean} detached
 */
function spawnLogged(binary, args, logFile, cwd, detached) {
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `# ${new Date().toISOString()} ${binary} ${args.join(' ')}\n`);
  try {
    const child = spawn(binary, args, { cwd, detached, stdio: ['ignore', fd, fd] });
    child.on('error', (err) => fs.appendFileSync(logFile, `# spawn error: ${err.message}\n`));
    if (detached) child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${binary} (see ${logFile})`);
    return child;
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// State

/**
 * @param {string} stateDir
 * @returns {ClusterState | undefined}
 */
function readState(stateDir) {
  const file = path.join(stateDir, STATE_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    return state && state.schema === STATE_SCHEMA ? state : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {ClusterState} state
 */
function writeState(state) {
  const file = path.join(state.stateDir, STATE_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * @param {ClusterState} state
 */
function removeEtcdData(state) {
  if (state.etcdDataDir && state.etcdDataDirIsTemp) fs.rmSync(state.etcdDataDir, { recursive: true, force: true });
}

/**
 * @param {ClusterState} state
 * @param {() => Promise<void>} stop
 * @param {() => Promise<void>} [restartApiserver]
 * @returns {ClusterHandle}
 */
function handleFromState(state, stop, restartApiserver) {
  return {
    get pids() {
      return { ...state.pids };
    },
    restartApiserver,
    stateDir: state.stateDir,
    kubeconfigPath: state.kubeconfigPath,
    server: state.server,
    version: state.version,
    adminToken: state.adminToken,
    restrictedToken: state.restrictedToken,
    restrictedUser: state.restrictedUser,
    caFile: state.caFile,
    crdsFile: state.crdsFile,
    startupMs: state.startupMs,
    phases: state.phases,
    logs: state.logs,
    stop,
  };
}

/**
 * Does `state` describe a live, ready control plane?
 * @param {ClusterState} state
 */
async function isLive(state) {
  if (state.status !== 'ready') return false;
  if (!processAlive(state.pids.etcd, state.binaries.etcd)) return false;
  if (!processAlive(state.pids.apiserver, state.binaries.apiserver)) return false;
  try {
    const res = await httpGet(`${state.server}/readyz`, { ca: fs.readFileSync(state.caFile), token: state.adminToken });
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * The cluster recorded in `<stateDir>/state.json`, if its processes are alive and /readyz answers ok.
 * @param {string} [stateDir]
 * @returns {Promise<ClusterHandle | undefined>}
 */
async function readRunningCluster(stateDir = defaultStateDir()) {
  const state = readState(stateDir);
  if (!state || !(await isLive(state))) return undefined;
  return handleFromState(state, async () => {
    await stopCluster(stateDir);
  });
}

/**
 * Stop the cluster recorded in `<stateDir>/state.json` (whether it is healthy or half-started).
 * @param {string} [stateDir]
 * @returns {Promise<boolean>} whether there was anything to stop
 */
async function stopCluster(stateDir = defaultStateDir()) {
  const state = readState(stateDir);
  if (!state) return false;
  const wasAlive =
    processAlive(state.pids.apiserver, state.binaries.apiserver) || processAlive(state.pids.etcd, state.binaries.etcd);
  await terminate(state.pids.apiserver, state.binaries.apiserver);
  await terminate(state.pids.etcd, state.binaries.etcd);
  removeEtcdData(state);
  fs.rmSync(path.join(stateDir, STATE_FILE), { force: true });
  return wasAlive;
}

// ---------------------------------------------------------------------------------------------
// Starting

/** Processes started by this Node process without `detached`: killed if it exits without stop(). */
/** @type {Set<number>} */
const ownedPids = new Set();
/** Their temporary etcd data dirs, removed in the same case. */
/** @type {Set<string>} */
const ownedTempDirs = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killOwned = () => {
    for (const pid of ownedPids) signal(pid, 'SIGKILL');
    for (const dir of ownedTempDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort while exiting
      }
    }
  };
  process.once('exit', killOwned);
  // SIGTERM/SIGHUP kill Node without an 'exit' event: clean up, then let the signal take its course.
  for (const sig of /** @type {const} */ (['SIGTERM', 'SIGHUP'])) {
    process.once(sig, () => {
      killOwned();
      process.kill(process.pid, sig);
    });
  }
}

/**
 * @param {string} stateDir
 * @param {string} name
 */
function ensureDir(stateDir, name) {
  const dir = path.join(stateDir, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Start etcd and kube-apiserver, wait for /readyz, write the kubeconfig and install the Istio CRDs.
 * @param {object} [options]
 * @param {string} [options.stateDir]  default `<repo>/.cluster`
 * @param {boolean} [options.detached] processes outlive this Node process (cli `up`); otherwise they are
 *   killed when it exits, even if stop() is never called
 * @param {string} [options.crdsFile]  default `$ISTIO_CRDS`, else test/cluster/crds/istio-networking.yaml
 * @returns {Promise<ClusterHandle>}
 */
async function startCluster(options = {}) {
  const stateDir = path.resolve(options.stateDir || defaultStateDir());
  const detached = Boolean(options.detached);
  const crdsFile = path.resolve(options.crdsFile || process.env.ISTIO_CRDS || OWN_CRDS);
  if (!fs.existsSync(crdsFile)) {
    throw new Error(`Istio CRD file ${crdsFile} does not exist${process.env.ISTIO_CRDS ? ' (from ISTIO_CRDS)' : ''}`);
  }
  const started = Date.now();
  const binaries = { etcd: etcdBinary(), apiserver: kubeApiserverBinary() };

  fs.mkdirSync(stateDir, { recursive: true });
  const previous = readState(stateDir);
  if (previous) {
    if (await isLive(previous)) {
      throw new Error(`a cluster is already running from ${stateDir} (${previous.server}); reuse it with readRunningCluster() or stop it with stopCluster()`);
    }
    await stopCluster(stateDir); // stale or half-started: clean up whatever is left
  }

  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(stateDir, binaries, crdsFile, detached, started);
    } catch (err) {
      if (attempt < 3 && /** @type {{ portConflict?: boolean }} */ (err).portConflict) continue;
      throw err;
    }
  }
}

/**
 * @param {string} stateDir
 * @param {{ etcd: string, apiserver: string }} binaries
 * @param {string} crdsFile
 * @param {boolean} detached
 * @param {number} started
 * @returns {Promise<ClusterHandle>}
 */
async function startOnce(stateDir, binaries, crdsFile, detached, started) {
  const certDir = path.join(stateDir, 'certs');
  fs.rmSync(certDir, { recursive: true, force: true }); // kube-apiserver self-signs into an empty cert dir
  fs.mkdirSync(certDir, { recursive: true, mode: 0o700 });
  const authDir = ensureDir(stateDir, 'auth');
  const logDir = ensureDir(stateDir, 'logs');
  const logs = { etcd: path.join(logDir, 'etcd.log'), apiserver: path.join(logDir, 'kube-apiserver.log') };
  for (const f of Object.values(logs)) fs.writeFileSync(f, '');

  // etcd 3.4 has no --unsafe-no-fsync; keep its data on tmpfs instead so fsync is free.
  const noFsync = etcdSupportsNoFsync(binaries.etcd);
  let etcdDataDir;
  if (noFsync) {
    etcdDataDir = path.join(stateDir, 'etcd-data');
    fs.rmSync(etcdDataDir, { recursive: true, force: true });
  } else {
    const tmpRoot = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    etcdDataDir = fs.mkdtempSync(path.join(tmpRoot, 'istio-shift-etcd-'));
  }

  // Service-account signing key (kube-apiserver requires one) and the static tokens.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saKey = path.join(authDir, 'sa-signer.key');
  const saPub = path.join(authDir, 'sa-signer.pub');
  fs.writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  const adminToken = randomBytes(24).toString('hex');
  const restrictedToken = randomBytes(24).toString('hex');
  const tokenFile = path.join(authDir, 'tokens.csv');
  fs.writeFileSync(
    tokenFile,
    `${adminToken},${ADMIN_USER},uid-admin,"system:masters"\n` +
      `${restrictedToken},${RESTRICTED_USER},uid-${RESTRICTED_USER},"system:authenticated"\n`,
    { mode: 0o600 },
  );

  const [etcdClientPort, etcdPeerPort, securePort] = await freePorts(3);
  const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
  const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  const server = `https://127.0.0.1:${securePort}`;
  const caFile = path.join(certDir, 'apiserver.crt');

  const etcdArgs = [
    '--name=default',
    `--data-dir=${etcdDataDir}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    '--logger=zap',
    '--log-outputs=stderr',
    ...(noFsync ? ['--unsafe-no-fsync'] : []),
  ];
  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    '--advertise-address=127.0.0.1',
    '--bind-address=127.0.0.1',
    `--secure-port=${securePort}`,
    `--cert-dir=${certDir}`,
    `--service-account-issuer=${server}/`,
    `--service-account-key-file=${saPub}`,
    `--service-account-signing-key-file=${saKey}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--authorization-mode=RBAC',
    '--disable-admission-plugins=ServiceAccount',
    `--token-auth-file=${tokenFile}`,
    // The `kubernetes` Endpoints object may not point at a loopback address; without this the
    // reconciler logs "may not be in the loopback range" every 10s. Nothing here needs that Service.
    '--endpoint-reconciler-type=none',
  ];

  /** @type {ClusterState} */
  const state = {
    schema: STATE_SCHEMA,
    status: 'starting',
    stateDir,
    pids: { etcd: 0, apiserver: 0 },
    binaries,
    logs,
    etcdUrl,
    etcdDataDir,
    etcdDataDirIsTemp: !noFsync,
    server,
    caFile,
    kubeconfigPath: path.join(stateDir, 'kubeconfig'),
    version: '',
    adminToken,
    restrictedToken,
    restrictedUser: RESTRICTED_USER,
    crdsFile,
    detached,
    startedAt: new Date(started).toISOString(),
    startupMs: 0,
    phases: { prepare: 0, etcd: 0, apiserver: 0, crds: 0 },
  };
  let mark = Date.now();
  state.phases.prepare = mark - started;
  /** @param {keyof StartupPhases} phase */
  const lap = (phase) => {
    const now = Date.now();
    state.phases[phase] = now - mark;
    mark = now;
  };

  /** @type {{ etcd?: import('node:child_process').ChildProcess, apiserver?: import('node:child_process').ChildProcess }} */
  const children = {};
  const stopOwned = async () => {
    if (children.apiserver) await terminate(state.pids.apiserver, binaries.apiserver, children.apiserver);
    if (children.etcd) await terminate(state.pids.etcd, binaries.etcd, children.etcd);
    ownedPids.delete(state.pids.apiserver);
    ownedPids.delete(state.pids.etcd);
    removeEtcdData(state);
    ownedTempDirs.delete(etcdDataDir);
    fs.rmSync(path.join(stateDir, STATE_FILE), { force: true });
  };
  /** @param {'etcd' | 'apiserver'} name */
  const checkAlive = (name) => () => {
    const child = children[name];
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      const log = tail(logs[name], 30);
      /** @type {Error & { portConflict?: boolean }} */
      const err = new Error(
        `${name} exited during startup (code ${child.exitCode}, signal ${child.signalCode}); log: ${logs[name]}\n${log}`,
      );
      err.portConflict = /address already in use/i.test(log);
      throw err;
    }
  };

  try {
    children.etcd = spawnLogged(binaries.etcd, etcdArgs, logs.etcd, stateDir, detached);
    state.pids.etcd = /** @type {number} */ (children.etcd.pid);
    if (!detached) {
      ownedPids.add(state.pids.etcd);
      if (state.etcdDataDirIsTemp) ownedTempDirs.add(etcdDataDir);
      installExitHook();
    }
    writeState(state);
    await pollUntil(
      `etcd at ${etcdUrl}/health (log: ${logs.etcd})`,
      TIMEOUTS.etcdReady,
      async () => {
        const res = await httpGet(`${etcdUrl}/health`);
        return res.status === 200 && /"health":\s*"true"/.test(res.body) ? true : undefined;
      },
      { check: checkAlive('etcd') },
    );
    lap('etcd');

    children.apiserver = spawnLogged(binaries.apiserver, apiserverArgs, logs.apiserver, stateDir, detached);
    state.pids.apiserver = /** @type {number} */ (children.apiserver.pid);
    if (!detached) ownedPids.add(state.pids.apiserver);
    writeState(state);
    await pollUntil(
      `kube-apiserver ${server}/readyz (log: ${logs.apiserver})`,
      TIMEOUTS.apiserverReady,
      async () => {
        if (!fs.existsSync(caFile)) return undefined; // written just before it starts serving
        const res = await httpGet(`${server}/readyz`, { ca: fs.readFileSync(caFile), token: adminToken });
        if (res.status === 200) return true;
        throw new Error(`/readyz ${res.status}: ${res.body.trim().split('\n').filter((l) => l.includes('failed')).join('; ')}`);
      },
      { check: () => (checkAlive('etcd')(), checkAlive('apiserver')()) },
    );
    lap('apiserver');

    const versionRes = await httpGet(`${server}/version`, { ca: fs.readFileSync(caFile), token: adminToken });
    state.version = JSON.parse(versionRes.body).gitVersion;
    writeKubeconfig(state);
    await installCrds(state.kubeconfigPath, crdsFile);
    lap('crds');
  } catch (err) {
    await stopOwned().catch(() => undefined);
    const msg = errorMessage(err);
    /** @type {Error & { portConflict?: boolean }} */
    const wrapped = new Error(
      `starting the test control plane failed: ${msg}\nlogs: ${logs.etcd}, ${logs.apiserver}`,
    );
    wrapped.portConflict = /** @type {{ portConflict?: boolean }} */ (err).portConflict;
    throw wrapped;
  }

  state.status = 'ready';
  state.startupMs = Date.now() - started;
  writeState(state);
  const restartApiserver = async () => {
    await terminate(state.pids.apiserver, binaries.apiserver, children.apiserver);
    ownedPids.delete(state.pids.apiserver);
    children.apiserver = spawnLogged(binaries.apiserver, apiserverArgs, logs.apiserver, stateDir, detached);
    state.pids.apiserver = /** @type {number} */ (children.apiserver.pid);
    if (!detached) ownedPids.add(state.pids.apiserver);
    writeState(state);
  };
  return handleFromState(state, stopOwned, restartApiserver);
}

/**
 * Kubeconfig with contexts `admin` (current) and `restricted`, trusting the apiserver's self-signed cert.
 * @param {ClusterState} state
 */
function writeKubeconfig(state) {
  const caData = fs.readFileSync(state.caFile).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: state.server, 'certificate-authority-data': caData } }],
    users: [
      { name: ADMIN_USER, user: { token: state.adminToken } },
      { name: state.restrictedUser, user: { token: state.restrictedToken } },
    ],
    contexts: [
      { name: 'admin', context: { cluster: 'test', user: ADMIN_USER, namespace: 'default' } },
      { name: 'restricted', context: { cluster: 'test', user: state.restrictedUser, namespace: 'default' } },
    ],
    'current-context': 'admin',
    preferences: {},
  };
  fs.writeFileSync(state.kubeconfigPath, yaml.stringify(config), { mode: 0o600 });
}

// ---------------------------------------------------------------------------------------------
// CRDs

/**
 * @param {unknown} err
 * @returns {number | undefined} the HTTP status of a client-node ApiException
 */
function statusOf(err) {
  const code = /** @type {{ code?: unknown }} */ (err)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * @param {unknown} v
 * @returns {unknown} `v` without undefined-valued keys, for comparisons
 */
function plain(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

/**
 * Create (or update to) every CustomResourceDefinition in `file`, then wait until each is Established
 * and every served version answers a list request.
 * @param {string} kubeconfigPath  a kubeconfig whose current context may manage CRDs
 * @param {string} [file]  default `$ISTIO_CRDS`, else test/cluster/crds/istio-networking.yaml
 * @returns {Promise<string[]>} the names of the CRDs
 */
async function installCrds(kubeconfigPath, file = process.env.ISTIO_CRDS || OWN_CRDS) {
  const k8s = require('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  // k8s.loadAllYaml, not yaml.parseAllDocuments: client-node's serializer maps model attribute names
  // (x_kubernetes_preserve_unknown_fields) to wire names, and silently DROPS wire-named keys
  // (x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string, ...) of a plain parsed object.
  const docs = /** @type {import('@kubernetes/client-node').V1CustomResourceDefinition[]} */ (
    k8s.loadAllYaml(fs.readFileSync(file, 'utf8')).filter((d) => d && d.kind === 'CustomResourceDefinition')
  );
  if (docs.length === 0) throw new Error(`${file} contains no CustomResourceDefinition`);

  /** @type {string[]} */
  const names = [];
  for (const body of docs) {
    const name = /** @type {string} */ (body.metadata?.name);
    names.push(name);
    try {
      await api.createCustomResourceDefinition({ body });
    } catch (err) {
      if (statusOf(err) !== 409) throw new Error(`creating CRD ${name} from ${file} failed: ${errorMessage(err)}`);
      const existing = await api.readCustomResourceDefinition({ name });
      const updated = { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } };
      try {
        await api.replaceCustomResourceDefinition({ name, body: updated });
      } catch (err2) {
        throw new Error(`updating CRD ${name} from ${file} failed: ${errorMessage(err2)}`);
      }
    }
  }

  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  const ca = cluster?.caData ? Buffer.from(cluster.caData, 'base64') : undefined;
  for (const name of names) {
    const crd = await pollUntil(`CRD ${name} to be Established`, TIMEOUTS.crdEstablished, async () => {
      const c = await api.readCustomResourceDefinition({ name });
      const established = c.status?.conditions?.find((x) => x.type === 'Established');
      return established?.status === 'True' ? c : undefined;
    });
    // Guard against the silent-drop problem above: the server must hold exactly the file's schemas.
    const wanted = /** @type {import('@kubernetes/client-node').V1CustomResourceDefinition} */ (docs.find((d) => d.metadata?.name === name));
    for (const v of wanted.spec.versions) {
      const stored = crd.spec.versions.find((x) => x.name === v.name);
      if (!isDeepStrictEqual(plain(stored?.schema), plain(v.schema))) {
        throw new Error(`CRD ${name} version ${v.name}: the schema stored by the server differs from ${file}`);
      }
    }
    // Established means the handler is installed; make sure each served version really answers.
    for (const v of crd.spec.versions.filter((x) => x.served)) {
      const url = `${cluster?.server}/apis/${crd.spec.group}/${v.name}/${crd.spec.names.plural}?limit=1`;
      await pollUntil(`${url} to be served`, TIMEOUTS.crdEstablished, async () => {
        const res = await httpGet(url, { ca, token: user?.token });
        if (res.status === 200) return true;
        throw new Error(`HTTP ${res.status}`);
      });
    }
  }
  return names;
}

module.exports = {
  REPO_ROOT,
  OWN_CRDS,
  RESTRICTED_USER,
  defaultStateDir,
  kubeApiserverBinary,
  etcdBinary,
  startCluster,
  readRunningCluster,
  stopCluster,
  installCrds,
};
