import { computePoolFor, computeThreads } from '@alder/compute';
import { defineService } from '@alder/host';
import { samplingQueue } from '@alder/queues';
import { startSampling } from './sampling.worker';

/** Sampling: consumes `sampling`, scores and ranks the pool on the compute threads; writes no outbox rows. */
export const samplingService = defineService({
  name: 'sampling',
  consumes: samplingQueue,
  produces: false,
  cpuHeavy: true,
  // Scoring a large pool keeps every thread busy: as many as the process may use.
  compute: { threads: (config) => computeThreads(config), createPool: computePoolFor },
  async start({ config, pool, connection, prefix, log, compute }) {
    const sampling = await startSampling({ config, pool, connection, prefix, log, compute });
    return { close: () => sampling.close(), facts: { concurrency: config.SAMPLING_CONCURRENCY, computeThreads: compute.threads } };
  },
});
