import { createPool } from '@alder/db';
import { createLogger } from '@alder/logger';
import { allQueues, checkEvictionPolicy, createRedis, startOutboxRelay } from '@alder/queues';
import { createShutdown, loadServiceConfigOrExit, shutdownOnSignals } from '@alder/runtime';
import { startTrainer } from './trainer.worker';

const { config, databaseUrl, redisUrl } = loadServiceConfigOrExit('trainer');
const log = createLogger({ level: config.LOG_LEVEL, name: 'trainer' });
const pool = createPool(databaseUrl, { applicationName: 'alder-trainer', onIdleError: (err) => log.warn({ err }, 'idle Postgres connection lost') });
const redis = createRedis(redisUrl, 'worker');

try {
  await checkEvictionPolicy(redis, (message) => log.warn(message));
  // The trainer produces (rank-pool, follow-up train-model), so it publishes its own outbox rows.
  const relay = await startOutboxRelay({ pool, connection: redis, prefix: config.QUEUE_PREFIX, queues: allQueues, log, pollMs: config.OUTBOX_POLL_MS });
  const trainer = await startTrainer({ config, pool, connection: redis, prefix: config.QUEUE_PREFIX, log });
  const shutdown = createShutdown(log, config.SHUTDOWN_TIMEOUT_MS);
  shutdown.step('training worker (finishing the active job)', () => trainer.close());
  shutdown.step('outbox relay', () => relay.close());
  shutdown.step('redis', () => redis.quit());
  shutdown.step('postgres pool', () => pool.end());
  shutdownOnSignals(shutdown);
  log.info({ concurrency: config.TRAINER_CONCURRENCY, backend: trainer.backend }, 'trainer started');
} catch (error) {
  log.fatal({ err: error }, 'trainer failed to start');
  redis.disconnect();
  await pool.end().catch(() => undefined);
  process.exit(1);
}
