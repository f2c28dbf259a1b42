/**
 * `npm start`: the service from TRAFFIC_SHIFT_CONFIG, or the embedded example store when no
 * configuration is given (loudly: it is for trying things, not for production).
 */
import { sha256Hex } from './auth';
import { ConfigError, embeddedBanner, loadConfig } from './config';
import { createLogger, Level } from './logger';
import { startService } from './service';

async function main(): Promise<void> {
  const logger = createLogger((process.env.LOG_LEVEL as Level | undefined) ?? 'info');
  let config;
  try {
    config = loadConfig(process.env, sha256Hex);
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.error(`configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const banner = embeddedBanner(config, process.env);
  if (banner) {
    for (const line of banner) process.stderr.write(`${line}\n`);
    logger.warn('running on the embedded example store, not a cluster');
  }
  let service;
  try {
    service = await startService(config, { logger });
  } catch (error) {
    // A port in use or an unusable kubeconfig: say which setting to fix, no stack trace.
    if (error instanceof ConfigError) {
      logger.error(`configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    void service.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`fatal: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
