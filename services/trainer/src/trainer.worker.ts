import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@alder/config';
import type { Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import { initBackend, type BackendPreference } from '@alder/learning';
import { startWorker, trainingQueue } from '@alder/queues';
import { processTrainModel, type TrainModelDeps } from './train-model.processor';

// Training yields to the event loop between mini-batches, so the lock is renewed on time; the
// generous duration covers the synchronous stretches (featurising a large training set).
const TRAINER_LOCK_MS = 5 * 60_000;

export interface TrainerDeps {
  config: Pick<Config, 'TRAINER_CONCURRENCY' | 'TF_BACKEND'>;
  pool: Pool;
  /** A worker connection (`createRedis(url, 'worker')`). */
  connection: Redis;
  prefix: string;
  log: Logger;
  /** Backend preference; defaults to config.TF_BACKEND. */
  backend?: string;
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

/** Maps TF_BACKEND (auto | tensorflow | wasm | cpu) onto the learning package's preference. */
export function backendPreference(value: string | undefined): BackendPreference {
  switch (value) {
    case undefined:
    case 'auto':
      return 'auto';
    // The native backend: the GPU build where it installs, else tfjs-node (initBackend walks on).
    case 'tensorflow':
      return 'tfjs-node-gpu';
    case 'tfjs-node-gpu':
    case 'tfjs-node':
    case 'wasm':
    case 'cpu':
      return value;
    default:
      throw new Error(`unknown TF backend "${value}" (expected auto, tensorflow, wasm or cpu)`);
  }
}

/** Starts the `training` queue worker after selecting the TF.js backend once. */
export async function startTrainer(deps: TrainerDeps): Promise<Trainer> {
  const { config, pool, connection, prefix, log } = deps;
  const backend = await initBackend((message) => log.debug(message), backendPreference(deps.backend ?? config.TF_BACKEND));
  log.info({ backend }, `tfjs backend: ${backend}`);
  const processorDeps: TrainModelDeps = { pool, trainOptions: deps.trainOptions, stoppingOptions: deps.stoppingOptions };
  const worker = startWorker({
    queue: trainingQueue,
    processors: { 'train-model': (payload, context) => processTrainModel(processorDeps, payload, context) },
    connection,
    prefix,
    concurrency: config.TRAINER_CONCURRENCY,
    log,
    lockDuration: TRAINER_LOCK_MS,
  });
  return {
    backend,
    worker,
    async close() {
      await worker.close();
    },
  };
}
