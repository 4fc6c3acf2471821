import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@alder/logger';
import type { PayloadOf, QueueDefinition } from './define-queue';

/** What a processor gets besides its validated payload. */
export interface JobContext {
  /** Unique per job across retries: record it in `processed_jobs` with the job's effect. */
  jobKey: string;
  job: Job;
  log: Logger;
}

export type Processors<Q extends QueueDefinition> = {
  [J in keyof Q['jobs'] & string]: (payload: PayloadOf<Q, J>, context: JobContext) => Promise<unknown>;
};

export interface WorkerOptions<Q extends QueueDefinition> {
  queue: Q;
  processors: Processors<Q>;
  connection: Redis;
  prefix: string;
  concurrency: number;
  log: Logger;
  lockDuration?: number;
}

/**
 * Starts a BullMQ worker for one queue. It refuses to start unless every declared job name has a
 * processor, validates each payload when consumed (old payloads outlive deploys) and fails jobs
 * with an invalid payload for good instead of retrying them.
 */
export function startWorker<Q extends QueueDefinition>(options: WorkerOptions<Q>): Worker {
  const { queue, processors, log } = options;
  const missing = Object.keys(queue.jobs).filter((name) => typeof (processors as Record<string, unknown>)[name] !== 'function');
  if (missing.length) throw new Error(`queue ${queue.name}: no processor for job(s) ${missing.join(', ')}`);

  const worker = new Worker(
    queue.name,
    async (job) => {
      const schema = queue.jobs[job.name];
      const processor = (processors as Record<string, (payload: unknown, context: JobContext) => Promise<unknown>>)[job.name];
      if (!schema || !processor) throw new UnrecoverableError(`unknown job name ${job.name}`);
      const parsed = schema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${job.name}: ${parsed.error.message}`);
      const jobLog = log.child({ queue: queue.name, job: job.name, jobId: job.id });
      const began = performance.now();
      const loopBefore = performance.eventLoopUtilization();
      const result = await processor(parsed.data, { jobKey: `${queue.name}:${job.id}`, job, log: jobLog });
      // How busy this event loop was during the job: near 1 means the job's work ran on the
      // thread that renews its lock (CPU-heavy work belongs on the compute threads).
      const loopBusy = performance.eventLoopUtilization(loopBefore).utilization;
      jobLog.info({ ms: Math.round(performance.now() - began), loopBusy: Math.round(loopBusy * 1000) / 1000 }, 'job completed');
      return result;
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDuration ?? 60_000,
    },
  );
  worker.on('failed', (job, error) => log.warn({ queue: queue.name, jobId: job?.id, err: error }, 'job failed'));
  worker.on('error', (error) => log.error({ queue: queue.name, err: error }, 'worker error'));
  return worker;
}
