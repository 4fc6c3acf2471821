export { createIngestHandlers, type IngestOptions } from './handlers';
export { ingestService } from './service';
// For the fixtures that seed items the way ingest writes them (@alder/fixtures).
export { insertItems } from './land-items';
export type { NewItem } from './items.repository';
export { receivedWebhooksRetention } from './integrations.repository';
// For tests of the event writers elsewhere (a subscription makes a project's mask want events).
export { insertSubscription, refreshEventMask } from './outbound/subscriptions.repository';
export { insertEventDeliveries } from './outbound/deliveries.repository';
export { webhookDeliveriesRetention, webhookEventsRetention } from './outbound/deliveries.repository';
