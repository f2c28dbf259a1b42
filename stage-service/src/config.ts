/**
 * Service configuration: where to listen, the external URL Orca reaches us at, the API tokens
 * (each limited to some accounts), and the Spinnaker accounts (each a cluster plus the namespaces
 * it may touch). Loaded from a YAML or JSON file; without one the service runs on the embedded
 * store so `npm start` works on a laptop with nothing else.
 */
import { readFileSync } from 'fs';
import { parse as parseYaml } from 'yaml';

export interface TokenConfig {
  name: string;
  /** Hex SHA-256 of the token: the config file then holds no secret. */
  sha256: string;
  /** Account names this token may use; ["*"] for all. */
  accounts: string[];
}

export type AccountBackend =
  | { kind: 'kubeconfig'; kubeconfig?: string; context?: string }
  | { kind: 'in-cluster' }
  | { kind: 'embedded' };

export interface AccountConfig {
  name: string;
  backend: AccountBackend;
  namespaces: string[];
}

export interface ServiceConfig {
  host: string;
  port: number;
  /**
   * A second port for /healthz and /readyz only, answered by a worker thread so a busy event loop
   * never fails a liveness probe (http/probe-server.ts). Unset: probes are on `port` only.
   */
  probePort?: number;
  /** Absolute base URL for the Location and status URLs (Orca cannot follow relative ones). */
  externalBaseUrl: string;
  bodyLimitBytes: number;
  tokens: TokenConfig[];
  accounts: AccountConfig[];
  /** True when running on the embedded example store. */
  embedded: boolean;
  /**
   * Serve the playground (page at `/`, simulated metrics, patch log): only the embedded default
   * without a configuration file, never with a cluster.
   */
  playground?: boolean;
  /** Where analysis metrics come from (see "Metrics sources" below); none means no analysis. */
  metricsSources?: MetricsSourceConfig[];
  /** Deadline and concurrency of calls to each API server (defaults in kube/http-client.ts). */
  kubernetes?: KubernetesSettings;
  /** What `/metrics` may name (see parseMetricsSettings). */
  metrics?: MetricsSettings;
}

export interface MetricsSettings {
  /**
   * Label the per-namespace watch gauge with account and namespace names
   * (`traffic_shift_watch_synced{account,namespace}`). Off by default: any holder of a token can
   * read `/metrics`, and names of accounts and namespaces are then visible to it.
   */
  accountLabels: boolean;
}

export interface KubernetesSettings {
  requestTimeoutMs?: number;
  maxInFlight?: number;
}

export class ConfigError extends Error {}

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(`${field} must be a non-empty string`);
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw new ConfigError(`${field} must be a non-empty list of names`);
  }
  return value as string[];
}

/**
 * A token's hash, from exactly one of: sha256 (preferred), fromEnv (the variable holding the
 * token) or fromFile (a mounted secret). Plain tokens never appear in the file itself.
 */
function tokenHash(raw: Raw, field: string, env: NodeJS.ProcessEnv, hash: (token: string) => string): string {
  const sources = ['sha256', 'fromEnv', 'fromFile'].filter((k) => raw[k] !== undefined);
  if (sources.length !== 1) throw new ConfigError(`${field} must set exactly one of sha256, fromEnv or fromFile`);
  if (raw.sha256 !== undefined) {
    const value = requireString(raw.sha256, `${field}.sha256`).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(value)) throw new ConfigError(`${field}.sha256 must be 64 hex characters (sha256sum of the token)`);
    return value;
  }
  if (raw.fromEnv !== undefined) {
    const variable = requireString(raw.fromEnv, `${field}.fromEnv`);
    const token = env[variable];
    if (!token) throw new ConfigError(`${field}.fromEnv names ${variable}, which is not set`);
    return hash(token);
  }
  const path = requireString(raw.fromFile, `${field}.fromFile`);
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`${field}.fromFile: cannot read ${path}: ${(error as Error).message}`);
  }
  if (!token) throw new ConfigError(`${field}.fromFile: ${path} is empty`);
  return hash(token);
}

function parseAccount(raw: unknown, i: number): AccountConfig {
  const field = `accounts[${i}]`;
  if (!isObject(raw)) throw new ConfigError(`${field} must be an object`);
  const name = requireString(raw.name, `${field}.name`);
  const namespaces = stringList(raw.namespaces, `${field}.namespaces`);
  if (namespaces.includes('*')) {
    throw new ConfigError(`${field}.namespaces: list the namespaces explicitly ("*" would need cluster-wide permissions)`);
  }
  let backend: AccountBackend;
  if (raw.inCluster === true) {
    if (raw.kubeconfig !== undefined || raw.context !== undefined) throw new ConfigError(`${field}: inCluster excludes kubeconfig and context`);
    backend = { kind: 'in-cluster' };
  } else if (raw.embedded === true) {
    backend = { kind: 'embedded' };
  } else {
    backend = { kind: 'kubeconfig' };
    if (raw.kubeconfig !== undefined) backend.kubeconfig = requireString(raw.kubeconfig, `${field}.kubeconfig`);
    if (raw.context !== undefined) backend.context = requireString(raw.context, `${field}.context`);
  }
  return { name, backend, namespaces };
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** A body size: a number of bytes, or a string like "64kb" or "1mb" (units of 1024, as body-parser reads them). */
export function parseSize(value: unknown, field: string): number {
  const fix = `${field} must be a size in bytes (e.g. 65536) or a string with a unit (e.g. "64kb", "1mb")`;
  let bytes: number;
  if (typeof value === 'number') bytes = value;
  else if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb)?\s*$/i.exec(value);
    if (!match) throw new ConfigError(`${fix}, not ${JSON.stringify(value)}`);
    bytes = Math.floor(Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b').toLowerCase()]);
  } else throw new ConfigError(`${fix}, not ${JSON.stringify(value)}`);
  if (!Number.isInteger(bytes) || bytes < 1024 || bytes > 10 * 1024 * 1024) {
    throw new ConfigError(`${field} must be between 1kb and 10mb (a shift spec is a few kilobytes), not ${JSON.stringify(value)}`);
  }
  return bytes;
}

function integerIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${field} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return value;
}

function parseKubernetes(raw: unknown): KubernetesSettings {
  if (raw === undefined) return {};
  if (!isObject(raw)) throw new ConfigError('kubernetes must be an object with requestTimeoutMs and/or maxInFlight');
  const known = ['requestTimeoutMs', 'maxInFlight'];
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length) throw new ConfigError(`kubernetes.${unknown[0]} is not a setting: use ${known.join(' or ')}`);
  const settings: KubernetesSettings = {};
  if (raw.requestTimeoutMs !== undefined) settings.requestTimeoutMs = integerIn(raw.requestTimeoutMs, 'kubernetes.requestTimeoutMs', 500, 60000);
  if (raw.maxInFlight !== undefined) settings.maxInFlight = integerIn(raw.maxInFlight, 'kubernetes.maxInFlight', 1, 1000);
  return settings;
}

function parseMetricsSettings(raw: unknown): MetricsSettings {
  if (raw === undefined) return { accountLabels: false };
  if (!isObject(raw)) throw new ConfigError('metrics must be an object, e.g. {accountLabels: true}');
  const unknown = Object.keys(raw).filter((k) => k !== 'accountLabels');
  if (unknown.length) throw new ConfigError(`metrics.${unknown[0]} is not a setting: use accountLabels`);
  if (raw.accountLabels !== undefined && typeof raw.accountLabels !== 'boolean') throw new ConfigError(`metrics.accountLabels must be true or false, not ${JSON.stringify(raw.accountLabels)}`);
  return { accountLabels: raw.accountLabels === true };
}

export function parseConfig(input: unknown, env: NodeJS.ProcessEnv, hash: (token: string) => string): ServiceConfig {
  if (!isObject(input)) throw new ConfigError('the configuration must be an object with server, auth and accounts');
  const server = isObject(input.server) ? input.server : {};
  const port = server.port === undefined ? 8080 : portNumber(server.port, 'server.port must be a port number');
  const probePort = server.probePort === undefined ? undefined : portNumber(server.probePort, 'server.probePort must be a port number (or leave it out to serve probes on server.port only)');
  const externalBaseUrl = requireString(server.externalBaseUrl, 'server.externalBaseUrl').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(externalBaseUrl)) {
    throw new ConfigError('server.externalBaseUrl must be an absolute http(s) URL: Orca stores the Location header verbatim and cannot follow a relative one');
  }
  const auth = isObject(input.auth) ? input.auth : {};
  if (!Array.isArray(auth.tokens) || auth.tokens.length === 0) throw new ConfigError('auth.tokens must list at least one token: every API call is authenticated');
  const tokens = auth.tokens.map((raw, i) => {
    const field = `auth.tokens[${i}]`;
    if (!isObject(raw)) throw new ConfigError(`${field} must be an object`);
    return { name: requireString(raw.name, `${field}.name`), sha256: tokenHash(raw, field, env, hash), accounts: stringList(raw.accounts, `${field}.accounts`) };
  });
  if (!Array.isArray(input.accounts) || input.accounts.length === 0) throw new ConfigError('accounts must list at least one account');
  const accounts = input.accounts.map(parseAccount);
  const names = new Set<string>();
  for (const account of accounts) {
    if (names.has(account.name)) throw new ConfigError(`accounts: ${account.name} is listed twice`);
    names.add(account.name);
  }
  return {
    host: server.host === undefined ? '0.0.0.0' : requireString(server.host, 'server.host'),
    port,
    ...(probePort === undefined ? {} : { probePort }),
    externalBaseUrl,
    bodyLimitBytes: server.bodyLimitBytes === undefined ? 64 * 1024 : parseSize(server.bodyLimitBytes, 'server.bodyLimitBytes'),
    tokens,
    accounts,
    embedded: accounts.every((a) => a.backend.kind === 'embedded'),
    metricsSources: parseMetricsSources(input.metricsSources, accounts, env),
    kubernetes: parseKubernetes(input.kubernetes),
    metrics: parseMetricsSettings(input.metrics),
  };
}

// ---------------------------------------------------------------------------------------------
// Metrics sources: the only place an address the analysis calls can come from. A pipeline names a
// source; the service looks it up here and checks that the pipeline's account may use it.

/** A bearer token read at request time: from an environment variable, or a (rotating) file. */
export type SecretRef = { fromEnv: string } | { fromFile: string };

export interface MetricsSourceConfig {
  name: string;
  type: 'prometheus';
  /** Base URL of the Prometheus HTTP API (a path prefix is kept). */
  url: string;
  bearerToken?: SecretRef;
  /** PEM file of the CA that signs the server certificate. */
  ca?: string;
  timeoutMs: number;
  /** Account names that may use this source; ["*"] for all. */
  accounts: string[];
}

const DEFAULT_METRICS_TIMEOUT_MS = 10_000;

function readable(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${field}: cannot read ${path}: ${(error as Error).message}`);
  }
}

function secretRef(raw: unknown, field: string, env: NodeJS.ProcessEnv): SecretRef {
  if (!isObject(raw)) throw new ConfigError(`${field} must be an object with fromEnv or fromFile (never the token itself)`);
  const sources = ['fromEnv', 'fromFile'].filter((k) => raw[k] !== undefined);
  if (sources.length !== 1 || Object.keys(raw).length !== 1) throw new ConfigError(`${field} must set exactly one of fromEnv or fromFile`);
  if (raw.fromEnv !== undefined) {
    const variable = requireString(raw.fromEnv, `${field}.fromEnv`);
    if (!env[variable]) throw new ConfigError(`${field}.fromEnv names ${variable}, which is not set`);
    return { fromEnv: variable };
  }
  const path = requireString(raw.fromFile, `${field}.fromFile`);
  if (!readable(path, `${field}.fromFile`).trim()) throw new ConfigError(`${field}.fromFile: ${path} is empty`);
  return { fromFile: path };
}

function parseMetricsSource(raw: unknown, i: number, accountNames: Set<string>, env: NodeJS.ProcessEnv): MetricsSourceConfig {
  const field = `metricsSources[${i}]`;
  if (!isObject(raw)) throw new ConfigError(`${field} must be an object`);
  const name = requireString(raw.name, `${field}.name`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new ConfigError(`${field}.name must be lower-case letters, digits and dashes (pipelines refer to it)`);
  if (raw.type !== 'prometheus') throw new ConfigError(`${field}.type must be "prometheus" (the only supported type)`);
  const url = requireString(raw.url, `${field}.url`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${field}.url must be an absolute http(s) URL, e.g. http://prometheus.monitoring:9090`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${field}.url must use http or https`);
  if (parsed.username || parsed.password) throw new ConfigError(`${field}.url must not hold credentials: use bearerToken with fromEnv or fromFile`);
  if (parsed.search || parsed.hash) throw new ConfigError(`${field}.url must not have a query or fragment: give the server's base URL`);
  const source: MetricsSourceConfig = { name, type: 'prometheus', url: url.replace(/\/+$/, ''), timeoutMs: DEFAULT_METRICS_TIMEOUT_MS, accounts: [] };
  if (raw.bearerToken !== undefined) source.bearerToken = secretRef(raw.bearerToken, `${field}.bearerToken`, env);
  if (raw.ca !== undefined) {
    if (parsed.protocol !== 'https:') throw new ConfigError(`${field}.ca is only used with an https url`);
    const ca = requireString(raw.ca, `${field}.ca`);
    if (!readable(ca, `${field}.ca`).includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`${field}.ca: ${ca} holds no PEM certificate`);
    source.ca = ca;
  }
  if (raw.timeoutMs !== undefined) {
    const timeoutMs = Number(raw.timeoutMs);
    if (typeof raw.timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 300_000) {
      throw new ConfigError(`${field}.timeoutMs must be a whole number of milliseconds from 100 to 300000`);
    }
    source.timeoutMs = timeoutMs;
  }
  source.accounts = stringList(raw.accounts, `${field}.accounts`);
  for (const account of source.accounts) {
    if (account !== '*' && !accountNames.has(account)) {
      throw new ConfigError(`${field}.accounts: "${account}" is not a configured account (use one of ${[...accountNames].join(', ')}, or "*")`);
    }
  }
  return source;
}

export function parseMetricsSources(raw: unknown, accounts: AccountConfig[], env: NodeJS.ProcessEnv): MetricsSourceConfig[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError('metricsSources must be a list of sources');
  const accountNames = new Set(accounts.map((a) => a.name));
  const sources = raw.map((entry, i) => parseMetricsSource(entry, i, accountNames, env));
  const seen = new Set<string>();
  sources.forEach((source, i) => {
    if (seen.has(source.name)) throw new ConfigError(`metricsSources[${i}].name: ${source.name} is listed twice`);
    seen.add(source.name);
  });
  return sources;
}

export const EMBEDDED_DEV_TOKEN = 'local-dev-token';

/**
 * The configuration when no file is given: the embedded store, loopback only, and a development
 * token (SHIFT_API_TOKEN overrides it). Meant for trying the service, never for production.
 */
export function embeddedConfig(env: NodeJS.ProcessEnv, hash: (token: string) => string): ServiceConfig {
  const port = env.PORT ? Number(env.PORT) : 8080;
  return {
    host: '127.0.0.1',
    port,
    externalBaseUrl: env.EXTERNAL_BASE_URL ?? `http://127.0.0.1:${port}`,
    bodyLimitBytes: 64 * 1024,
    tokens: [{ name: 'local-dev', sha256: hash(env.SHIFT_API_TOKEN ?? EMBEDDED_DEV_TOKEN), accounts: ['*'] }],
    accounts: [{ name: 'local', backend: { kind: 'embedded' }, namespaces: ['shop', 'payments'] }],
    embedded: true,
    playground: true,
  };
}

/** The configuration named by TRAFFIC_SHIFT_CONFIG, or the embedded default when it is unset. */
export function loadConfig(env: NodeJS.ProcessEnv, hash: (token: string) => string): ServiceConfig {
  const path = env.TRAFFIC_SHIFT_CONFIG;
  if (!path) return withProbePort(embeddedConfig(env, hash), env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read TRAFFIC_SHIFT_CONFIG ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid YAML/JSON: ${(error as Error).message}`);
  }
  const config = parseConfig(parsed, env, hash);
  if (env.PORT) config.port = Number(env.PORT);
  return withProbePort(config, env);
}

/** PROBE_PORT overrides server.probePort, like PORT overrides server.port. */
function withProbePort(config: ServiceConfig, env: NodeJS.ProcessEnv): ServiceConfig {
  if (env.PROBE_PORT === undefined || env.PROBE_PORT === '') return config;
  return { ...config, probePort: portNumber(env.PROBE_PORT, `PROBE_PORT must be a port number, got "${env.PROBE_PORT}"`) };
}

function portNumber(value: unknown, error: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(error);
  return port;
}

/**
 * The startup banner when shifts run on the embedded store, or undefined when they do not. The
 * token line names what really authenticates: the development token only without a config file.
 */
export function embeddedBanner(config: ServiceConfig, env: NodeJS.ProcessEnv): string[] | undefined {
  if (!config.embedded) return undefined;
  const configFile = env.TRAFFIC_SHIFT_CONFIG;
  const why = configFile ? `${configFile} lists only embedded accounts` : 'no TRAFFIC_SHIFT_CONFIG';
  const token = configFile
    ? `the tokens configured in ${configFile} (${config.tokens.map((t) => t.name).join(', ')})`
    : env.SHIFT_API_TOKEN ? '$SHIFT_API_TOKEN' : EMBEDDED_DEV_TOKEN;
  return [
    '*******************************************************************************',
    `* EMBEDDED MODE: ${why}, so shifts run against an in-memory`,
    '* example store (shop/checkout, payments/payments), NOT a Kubernetes cluster.',
    `* Listening on ${config.externalBaseUrl}. API token: ${token}`,
    ...(config.playground ? [`* Playground: open ${config.externalBaseUrl}/ in a browser (simulated metrics).`] : []),
    '* See README.md to point the service at a cluster.',
    '*******************************************************************************',
  ];
}
