import { loadConfig, type Config } from '@alder/config';
import { createLogger, type Logger } from '@alder/logger';
import { createShutdown, requireServerUrls, shutdownOnSignals, type Shutdown } from '@alder/runtime';
import { runServices, type Host } from './run-services';
import type { ServiceDefinition } from './service';

/** What a process's `main` set up before its services start. */
export interface ProcessStart {
  config: Config;
  log: Logger;
  shutdown: Shutdown;
}

/**
 * The first lines of every Alder process: config parsed once (a bad environment is one line on
 * stderr and exit 1), the root logger, the one shutdown path, and SIGINT/SIGTERM bound to it
 * before anything is opened, so a signal during the start closes what was opened so far.
 */
export function startProcess(name: string, options: { logAs?: string | null } = {}): ProcessStart {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${name}: ${(error as Error).message}\n`);
    process.exit(1);
  }
  // A process of several services logs each line under the service that speaks (the host's
  // children), so its root logger names none.
  const logAs = options.logAs === undefined ? name : options.logAs;
  const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: logAs ?? undefined });
  const shutdown = createShutdown(log, config.SHUTDOWN_TIMEOUT_MS);
  shutdownOnSignals(shutdown);
  return { config, log, shutdown };
}

/**
 * Ends a process whose start failed: one line naming why (the detail is in the log at debug),
 * then the shutdown path closes what was opened, exit 1.
 */
export async function failStart(start: ProcessStart, name: string, error: unknown): Promise<void> {
  // A signal arrived during the start: that is a stop, not a failure (the shutdown is running).
  if (start.shutdown.started) return start.shutdown.run('signal during start');
  const message = error instanceof Error ? error.message : String(error);
  start.log.debug({ err: error }, 'start failed');
  process.stderr.write(`${name}: ${message}\n`);
  await start.shutdown.run('start failed', 1);
}

/**
 * The whole `main` of a service run on its own (`services/<name>/src/main.ts`): the process
 * start, real servers from DATABASE_URL and REDIS_URL, and the host. Prints the bootstrap admin
 * key when it created one.
 */
export async function runServiceMain(...services: ServiceDefinition[]): Promise<Host | undefined> {
  const name = services.map((s) => s.name).join('+');
  const start = startProcess(name, { logAs: services.length === 1 ? name : null });
  try {
    const urls = requireServerUrls(start.config, name);
    const host = await runServices(services, { ...start, databaseUrl: urls.DATABASE_URL, redisUrl: urls.REDIS_URL });
    if (host.createdAdminKey) process.stdout.write(`\nadmin API key (shown once): ${host.createdAdminKey}\n\n`);
    start.log.info({ services: services.map((s) => s.name), url: host.url }, `${name} running`);
    return host;
  } catch (error) {
    await failStart(start, name, error);
    return undefined;
  }
}
