// @ts-check
'use strict';

// jest globalTeardown of the `cluster` project: stops the cluster jest-global-setup.js started;
// leaves a reused `npm run cluster:up` cluster running. TEST_CLUSTER_KEEP_STATE=1 keeps the temp
// state dir (logs, kubeconfig) for debugging.

const fs = require('node:fs');
const { GLOBAL_KEY } = require('./jest-global-setup.js');

module.exports = async function globalTeardown() {
  const entry = /** @type {{ handle: import('./index.js').ClusterHandle, reused: boolean } | undefined} */ (
    /** @type {Record<string, unknown>} */ (globalThis)[GLOBAL_KEY]
  );
  if (!entry || entry.reused) return;
  await entry.handle.stop();
  if (process.env.TEST_CLUSTER_KEEP_STATE === '1') {
    console.log(`[cluster] kept ${entry.handle.stateDir}`);
  } else {
    fs.rmSync(entry.handle.stateDir, { recursive: true, force: true });
  }
};
