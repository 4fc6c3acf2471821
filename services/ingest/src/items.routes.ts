import { appendAuditEvents, auditActor } from '@alder/audit';
import { withTransaction } from '@alder/db';
import { enqueue, samplingQueue } from '@alder/queues';
import { HttpProblem, problems, type HandlerDeps, type OperationHandler, type ProblemFieldError } from '@alder/http';
import type { Schemas } from '@alder/api-types';
import { recordLabels } from '@alder/retraining';
import { insertItems, lockProject, type NewItem } from './items.repository';

const MAX_LISTED_ERRORS = 100;

/** Postgres text and jsonb can not hold U+0000; refuse it here rather than fail inside COPY. */
function hasNul(item: Schemas['IngestItem']): boolean {
  return item.external_id.includes('\u0000') || item.text.includes('\u0000') || (item.meta != null && JSON.stringify(item.meta).includes('\\u0000'));
}

/** The batch rules the schema can not express; every bad row is reported, not just the first. */
export function batchErrors(items: Schemas['IngestItem'][], labels: readonly string[]): ProblemFieldError[] {
  const known = new Set(labels);
  const firstRow = new Map<string, number>();
  const errors: ProblemFieldError[] = [];
  items.forEach((item, row) => {
    const seen = firstRow.get(item.external_id);
    if (seen === undefined) firstRow.set(item.external_id, row);
    else errors.push({ path: `body/items/${row}/external_id`, message: `duplicates the external_id of row ${seen}` });
    if (item.label != null && !known.has(item.label)) {
      errors.push({ path: `body/items/${row}/label`, message: `"${item.label}" is not one of the project's labels` });
    }
    if (hasNul(item)) errors.push({ path: `body/items/${row}`, message: 'must not contain the character U+0000' });
    if (item.gold && (item.label == null || (item.split ?? 'pool') !== 'pool')) {
      errors.push({ path: `body/items/${row}/gold`, message: 'a gold item is a pool item with its known answer in label' });
    }
  });
  return errors;
}

/** POST /v1/projects/{project_id}/items: the whole batch in one transaction, or nothing. */
export function ingestItemsHandler({ config, pool }: HandlerDeps): OperationHandler<'ingestItems'> {
  return async (request) => {
    const { project_id: projectId } = request.params;
    const items = request.body.items;
    if (items.length > config.MAX_ITEMS_PER_BATCH) {
      throw new HttpProblem(413, 'payload-too-large', `At most ${config.MAX_ITEMS_PER_BATCH} items per request; this one has ${items.length}.`);
    }
    return withTransaction(pool, async (client) => {
      const project = await lockProject(client, projectId);
      if (!project) throw problems.notFound(`No project ${projectId}.`);
      const errors = batchErrors(items, project.labels);
      if (errors.length) {
        throw problems.validation(`${errors.length} problem(s) in the batch; nothing was written.`, errors.slice(0, MAX_LISTED_ERRORS));
      }
      const rows: NewItem[] = items.map((item) => ({
        external_id: item.external_id,
        text: item.text,
        meta: item.meta ?? {},
        split: item.split ?? 'pool',
        label: item.label ?? null,
        gold: item.gold ?? false,
      }));
      const result = await insertItems(client, projectId, request.actor?.keyId ?? null, rows);
      if (result.poolInserted > 0) await enqueue(client, samplingQueue, 'rank-pool', { projectId, reason: 'items-ingested' });
      if (result.labelsImported > 0) await recordLabels(client, projectId, result.labelsImported);
      // One event per batch, not per item: it names the new items by id range and a digest of
      // their external ids and texts, so a batch of 10,000 costs one chain link.
      await appendAuditEvents(client, [
        {
          projectId,
          kind: 'items.ingested',
          actor: auditActor(request.actor),
          subject: { type: 'batch', id: request.id },
          after: {
            received: items.length,
            inserted: result.inserted,
            duplicates: items.length - result.inserted,
            labels_imported: result.labelsImported,
            first_item_id: result.firstItemId,
            last_item_id: result.lastItemId,
            digest: result.digest,
          },
        },
      ]);
      request.log.info({ projectId, received: items.length, inserted: result.inserted }, 'items ingested');
      return {
        received: items.length,
        inserted: result.inserted,
        duplicates: items.length - result.inserted,
        labels_imported: result.labelsImported,
      } satisfies Schemas['IngestResult'];
    });
  };
}
