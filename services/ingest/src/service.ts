import { defineService } from '@alder/host';
import { createIngestHandlers } from './handlers';

/** Ingest: serves the item-ingest operations; enqueues rank-pool (and train-model for imported labels). */
export const ingestService = defineService({ name: 'ingest', handlers: createIngestHandlers, produces: true, cpuHeavy: false });
