import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@alder/config';
import type { Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import { samplingQueue, startWorker } from '@alder/queues';
import { processRankPool } from './rank-pool.processor';
import { ScoringThreads } from './scoring-threads';

// Scoring yields between chunks, but one chunk (or the cold start's cover) is a synchronous
// stretch of up to a few seconds on a slow core: the lock leaves ample room.
const SAMPLING_LOCK_MS = 2 * 60_000;

export interface SamplingDeps {
  config: Pick<Config, 'SAMPLING_CONCURRENCY' | 'SAMPLING_THREADS'>;
  pool: Pool;
  /** A worker connection (`createRedis(url, 'worker')`). */
  connection: Redis;
  prefix: string;
  log: Logger;
}

export interface Sampling {
  worker: Worker;
  /** Stops taking jobs and waits for the active ones to finish. */
  close(): Promise<void>;
}

/** Starts the `sampling` queue worker. */
export async function startSampling(deps: SamplingDeps): Promise<Sampling> {
  const { config, pool, connection, prefix, log } = deps;
  const scoring = config.SAMPLING_THREADS > 0 ? new ScoringThreads(config.SAMPLING_THREADS) : undefined;
  const worker = startWorker({
    queue: samplingQueue,
    processors: { 'rank-pool': (payload, context) => processRankPool({ pool, scoring }, payload, context) },
    connection,
    prefix,
    concurrency: config.SAMPLING_CONCURRENCY,
    log,
    lockDuration: SAMPLING_LOCK_MS,
  });
  return {
    worker,
    async close() {
      await worker.close();
      await scoring?.close();
    },
  };
}
