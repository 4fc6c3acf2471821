import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient, Queryable } from '@alder/db';

export interface NewItem {
  external_id: string;
  text: string;
  meta: Record<string, unknown>;
  split: 'pool' | 'test';
  label: string | null;
}

export interface InsertResult {
  inserted: number;
  poolInserted: number;
  labelsImported: number;
}

/** Locks the project row for the batch (settings and counters stay put until commit); null when absent. */
export async function lockProject(db: Queryable, projectId: string): Promise<{ labels: string[] } | null> {
  const { rows } = await db.query<{ labels: string[] }>('SELECT labels FROM projects WHERE id = $1 FOR NO KEY UPDATE', [projectId]);
  return rows[0] ?? null;
}

function csvField(value: string | null): string {
  // Unquoted empty is NULL in COPY's CSV format; a quoted field is always a string.
  return value === null ? '' : `"${value.replaceAll('"', '""')}"`;
}

function* csvChunks(items: NewItem[]): Generator<string> {
  let chunk = '';
  for (const [ord, item] of items.entries()) {
    chunk += `${ord},${csvField(item.external_id)},${csvField(item.text)},${csvField(JSON.stringify(item.meta))},${item.split},${csvField(item.label)}\n`;
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * Streams the batch with COPY into a temp table, then inserts the new items (in batch order) and
 * the imported annotations of new labeled pool items in one statement. Items whose external_id
 * the project already has are left alone. Call inside the batch's transaction.
 */
export async function insertItems(client: PoolClient, projectId: string, apiKeyId: string | null, items: NewItem[]): Promise<InsertResult> {
  await client.query(
    `CREATE TEMP TABLE ingest_batch (ord integer NOT NULL, external_id text NOT NULL, text text NOT NULL,
       meta jsonb NOT NULL, split text NOT NULL, label text) ON COMMIT DROP`,
  );
  const copy = client.query(copyFrom('COPY ingest_batch (ord, external_id, text, meta, split, label) FROM STDIN (FORMAT csv)'));
  await pipeline(Readable.from(csvChunks(items)), copy);
  const { rows } = await client.query<{ inserted: number; pool_inserted: number; labels_imported: number }>(
    `WITH inserted AS (
       INSERT INTO items (project_id, external_id, text, meta, split, gold_label, content_hash, status)
       SELECT $1, external_id, text, meta, split, label, sha256(convert_to(text, 'UTF8')),
              CASE WHEN split = 'pool' AND label IS NOT NULL THEN 'labeled' ELSE 'unlabeled' END
       FROM ingest_batch ORDER BY ord
       ON CONFLICT (project_id, external_id) DO NOTHING
       RETURNING id, split, gold_label
     ), imported AS (
       INSERT INTO annotations (project_id, item_id, label, annotator, source, api_key_id)
       SELECT $1, id, gold_label, 'import', 'import', $2 FROM inserted
       WHERE split = 'pool' AND gold_label IS NOT NULL
       ORDER BY id
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM inserted)::int AS inserted,
            (SELECT count(*) FROM inserted WHERE split = 'pool')::int AS pool_inserted,
            (SELECT count(*) FROM imported)::int AS labels_imported`,
    [projectId, apiKeyId],
  );
  const row = rows[0]!;
  return { inserted: row.inserted, poolInserted: row.pool_inserted, labelsImported: row.labels_imported };
}
