import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';

/** One queue: its name, each job name with its payload schema, and default job options. */
export interface QueueDefinition<Jobs extends Record<string, z.ZodType> = Record<string, z.ZodType>> {
  name: string;
  jobs: Jobs;
  defaultJobOptions: JobsOptions;
}

/** Payload type of one job of a queue definition. */
export type PayloadOf<Q extends QueueDefinition, J extends keyof Q['jobs']> = z.infer<Q['jobs'][J]>;

/** Declares a queue once; producer and consumer both import the result. */
export function defineQueue<Jobs extends Record<string, z.ZodType>>(definition: QueueDefinition<Jobs>): QueueDefinition<Jobs> {
  return definition;
}
