import { appendAuditEvents, auditActor } from '@alder/audit';
import type { PoolClient } from '@alder/db';
import { emitEvent, enqueue, samplingQueue } from '@alder/queues';
import { recordLabels } from '@alder/retraining';
import { changedResends, insertStaged, updateResent, type InsertResult, type OnResend } from './items.repository';
import type { BatchSource } from './batches.repository';

/** The most updated item ids the audit event lists (it counts them all and digests them all). */
const MAX_LISTED_UPDATES = 1000;

/**
 * What every batch does once its rows are staged, in its transaction: the new items land, a new
 * pool asks sampling for a ranking, imported labels count towards the retrain rule, and the audit
 * trail records the batch in one event (the new items by id range and a digest of their external
 * ids and texts, so a batch of a million costs one chain link).
 */
export async function landStagedItems(
  client: PoolClient,
  input: {
    projectId: string;
    batchId: string;
    actor: { userId: string; keyId: string } | null;
    received: number;
    rejected: number;
    source: BatchSource;
    /** What else the audit event names (a webhook's integration and webhook id). */
    via?: Record<string, string>;
    /** The project's setting; under 'reject' the caller has taken the changed re-sent rows out. */
    onResend: OnResend;
  },
): Promise<InsertResult & { updated: number; skippedChanges: number }> {
  const { projectId } = input;
  // The batch's events: the batch is their subject, its sender their actor (or its webhook).
  const recordBatchEvent = (kind: string, after: Record<string, unknown>) =>
    appendAuditEvents(client, [
      { projectId, kind, actor: auditActor(input.actor), subject: { type: 'batch', id: input.batchId }, after: { ...after, ...(input.via && { via: input.via }) } },
    ]);
  let updated = 0;
  let skippedChanges = 0;
  if (input.onResend === 'update') {
    const changes = await updateResent(client, projectId);
    updated = changes.ids.length;
    if (updated) {
      await recordBatchEvent('items.updated', { updated, item_ids: changes.ids.slice(0, MAX_LISTED_UPDATES), digest: changes.digest });
    }
  } else if (input.onResend === 'skip') {
    skippedChanges = (await changedResends(client, projectId)).length;
  }
  const result = await insertStaged(client, projectId, input.actor?.keyId ?? null);
  if (result.poolInserted > 0) await enqueue(client, samplingQueue, 'rank-pool', { projectId, reason: 'items-ingested' });
  if (result.labelsImported > 0) await recordLabels(client, projectId, result.labelsImported);
  // What the batch did, as its audit event and its outbound event both say it.
  const counts = {
    received: input.received,
    inserted: result.inserted,
    duplicates: input.received - input.rejected - result.inserted - updated,
    updated,
    skipped_changes: skippedChanges,
    rejected: input.rejected,
    labels_imported: result.labelsImported,
  };
  await recordBatchEvent('items.ingested', { ...counts, first_item_id: result.firstItemId, last_item_id: result.lastItemId, digest: result.digest });
  // Outbound webhooks: written only when a subscription wants it (emitEvent reads the mask).
  await emitEvent(client, projectId, 'batch.completed', { batch_id: input.batchId, source: input.source, ...counts });
  return { ...result, updated, skippedChanges };
}
