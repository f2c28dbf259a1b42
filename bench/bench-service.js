// @ts-check
'use strict';
/** The stage service in this process for a benchmark: account "bench" with the cluster's admin context. */
const { startService } = require('../stage-service/dist/service');
const { sha256Hex } = require('../stage-service/dist/auth');
const { silentLogger } = require('../stage-service/dist/logger');

/**
 * @param {{ kubeconfig: string, namespace: string, token: string, extra?: Record<string, unknown> }} options
 *   extra: more configuration (metricsSources, kubernetes settings)
 * @returns {Promise<{ service: any, base: string }>}
 */
async function startBenchService({ kubeconfig, namespace, token, extra = {} }) {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const base = `http://127.0.0.1:${port}`;
  const service = await startService({
    host: '127.0.0.1', port, externalBaseUrl: base, bodyLimitBytes: 65536,
    tokens: [{ name: 'bench', sha256: sha256Hex(token), accounts: ['*'] }],
    accounts: [{ name: 'bench', namespaces: [namespace], backend: { kind: 'kubeconfig', kubeconfig, context: 'admin' } }],
    embedded: false,
    ...extra,
  }, { logger: silentLogger, processMetrics: false });
  return { service, base };
}

module.exports = { startBenchService };
