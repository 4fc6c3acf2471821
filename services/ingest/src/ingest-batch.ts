import { randomUUID } from 'node:crypto';
import type { PoolClient } from '@alder/db';
import { HttpProblem, problems, type Actor, type ProblemFieldError } from '@alder/http';
import type { Schemas } from '@alder/api-types';
import { recordCompletedBatch } from './batches.repository';
import { batchCounts, recordLandedBatch } from './batch-landing';
import { changedResendsOf, lockProject, type NewItem } from './items.repository';
import { landItems } from './land-items';

// The one way a JSON batch of items gets in, whoever sends it: an API key's user (POST .../items)
// or an integration's signed webhook (POST /v1/hooks/{id}/items). An NDJSON stream is read by
// ndjson-ingest.ts; both land as stream-chunks.ts lands a chunk (land-items.ts) and are recorded
// by recordLandedBatch.

export const MAX_LISTED_ERRORS = 100;

/** Who sends a batch, as the audit trail and the imported annotations record it. */
export interface BatchActor {
  /** The API key's user; null for a batch an integration pushed (no user and no key act). */
  user: Actor | null;
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
 * whole (under on_resend 'reject' its changed re-sends refuse it), landed (landItems: new items
 * and imported labels, re-sends and repeated texts by the project's settings), recorded
 * (recordLandedBatch: a re-ranking queued for new pool items, the labels counted, the audit
 * events, batch.completed), and kept as a completed batch (batches.repository.ts).
 */
export async function ingestBatch(
  client: PoolClient,
  projectId: string,
  actor: BatchActor,
  items: Schemas['IngestItem'][],
  source: 'json' | 'webhook' = 'json',
): Promise<Schemas['IngestResult']> {
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
  if (project.on_resend === 'reject') {
    const changed = await changedResendsOf(client, projectId, rows);
    if (changed.length) {
      throw problems.validation(
        `${changed.length} item(s) re-send an external_id the project has, with another text or meta; the project refuses changes (on_resend: reject), so nothing was written.`,
        changed.slice(0, MAX_LISTED_ERRORS).map((ord) => ({ path: `body/items/${ord}/text`, message: 'differs from the stored item of this external_id (text or meta)' })),
      );
    }
  }
  // Named before it is written (once it has landed), so the audit event can name it.
  const batchId = randomUUID();
  const user = actor.user ? { userId: actor.user.userId, keyId: actor.user.keyId } : null;
  const landed = await landItems(client, {
    projectId,
    batchId,
    apiKeyId: user?.keyId ?? null,
    onResend: project.on_resend,
    onDuplicateText: project.on_duplicate_text,
    overlap: project.overlap_annotators > 1,
  }, rows);
  const result = { ...landed, received: items.length, rejected: 0 };
  await recordLandedBatch(client, { projectId, batchId, actor: user, source, via: actor.via }, result);
  const counts = batchCounts(result);
  await recordCompletedBatch(client, {
    id: batchId,
    projectId,
    source,
    userId: user?.userId ?? null,
    keyId: user?.keyId ?? null,
    counts: {
      received: items.length,
      accepted: result.inserted,
      duplicate: counts.duplicates,
      updated: result.updated,
      skippedChanges: result.skippedChanges,
      duplicateTexts: result.duplicateTexts,
      rejected: 0,
      labelsImported: result.labelsImported,
    },
  });
  return { batch_id: batchId, status: 'completed', ...counts, errors: [] };
}
