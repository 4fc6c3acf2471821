import { defineService } from '@alder/host';
import { webhooksQueue } from '@alder/queues';
import { createIngestHandlers } from './handlers';
import { receivedWebhooksRetention } from './integrations.repository';
import { webhookDeliveriesRetention, webhookEventsRetention } from './outbound/deliveries.repository';
import { startOutbound } from './outbound/outbound.worker';

/**
 * Ingest: serves item ingest, integrations and their signed webhooks, and webhook subscriptions;
 * enqueues rank-pool (and train-model for imported labels); delivers outbound webhooks (it is the
 * integration edge: the `webhooks` queue's fan-out and the dispatcher run here).
 */
export const ingestService = defineService({
  name: 'ingest',
  handlers: (deps) => createIngestHandlers(deps),
  consumes: webhooksQueue,
  produces: true,
  cpuHeavy: false,
  retention: [receivedWebhooksRetention, webhookDeliveriesRetention, webhookEventsRetention],
  start: async ({ config, pool, connection, prefix, log }) => {
    const outbound = startOutbound({ config, pool, connection, prefix, log: log.child({ module: 'webhooks' }) });
    return { close: () => outbound.close(), facts: { webhookConcurrency: config.WEBHOOK_CONCURRENCY, webhookSchedule: config.WEBHOOK_RETRY_SCHEDULE } };
  },
});
