import { createHash } from 'node:crypto';
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
  /** SHA-256 (hex) over the new items' external ids and content hashes in line order: what the audit records of the batch. */
  digest: string | null;
}

export type OnResend = 'skip' | 'update' | 'reject';

/** What a batch does with a new item whose text the project has under another external_id (projects.on_duplicate_text). */
export type OnDuplicateText = 'report' | 'skip' | 'link';

/** Locks the project row for a batch, or a stream's last step (settings and counters stay put until commit), with its settings; null when absent. */
export async function lockProject(db: Queryable, projectId: string): Promise<IngestSettings | null> {
  const { rows } = await db.query<IngestSettings>('SELECT labels, on_resend, on_duplicate_text, overlap_annotators, overlap_fraction FROM projects WHERE id = $1 FOR NO KEY UPDATE', [projectId]);
  return rows[0] ?? null;
}

/** A project's settings that ingest checks and lands rows by (a stream reads them before its first line). */
export interface IngestSettings {
  labels: string[];
  on_resend: OnResend;
  on_duplicate_text: OnDuplicateText;
  overlap_annotators: number;
  overlap_fraction: number;
}

/** The project's settings, without a lock (a stream is checked against them as it is read); null when absent. */
export async function readIngestSettings(db: Queryable, projectId: string): Promise<IngestSettings | null> {
  const { rows } = await db.query<IngestSettings>('SELECT labels, on_resend, on_duplicate_text, overlap_annotators, overlap_fraction FROM projects WHERE id = $1', [projectId]);
  return rows[0] ?? null;
}

function csvField(value: string | null): string {
  // Unquoted empty is NULL in COPY's CSV format; a quoted field is always a string.
  return value === null ? '' : `"${value.replaceAll('"', '""')}"`;
}

/**
 * A JSON batch's rows that re-send an item the project has with another text or meta (under
 * on_resend 'reject' the batch is refused whole): their indexes, in order.
 */
export async function changedResendsOf(db: Queryable, projectId: string, items: readonly NewItem[]): Promise<number[]> {
  const { rows } = await db.query<{ ord: number }>(
    `SELECT (u.ord - 1)::int AS ord
     FROM unnest($2::text[], $3::text[], $4::jsonb[]) WITH ORDINALITY u(external_id, text, meta, ord)
     JOIN items i ON i.project_id = $1 AND i.external_id = u.external_id
     WHERE i.text IS DISTINCT FROM u.text OR i.meta IS DISTINCT FROM u.meta
     ORDER BY u.ord`,
    [projectId, items.map((i) => i.external_id), items.map((i) => i.text), items.map((i) => JSON.stringify(i.meta))],
  );
  return rows.map((r) => r.ord);
}

export interface ItemUpdate {
  id: number;
  external_id: string;
  old_hash: string;
  new_hash: string;
}

/**
 * The changed re-sent rows of a stream chunk (`ords`) written over their stored items: text,
 * meta, content hash, and the batch and line that wrote them; their labels stay. An item whose
 * new text the project has under another item (or an earlier of these rows has) names that one
 * as its original, as a new item would. In line order.
 */
export async function updateStaged(client: PoolClient, projectId: string, batchId: string, ords: number[]): Promise<ItemUpdate[]> {
  const { rows } = await client.query<ItemUpdate & { ord: number }>(
    `WITH changed AS (
       SELECT i.id, b.ord, i.external_id, i.content_hash AS old_hash, b.text, b.meta, b.content_hash AS new_hash
       FROM ingest_stream b JOIN items i ON i.project_id = $1 AND i.external_id = b.external_id
       WHERE (i.text IS DISTINCT FROM b.text OR i.meta IS DISTINCT FROM b.meta) AND b.ord = ANY($3::int[])
     ), placed AS (
       SELECT c.*,
              (SELECT o.id FROM items o WHERE o.project_id = $1 AND o.content_hash = c.new_hash AND o.duplicate_of IS NULL
                 AND o.id NOT IN (SELECT id FROM changed) LIMIT 1) AS existing,
              first_value(c.id) OVER (PARTITION BY c.new_hash ORDER BY c.ord) AS first_changed
       FROM changed c
     ), updated AS (
       UPDATE items i SET text = c.text, meta = c.meta, content_hash = c.new_hash, batch_id = $2, batch_line = c.ord,
              duplicate_of = coalesce(c.existing, CASE WHEN c.first_changed <> c.id THEN c.first_changed END)
       FROM placed c WHERE i.id = c.id
       RETURNING i.id, c.ord, c.external_id, encode(c.old_hash, 'hex') AS old_hash, encode(c.new_hash, 'hex') AS new_hash
     )
     SELECT * FROM updated ORDER BY ord`,
    [projectId, batchId, ords],
  );
  return rows.map((r) => ({ id: Number(r.id), external_id: r.external_id, old_hash: r.old_hash, new_hash: r.new_hash }));
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
    `CREATE TEMP TABLE IF NOT EXISTS ingest_stream (project_id uuid NOT NULL, ord integer NOT NULL, external_id text NOT NULL, text text NOT NULL, meta jsonb NOT NULL,
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

interface InsertedCounts {
  inserted: number;
  pool_inserted: number;
  labels_imported: number;
  first_item_id: string | null;
  last_item_id: string | null;
}

const asId = (id: string | number | null): number | null => (id === null ? null : Number(id));

function insertedCounts(row: InsertedCounts): Omit<InsertResult, 'digest'> {
  return { inserted: row.inserted, poolInserted: row.pool_inserted, labelsImported: row.labels_imported, firstItemId: asId(row.first_item_id), lastItemId: asId(row.last_item_id) };
}

// Pieces of the statements that land staged rows ($1 the project, $2 the sender's key; `inserted`
// returns id, split, gold_label, batch_line): the project's overlap, each item's annotations by
// it, the imported labels of new labeled pool items, and the counts.
const PROJECT_OVERLAP = '(SELECT overlap_annotators, overlap_fraction FROM projects WHERE id = $1)';
const REQUIRED_ANNOTATIONS = 'CASE WHEN p.overlap_annotators > 1 AND overlap_member($1, b.external_id, p.overlap_fraction) THEN p.overlap_annotators ELSE 1 END';
const IMPORTED_LABELS = `imported AS (
       INSERT INTO annotations (project_id, item_id, label, annotator, source, api_key_id)
       SELECT $1, id, gold_label, 'import', 'import', $2 FROM inserted
       WHERE split = 'pool' AND gold_label IS NOT NULL
       ORDER BY id
       RETURNING 1
     )`;
// A line's status: 'linked' for an unlabeled pool item that is not gold, when $link (a repeated text under 'link').
const LINKED_STATUS = `CASE WHEN $link AND b.status = 'unlabeled' AND b.split = 'pool' AND b.gold_answer IS NULL THEN 'linked' ELSE b.status END`;
const INSERTED_COUNTS = `count(*)::int AS inserted, (count(*) FILTER (WHERE split = 'pool'))::int AS pool_inserted, min(id) AS first_item_id, max(id) AS last_item_id`;

/** What one staged chunk of a stream did: the counts, and the lines that did not land as new items. */
export interface ChunkResult extends Omit<InsertResult, 'digest'> {
  /** Staged lines that met a stored item (of the project, or of this same batch) and did not land, in order. */
  notInserted: number[];
  /** Lines that landed as repeated texts of a stored item (naming it in duplicate_of). */
  duplicateTexts: number;
}

/**
 * A stream's chunk (the ingest_stream rows, no two with one external_id) into the project's
 * items, in line order; the project's overlap picks each item's annotations. A line whose text
 * a stored item has lands in the same statement naming it (`duplicate_of`; linked under
 * 'link'), or not at all under 'skip'. Lines that did not land come back, to be told apart by
 * conflictsOf(): those whose external_id the project has, those skipped, and repeated texts of
 * an earlier line of this chunk (whose original this statement can not see yet).
 */
export async function insertStreamChunk(client: PoolClient, projectId: string, apiKeyId: string | null, onDuplicateText: OnDuplicateText): Promise<ChunkResult> {
  const { rows } = await client.query<InsertedCounts & { not_inserted: number[] | null; duplicate_texts: number }>(
    `WITH placed AS (
       SELECT b.*, (SELECT o.id FROM items o WHERE o.project_id = $1 AND o.content_hash = b.content_hash AND o.duplicate_of IS NULL) AS original
       FROM ingest_stream b
     ), inserted AS (
       INSERT INTO items (${STREAM_COLUMNS.replace('{ord}', 'batch_line')}, duplicate_of)
       SELECT b.project_id, b.ord, b.external_id, b.text, b.meta, b.split, b.gold_label, b.gold_answer, b.content_hash,
              ${LINKED_STATUS.replace('$link', "($3 = 'link' AND b.original IS NOT NULL)")},
              ${REQUIRED_ANNOTATIONS},
              b.batch_id, b.original
       FROM placed b CROSS JOIN ${PROJECT_OVERLAP} p
       WHERE $3 <> 'skip' OR b.original IS NULL
       ORDER BY b.ord
       -- Either key: the external_id's (a re-send, a repeat) or the first text's (a repeated text).
       ON CONFLICT DO NOTHING
       RETURNING id, split, gold_label, batch_line, duplicate_of
     ), ${IMPORTED_LABELS}, counted AS (
       SELECT ${INSERTED_COUNTS}, (count(*) FILTER (WHERE duplicate_of IS NOT NULL))::int AS duplicate_texts FROM inserted
     )
     SELECT counted.*, (SELECT count(*) FROM imported)::int AS labels_imported,
            -- Most chunks land whole: the lines left out are looked for only when some are.
            CASE WHEN counted.inserted < (SELECT count(*) FROM ingest_stream) THEN
              (SELECT array_agg(b.ord ORDER BY b.ord) FROM ingest_stream b WHERE NOT EXISTS (SELECT 1 FROM inserted i WHERE i.batch_line = b.ord))
            END AS not_inserted
     FROM counted`,
    [projectId, apiKeyId, onDuplicateText],
  );
  const row = rows[0]!;
  return { ...insertedCounts(row), notInserted: row.not_inserted ?? [], duplicateTexts: row.duplicate_texts };
}

/** What a staged line that did not land met: see conflictsOf. */
export type Conflict =
  /** An item of its external_id: written by an earlier line of this batch (`repeat`, at `firstLine`), or stored (a re-send, `changed` or not). */
  | { ord: number; kind: 'external_id'; repeat: boolean; firstLine: number | null; changed: boolean }
  /** No item of its external_id, but one with its text: a repeated text, of `original`. */
  | { ord: number; kind: 'text'; original: number };

/** What the staged lines `ords` met, in order; a line whose item has gone since is left out. */
export async function conflictsOf(client: PoolClient, projectId: string, batchId: string, ords: number[]): Promise<Conflict[]> {
  const { rows } = await client.query<{ ord: number; same_id: boolean; repeat: boolean; first_line: number | null; changed: boolean; original: string | null }>(
    `SELECT b.ord, i.id IS NOT NULL AS same_id, coalesce(i.batch_id = $2, false) AS repeat, i.batch_line AS first_line,
            (i.text IS DISTINCT FROM b.text OR i.meta IS DISTINCT FROM b.meta) AS changed,
            CASE WHEN i.id IS NULL THEN
              (SELECT o.id FROM items o WHERE o.project_id = $1 AND o.content_hash = b.content_hash AND o.duplicate_of IS NULL)
            END AS original
     FROM ingest_stream b LEFT JOIN items i ON i.project_id = $1 AND i.external_id = b.external_id
     WHERE b.ord = ANY($3::int[])
     ORDER BY b.ord`,
    [projectId, batchId, ords],
  );
  return rows.flatMap((r): Conflict[] => {
    if (r.same_id) return [{ ord: r.ord, kind: 'external_id', repeat: r.repeat, firstLine: r.first_line, changed: r.changed }];
    return r.original === null ? [] : [{ ord: r.ord, kind: 'text', original: Number(r.original) }];
  });
}

/**
 * Repeated texts of a staged chunk landed as new items naming their originals (`duplicates`:
 * line and original); under 'link' an unlabeled pool item that is not gold lands 'linked': never
 * offered, never ranked, exported with its original's label. As insertStreamChunk counts; the
 * lines that landed (an external_id written meanwhile by another batch leaves its line out).
 */
export async function insertDuplicateTexts(
  client: PoolClient,
  input: { projectId: string; apiKeyId: string | null; link: boolean; duplicates: readonly { ord: number; original: number }[] },
): Promise<Omit<ChunkResult, 'notInserted' | 'duplicateTexts'> & { lines: number[] }> {
  const { rows } = await client.query<InsertedCounts & { lines: number[] | null }>(
    `WITH inserted AS (
       INSERT INTO items (${STREAM_COLUMNS.replace('{ord}', 'batch_line')}, duplicate_of)
       SELECT b.project_id, b.ord, b.external_id, b.text, b.meta, b.split, b.gold_label, b.gold_answer, b.content_hash,
              ${LINKED_STATUS.replace('$link', '$3')},
              ${REQUIRED_ANNOTATIONS},
              b.batch_id, d.original
       FROM ingest_stream b JOIN unnest($4::int[], $5::bigint[]) d(ord, original) ON d.ord = b.ord
       CROSS JOIN ${PROJECT_OVERLAP} p
       ORDER BY b.ord
       ON CONFLICT DO NOTHING
       RETURNING id, split, gold_label, batch_line
     ), ${IMPORTED_LABELS}
     SELECT ${INSERTED_COUNTS}, (SELECT count(*) FROM imported)::int AS labels_imported, array_agg(batch_line ORDER BY batch_line) AS lines
     FROM inserted`,
    [input.projectId, input.apiKeyId, input.link, input.duplicates.map((d) => d.ord), input.duplicates.map((d) => d.original)],
  );
  const row = rows[0]!;
  return { ...insertedCounts(row), lines: row.lines ?? [] };
}

/** After a stream whose project's overlap changed while it was read: the batch's new items take the new setting. */
export async function applyOverlapToBatch(client: PoolClient, projectId: string, batchId: string): Promise<void> {
  await client.query(
    `UPDATE items i SET required_annotations = CASE WHEN p.overlap_annotators > 1 AND overlap_member($1, i.external_id, p.overlap_fraction) THEN p.overlap_annotators ELSE 1 END
     FROM projects p WHERE p.id = $1 AND i.project_id = $1 AND i.batch_id = $2 AND i.holders = 0`,
    [projectId, batchId],
  );
}

