import { appendAuditEvents, auditActor } from '@alder/audit';
import type { PoolClient } from '@alder/db';
import { emitEvent, enqueue, samplingQueue } from '@alder/queues';
import { recordLabels } from '@alder/retraining';
import { insertStaged, type InsertResult } from './items.repository';

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
    source: 'json' | 'ndjson' | 'webhook';
    /** What else the audit event names (a webhook's integration and webhook id). */
    via?: Record<string, string>;
  },
): Promise<InsertResult> {
  const { projectId } = input;
  const result = await insertStaged(client, projectId, input.actor?.keyId ?? null);
  if (result.poolInserted > 0) await enqueue(client, samplingQueue, 'rank-pool', { projectId, reason: 'items-ingested' });
  if (result.labelsImported > 0) await recordLabels(client, projectId, result.labelsImported);
  await appendAuditEvents(client, [
    {
      projectId,
      kind: 'items.ingested',
      actor: auditActor(input.actor),
      subject: { type: 'batch', id: input.batchId },
      after: {
        received: input.received,
        inserted: result.inserted,
        duplicates: input.received - input.rejected - result.inserted,
        rejected: input.rejected,
        labels_imported: result.labelsImported,
        first_item_id: result.firstItemId,
        last_item_id: result.lastItemId,
        digest: result.digest,
        ...(input.via && { via: input.via }),
      },
    },
  ]);
  // Outbound webhooks: written only when a subscription wants it (emitEvent reads the mask).
  await emitEvent(client, projectId, 'batch.completed', {
    batch_id: input.batchId,
    source: input.source,
    received: input.received,
    inserted: result.inserted,
    duplicates: input.received - input.rejected - result.inserted,
    rejected: input.rejected,
    labels_imported: result.labelsImported,
  });
  return result;
}
