import { createPool } from '@alder/db';
import { createLogger } from '@alder/logger';
import { checkEvictionPolicy, createRedis } from '@alder/queues';
import { createShutdown, loadServiceConfigOrExit, shutdownOnSignals } from '@alder/runtime';
import { startSampling } from './sampling.worker';

const { config, databaseUrl, redisUrl } = loadServiceConfigOrExit('sampling');
const log = createLogger({ level: config.LOG_LEVEL, name: 'sampling' });
const pool = createPool(databaseUrl, { applicationName: 'alder-sampling', onIdleError: (err) => log.warn({ err }, 'idle Postgres connection lost') });
const redis = createRedis(redisUrl, 'worker');

try {
  await checkEvictionPolicy(redis, (message) => log.warn(message));
  // Sampling only consumes: it writes no outbox rows, so it runs no relay.
  const sampling = await startSampling({ config, pool, connection: redis, prefix: config.QUEUE_PREFIX, log });
  const shutdown = createShutdown(log, config.SHUTDOWN_TIMEOUT_MS);
  shutdown.step('sampling worker (finishing active jobs)', () => sampling.close());
  shutdown.step('redis', () => redis.quit());
  shutdown.step('postgres pool', () => pool.end());
  shutdownOnSignals(shutdown);
  log.info({ concurrency: config.SAMPLING_CONCURRENCY }, 'sampling started');
} catch (error) {
  log.fatal({ err: error }, 'sampling failed to start');
  redis.disconnect();
  await pool.end().catch(() => undefined);
  process.exit(1);
}
