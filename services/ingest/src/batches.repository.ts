import type { Queryable } from '@alder/db';

/** The owner of `ingest_batches` and `ingest_batch_errors` (migration 0016). */

export type BatchSource = 'json' | 'ndjson' | 'webhook' | 'file';

/** A file import's file: its format, and the name the client gave it (null when it gave none). */
export interface BatchFile {
  name: string | null;
  format: 'jsonl' | 'csv';
}

export interface BatchCounts {
  received: number;
  accepted: number;
  duplicate: number;
  updated: number;
  skippedChanges: number;
  duplicateTexts: number;
  rejected: number;
  labelsImported: number;
}

export interface BatchRowError {
  line: number;
  pointer: string;
  reason: string;
}

export interface StoredBatch {
  id: string;
  project_id: string;
  source: BatchSource;
  status: 'receiving' | 'completed' | 'aborted';
  received: number;
  accepted: number;
  duplicate: number;
  updated: number;
  skipped_changes: number;
  duplicate_texts: number;
  rejected: number;
  labels_imported: number;
  abort_reason: string | null;
  stopped_at_line: number | null;
  file_format: BatchFile['format'] | null;
  file_name: string | null;
  created_by: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/** The most refused rows a batch keeps (its `rejected` counts them all). */
export const MAX_STORED_ERRORS = 1000;

const COLUMNS = `id, project_id, source, status, received, accepted, duplicate, updated, skipped_changes, duplicate_texts, rejected, labels_imported, abort_reason, stopped_at_line,
  file_format, file_name, created_by, created_at, finished_at`;

/** A stream's batch, before its first line is read: visible (status receiving) while it runs. A file import's names its file. */
export async function openBatch(
  db: Queryable,
  input: { projectId: string; source: BatchSource; userId: string | null; keyId: string | null; file?: BatchFile },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO ingest_batches (project_id, source, status, created_by, api_key_id, file_format, file_name) VALUES ($1, $2, 'receiving', $3, $4, $5, $6) RETURNING id`,
    [input.projectId, input.source, input.userId, input.keyId, input.file?.format ?? null, input.file?.name ?? null],
  );
  return rows[0]!.id;
}

/** A batch that lands in one step (the JSON batch), written as completed in the caller's transaction. */
export async function recordCompletedBatch(
  db: Queryable,
  input: { id: string; projectId: string; source: BatchSource; userId: string | null; keyId: string | null; counts: BatchCounts },
): Promise<void> {
  const { counts } = input;
  await db.query(
    `INSERT INTO ingest_batches (id, project_id, source, status, created_by, api_key_id, received, accepted, duplicate, updated, skipped_changes, rejected,
                                 labels_imported, duplicate_texts, finished_at)
     VALUES ($1, $2, $3, 'completed', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now())`,
    [
      input.id,
      input.projectId,
      input.source,
      input.userId,
      input.keyId,
      counts.received,
      counts.accepted,
      counts.duplicate,
      counts.updated,
      counts.skippedChanges,
      counts.rejected,
      counts.labelsImported,
      counts.duplicateTexts,
    ],
  );
}

/** How far a stream got, while it is read (its own statement, outside the stream's transaction). */
export async function reportProgress(db: Queryable, batchId: string, received: number, rejected: number): Promise<void> {
  await db.query(`UPDATE ingest_batches SET received = $2, rejected = $3 WHERE id = $1 AND status = 'receiving'`, [batchId, received, rejected]);
}

/** A stream's batch landed: its counts and refused rows, in the transaction of its items. */
export async function completeBatch(db: Queryable, batchId: string, counts: BatchCounts, errors: BatchRowError[]): Promise<void> {
  await db.query(
    `UPDATE ingest_batches SET status = 'completed', received = $2, accepted = $3, duplicate = $4, updated = $5, skipped_changes = $6, rejected = $7,
            labels_imported = $8, duplicate_texts = $9, finished_at = now()
     WHERE id = $1`,
    [batchId, counts.received, counts.accepted, counts.duplicate, counts.updated, counts.skippedChanges, counts.rejected, counts.labelsImported, counts.duplicateTexts],
  );
  await storeErrors(db, batchId, errors);
}

/** A stream cut short: nothing of it landed; where it stopped and why. */
export async function abortBatch(db: Queryable, batchId: string, input: { reason: string; stoppedAtLine: number; received: number; rejected: number }): Promise<void> {
  await db.query(
    `UPDATE ingest_batches SET status = 'aborted', abort_reason = $2, stopped_at_line = $3, received = $4, rejected = $5, accepted = 0, duplicate = 0,
            labels_imported = 0, finished_at = now()
     WHERE id = $1 AND status = 'receiving'`,
    [batchId, input.reason, input.stoppedAtLine, input.received, input.rejected],
  );
}

async function storeErrors(db: Queryable, batchId: string, errors: BatchRowError[]): Promise<void> {
  const kept = errors.slice(0, MAX_STORED_ERRORS);
  if (!kept.length) return;
  await db.query(
    `INSERT INTO ingest_batch_errors (batch_id, n, line, pointer, reason)
     SELECT $1, n, line, pointer, reason FROM unnest($2::int[], $3::text[], $4::text[]) WITH ORDINALITY AS e(line, pointer, reason, n)`,
    [batchId, kept.map((e) => e.line), kept.map((e) => e.pointer), kept.map((e) => e.reason)],
  );
}

/** One batch of the project, with its stored errors; null when the project has no such batch. */
export async function findBatch(db: Queryable, projectId: string, batchId: string): Promise<{ batch: StoredBatch; errors: BatchRowError[] } | null> {
  const { rows } = await db.query<StoredBatch>(`SELECT ${COLUMNS} FROM ingest_batches WHERE id = $1 AND project_id = $2`, [batchId, projectId]);
  const batch = rows[0];
  if (!batch) return null;
  const errors = await db.query<BatchRowError>('SELECT line, pointer, reason FROM ingest_batch_errors WHERE batch_id = $1 ORDER BY n', [batchId]);
  return { batch, errors: errors.rows };
}

/** The project's batches, newest first. */
export async function listBatches(db: Queryable, projectId: string, limit: number, offset: number): Promise<{ rows: StoredBatch[]; total: number }> {
  const [page, count] = await Promise.all([
    db.query<StoredBatch>(`SELECT ${COLUMNS} FROM ingest_batches WHERE project_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, [projectId, limit, offset]),
    db.query<{ total: number }>('SELECT count(*)::int AS total FROM ingest_batches WHERE project_id = $1', [projectId]),
  ]);
  return { rows: page.rows, total: count.rows[0]!.total };
}
