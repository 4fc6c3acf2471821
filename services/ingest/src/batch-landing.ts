import { appendAuditEvents, auditActor } from '@alder/audit';
import type { PoolClient } from '@alder/db';
import { emitEvent, enqueue, samplingQueue } from '@alder/queues';
import { recordLabels } from '@alder/retraining';
import type { BatchSource } from './batches.repository';
import type { InsertResult } from './items.repository';

/** The most updated item ids the audit event lists (it counts them all and digests them all). */
export const MAX_LISTED_UPDATES = 1000;

/** Who and what a batch is, as its events name it. */
export interface BatchOrigin {
  projectId: string;
  batchId: string;
  actor: { userId: string; keyId: string } | null;
  source: BatchSource;
  /** What else the audit event names (a webhook's integration and webhook id). */
  via?: Record<string, string>;
}

/** What a batch did once landed, however it was read. */
export interface LandedBatch extends InsertResult {
  received: number;
  rejected: number;
  updated: number;
  skippedChanges: number;
  /** New items whose text the project had (on_duplicate_text), and of them those left out (skip). */
  duplicateTexts: number;
  skippedTexts: number;
  /** The first updated item ids (at most MAX_LISTED_UPDATES) and the digest of all the updates; null when none. */
  updates: { itemIds: number[]; digest: string } | null;
}

/** A batch's counts, as its row, its answer, its audit event and its outbound event give them. */
export function batchCounts(landed: Omit<LandedBatch, 'firstItemId' | 'lastItemId' | 'digest' | 'updates' | 'poolInserted'>) {
  return {
    received: landed.received,
    inserted: landed.inserted,
    // Rows that met an item of their external_id and changed nothing.
    duplicates: landed.received - landed.rejected - landed.inserted - landed.updated - landed.skippedTexts,
    updated: landed.updated,
    skipped_changes: landed.skippedChanges,
    duplicate_texts: landed.duplicateTexts,
    rejected: landed.rejected,
    labels_imported: landed.labelsImported,
  };
}

/**
 * What every batch does once its items have landed, in its transaction: a new pool asks sampling
 * for a ranking, imported labels count towards the retrain rule, and the audit trail records the
 * batch in one event (the new items by id range and a digest of their external ids and content
 * hashes, so a batch of a million costs one chain link), its updates in another, and the
 * outbound `batch.completed` event is written when a subscription wants it.
 */
export async function recordLandedBatch(client: PoolClient, origin: BatchOrigin, landed: LandedBatch): Promise<void> {
  const { projectId } = origin;
  // The batch's events: the batch is their subject, its sender their actor (or its webhook).
  const recordBatchEvent = (kind: string, after: Record<string, unknown>) =>
    appendAuditEvents(client, [
      { projectId, kind, actor: auditActor(origin.actor), subject: { type: 'batch', id: origin.batchId }, after: { ...after, ...(origin.via && { via: origin.via }) } },
    ]);
  if (landed.updates) await recordBatchEvent('items.updated', { updated: landed.updated, item_ids: landed.updates.itemIds, digest: landed.updates.digest });
  if (landed.poolInserted > 0) await enqueue(client, samplingQueue, 'rank-pool', { projectId, reason: 'items-ingested' });
  if (landed.labelsImported > 0) await recordLabels(client, projectId, landed.labelsImported);
  // What the batch did, as its audit event and its outbound event both say it.
  const counts = batchCounts(landed);
  await recordBatchEvent('items.ingested', { ...counts, first_item_id: landed.firstItemId, last_item_id: landed.lastItemId, digest: landed.digest });
  // Outbound webhooks: written only when a subscription wants it (emitEvent reads the mask).
  await emitEvent(client, projectId, 'batch.completed', { batch_id: origin.batchId, source: origin.source, ...counts });
}
