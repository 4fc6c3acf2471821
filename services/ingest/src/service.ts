import { defineService } from '@alder/host';
import { createIngestHandlers } from './handlers';
import { receivedWebhooksRetention } from './integrations.repository';

/** Ingest: serves item ingest, integrations and their signed webhooks; enqueues rank-pool (and train-model for imported labels). */
export const ingestService = defineService({
  name: 'ingest',
  handlers: (deps) => createIngestHandlers(deps),
  produces: true,
  cpuHeavy: false,
  retention: [receivedWebhooksRetention],
});
