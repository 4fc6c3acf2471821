import { computePoolFor } from '@alder/compute';
import { defineService } from '@alder/host';
import { trainingQueue } from '@alder/queues';
import { startTrainer } from './trainer.worker';

/** The trainer: consumes `training`, trains on the compute threads, enqueues rank-pool and follow-ups. */
export const trainerService = defineService({
  name: 'trainer',
  consumes: trainingQueue,
  produces: true,
  cpuHeavy: true,
  // One training at a time per job slot: more threads would only hold more copies of TF.js
  // (and a native backend may not load in a second thread).
  compute: { threads: (config) => config.TRAINER_CONCURRENCY, createPool: computePoolFor },
  async start({ config, pool, connection, prefix, log, compute }) {
    const trainer = await startTrainer({ config, pool, connection, prefix, log, compute });
    return { close: () => trainer.close(), facts: { backend: trainer.backend, concurrency: config.TRAINER_CONCURRENCY } };
  },
});
