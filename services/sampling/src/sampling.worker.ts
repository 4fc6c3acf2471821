import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Compute } from '@alder/compute';
import type { Config } from '@alder/config';
import type { Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import { samplingQueue, startWorker } from '@alder/queues';
import { processRankPool } from './rank-pool.processor';

export interface SamplingDeps {
  config: Pick<Config, 'SAMPLING_CONCURRENCY' | 'SAMPLING_LOCK_MS'>;
  pool: Pool;
  /** A worker connection (`createRedis(url, 'worker')`). */
  connection: Redis;
  prefix: string;
  log: Logger;
  /** The compute threads scoring, selection and the cold start run on (the host's pool). */
  compute: Compute;
}

export interface Sampling {
  worker: Worker;
  /** Stops taking jobs and waits for the active ones to finish. */
  close(): Promise<void>;
}

/** Starts the `sampling` queue worker; its CPU-heavy work runs on `compute`, off this event loop. */
export async function startSampling(deps: SamplingDeps): Promise<Sampling> {
  const { config, pool, connection, prefix, log, compute } = deps;
  const worker = startWorker({
    queue: samplingQueue,
    processors: { 'rank-pool': (payload, context) => processRankPool({ pool, compute }, payload, context) },
    connection,
    prefix,
    concurrency: config.SAMPLING_CONCURRENCY,
    log,
    lockDuration: config.SAMPLING_LOCK_MS,
  });
  return {
    worker,
    async close() {
      await worker.close();
    },
  };
}
