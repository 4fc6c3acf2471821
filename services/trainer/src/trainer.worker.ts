import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Compute } from '@alder/compute';
import type { Config } from '@alder/config';
import type { Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import { startWorker, trainingQueue } from '@alder/queues';
import { processTrainModel, type TrainModelDeps } from './train-model.processor';

export { backendPreference } from '@alder/compute';

export interface TrainerDeps {
  config: Pick<Config, 'TRAINER_CONCURRENCY' | 'TRAINER_LOCK_MS'>;
  pool: Pool;
  /** A worker connection (`createRedis(url, 'worker')`). */
  connection: Redis;
  prefix: string;
  log: Logger;
  /** The compute threads training runs on, off this event loop (the host's pool). */
  compute: Compute;
  trainOptions?: TrainModelDeps['trainOptions'];
  stoppingOptions?: TrainModelDeps['stoppingOptions'];
}

export interface Trainer {
  /** The TF.js backend training runs on. */
  backend: string;
  worker: Worker;
  /** Stops taking jobs and waits for the active one to finish. */
  close(): Promise<void>;
}

/**
 * Starts the `training` queue worker after selecting the TF.js backend on the compute threads.
 * Training runs there, so this event loop stays free to renew the job's lock however long a
 * training takes (TRAINER_LOCK_MS only bounds how soon a crashed trainer's job is taken over).
 */
export async function startTrainer(deps: TrainerDeps): Promise<Trainer> {
  const { config, pool, connection, prefix, log, compute } = deps;
  const backend = await compute.backend();
  log.info({ backend }, `tfjs backend: ${backend}`);
  const processorDeps: TrainModelDeps = { pool, compute, trainOptions: deps.trainOptions, stoppingOptions: deps.stoppingOptions };
  const worker = startWorker({
    queue: trainingQueue,
    processors: { 'train-model': (payload, context) => processTrainModel(processorDeps, payload, context) },
    connection,
    prefix,
    concurrency: config.TRAINER_CONCURRENCY,
    log,
    lockDuration: config.TRAINER_LOCK_MS,
  });
  return {
    backend,
    worker,
    async close() {
      await worker.close();
    },
  };
}
