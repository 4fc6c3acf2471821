import type { Config } from '@alder/config';
import type { Logger } from '@alder/logger';
import { createPool, migrate } from '@alder/db';
import { allQueues, checkEvictionPolicy, createRedis, startOutboxRelay } from '@alder/queues';
import { buildHttpApp, ensureBootstrapKey } from '@alder/http';
import { createIngestHandlers } from '@alder/ingest';
import { createLabelingHandlers } from '@alder/labeling-api';
import { createShutdown, shutdownOnSignals } from '@alder/runtime';
import { startEmbeddedPostgres } from './embedded-postgres';
import { startEmbeddedRedis } from './embedded-redis';
import { recallAdminKey, rememberAdminKey } from './admin-key';
import { startServiceThread } from './service-thread';

/**
 * `alder start`: the four services in one process from the same builders, on one port. With no
 * DATABASE_URL / REDIS_URL it starts an embedded Postgres and Redis under DATA_DIR first.
 */
export async function startAllInOne(config: Config, log: Logger): Promise<void> {
  const shutdown = createShutdown(log, config.SHUTDOWN_TIMEOUT_MS);
  shutdownOnSignals(shutdown);
  const embedded: { name: string; stop: () => Promise<void> }[] = [];

  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    const server = await startEmbeddedPostgres(config.DATA_DIR, config.EMBEDDED_PG_PORT, log);
    embedded.push({ name: 'embedded postgres', stop: server.stop });
    databaseUrl = server.url;
  }
  let redisUrl = config.REDIS_URL;
  if (!redisUrl) {
    const server = await startEmbeddedRedis(config.DATA_DIR, config.EMBEDDED_REDIS_PORT, log);
    embedded.push({ name: 'embedded redis', stop: server.stop });
    redisUrl = server.url;
  }

  const pool = createPool(databaseUrl, { max: 20, applicationName: 'alder-all-in-one', onIdleError: (err) => log.warn({ err }, 'idle Postgres connection lost') });
  await migrate(pool, (message) => log.info(message));

  const producer = createRedis(redisUrl, 'producer');
  const workerConnection = createRedis(redisUrl, 'worker');
  await checkEvictionPolicy(workerConnection, (message) => log.warn(message));

  const relay = await startOutboxRelay({ pool, connection: workerConnection, prefix: config.QUEUE_PREFIX, queues: allQueues, log: log.child({ module: 'outbox' }), pollMs: config.OUTBOX_POLL_MS });
  // Training and scoring are CPU-heavy: each runs in a worker thread of its own, off this event loop.
  const trainer = await startServiceThread({ service: 'trainer', config, databaseUrl, redisUrl });
  const sampling = await startServiceThread({ service: 'sampling', config, databaseUrl, redisUrl });

  const handlers = {
    ...createIngestHandlers({ config, pool, log: log.child({ service: 'ingest' }) }),
    ...createLabelingHandlers({ config, pool, log: log.child({ service: 'labeling-api' }) }),
  };
  const app = await buildHttpApp({ config, pool, redis: producer, log, handlers });

  shutdown.step('http', () => app.close());
  shutdown.step('trainer', () => trainer.close());
  shutdown.step('sampling', () => sampling.close());
  shutdown.step('outbox relay', () => relay.close());
  shutdown.step('redis', async () => {
    producer.disconnect();
    await workerConnection.quit();
  });
  shutdown.step('postgres pool', () => pool.end());
  for (const server of [...embedded].reverse()) shutdown.step(server.name, server.stop);

  const bootstrap = await ensureBootstrapKey(pool, config.ALDER_ADMIN_KEY);
  let adminKey = bootstrap.key;
  if (bootstrap.created && adminKey) await rememberAdminKey(config.DATA_DIR, adminKey);
  else adminKey ??= await recallAdminKey(config.DATA_DIR);

  await app.listen({ host: config.HOST, port: config.PORT });
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  const baseUrl = `http://${shownHost}:${config.PORT}`;
  const lines = [
    `Alder is running (all-in-one${embedded.length ? `, embedded ${embedded.map((e) => e.name.replace('embedded ', '')).join(' + ')} under ${config.DATA_DIR}` : ''})`,
    `  base URL:  ${baseUrl}`,
    `  API docs:  ${baseUrl}/docs`,
    config.ALDER_ADMIN_KEY
      ? '  admin key: the one in ALDER_ADMIN_KEY'
      : adminKey
        ? `  admin key: ${adminKey}${bootstrap.created ? ` (created now; also saved in ${config.DATA_DIR}/admin-key)` : ` (from ${config.DATA_DIR}/admin-key)`}`
        : '  admin key: created on an earlier start (only its hash is stored); make a new one with POST /v1/api-keys',
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}
