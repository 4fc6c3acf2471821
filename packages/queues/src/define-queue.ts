import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';

/** One queue: its name, each job name with its payload schema, and default job options. */
export interface QueueDefinition<Jobs extends Record<string, z.ZodType> = Record<string, z.ZodType>> {
  name: string;
  jobs: Jobs;
  defaultJobOptions: JobsOptions;
  /**
   * Jobs of which one may wait and one run at a time per key (the key of a payload): a job added
   * while one of its key waits merges into it (is not added); one added while one of its key
   * runs waits for it (the latest such job kept). BullMQ deduplication, `keepLastIfActive`.
   */
  deduplicate?: { [J in keyof Jobs]?: (payload: z.infer<Jobs[J]>) => string };
}

/** Payload type of one job of a queue definition. */
export type PayloadOf<Q extends QueueDefinition, J extends keyof Q['jobs']> = z.infer<Q['jobs'][J]>;

/** Declares a queue once; producer and consumer both import the result. */
export function defineQueue<Jobs extends Record<string, z.ZodType>>(definition: QueueDefinition<Jobs>): QueueDefinition<Jobs> {
  return definition;
}
