import { withTransaction } from '@alder/db';
import type { HandlerDeps, OperationHandler } from '@alder/http';
import { checkBatchSize, ingestBatch } from './ingest-batch';

export { batchErrors } from './ingest-batch';

/** POST /v1/projects/{project_id}/items: the whole batch in one transaction, or nothing. */
export function ingestItemsHandler({ config, pool }: HandlerDeps): OperationHandler<'ingestItems'> {
  return async (request) => {
    const { project_id: projectId } = request.params;
    const items = request.body.items;
    checkBatchSize(items, config.MAX_ITEMS_PER_BATCH);
    const result = await withTransaction(pool, (client) => ingestBatch(client, projectId, { user: request.actor, batchId: request.id }, items));
    request.log.info({ projectId, received: items.length, inserted: result.inserted }, 'items ingested');
    return result;
  };
}
