import type { HandlerDeps, HandlerMap } from '@alder/http';
import { batchHandlers } from './batches.routes';
import { hookHandlers } from './hooks.routes';
import { integrationHandlers } from './integrations.routes';
import { ingestItemsHandler } from './items.routes';
import { webhookHandlers } from './outbound/webhooks.routes';

export interface IngestOptions {
  /** The clock webhook timestamps and secret overlaps are measured by (tests move it). */
  now?: () => Date;
}

/** The ingest service's operations, keyed by operationId, for `buildHttpApp`. */
export function createIngestHandlers(deps: HandlerDeps, options: IngestOptions = {}): HandlerMap {
  const now = options.now ?? (() => new Date());
  return { ingestItems: ingestItemsHandler(deps), ...batchHandlers(deps), ...integrationHandlers(deps, now), ...hookHandlers(deps, now), ...webhookHandlers(deps) };
}
