// @ts-check
'use strict';

// jest globalSetup of the `cluster` project. Reuses a cluster started with `npm run cluster:up`
// (state in <repo>/.cluster) if one is running; otherwise starts a private one in a temp dir that
// jest-global-teardown.js stops. Tests get everything through environment variables, which jest
// workers inherit (see README.md): TEST_KUBECONFIG, TEST_KUBE_SERVER, TEST_KUBE_VERSION,
// TEST_ADMIN_TOKEN, TEST_RESTRICTED_TOKEN, TEST_RESTRICTED_USER, TEST_CLUSTER_STARTUP_MS, ...

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { defaultStateDir, installCrds, readRunningCluster, startCluster, OWN_CRDS } = require('./index.js');

/** Shared with jest-global-teardown.js (same process, same global object). */
const GLOBAL_KEY = '__ISTIO_SHIFT_TEST_CLUSTER__';

module.exports = async function globalSetup() {
  const t0 = Date.now();
  let handle = await readRunningCluster(defaultStateDir());
  const reused = Boolean(handle);
  const crdsFile = path.resolve(process.env.ISTIO_CRDS || OWN_CRDS);
  if (handle) {
    // A long-lived dev cluster: make sure it has the CRD flavour this run asks for (idempotent).
    await installCrds(handle.kubeconfigPath, crdsFile);
  } else {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-shift-cluster-'));
    handle = await startCluster({ stateDir, crdsFile });
  }
  const setupMs = Date.now() - t0;

  process.env.TEST_KUBECONFIG = handle.kubeconfigPath;
  process.env.TEST_KUBE_SERVER = handle.server;
  process.env.TEST_KUBE_VERSION = handle.version;
  process.env.TEST_ADMIN_TOKEN = handle.adminToken;
  process.env.TEST_RESTRICTED_TOKEN = handle.restrictedToken;
  process.env.TEST_RESTRICTED_USER = handle.restrictedUser;
  process.env.TEST_KUBE_CA_FILE = handle.caFile;
  process.env.TEST_CLUSTER_CRDS = crdsFile;
  process.env.TEST_CLUSTER_REUSED = reused ? '1' : '0';
  process.env.TEST_CLUSTER_STARTUP_MS = String(setupMs);

  /** @type {Record<string, unknown>} */ (globalThis)[GLOBAL_KEY] = { handle, reused };
  console.log(
    `\n[cluster] kube-apiserver ${handle.version} at ${handle.server}: ` +
      (reused
        ? `reused the running cluster in ${handle.stateDir} (${setupMs} ms to check it and apply CRDs)`
        : `started in ${setupMs} ms (etcd ${handle.phases.etcd} ms, apiserver ${handle.phases.apiserver} ms, CRDs ${handle.phases.crds} ms)`) +
      `, CRDs ${path.relative(process.cwd(), crdsFile) || crdsFile}`,
  );
};

module.exports.GLOBAL_KEY = GLOBAL_KEY;
