import type { HandlerDeps, HandlerMap } from '@alder/http';
import { batchHandlers } from './batches.routes';
import { ingestItemsHandler } from './items.routes';

/** The ingest service's operations, keyed by operationId, for `buildHttpApp`. */
export function createIngestHandlers(deps: HandlerDeps): HandlerMap {
  return { ingestItems: ingestItemsHandler(deps), ...batchHandlers(deps) };
}
