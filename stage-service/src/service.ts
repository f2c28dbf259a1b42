/**
 * Assembles the service from a configuration: accounts, engine, scheduler, HTTP app. Used by
 * main.ts and by tests, which start real instances (and restart them) the same way.
 */
import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { AccountRegistry } from './accounts';
import { AnalysisRunner, preflightAnalysis } from './analysis/runner';
import { MetricsSources } from './analysis/sources';
import { TokenAuthenticator } from './auth';
import { ConfigError, ServiceConfig } from './config';
import { Clock } from './engine/clock';
import { ShiftEngine } from './engine/engine';
import { ShiftKeeper } from './engine/keeper';
import { StepScheduler } from './engine/scheduler';
import { createApp } from './http/app';
import { ProbeServer, Readiness, startProbeServer } from './http/probe-server';
import { readiness } from './http/readiness';
import { EmbeddedVirtualServiceApi } from './kube/embedded-api';
import { flushEventsWithin } from './kube/event-flush';
import { EventRecorder } from './kube/events';
import { exampleVirtualServices } from './kube/seed';
import { Logger, createLogger } from './logger';
import { ServiceMetrics } from './metrics';
import { PatchLog } from './playground/patch-log';
import { Playground, createPlayground } from './playground/routes';
import { SimulatedMetricsProvider } from './playground/simulated-metrics';

export interface ServiceOptions {
  logger?: Logger;
  /** The embedded store to use (tests share one across restarts); a seeded one by default. */
  embeddedStore?: EmbeddedVirtualServiceApi;
  processMetrics?: boolean;
  /** The engine's and scheduler's clock (tests pass a FakeClock); the real one by default. */
  clock?: Clock;
  /** How often every namespace is looked through for running shifts to keep (default 30 s). */
  keeperResyncMs?: number;
  /** Where the playground page is (tests); deck-plugin/build/playground by default. */
  playgroundBuildDir?: string;
}

export interface RunningService {
  url: string;
  port: number;
  engine: ShiftEngine;
  scheduler: StepScheduler;
  /** Keeps a timer for every running shift of the served namespaces (engine/keeper.ts). */
  keeper: ShiftKeeper;
  metrics: ServiceMetrics;
  /** The accounts (tests and benchmarks read the watch caches' stats through it). */
  accounts: AccountRegistry;
  /** The probe port (/healthz and /readyz from a worker thread), when configured. */
  probePort?: number;
  /** Stops timers and the listener; in-flight requests finish, shifts stay in the cluster. */
  stop(): Promise<void>;
}

export async function startService(config: ServiceConfig, options: ServiceOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger();
  const metrics = new ServiceMetrics(options.processMetrics ?? true);
  let store = options.embeddedStore;
  const embeddedStore = () => (store ??= new EmbeddedVirtualServiceApi(exampleVirtualServices()));
  const accounts = new AccountRegistry(config.accounts, embeddedStore, (operation, status) =>
    metrics.kubernetesErrors.inc({ operation, code: status === undefined ? 'network' : String(status) }),
  config.kubernetes);
  // One Event recorder (client-go's correlation, rate limit) per account, made on first use.
  const recorders = new Map<string, EventRecorder>();
  const eventsFor = (account: string) => {
    let recorder = recorders.get(account);
    const writer = recorder ? undefined : accounts.eventWriterFor(account);
    if (!recorder && writer) {
      recorder = new EventRecorder({ writer, log: logger, clock: options.clock, account });
      recorders.set(account, recorder);
    }
    return recorder;
  };
  const engine = new ShiftEngine({
    apiFor: (account) => accounts.apiFor(account),
    eventsFor,
    clock: options.clock,
    observer: {
      stepApplied: (seconds) => metrics.stepLatency.observe(seconds),
      pollAnsweredDuringWrite: () => metrics.pollsDuringWrite.inc(),
      reportingFailed: (what, error) => logger.warn(`could not ${what}; the shift goes on`, { error: error.message }),
      shiftEnded: (record) => {
        metrics.shiftsEnded.inc({ outcome: record.phase });
        logger.info('shift ended', { shift: record.id, outcome: record.phase, reason: record.failure?.reason, message: record.failure?.message ?? record.rollback?.message });
      },
    },
  });
  const sources = new MetricsSources(config.metricsSources ?? []);
  const playground = config.playground ? playgroundOf(embeddedStore(), accounts, sources, options.playgroundBuildDir) : undefined;
  const analysis = new AnalysisRunner({ engine, sources, podReaderFor: (account) => accounts.podReaderFor(account), log: logger });
  const scheduler = new StepScheduler(engine, logger, analysis);
  // Every running shift in the served namespaces gets a timer here, whoever created or polls it:
  // from the watch caches' changes and a periodic resync, so a shift whose replica went away for
  // good is still abandoned (restored) by the replicas that stay.
  const keeper = new ShiftKeeper({
    scheduler,
    namespaces: accounts.accounts.flatMap((account) => account.namespaces.map((namespace) => ({ account: account.name, namespace }))),
    list: async (account, namespace) => accounts.cacheOf(account)?.cachedList(namespace) ?? accounts.apiFor(account).list(namespace),
    clock: engine.clock,
    log: logger,
    resyncMs: options.keeperResyncMs,
  });
  for (const account of accounts.accounts) accounts.cacheOf(account.name)?.onChange((_namespace, _name, object) => keeper.observe(account.name, object));
  let ready = false;
  const app = createApp({
    engine,
    scheduler,
    accounts,
    authenticator: new TokenAuthenticator(config.tokens),
    metrics,
    logger,
    externalBaseUrl: config.externalBaseUrl,
    bodyLimitBytes: config.bodyLimitBytes,
    isReady: () => ready,
    preflight: (spec) => preflightAnalysis(spec, sources),
    metricsSources: (tokenAccounts) => sources.visibleTo(tokenAccounts),
    analysisProgress: (record) => analysis.progressOf(record),
    metricsAccountLabels: config.metrics?.accountLabels,
    playground,
  });

  // Listen first (so /healthz answers while accounts load), on our own server: express 5's
  // app.listen hands a listen error to the callback, which then found no address.
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, config)));
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const probes = await startProbes(config, () => readiness(() => ready, accounts), logger).catch(async (error: Error) => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  });

  // Load every cluster account's credentials now: a bad kubeconfig stops startup with its name.
  try {
    await accounts.connect();
  } catch (error) {
    await probes?.stop();
    await accounts.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new ConfigError(`accounts: ${(error as Error).message}`);
  }

  // Pick up shifts that were running when this (or another) replica stopped. Each is scheduled on
  // its own; none moves traffic until a caller polls it again, and each is abandoned (restored)
  // if none does within its abandonAfter.
  let resumed = 0;
  for (const account of accounts.accounts) {
    for (const namespace of account.namespaces) {
      try {
        const found = await engine.running(account.name, namespace);
        for (const { ref, record } of found.running) {
          scheduler.track(ref, record);
          resumed++;
        }
        for (const problem of found.unusable) logger.warn('a stored shift record is not usable and will not be resumed', { account: account.name, namespace, problem });
      } catch (error) {
        logger.warn('could not list VirtualServices to resume shifts; status polls will still advance them', { account: account.name, namespace, error: (error as Error).message });
      }
    }
  }
  keeper.start();
  ready = true;
  await probes?.refresh();
  logger.info('service ready', { port, externalBaseUrl: config.externalBaseUrl, accounts: accounts.accounts.map((a) => a.name), resumedShifts: resumed });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    engine,
    scheduler,
    keeper,
    metrics,
    accounts,
    probePort: probes?.port,
    stop: async () => {
      ready = false;
      await probes?.stop();
      keeper.stop();
      scheduler.stop();
      // Events still queued get a moment to be written; stopping never waits longer for them.
      await flushEventsWithin(recorders.values());
      await accounts.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

/** Embedded mode's playground: the store logs its patches and a simulated metrics source is added. */
function playgroundOf(store: EmbeddedVirtualServiceApi, accounts: AccountRegistry, sources: MetricsSources, buildDir?: string): Playground {
  const patches = new PatchLog();
  store.onPatch = (event) => patches.record(event);
  const metrics = new SimulatedMetricsProvider();
  sources.addBuiltIn(metrics, 'simulated');
  return createPlayground({ accounts, patches, metrics, buildDir });
}

/** The probe port's worker (server.probePort), when configured. */
async function startProbes(config: ServiceConfig, ready: () => Promise<Readiness>, logger: Logger): Promise<ProbeServer | undefined> {
  const probePort = config.probePort;
  if (probePort === undefined) return undefined;
  try {
    return await startProbeServer({
      host: config.host,
      port: probePort,
      readiness: ready,
      onError: (error) => logger.error('the probe port worker failed: /healthz and /readyz on the probe port stop answering', { error: error.message }),
    });
  } catch (error) {
    throw listenError(error as NodeJS.ErrnoException, { ...config, port: probePort }, 'server.probePort', 'PROBE_PORT');
  }
}

/** A listen failure as a configuration error that names the setting to change. */
function listenError(error: NodeJS.ErrnoException, config: ServiceConfig, field = 'server.port', variable = 'PORT'): Error {
  const where = `${config.host}:${config.port}`;
  if (error.code === 'EADDRINUSE') {
    return new ConfigError(`${field}: ${where} is already in use by another process: stop that process, or set ${field} (or ${variable}) to a free port`);
  }
  if (error.code === 'EACCES') {
    return new ConfigError(`${field}: not allowed to listen on ${where} (ports below 1024 need privileges): set ${field} (or ${variable}) to 1024 or above`);
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new ConfigError(`server.host: ${config.host} is not an address of this machine: use 0.0.0.0, 127.0.0.1 or one of its addresses`);
  }
  return error;
}
