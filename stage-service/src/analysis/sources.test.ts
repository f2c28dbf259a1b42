/**
 * metricsSources in the service configuration: every mistake names its field and the fix, and the
 * lookup a shift's create request goes through says "unknown source" (422) or "account may not
 * use source" (403). Also the pure pod-status arithmetic.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ConfigError, MetricsSourceConfig, parseConfig } from '../config';
import { ShiftError } from '../engine/errors';
import { labelSelector, podState, podStatusValues } from './pod-status';
import { ContainerState, MetricsError, MetricsProvider, PodState } from './provider';
import { MetricsSources } from './sources';

const hash = (t: string) => `h(${t})`;
let dir: string;
let caFile: string;
let tokenFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sources-test-'));
  caFile = join(dir, 'ca.pem');
  tokenFile = join(dir, 'token');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(tokenFile, 'secret-token\n');
  writeFileSync(join(dir, 'not-a-ca.pem'), 'hello');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(metricsSources: unknown, env: NodeJS.ProcessEnv = {}) {
  return parseConfig(
    {
      server: { externalBaseUrl: 'http://shift.example' },
      auth: { tokens: [{ name: 'orca', sha256: 'a'.repeat(64), accounts: ['*'] }] },
      accounts: [
        { name: 'prod', inCluster: true, namespaces: ['shop'] },
        { name: 'staging', inCluster: true, namespaces: ['shop'] },
      ],
      metricsSources,
    },
    env,
    hash,
  );
}

function configError(metricsSources: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    config(metricsSources, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const good = { name: 'mesh', type: 'prometheus', url: 'https://prometheus.monitoring:9090/', accounts: ['prod'] };

describe('metricsSources configuration', () => {
  it('parses a full source, trimming the URL and defaulting the timeout', () => {
    const parsed = config([
      { ...good, bearerToken: { fromFile: tokenFile }, ca: caFile },
      { name: 'staging-prom', type: 'prometheus', url: 'http://prom:9090/prometheus', bearerToken: { fromEnv: 'PROM_TOKEN' }, timeoutMs: 2500, accounts: ['*'] },
    ], { PROM_TOKEN: 'x' });
    expect(parsed.metricsSources).toEqual([
      { name: 'mesh', type: 'prometheus', url: 'https://prometheus.monitoring:9090', bearerToken: { fromFile: tokenFile }, ca: caFile, timeoutMs: 10000, accounts: ['prod'] },
      { name: 'staging-prom', type: 'prometheus', url: 'http://prom:9090/prometheus', bearerToken: { fromEnv: 'PROM_TOKEN' }, timeoutMs: 2500, accounts: ['*'] },
    ]);
    // The token itself is never part of the parsed configuration (it could end up in a log).
    expect(JSON.stringify(parsed)).not.toContain('secret-token');
  });

  it('is optional: no sources means no analysis', () => {
    expect(config(undefined).metricsSources).toEqual([]);
  });

  it.each([
    ['not a list', { mesh: good }, 'metricsSources must be a list of sources'],
    ['missing name', [{ ...good, name: undefined }], 'metricsSources[0].name must be a non-empty string'],
    ['name with capitals', [{ ...good, name: 'Mesh' }], 'metricsSources[0].name must be lower-case letters, digits and dashes'],
    ['unknown type', [{ ...good, type: 'datadog' }], 'metricsSources[0].type must be "prometheus" (the only supported type)'],
    ['relative url', [{ ...good, url: 'prometheus:9090' }], 'metricsSources[0].url must use http or https'],
    ['not a url', [{ ...good, url: '/api' }], 'metricsSources[0].url must be an absolute http(s) URL'],
    ['credentials in url', [{ ...good, url: 'https://admin:pw@prom:9090' }], 'metricsSources[0].url must not hold credentials: use bearerToken with fromEnv or fromFile'],
    ['query in url', [{ ...good, url: 'https://prom:9090/?x=1' }], 'metricsSources[0].url must not have a query or fragment'],
    ['plain token', [{ ...good, bearerToken: 'abc' }], 'metricsSources[0].bearerToken must be an object with fromEnv or fromFile (never the token itself)'],
    ['two token sources', [{ ...good, bearerToken: { fromEnv: 'A', fromFile: '/etc/token' } }], 'metricsSources[0].bearerToken must set exactly one of fromEnv or fromFile'],
    ['unset variable', [{ ...good, bearerToken: { fromEnv: 'NOPE' } }], 'metricsSources[0].bearerToken.fromEnv names NOPE, which is not set'],
    ['missing token file', [{ ...good, bearerToken: { fromFile: '/nonexistent/token' } }], 'metricsSources[0].bearerToken.fromFile: cannot read /nonexistent/token'],
    ['missing ca file', [{ ...good, ca: '/nonexistent/ca.pem' }], 'metricsSources[0].ca: cannot read /nonexistent/ca.pem'],
    ['ca that is no certificate', [{ ...good, ca: '__NOT_A_CA__' }], 'holds no PEM certificate'],
    ['ca with http', [{ ...good, url: 'http://prom:9090', ca: '__CA__' }], 'metricsSources[0].ca is only used with an https url'],
    ['timeout as text', [{ ...good, timeoutMs: '5000' }], 'metricsSources[0].timeoutMs must be a whole number of milliseconds from 100 to 300000'],
    ['timeout too small', [{ ...good, timeoutMs: 5 }], 'metricsSources[0].timeoutMs must be a whole number'],
    ['no accounts', [{ ...good, accounts: [] }], 'metricsSources[0].accounts must be a non-empty list of names'],
    ['unknown account', [{ ...good, accounts: ['prdo'] }], 'metricsSources[0].accounts: "prdo" is not a configured account (use one of prod, staging, or "*")'],
    ['duplicate name', [good, { ...good }], 'metricsSources[1].name: mesh is listed twice'],
  ])('rejects %s with a message naming the field', (_what, sources, expected) => {
    const resolved = JSON.parse(JSON.stringify(sources).replace('__NOT_A_CA__', join(dir, 'not-a-ca.pem')).replace('__CA__', caFile));
    expect(configError(resolved)).toContain(expected);
  });
});

describe('MetricsSources.forAccount', () => {
  const created: string[] = [];
  const fake = (c: MetricsSourceConfig): MetricsProvider => {
    created.push(c.name);
    return { source: c.name, rangeQuery: async () => ({ kind: 'nodata' }) };
  };
  const sources = new MetricsSources(
    [
      { name: 'mesh', type: 'prometheus', url: 'http://a', timeoutMs: 1000, accounts: ['prod'] },
      { name: 'shared', type: 'prometheus', url: 'http://b', timeoutMs: 1000, accounts: ['*'] },
    ],
    fake,
  );

  function shiftError(fn: () => unknown): ShiftError {
    try {
      fn();
    } catch (error) {
      if (error instanceof ShiftError) return error;
      throw error;
    }
    throw new Error('expected a ShiftError');
  }

  it('returns one provider per source, created on first use', () => {
    expect(sources.forAccount('prod', 'mesh').source).toBe('mesh');
    expect(sources.forAccount('prod', 'mesh')).toBe(sources.forAccount('prod', 'mesh'));
    expect(sources.forAccount('staging', 'shared').source).toBe('shared');
    expect(created).toEqual(['mesh', 'shared']);
  });

  it('lists, by name and never by address, the sources a token\'s accounts may use', () => {
    expect(sources.visibleTo(['staging'])).toEqual([{ name: 'shared', type: 'prometheus', accounts: ['*'] }]);
    expect(sources.visibleTo(['prod']).map((s) => s.name)).toEqual(['mesh', 'shared']);
    expect(JSON.stringify(sources.visibleTo(['*']))).not.toMatch(/http/);
  });

  it('says "unknown source" as an invalid field (422), listing the configured names', () => {
    const error = shiftError(() => sources.forAccount('prod', 'http://evil.example:9090'));
    expect(error.kind).toBe('invalid');
    expect(error.problems).toEqual([{ field: 'analysis.source', message: 'unknown metrics source "http://evil.example:9090": use one of mesh, shared' }]);
  });

  it('says "account may not use source" as forbidden (403)', () => {
    const error = shiftError(() => sources.forAccount('staging', 'mesh'));
    expect(error.kind).toBe('forbidden');
    expect(error.message).toBe('account "staging" may not use metrics source "mesh": the service configuration allows it for prod');
  });

  it('explains when no source is configured at all', () => {
    expect(shiftError(() => new MetricsSources([]).forAccount('prod', 'mesh')).message).toBe('unknown metrics source "mesh": this service has no metricsSources configured');
  });
});

describe('pod-status arithmetic', () => {
  const container = (extra: Partial<ContainerState> = {}): ContainerState => ({ name: 'app', restartCount: 0, ready: true, terminations: 0, ...extra });
  const pod = (uid: string, restarts: number, ready = true, extra: Partial<PodState> = {}): PodState => ({
    uid,
    name: uid,
    ready,
    containers: [container({ restartCount: restarts, terminations: restarts, ready })],
    terminating: false,
    ...extra,
  });

  it('counts restarts since the window opened, new pods in full, and readiness over live pods', () => {
    const start = [pod('a', 3), pod('b', 0)];
    const now = [pod('a', 5), pod('b', 0, false), pod('c', 1), pod('d', 7, false, { terminating: true })];
    expect(podStatusValues(start, now)).toMatchObject({ pods: 4, restarts: 2 + 1 + 7, readinessPercent: (100 * 2) / 3, oomKilled: 0 });
  });

  it('has no readiness (nodata) without live pods', () => {
    expect(podStatusValues([], []).readinessPercent).toBeUndefined();
  });

  it('names pod, container and reason of each restart, and counts only OOM kills that happened in the window', () => {
    const oomBefore = container({ restartCount: 2, terminations: 2, lastTermination: 'OOMKilled' });
    const start: PodState[] = [
      // OOM-killed before the window, running since: not this window's.
      pod('old-oom', 0, true, { containers: [oomBefore] }),
      pod('crash', 0),
      pod('oom-now', 0, true, { containers: [container({ restartCount: 4, terminations: 4, lastTermination: 'Error' })] }),
      pod('down', 0),
    ];
    const now: PodState[] = [
      pod('old-oom', 0, true, { containers: [oomBefore] }),
      // Crash-looping: restarted twice since, its last exit an Error, waiting to run again.
      pod('crash', 0, false, { containers: [container({ restartCount: 2, terminations: 2, ready: false, lastTermination: 'Error', waiting: 'CrashLoopBackOff' })] }),
      pod('oom-now', 0, true, { containers: [container({ restartCount: 5, terminations: 5, lastTermination: 'OOMKilled' })] }),
      // OOM-killed just now and not restarted yet: down, the same restartCount.
      pod('down', 0, false, { containers: [container({ terminations: 1, ready: false, lastTermination: 'OOMKilled' })] }),
      // A pod created in the window that was OOM-killed once.
      pod('new', 0, true, { containers: [container({ restartCount: 1, terminations: 1, lastTermination: 'OOMKilled' })] }),
    ];
    const values = podStatusValues(start, now);
    expect(values).toMatchObject({ pods: 5, restarts: 2 + 1 + 1, oomKilled: 3, readinessPercent: 60 });
    expect(values.events).toEqual([
      { pod: 'crash', container: 'app', kind: 'restart', reason: 'Error', count: 2 },
      { pod: 'oom-now', container: 'app', kind: 'restart', reason: 'OOMKilled', count: 1 },
      { pod: 'oom-now', container: 'app', kind: 'oom-kill', reason: 'OOMKilled', count: 1 },
      { pod: 'down', container: 'app', kind: 'oom-kill', reason: 'OOMKilled', count: 1 },
      { pod: 'new', container: 'app', kind: 'restart', reason: 'OOMKilled', count: 1 },
      { pod: 'new', container: 'app', kind: 'oom-kill', reason: 'OOMKilled', count: 1 },
      { pod: 'crash', container: 'app', kind: 'not-ready', reason: 'CrashLoopBackOff', count: 1 },
      { pod: 'down', container: 'app', kind: 'not-ready', count: 1 },
    ]);
  });

  it('names a pod that is not ready while its containers are (a readiness gate)', () => {
    const gated = pod('gated', 0, false, { containers: [container()] });
    expect(podStatusValues([gated], [gated]).events).toEqual([{ pod: 'gated', kind: 'not-ready', count: 1 }]);
  });

  it('reads the latest termination (the current state when the container is down, else lastState) and why it waits', () => {
    const state = podState({
      metadata: { uid: 'u', name: 'p' },
      status: {
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          { name: 'app', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'OOMKilled' } } },
          { name: 'sidecar', ready: false, restartCount: 1, state: { terminated: { reason: 'Error' } }, lastState: { terminated: { reason: 'OOMKilled' } } },
        ],
      },
    });
    expect(state).toEqual({
      uid: 'u',
      name: 'p',
      ready: false,
      containers: [
        { name: 'app', restartCount: 2, ready: false, terminations: 2, lastTermination: 'OOMKilled', waiting: 'CrashLoopBackOff' },
        { name: 'sidecar', restartCount: 1, ready: false, terminations: 2, lastTermination: 'Error' },
      ],
      terminating: false,
    });
  });

  it('builds label selectors and refuses empty or malformed ones', () => {
    expect(labelSelector({ app: 'checkout', 'app.kubernetes.io/track': 'canary' })).toBe('app=checkout,app.kubernetes.io/track=canary');
    expect(() => labelSelector({})).toThrow(MetricsError);
    expect(() => labelSelector({})).toThrow('podSelector must name at least one label');
    expect(() => labelSelector({ app: 'x,track!=y' })).toThrow('podSelector.app: "x,track!=y" is not a valid label value');
  });
});
