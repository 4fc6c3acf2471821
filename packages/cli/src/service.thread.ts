import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '@alder/config';
import { createPool } from '@alder/db';
import { createLogger } from '@alder/logger';
import { createRedis } from '@alder/queues';
import { startTrainer } from '@alder/trainer';
import { startSampling } from '@alder/sampling';

/** What `startServiceThread` hands the thread. */
export interface ServiceThreadData {
  service: 'trainer' | 'sampling';
  config: Config;
  databaseUrl: string;
  redisUrl: string;
}

// One queue-driven service inside a worker thread of the all-in-one, with its own pool and Redis
// connection: training and scoring are CPU-heavy and must not stall the HTTP event loop.
const { service, config, databaseUrl, redisUrl } = workerData as ServiceThreadData;
const log = createLogger({ level: config.LOG_LEVEL, name: service });
const pool = createPool(databaseUrl, { max: 5, applicationName: `alder-${service}`, onIdleError: (err) => log.warn({ err }, 'idle Postgres connection lost') });
const connection = createRedis(redisUrl, 'worker');
const deps = { config, pool, connection, prefix: config.QUEUE_PREFIX, log };
const running = service === 'trainer' ? await startTrainer(deps) : await startSampling(deps);

parentPort!.on('message', async (message: unknown) => {
  if (message !== 'close') return;
  await running.close();
  await connection.quit();
  await pool.end();
  parentPort!.postMessage('closed');
});
parentPort!.postMessage('ready');
