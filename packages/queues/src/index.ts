export { defineQueue, type QueueDefinition, type PayloadOf } from './define-queue';
export { trainingQueue, samplingQueue, webhooksQueue, allQueues } from './queues';
export { EVENT_TYPES, eventBit, eventDataSchemas, eventEnvelopeSchema, eventMask, isWanted, type EventData, type EventEnvelope, type EventType } from './event-catalogue';
export { emitEvent, projectEventMask } from './events';
export { createRedis, checkEvictionPolicy } from './redis';
export { enqueue, OUTBOX_CHANNEL } from './outbox';
export { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './outbox-relay';
export { startWorker, type JobContext, type Processors, type WorkerOptions } from './worker';
export { claimJob, forgetJob, isJobProcessed } from './processed-jobs';
export {
  MIN_RETENTION_HOURS,
  outboxRetention,
  processedJobsRetention,
  startRetention,
  type Retention,
  type RetentionOptions,
  type RetentionSweep,
  type RetentionTarget,
} from './retention';
