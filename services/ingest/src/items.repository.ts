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
  /** A gold item: `label` is its known answer, not an imported annotation. */
  gold?: boolean;
}

export interface InsertResult {
  inserted: number;
  poolInserted: number;
  labelsImported: number;
  /** The new items' ids, lowest and highest (null when none was new). */
  firstItemId: number | null;
  lastItemId: number | null;
  /** SHA-256 (hex) over the new items' external ids and content hashes in id order: what the audit records of the batch. */
  digest: string | null;
}

export type OnResend = 'skip' | 'update' | 'reject';

/** Locks the project row for the batch (settings and counters stay put until commit); null when absent. */
export async function lockProject(db: Queryable, projectId: string): Promise<{ labels: string[]; on_resend: OnResend } | null> {
  const { rows } = await db.query<{ labels: string[]; on_resend: OnResend }>('SELECT labels, on_resend FROM projects WHERE id = $1 FOR NO KEY UPDATE', [projectId]);
  return rows[0] ?? null;
}

// A staged row that re-sends an item the project has, with another text or meta.
const CHANGED_RESEND = `FROM ingest_batch b JOIN items i ON i.project_id = $1 AND i.external_id = b.external_id
     WHERE i.text IS DISTINCT FROM b.text OR i.meta IS DISTINCT FROM b.meta`;

/** The staged rows that re-send an item with another text or meta: their ords, in order. */
export async function changedResends(client: PoolClient, projectId: string): Promise<number[]> {
  const { rows } = await client.query<{ ord: number }>(`SELECT b.ord ${CHANGED_RESEND} ORDER BY b.ord`, [projectId]);
  return rows.map((r) => r.ord);
}

/** Takes these rows out of the staging table. */
export async function removeStaged(client: PoolClient, ords: number[]): Promise<void> {
  if (ords.length) await client.query('DELETE FROM ingest_batch WHERE ord = ANY($1::int[])', [ords]);
}

/**
 * Gives the stored items of changed re-sent rows the staged text and meta (and its content hash);
 * their labels stay. The updated items' ids, in id order, and a SHA-256 (hex) over their external
 * ids with their old and new content hashes: what the audit records of the update.
 */
export async function updateResent(client: PoolClient, projectId: string): Promise<{ ids: number[]; digest: string | null }> {
  const { rows } = await client.query<{ ids: number[] | null; digest: string | null }>(
    `WITH changed AS (
       SELECT i.id, i.external_id, i.content_hash AS old_hash, b.text, b.meta ${CHANGED_RESEND}
     ), updated AS (
       UPDATE items i SET text = c.text, meta = c.meta, content_hash = sha256(convert_to(c.text, 'UTF8'))
       FROM changed c WHERE i.id = c.id
       RETURNING i.id, c.external_id, c.old_hash, i.content_hash
     )
     SELECT array_agg(id ORDER BY id) AS ids,
            encode(sha256(convert_to(string_agg(external_id || E'\t' || encode(old_hash, 'hex') || E'\t' || encode(content_hash, 'hex'), E'\n' ORDER BY id), 'UTF8')), 'hex') AS digest
     FROM updated`,
    [projectId],
  );
  return { ids: (rows[0]?.ids ?? []).map(Number), digest: rows[0]?.digest ?? null };
}

/** The project's labels, without a lock (a stream is checked against them as it is read); null when absent. */
export async function readProjectLabels(db: Queryable, projectId: string): Promise<string[] | null> {
  const { rows } = await db.query<{ labels: string[] }>('SELECT labels FROM projects WHERE id = $1', [projectId]);
  return rows[0]?.labels ?? null;
}

/** Takes out of the staging table the rows whose label is not one of `labels`; their ords. */
export async function removeUnknownLabels(client: PoolClient, labels: string[]): Promise<number[]> {
  const { rows } = await client.query<{ ord: number }>('DELETE FROM ingest_batch WHERE label IS NOT NULL AND NOT (label = ANY($1::text[])) RETURNING ord', [labels]);
  return rows.map((r) => r.ord);
}

function csvField(value: string | null): string {
  // Unquoted empty is NULL in COPY's CSV format; a quoted field is always a string.
  return value === null ? '' : `"${value.replaceAll('"', '""')}"`;
}

/** One staging row in COPY's CSV format; `ord` is the row's place (a JSON batch's index, a stream's line). */
export function stagingLine(ord: number, item: NewItem): string {
  return `${ord},${csvField(item.external_id)},${csvField(item.text)},${csvField(JSON.stringify(item.meta))},${item.split},${csvField(item.label)},${item.gold ? 't' : 'f'}\n`;
}

/** A batch's rows as staging lines, gathered into chunks of about 64 KB. */
export function* stagingChunks(items: NewItem[]): Generator<string> {
  let chunk = '';
  for (const [ord, item] of items.entries()) {
    chunk += stagingLine(ord, item);
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** The batch's staging table (dropped at commit), in the caller's transaction. */
export async function createStaging(client: PoolClient): Promise<void> {
  await client.query(
    `CREATE TEMP TABLE ingest_batch (ord integer NOT NULL, external_id text NOT NULL, text text NOT NULL,
       meta jsonb NOT NULL, split text NOT NULL, label text, gold boolean NOT NULL) ON COMMIT DROP`,
  );
}

/** A writable COPY into the staging table: write stagingLine()s to it (it applies backpressure). */
export function stagingCopy(client: PoolClient): NodeJS.WritableStream & { on(event: 'finish', listener: () => void): unknown } {
  return client.query(copyFrom('COPY ingest_batch (ord, external_id, text, meta, split, label, gold) FROM STDIN (FORMAT csv)'));
}

/**
 * Takes out of the staging table every row whose external_id an earlier row of the batch has,
 * and says which: the row's ord and the ord of the first.
 */
export async function removeRepeatedIds(client: PoolClient): Promise<{ ord: number; first: number }[]> {
  const { rows } = await client.query<{ ord: number; first: number }>(
    `DELETE FROM ingest_batch b
     USING (SELECT ord, first FROM (SELECT ord, min(ord) OVER (PARTITION BY external_id) AS first FROM ingest_batch) w WHERE ord <> first) d
     WHERE b.ord = d.ord
     RETURNING d.ord, d.first`,
  );
  return rows.sort((a, b) => a.ord - b.ord);
}

/**
 * Streams the batch with COPY into a temp table, then inserts the new items (in batch order) and
 * the imported annotations of new labeled pool items in one statement. Items whose external_id
 * the project already has are left alone. Call inside the batch's transaction.
 */
export async function insertItems(client: PoolClient, projectId: string, apiKeyId: string | null, items: NewItem[]): Promise<InsertResult> {
  await createStaging(client);
  await pipeline(Readable.from(stagingChunks(items)), stagingCopy(client));
  return insertStaged(client, projectId, apiKeyId);
}

/** The staging table's rows into the project's items (see insertItems). */
export async function insertStaged(client: PoolClient, projectId: string, apiKeyId: string | null): Promise<InsertResult> {
  const { rows } = await client.query<{
    inserted: number;
    pool_inserted: number;
    labels_imported: number;
    first_item_id: number | null;
    last_item_id: number | null;
    digest: string | null;
  }>(
    `WITH inserted AS (
       INSERT INTO items (project_id, external_id, text, meta, split, gold_label, gold_answer, content_hash, status, required_annotations)
       SELECT $1, b.external_id, b.text, b.meta, b.split, CASE WHEN b.gold THEN NULL ELSE b.label END, CASE WHEN b.gold THEN b.label END,
              sha256(convert_to(b.text, 'UTF8')),
              CASE WHEN b.split = 'pool' AND b.label IS NOT NULL AND NOT b.gold THEN 'labeled' ELSE 'unlabeled' END,
              -- The project's overlap: k annotators for the items in its fraction, else one.
              CASE WHEN p.overlap_annotators > 1 AND overlap_member($1, b.external_id, p.overlap_fraction) THEN p.overlap_annotators ELSE 1 END
       FROM ingest_batch b CROSS JOIN (SELECT overlap_annotators, overlap_fraction FROM projects WHERE id = $1) p
       ORDER BY b.ord
       ON CONFLICT (project_id, external_id) DO NOTHING
       RETURNING id, split, gold_label, external_id, content_hash
     ), imported AS (
       INSERT INTO annotations (project_id, item_id, label, annotator, source, api_key_id)
       SELECT $1, id, gold_label, 'import', 'import', $2 FROM inserted
       WHERE split = 'pool' AND gold_label IS NOT NULL
       ORDER BY id
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM inserted)::int AS inserted,
            (SELECT count(*) FROM inserted WHERE split = 'pool')::int AS pool_inserted,
            (SELECT count(*) FROM imported)::int AS labels_imported,
            (SELECT min(id) FROM inserted) AS first_item_id, (SELECT max(id) FROM inserted) AS last_item_id,
            (SELECT encode(sha256(convert_to(string_agg(external_id || E'\t' || encode(content_hash, 'hex'), E'\n' ORDER BY id), 'UTF8')), 'hex')
               FROM inserted) AS digest`,
    [projectId, apiKeyId],
  );
  const row = rows[0]!;
  return {
    inserted: row.inserted,
    poolInserted: row.pool_inserted,
    labelsImported: row.labels_imported,
    firstItemId: row.first_item_id === null ? null : Number(row.first_item_id),
    lastItemId: row.last_item_id === null ? null : Number(row.last_item_id),
    digest: row.digest,
  };
}
