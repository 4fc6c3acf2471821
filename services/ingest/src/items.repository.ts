import { createHash } from 'node:crypto';
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

/** A staging table: a JSON batch's (ingest_batch) or a stream chunk's (ingest_stream); both have ord, external_id, text, meta and content_hash. */
export type Staging = 'ingest_batch' | 'ingest_stream';

// A staged row that re-sends an item the project has, with another text or meta.
const changedResend = (staging: Staging) => `FROM ${staging} b JOIN items i ON i.project_id = $1 AND i.external_id = b.external_id
     WHERE (i.text IS DISTINCT FROM b.text OR i.meta IS DISTINCT FROM b.meta)`;

// A staged row's content hash: the reader's (a stream hashes its lines as it reads them), else computed here.
const STAGED_HASH = `coalesce(b.content_hash, sha256(convert_to(b.text, 'UTF8')))`;

/** The staged rows that re-send an item with another text or meta: their ords, in order. */
export async function changedResends(client: PoolClient, projectId: string): Promise<number[]> {
  const { rows } = await client.query<{ ord: number }>(`SELECT b.ord ${changedResend('ingest_batch')} ORDER BY b.ord`, [projectId]);
  return rows.map((r) => r.ord);
}

/**
 * Gives the stored items of changed re-sent rows the staged text and meta (and its content hash);
 * their labels stay. The updated items' ids, in id order, and a SHA-256 (hex) over their external
 * ids with their old and new content hashes: what the audit records of the update.
 */
export async function updateResent(client: PoolClient, projectId: string, batchId: string): Promise<{ ids: number[]; digest: string | null }> {
  const rows = await updateStaged(client, 'ingest_batch', projectId, batchId, null);
  return { ids: rows.map((r) => r.id), digest: rows.length ? updatesDigest(rows) : null };
}

export interface ItemUpdate {
  id: number;
  external_id: string;
  old_hash: string;
  new_hash: string;
}

/** SHA-256 (hex) over updates as "external_id TAB old hash TAB new hash" lines: what the audit records of them. */
export function updatesDigest(updates: readonly ItemUpdate[]): string {
  return createHash('sha256')
    .update(updates.map((u) => `${u.external_id}\t${u.old_hash}\t${u.new_hash}`).join('\n'))
    .digest('hex');
}

/**
 * The changed re-sent staged rows (those of `ords`, or all when null) written over their stored
 * items: text, meta, content hash, and the batch and line that wrote them. In batch order.
 */
export async function updateStaged(client: PoolClient, staging: Staging, projectId: string, batchId: string, ords: number[] | null): Promise<ItemUpdate[]> {
  const { rows } = await client.query<ItemUpdate & { ord: number }>(
    `WITH changed AS (
       SELECT i.id, b.ord, i.external_id, i.content_hash AS old_hash, b.text, b.meta, ${STAGED_HASH} AS new_hash ${changedResend(staging)}
       ${ords ? 'AND b.ord = ANY($3::int[])' : ''}
     ), updated AS (
       UPDATE items i SET text = c.text, meta = c.meta, content_hash = c.new_hash, batch_id = $2, batch_line = c.ord
       FROM changed c WHERE i.id = c.id
       RETURNING i.id, c.ord, c.external_id, encode(c.old_hash, 'hex') AS old_hash, encode(c.new_hash, 'hex') AS new_hash
     )
     SELECT * FROM updated ORDER BY ord`,
    ords ? [projectId, batchId, ords] : [projectId, batchId],
  );
  return rows.map((r) => ({ id: Number(r.id), external_id: r.external_id, old_hash: r.old_hash, new_hash: r.new_hash }));
}

/** What a stream reads of its project before its first line: the settings its lines are checked and landed by. */
export interface StreamProject {
  labels: string[];
  on_resend: OnResend;
  overlap_annotators: number;
  overlap_fraction: number;
}

/** The project's settings, without a lock (a stream is checked against them as it is read); null when absent. */
export async function readStreamProject(db: Queryable, projectId: string): Promise<StreamProject | null> {
  const { rows } = await db.query<StreamProject>('SELECT labels, on_resend, overlap_annotators, overlap_fraction FROM projects WHERE id = $1', [projectId]);
  return rows[0] ?? null;
}

/** Locks the project row for a stream's last step (counters, events) and reads its settings again; null when absent. */
export async function lockStreamProject(db: Queryable, projectId: string): Promise<StreamProject | null> {
  const { rows } = await db.query<StreamProject>('SELECT labels, on_resend, overlap_annotators, overlap_fraction FROM projects WHERE id = $1 FOR NO KEY UPDATE', [projectId]);
  return rows[0] ?? null;
}

function csvField(value: string | null): string {
  // Unquoted empty is NULL in COPY's CSV format; a quoted field is always a string.
  return value === null ? '' : `"${value.replaceAll('"', '""')}"`;
}

/** One staging row of a JSON batch in COPY's CSV format; `ord` is the row's index in the batch. */
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
       meta jsonb NOT NULL, split text NOT NULL, label text, gold boolean NOT NULL, content_hash bytea) ON COMMIT DROP`,
  );
}


/** A writable COPY into the staging table: write stagingLine()s to it (it applies backpressure). */
export function stagingCopy(client: PoolClient): NodeJS.WritableStream & { on(event: 'finish', listener: () => void): unknown } {
  return client.query(copyFrom('COPY ingest_batch (ord, external_id, text, meta, split, label, gold) FROM STDIN (FORMAT csv)'));
}

/**
 * Streams the batch with COPY into a temp table, then inserts the new items (in batch order) and
 * the imported annotations of new labeled pool items in one statement. Items whose external_id
 * the project already has are left alone. Call inside the batch's transaction.
 */
export async function insertItems(client: PoolClient, projectId: string, apiKeyId: string | null, items: NewItem[]): Promise<InsertResult> {
  await createStaging(client);
  await pipeline(Readable.from(stagingChunks(items)), stagingCopy(client));
  return insertStaged(client, projectId, apiKeyId, null);
}

// The staged rows into the project's items, in batch order, each with the batch and line that
// wrote it; rows whose external_id the project has are left alone. $1 project, $2 API key, $3 batch.
const INSERT_STAGED = `inserted AS (
       INSERT INTO items (project_id, external_id, text, meta, split, gold_label, gold_answer, content_hash, status, required_annotations, batch_id, batch_line)
       SELECT $1, b.external_id, b.text, b.meta, b.split, CASE WHEN b.gold THEN NULL ELSE b.label END, CASE WHEN b.gold THEN b.label END,
              ${STAGED_HASH},
              CASE WHEN b.split = 'pool' AND b.label IS NOT NULL AND NOT b.gold THEN 'labeled' ELSE 'unlabeled' END,
              -- The project's overlap: k annotators for the items in its fraction, else one.
              CASE WHEN p.overlap_annotators > 1 AND overlap_member($1, b.external_id, p.overlap_fraction) THEN p.overlap_annotators ELSE 1 END,
              $3, b.ord
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
     )`;

const INSERTED_COUNTS = `(SELECT count(*) FROM inserted)::int AS inserted,
            (SELECT count(*) FROM inserted WHERE split = 'pool')::int AS pool_inserted,
            (SELECT count(*) FROM imported)::int AS labels_imported,
            (SELECT min(id) FROM inserted) AS first_item_id, (SELECT max(id) FROM inserted) AS last_item_id`;

interface InsertedCounts {
  inserted: number;
  pool_inserted: number;
  labels_imported: number;
  first_item_id: string | null;
  last_item_id: string | null;
}

const asId = (id: string | number | null): number | null => (id === null ? null : Number(id));

/** The staging table's rows into the project's items (see insertItems); `batchId` is recorded on each new item. */
export async function insertStaged(client: PoolClient, projectId: string, apiKeyId: string | null, batchId: string | null): Promise<InsertResult> {
  const { rows } = await client.query<InsertedCounts & { digest: string | null }>(
    `WITH ${INSERT_STAGED}
     SELECT ${INSERTED_COUNTS},
            (SELECT encode(sha256(convert_to(string_agg(external_id || E'\t' || encode(content_hash, 'hex'), E'\n' ORDER BY id), 'UTF8')), 'hex')
               FROM inserted) AS digest`,
    [projectId, apiKeyId, batchId],
  );
  const row = rows[0]!;
  return {
    inserted: row.inserted,
    poolInserted: row.pool_inserted,
    labelsImported: row.labels_imported,
    firstItemId: asId(row.first_item_id),
    lastItemId: asId(row.last_item_id),
    digest: row.digest,
  };
}

// A stream's chunk, as COPY rows in one format for both ways in: straight into items, or into the
// ingest_stream staging table (same columns; `ord` is items' batch_line).
const STREAM_COLUMNS = 'project_id, {ord}, external_id, text, meta, split, gold_label, gold_answer, content_hash, status, required_annotations, batch_id';

/** A stream's settled line, ready for COPY: what the item's columns will be. */
export interface StreamRow {
  line: number;
  item: NewItem;
  /** Hex SHA-256 of the text. */
  contentHash: string;
}

/**
 * One line of a stream chunk in COPY's CSV format (STREAM_COLUMNS), for a project whose items
 * need one annotation each (a project with overlap goes the staged way, where Postgres picks).
 */
export function streamLine(projectId: string, batchId: string, row: StreamRow): string {
  const { item } = row;
  const goldLabel = item.gold ? null : item.label;
  const status = item.split === 'pool' && goldLabel !== null ? 'labeled' : 'unlabeled';
  return `${projectId},${row.line},${csvField(item.external_id)},${csvField(item.text)},${csvField(JSON.stringify(item.meta))},${item.split},${csvField(goldLabel)},${csvField(item.gold ? item.label : null)},\\x${row.contentHash},${status},1,${batchId}\n`;
}

/**
 * A stream's chunk table (dropped at commit), in the stream's transaction, with the memory a
 * chunk's statements need: the items check keeps each statement's new rows (a chunk's, some
 * 10 MB) and would spill them to a temp file at the default 4 MB.
 */
export async function createStreamStaging(client: PoolClient): Promise<void> {
  await client.query("SET LOCAL work_mem = '64MB'");
  await client.query(
    `CREATE TEMP TABLE ingest_stream (project_id uuid NOT NULL, ord integer NOT NULL, external_id text NOT NULL, text text NOT NULL, meta jsonb NOT NULL,
       split text NOT NULL, gold_label text, gold_answer text, content_hash bytea NOT NULL, status text NOT NULL, required_annotations smallint NOT NULL,
       batch_id uuid NOT NULL) ON COMMIT DROP`,
  );
}

/** A writable COPY of streamLine()s into the chunk table, emptied first. */
export async function streamStagingCopy(client: PoolClient): Promise<NodeJS.WritableStream> {
  await client.query('TRUNCATE ingest_stream');
  return client.query(copyFrom(`COPY ingest_stream (${STREAM_COLUMNS.replace('{ord}', 'ord')}) FROM STDIN (FORMAT csv)`));
}

/** A writable COPY of streamLine()s straight into items: a line whose external_id the project has fails it (unique violation). */
export function streamItemsCopy(client: PoolClient): NodeJS.WritableStream {
  return client.query(copyFrom(`COPY items (${STREAM_COLUMNS.replace('{ord}', 'batch_line')}) FROM STDIN (FORMAT csv)`));
}

/** The highest item id handed out so far, by any session: every item inserted after this has a higher one. */
export async function itemIdsSoFar(db: Queryable): Promise<number> {
  // Before the first nextval, last_value is the first value to come (is_called false).
  const { rows } = await db.query<{ last_value: string }>('SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS last_value FROM items_id_seq');
  return Number(rows[0]!.last_value);
}

/** Ends a chunk's savepoint; the id of the chunk's last item (the session's last from the sequence: COPY's last row). */
export async function releaseCopiedChunk(client: PoolClient): Promise<number> {
  const results = (await client.query("RELEASE SAVEPOINT stream_chunk; SELECT currval('items_id_seq') AS last_id")) as unknown as { rows: { last_id: string }[] }[];
  return Number(results[1]!.rows[0]!.last_id);
}

/** The batch's first item above `after` (its first chunk's first row), found by the primary key. */
export async function firstBatchItemAfter(db: Queryable, projectId: string, batchId: string, after: number): Promise<number> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM items WHERE id > $3 AND project_id = $1 AND batch_id = $2 ORDER BY id LIMIT 1', [projectId, batchId, after]);
  return Number(rows[0]!.id);
}

/** The imported annotations of a copied chunk's labeled pool items (its rows: the batch's ids in (after, last]); how many. */
export async function importCopiedLabels(
  client: PoolClient,
  input: { projectId: string; batchId: string; apiKeyId: string | null; after: number; last: number },
): Promise<number> {
  const { rowCount } = await client.query(
    `INSERT INTO annotations (project_id, item_id, label, annotator, source, api_key_id)
     SELECT $1, id, gold_label, 'import', 'import', $3 FROM items
     WHERE id > $4 AND id <= $5 AND project_id = $1 AND batch_id = $2 AND split = 'pool' AND gold_label IS NOT NULL
     ORDER BY id`,
    [input.projectId, input.batchId, input.apiKeyId, input.after, input.last],
  );
  return rowCount ?? 0;
}

/** What one staged chunk of a stream did: the counts, and the lines that did not land as new items. */
export interface ChunkResult extends Omit<InsertResult, 'digest'> {
  /** Staged lines whose external_id met a stored item (of the project, or of this same batch), in order. */
  notInserted: number[];
}

/**
 * A stream's chunk (the ingest_stream rows, no two with one external_id) into the project's
 * items, in line order, leaving alone lines whose external_id the project has (they come back,
 * to be told apart by conflictsOf()); the project's overlap picks each item's annotations.
 */
export async function insertStreamChunk(client: PoolClient, projectId: string, apiKeyId: string | null): Promise<ChunkResult> {
  const { rows } = await client.query<InsertedCounts & { not_inserted: number[] | null }>(
    `WITH inserted AS (
       INSERT INTO items (${STREAM_COLUMNS.replace('{ord}', 'batch_line')})
       SELECT b.project_id, b.ord, b.external_id, b.text, b.meta, b.split, b.gold_label, b.gold_answer, b.content_hash, b.status,
              CASE WHEN p.overlap_annotators > 1 AND overlap_member($1, b.external_id, p.overlap_fraction) THEN p.overlap_annotators ELSE 1 END,
              b.batch_id
       FROM ingest_stream b CROSS JOIN (SELECT overlap_annotators, overlap_fraction FROM projects WHERE id = $1) p
       ORDER BY b.ord
       ON CONFLICT (project_id, external_id) DO NOTHING
       RETURNING id, split, gold_label, external_id
     ), imported AS (
       INSERT INTO annotations (project_id, item_id, label, annotator, source, api_key_id)
       SELECT $1, id, gold_label, 'import', 'import', $2 FROM inserted
       WHERE split = 'pool' AND gold_label IS NOT NULL
       ORDER BY id
       RETURNING 1
     ), counted AS (
       SELECT count(*)::int AS inserted, (count(*) FILTER (WHERE split = 'pool'))::int AS pool_inserted, min(id) AS first_item_id, max(id) AS last_item_id FROM inserted
     )
     SELECT counted.*, (SELECT count(*) FROM imported)::int AS labels_imported,
            -- Most chunks land whole: the lines left out are looked for only when some are.
            CASE WHEN counted.inserted < (SELECT count(*) FROM ingest_stream) THEN
              (SELECT array_agg(b.ord ORDER BY b.ord) FROM ingest_stream b WHERE NOT EXISTS (SELECT 1 FROM inserted i WHERE i.external_id = b.external_id))
            END AS not_inserted
     FROM counted`,
    [projectId, apiKeyId],
  );
  const row = rows[0]!;
  return {
    inserted: row.inserted,
    poolInserted: row.pool_inserted,
    labelsImported: row.labels_imported,
    firstItemId: asId(row.first_item_id),
    lastItemId: asId(row.last_item_id),
    notInserted: row.not_inserted ?? [],
  };
}

/** A staged line that met a stored item: whether this batch wrote that item (at `firstLine`), and whether the line differs from it. */
export interface Conflict {
  ord: number;
  /** The item was written by an earlier line of this same batch. */
  repeat: boolean;
  firstLine: number | null;
  /** The line's text or meta differ from the stored item's. */
  changed: boolean;
}

/** What the staged lines `ords` met: see Conflict. In order; a line whose item has gone since is left out. */
export async function conflictsOf(client: PoolClient, projectId: string, batchId: string, ords: number[]): Promise<Conflict[]> {
  const { rows } = await client.query<{ ord: number; repeat: boolean; first_line: number | null; changed: boolean }>(
    `SELECT b.ord, coalesce(i.batch_id = $2, false) AS repeat, i.batch_line AS first_line,
            (i.text IS DISTINCT FROM b.text OR i.meta IS DISTINCT FROM b.meta) AS changed
     FROM ingest_stream b JOIN items i ON i.project_id = $1 AND i.external_id = b.external_id
     WHERE b.ord = ANY($3::int[])
     ORDER BY b.ord`,
    [projectId, batchId, ords],
  );
  return rows.map((r) => ({ ord: r.ord, repeat: r.repeat, firstLine: r.first_line, changed: r.changed }));
}

/** After a stream whose project's overlap changed while it was read: the batch's new items take the new setting. */
export async function applyOverlapToBatch(client: PoolClient, projectId: string, batchId: string): Promise<void> {
  await client.query(
    `UPDATE items i SET required_annotations = CASE WHEN p.overlap_annotators > 1 AND overlap_member($1, i.external_id, p.overlap_fraction) THEN p.overlap_annotators ELSE 1 END
     FROM projects p WHERE p.id = $1 AND i.project_id = $1 AND i.batch_id = $2 AND i.holders = 0`,
    [projectId, batchId],
  );
}
