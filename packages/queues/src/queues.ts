import { z } from 'zod';
import { defineQueue } from './define-queue';
import { eventEnvelopeSchema } from './event-catalogue';

// Payloads carry ids and small parameters only; they change only by adding optional fields,
// because jobs written by an older deploy are still consumed by a newer one.

const retried = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000 },
} as const;

/** Trainer input: fit and evaluate a new model version for a project. */
export const trainingQueue = defineQueue({
  name: 'training',
  jobs: {
    'train-model': z.object({
      projectId: z.string().uuid(),
      reason: z.enum(['labels', 'manual', 'followup']).optional(),
    }),
  },
  defaultJobOptions: retried,
  // One training waiting and one running per project, ever: 331 POST /train calls are one more training.
  deduplicate: { 'train-model': (payload) => payload.projectId },
});

/** Sampling input: (re)rank a project's unlabeled pool, with a model version or by cold start. */
export const samplingQueue = defineQueue({
  name: 'sampling',
  jobs: {
    'rank-pool': z.object({
      projectId: z.string().uuid(),
      // The model version that triggered this ranking; absent when new items arrived.
      modelId: z.number().int().positive().optional(),
      reason: z.enum(['model-trained', 'items-ingested', 'strategy-changed']).optional(),
    }),
  },
  defaultJobOptions: retried,
  // One re-rank waiting and one running per project, ever: 724 ingest batches are one more re-rank.
  deduplicate: { 'rank-pool': (payload) => payload.projectId },
});

/**
 * Outbound webhooks: an event (emitEvent, in the transaction of its change) to fan out to the
 * project's subscriptions. The payload is the event itself, not an id: it is the fact as it was
 * at the change, which a later read could not give back.
 */
export const webhooksQueue = defineQueue({
  name: 'webhooks',
  jobs: {
    'fan-out': eventEnvelopeSchema,
  },
  defaultJobOptions: retried,
});

/** Every queue Alder has; the outbox relay publishes to these by name. */
export const allQueues = [trainingQueue, samplingQueue, webhooksQueue] as const;
