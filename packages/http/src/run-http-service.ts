import { loadConfig } from '@alder/config';
import { createLogger } from '@alder/logger';
import { createPool } from '@alder/db';
import { allQueues, checkEvictionPolicy, createRedis, startOutboxRelay } from '@alder/queues';
import { createShutdown, requireServerUrls, shutdownOnSignals } from '@alder/runtime';
import { buildHttpApp } from './app';
import { ensureBootstrapKey } from './api-keys';
import type { HandlerDeps, HandlerMap } from './handler';

/**
 * The whole `main` of an HTTP service run on its own: config, logger, pool, Redis, the outbox
 * relay for the jobs its handlers enqueue, the app with only this service's operations, and the
 * one shutdown path. Exits 1 with one line when it cannot start.
 */
export function runHttpService(service: string, createHandlers: (deps: HandlerDeps) => HandlerMap): void {
  start(service, createHandlers).catch((error: unknown) => {
    process.stderr.write(`${service}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

async function start(service: string, createHandlers: (deps: HandlerDeps) => HandlerMap): Promise<void> {
  const config = loadConfig();
  const { databaseUrl, redisUrl } = requireServerUrls(config, service);
  const log = createLogger({ level: config.LOG_LEVEL, name: service });
  const shutdown = createShutdown(log, config.SHUTDOWN_TIMEOUT_MS);
  shutdownOnSignals(shutdown);

  const pool = createPool(databaseUrl, { applicationName: `alder-${service}`, onIdleError: (err) => log.warn({ err }, 'idle Postgres connection lost') });
  const producer = createRedis(redisUrl, 'producer');
  const relayConnection = createRedis(redisUrl, 'worker');
  await checkEvictionPolicy(relayConnection, (message) => log.warn(message));

  const bootstrap = await ensureBootstrapKey(pool, config.ALDER_ADMIN_KEY);
  if (bootstrap.created && bootstrap.key) process.stdout.write(`\nadmin API key (shown once): ${bootstrap.key}\n\n`);

  const relay = await startOutboxRelay({ pool, connection: relayConnection, prefix: config.QUEUE_PREFIX, queues: allQueues, log: log.child({ module: 'outbox' }), pollMs: config.OUTBOX_POLL_MS });
  const app = await buildHttpApp({ config, pool, redis: producer, log, handlers: createHandlers({ config, pool, log }) });

  shutdown.step('http', () => app.close());
  shutdown.step('outbox relay', () => relay.close());
  shutdown.step('redis', async () => {
    producer.disconnect();
    await relayConnection.quit();
  });
  shutdown.step('postgres pool', () => pool.end());

  await app.listen({ host: config.HOST, port: config.PORT });
}
