/**
 * The configured metrics sources, by name. A pipeline only ever names a source; whether that name
 * exists and whether the pipeline's account may use it is decided here, before any query, so a
 * pipeline can never make the service call an address of its choosing.
 */
import { readFileSync } from 'fs';
import { MetricsSourceConfig, SecretRef } from '../config';
import { ShiftError } from '../engine/errors';
import { PrometheusProvider } from './prometheus';
import { MetricsError, MetricsProvider } from './provider';

/** Resolves the token on every call: a projected service-account token file rotates. */
export function secretReader(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): () => string {
  if ('fromEnv' in ref) {
    return () => {
      const value = env[ref.fromEnv];
      if (!value) throw new MetricsError('misconfigured', 'config', `the bearer token variable ${ref.fromEnv} is no longer set`);
      return value;
    };
  }
  return () => {
    try {
      return readFileSync(ref.fromFile, 'utf8').trim();
    } catch (error) {
      throw new MetricsError('misconfigured', 'config', `cannot read the bearer token file ${ref.fromFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
}

export function prometheusFor(config: MetricsSourceConfig, env: NodeJS.ProcessEnv = process.env): PrometheusProvider {
  return new PrometheusProvider({
    source: config.name,
    url: config.url,
    timeoutMs: config.timeoutMs,
    bearerToken: config.bearerToken ? secretReader(config.bearerToken, env) : undefined,
    ca: config.ca ? readFileSync(config.ca) : undefined,
  });
}

export class MetricsSources {
  private readonly configs = new Map<string, MetricsSourceConfig>();
  private readonly providers = new Map<string, MetricsProvider>();
  /** Sources the service provides itself, for every account (embedded mode's simulated metrics). */
  private readonly builtIn = new Map<string, { provider: MetricsProvider; type: string }>();

  constructor(
    sources: MetricsSourceConfig[],
    private readonly create: (config: MetricsSourceConfig) => MetricsProvider = (config) => prometheusFor(config),
  ) {
    for (const source of sources) this.configs.set(source.name, source);
  }

  get names(): string[] {
    return [...this.configs.keys(), ...this.builtIn.keys()];
  }

  /** Adds a source that is not in the configuration (the playground's simulator, playground/). */
  addBuiltIn(provider: MetricsProvider, type: string): void {
    this.builtIn.set(provider.source, { provider, type });
  }

  /** The sources one of these accounts may use, by name and accounts only: never an address. */
  visibleTo(accounts: string[]): Array<{ name: string; type: string; accounts: string[] }> {
    const all = accounts.includes('*');
    return [...this.configs.values()]
      .filter((c) => all || c.accounts.includes('*') || c.accounts.some((a) => accounts.includes(a)))
      .map((c): { name: string; type: string; accounts: string[] } => ({ name: c.name, type: c.type, accounts: c.accounts }))
      .concat([...this.builtIn.values()].map(({ provider, type }) => ({ name: provider.source, type, accounts: ['*'] })));
  }

  /**
   * The provider for `sourceName` if `account` may use it. An unknown name is a 422-style
   * `invalid` error on the pipeline's `analysis.source`; a known source the account may not use
   * is `forbidden` (403).
   */
  forAccount(account: string, sourceName: string): MetricsProvider {
    const builtIn = this.builtIn.get(sourceName);
    if (builtIn) return builtIn.provider;
    const config = this.configs.get(sourceName);
    if (!config) {
      const known = this.names.length ? `use one of ${this.names.join(', ')}` : 'this service has no metricsSources configured';
      const message = `unknown metrics source "${sourceName}": ${known}`;
      throw new ShiftError('invalid', message, [{ field: 'analysis.source', message }]);
    }
    if (!config.accounts.includes('*') && !config.accounts.includes(account)) {
      throw new ShiftError('forbidden', `account "${account}" may not use metrics source "${sourceName}": the service configuration allows it for ${config.accounts.join(', ')}`);
    }
    let provider = this.providers.get(sourceName);
    if (!provider) {
      provider = this.create(config);
      this.providers.set(sourceName, provider);
    }
    return provider;
  }
}
