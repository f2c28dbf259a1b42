/**
 * Configuration mistakes from issue 6: each is a clear ConfigError naming the field and the fix
 * (main.ts turns it into exit code 2), never a stack trace.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { createServer, Server } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { sha256Hex } from './auth';
import { ConfigError, EMBEDDED_DEV_TOKEN, embeddedBanner, embeddedConfig, loadConfig, parseConfig, parseSize } from './config';
import { silentLogger } from './logger';
import { startService } from './service';

const base = {
  server: { externalBaseUrl: 'http://stage-service:8080' },
  auth: { tokens: [{ name: 'orca', sha256: 'a'.repeat(64), accounts: ['*'] }] },
  accounts: [{ name: 'local', embedded: true, namespaces: ['shop'] }],
};

const parse = (overrides: Record<string, unknown> = {}, server: Record<string, unknown> = {}) =>
  parseConfig({ ...base, ...overrides, server: { ...base.server, ...server } }, {}, sha256Hex);

describe('server.bodyLimitBytes', () => {
  it('accepts bytes and "64kb"-style sizes', () => {
    expect(parse({}, { bodyLimitBytes: '64kb' }).bodyLimitBytes).toBe(65536);
    expect(parse({}, { bodyLimitBytes: '1mb' }).bodyLimitBytes).toBe(1048576);
    expect(parse({}, { bodyLimitBytes: 32768 }).bodyLimitBytes).toBe(32768);
    expect(parse().bodyLimitBytes).toBe(65536);
  });

  it('rejects other values naming the field and the accepted forms', () => {
    expect(() => parse({}, { bodyLimitBytes: '64 kilobytes' })).toThrow(new ConfigError('server.bodyLimitBytes must be a size in bytes (e.g. 65536) or a string with a unit (e.g. "64kb", "1mb"), not "64 kilobytes"'));
    expect(() => parseSize('1gb', 'server.bodyLimitBytes')).toThrow(ConfigError);
    expect(() => parseSize(10, 'server.bodyLimitBytes')).toThrow(/must be between 1kb and 10mb/);
  });
});

describe('server.probePort', () => {
  it('is off unless set; PROBE_PORT overrides it', () => {
    expect(parse().probePort).toBeUndefined();
    expect(parse({}, { probePort: 8081 }).probePort).toBe(8081);
    expect(loadConfig({ PROBE_PORT: '9091' }, sha256Hex).probePort).toBe(9091);
  });

  it('rejects what is not a port, naming the field', () => {
    expect(() => parse({}, { probePort: 'eighty' })).toThrow(new ConfigError('server.probePort must be a port number (or leave it out to serve probes on server.port only)'));
    expect(() => parse({}, { probePort: 70000 })).toThrow(/server\.probePort must be a port number/);
    expect(() => loadConfig({ PROBE_PORT: 'x' }, sha256Hex)).toThrow(new ConfigError('PROBE_PORT must be a port number, got "x"'));
  });
});

describe('kubernetes settings', () => {
  it('reads requestTimeoutMs and maxInFlight', () => {
    expect(parse({ kubernetes: { requestTimeoutMs: 3000, maxInFlight: 8 } }).kubernetes).toEqual({ requestTimeoutMs: 3000, maxInFlight: 8 });
  });

  it('rejects unknown keys and out-of-range values by name', () => {
    expect(() => parse({ kubernetes: { timeout: 3 } })).toThrow('kubernetes.timeout is not a setting: use requestTimeoutMs or maxInFlight');
    expect(() => parse({ kubernetes: { maxInFlight: 0 } })).toThrow('kubernetes.maxInFlight must be a whole number from 1 to 1000, not 0');
  });
});

describe('metrics.accountLabels', () => {
  it('is off unless set to true (then /metrics names accounts and namespaces)', () => {
    expect(parse().metrics).toEqual({ accountLabels: false });
    expect(parse({ metrics: {} }).metrics).toEqual({ accountLabels: false });
    expect(parse({ metrics: { accountLabels: true } }).metrics).toEqual({ accountLabels: true });
  });

  it('rejects other values and unknown keys by name', () => {
    expect(() => parse({ metrics: { accountLabels: 'yes' } })).toThrow(new ConfigError('metrics.accountLabels must be true or false, not "yes"'));
    expect(() => parse({ metrics: { names: true } })).toThrow(new ConfigError('metrics.names is not a setting: use accountLabels'));
    expect(() => parse({ metrics: true })).toThrow(/metrics must be an object/);
  });

  it('is read from a YAML file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shift-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, [
      'server: {externalBaseUrl: "http://stage-service:8080"}',
      'auth:',
      '  tokens: [{name: orca, sha256: "' + 'a'.repeat(64) + '", accounts: ["*"]}]',
      'accounts:',
      '  - {name: local, embedded: true, namespaces: [shop]}',
      'metrics:',
      '  accountLabels: true',
      '',
    ].join('\n'));
    expect(loadConfig({ TRAFFIC_SHIFT_CONFIG: file }, sha256Hex).metrics).toEqual({ accountLabels: true });
    writeFileSync(file, 'server: [unclosed');
    expect(() => loadConfig({ TRAFFIC_SHIFT_CONFIG: file }, sha256Hex)).toThrow(new RegExp(`^${file} is not valid YAML/JSON: `));
  });
});

describe('the embedded banner', () => {
  it('names the development token only when there is no configuration file', () => {
    const banner = embeddedBanner(embeddedConfig({}, sha256Hex), {})?.join('\n');
    expect(banner).toContain(`API token: ${EMBEDDED_DEV_TOKEN}`);
  });

  it('names the configured tokens, not the development token, for a config whose accounts are all embedded', () => {
    const config = parse();
    expect(config.embedded).toBe(true);
    const banner = embeddedBanner(config, { TRAFFIC_SHIFT_CONFIG: '/etc/shift/config.yaml' })?.join('\n') ?? '';
    expect(banner).toContain('API token: the tokens configured in /etc/shift/config.yaml (orca)');
    expect(banner).not.toContain(EMBEDDED_DEV_TOKEN);
  });

  it('is not printed for a cluster configuration', () => {
    expect(embeddedBanner(parse({ accounts: [{ name: 'prod', namespaces: ['shop'] }] }), {})).toBeUndefined();
  });
});

describe('a port already in use', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('is a ConfigError naming server.port and the fix', async () => {
    const config = { ...embeddedConfig({}, sha256Hex), port };
    const error = await startService(config, { logger: silentLogger, processMetrics: false }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`server.port: 127.0.0.1:${port} is already in use by another process: stop that process, or set server.port (or PORT) to a free port`);
  });
});
