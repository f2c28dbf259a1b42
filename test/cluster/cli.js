#!/usr/bin/env node
// @ts-check
'use strict';

// node test/cluster/cli.js up|down|status [--state-dir=DIR]
//   up      start etcd + kube-apiserver detached (they outlive this command), or reuse the running one
//   down    stop them
//   status  print what is running (exit code 1 when nothing is)
// npm run cluster:up / cluster:down call this. The default state dir is <repo>/.cluster, which the
// jest `cluster` project reuses when a cluster is running there.

const path = require('node:path');
const { defaultStateDir, readRunningCluster, startCluster, stopCluster } = require('./index.js');

/** @param {import('./index.js').ClusterHandle} h */
function describe(h) {
  return [
    `kube-apiserver ${h.version} at ${h.server}`,
    `kubeconfig: ${h.kubeconfigPath} (contexts: admin [current], restricted = user ${h.restrictedUser})`,
    `Istio CRDs: ${h.crdsFile}`,
    `logs: ${h.logs.etcd}, ${h.logs.apiserver}`,
    '',
    `export KUBECONFIG=${h.kubeconfigPath}`,
  ].join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const command = args.find((a) => !a.startsWith('--'));
  const dirArg = args.find((a) => a.startsWith('--state-dir='));
  const stateDir = path.resolve(dirArg ? dirArg.slice('--state-dir='.length) : defaultStateDir());

  switch (command) {
    case 'up': {
      const running = await readRunningCluster(stateDir);
      if (running) {
        console.log(`A cluster is already running from ${stateDir}; reusing it.\n${describe(running)}`);
        return 0;
      }
      const h = await startCluster({ stateDir, detached: true });
      console.log(`Started in ${(h.startupMs / 1000).toFixed(1)}s (state: ${stateDir}).\n${describe(h)}`);
      return 0;
    }
    case 'down': {
      const stopped = await stopCluster(stateDir);
      console.log(stopped ? `Stopped the cluster in ${stateDir}.` : `No cluster was running from ${stateDir}.`);
      return 0;
    }
    case 'status': {
      const running = await readRunningCluster(stateDir);
      if (!running) {
        console.log(`No cluster is running from ${stateDir}.`);
        return 1;
      }
      console.log(describe(running));
      return 0;
    }
    default:
      console.error('usage: node test/cluster/cli.js up|down|status [--state-dir=DIR]');
      return 2;
  }
}

main().then(
  // exit explicitly: keep-alive sockets of the HTTP clients must not keep this command waiting
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
