export { createIngestHandlers, type IngestOptions } from './handlers';
export { ingestService } from './service';
// For the fixtures that seed items the way ingest writes them (@alder/fixtures).
export { insertItems, type NewItem } from './items.repository';
export { receivedWebhooksRetention } from './integrations.repository';
