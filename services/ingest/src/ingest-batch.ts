import { appendAuditEvents, auditActor } from '@alder/audit';
import type { PoolClient } from '@alder/db';
import { enqueue, samplingQueue } from '@alder/queues';
import { HttpProblem, problems, type Actor, type ProblemFieldError } from '@alder/http';
import type { Schemas } from '@alder/api-types';
import { recordLabels } from '@alder/retraining';
import { insertItems, lockProject, type NewItem } from './items.repository';

// The one way a batch of items gets in, whoever sends it: an API key's user (POST .../items) or
// an integration's signed webhook (POST /v1/hooks/{id}/items).

const MAX_LISTED_ERRORS = 100;

/** Who sends a batch, as the audit trail and the imported annotations record it. */
export interface BatchActor {
  /** The API key's user; null for a batch an integration pushed (no user and no key act). */
  user: Actor | null;
  /** The batch's id in the audit trail (the request's id). */
  batchId: string;
  /** What else the batch's audit event names (a webhook's integration and webhook id). */
  via?: Record<string, string>;
}

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

/** 413 for more items than one call may carry (MAX_ITEMS_PER_BATCH); checked before any transaction. */
export function checkBatchSize(items: readonly unknown[], max: number): void {
  if (items.length > max) throw new HttpProblem(413, 'payload-too-large', `At most ${max} items per request; this one has ${items.length}.`);
}

/**
 * Writes a batch inside the caller's transaction, or throws (404 for a missing project, 422
 * listing every bad row) before writing anything: the project row locked, the batch checked as a
 * whole, the new items and imported labels inserted, a re-ranking queued for new pool items, the
 * labels counted towards the retrain rule, one audit event.
 */
export async function ingestBatch(client: PoolClient, projectId: string, actor: BatchActor, items: Schemas['IngestItem'][]): Promise<Schemas['IngestResult']> {
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
  const result = await insertItems(client, projectId, actor.user?.keyId ?? null, rows);
  if (result.poolInserted > 0) await enqueue(client, samplingQueue, 'rank-pool', { projectId, reason: 'items-ingested' });
  if (result.labelsImported > 0) await recordLabels(client, projectId, result.labelsImported);
  // One event per batch, not per item: it names the new items by id range and a digest of
  // their external ids and texts, so a batch of 10,000 costs one chain link.
  await appendAuditEvents(client, [
    {
      projectId,
      kind: 'items.ingested',
      actor: auditActor(actor.user),
      subject: { type: 'batch', id: actor.batchId },
      after: {
        received: items.length,
        inserted: result.inserted,
        duplicates: items.length - result.inserted,
        labels_imported: result.labelsImported,
        first_item_id: result.firstItemId,
        last_item_id: result.lastItemId,
        digest: result.digest,
        ...(actor.via && { via: actor.via }),
      },
    },
  ]);
  return {
    received: items.length,
    inserted: result.inserted,
    duplicates: items.length - result.inserted,
    labels_imported: result.labelsImported,
  };
}
