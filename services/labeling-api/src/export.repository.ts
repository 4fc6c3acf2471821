import QueryStream from 'pg-query-stream';
import type { Pool, Queryable } from '@alder/db';

export type ExportFormat = 'jsonl' | 'csv';
export type ResolutionRule = 'agreement' | 'majority' | 'reviewer' | 'expert' | 'single_annotator';

export interface ExportFilters {
  projectId: string;
  /** `resolved`: items with a resolution; `all`: every pool item too, unresolved ones with a null label. */
  status: 'resolved' | 'all';
  /** Only items whose latest resolution used this rule. */
  resolvedBy: ResolutionRule | null;
  /** ISO time: only items whose latest resolution was made at or after it. */
  since: string | null;
}

export interface RowQuery {
  text: string;
  values: unknown[];
}

/** The CSV columns, in order; nested values (meta, review, annotations) are JSON text. */
export const EXPORT_CSV_COLUMNS = ['item_id', 'external_id', 'text', 'meta', 'label', 'rule', 'resolved_at', 'resolved_by', 'review', 'annotations'] as const;

/** UTC with milliseconds, as the API's other timestamps (`toISOString`). */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * One row per exported item, every nested part aggregated here (json_agg), so Node holds one row
 * at a time. An item's label is its latest resolution (a correction is a newer row). Its
 * annotations are those the resolution rests on, or for an unresolved item the active ones (after
 * a review's reject). The parameters fold to constants when the unnamed statement is planned at
 * bind time: `resolved` makes the resolution join an inner join, unset filters drop out.
 * Measured on 1M items: the annotations sorted in a subquery, not by `json_agg(... ORDER BY)`
 * (a sort per item either way, but the aggregate's costs a third more), and the model version
 * as a scalar lookup (a join planned a hash of the models table per item). Tagged with a comment
 * so an operator can tell an export in pg_stat_activity.
 */
// A linked item (a repeated text, on_duplicate_text 'link') is never annotated: it exports with
// its original's resolution and annotations.
const LABELED_AS = `CASE WHEN i.status = 'linked' THEN i.duplicate_of ELSE i.id END`;

const EXPORT_FROM = `
  FROM items i
  LEFT JOIN LATERAL (
    SELECT r.id, r.label, r.rule, r.review_id, r.decided_by, r.annotation_ids, r.created_at
      FROM item_resolutions r WHERE r.item_id = ${LABELED_AS} ORDER BY r.id DESC LIMIT 1
  ) r ON true
  LEFT JOIN LATERAL (
    SELECT json_build_object('id', v.id, 'decision', v.decision, 'reviewer_id', v.reviewer_id, 'decided_at', ${iso('v.decided_at')}) AS review
      FROM reviews v WHERE v.id = r.review_id
  ) v ON true
  LEFT JOIN LATERAL (
    SELECT json_agg(x.annotation) AS list FROM (
      SELECT json_build_object(
               'annotation_id', a.id, 'user_id', a.user_id, 'annotator', a.annotator, 'label', a.label,
               'rationale', a.rationale, 'late', a.late, 'created_at', ${iso('a.created_at')},
               'model_version', (SELECT m.version FROM models m WHERE m.id = a.model_id),
               'strategy', a.selection_strategy, 'score', a.selection_score
             ) AS annotation
        FROM annotations a
       WHERE a.item_id = ${LABELED_AS} AND CASE WHEN r.id IS NULL THEN i.status <> 'linked' AND a.id > i.annotations_from ELSE a.id = ANY (r.annotation_ids) END
       ORDER BY a.id
    ) x
  ) a ON true
  WHERE i.project_id = $1
    AND (r.id IS NOT NULL OR ($2::text = 'all' AND i.split = 'pool'))
    AND ($3::text IS NULL OR r.rule = $3::text)
    AND ($4::timestamptz IS NULL OR r.created_at >= $4::timestamptz)
  ORDER BY i.id`;

const EXPORT_JSONL_SQL = `/* alder:export */
  SELECT json_build_object(
           'item', json_build_object('id', i.id, 'external_id', i.external_id, 'text', i.text, 'meta', i.meta, 'duplicate_of', i.duplicate_of),
           'label', r.label, 'rule', r.rule, 'resolved_at', ${iso('r.created_at')}, 'resolved_by', r.decided_by,
           'review', v.review, 'annotations', coalesce(a.list, '[]'::json)
         )::text AS line
  ${EXPORT_FROM}`;

const EXPORT_CSV_SQL = `/* alder:export */
  SELECT i.id::text AS item_id, i.external_id, i.text, i.meta::text AS meta, r.label, r.rule,
         ${iso('r.created_at')} AS resolved_at, r.decided_by::text AS resolved_by, v.review::text AS review,
         coalesce(a.list, '[]'::json)::text AS annotations
  ${EXPORT_FROM}`;

/** The export's rows: `{ line }` (a JSON record) for jsonl, an `ExportCsvRow` for csv. */
export function exportQuery(format: ExportFormat, filters: ExportFilters): RowQuery {
  return {
    text: format === 'csv' ? EXPORT_CSV_SQL : EXPORT_JSONL_SQL,
    values: [filters.projectId, filters.status, filters.resolvedBy, filters.since],
  };
}

const TRAINING_SET_SQL = `/* alder:training-set */
  SELECT json_build_object('item_id', s.item_id, 'external_id', i.external_id, 'label', s.label, 'source', s.source, 'source_id', s.source_id)::text AS line
    FROM model_training_set s JOIN items i ON i.id = s.item_id
   WHERE s.model_id = $1
   ORDER BY s.item_id`;

/** Versions trained before model_training_set existed: their annotation lineage, each label its annotation's. */
const TRAINING_LABELS_SQL = `/* alder:training-set */
  SELECT json_build_object('item_id', a.item_id, 'external_id', i.external_id, 'label', a.label, 'source', 'annotation', 'source_id', a.id)::text AS line
    FROM model_training_labels l JOIN annotations a ON a.id = l.annotation_id JOIN items i ON i.id = a.item_id
   WHERE l.model_id = $1
   ORDER BY a.item_id, a.id`;

/** A model version's training set as `{ line }` rows: as recorded, else (older versions) its annotation lineage. */
export function trainingSetQuery(modelId: number, recorded: boolean): RowQuery {
  return { text: recorded ? TRAINING_SET_SQL : TRAINING_LABELS_SQL, values: [modelId] };
}

export async function findProjectName(db: Queryable, projectId: string): Promise<string | null> {
  const { rows } = await db.query<{ name: string }>('SELECT name FROM projects WHERE id = $1', [projectId]);
  return rows[0]?.name ?? null;
}

/** The project's model of that version, and whether its exact training set was recorded. */
export async function findModelVersion(db: Queryable, projectId: string, version: number): Promise<{ id: number; recorded: boolean } | null> {
  const { rows } = await db.query<{ id: number; recorded: boolean }>(
    `SELECT m.id, EXISTS (SELECT 1 FROM model_training_set s WHERE s.model_id = m.id) AS recorded
       FROM models m WHERE m.project_id = $1 AND m.version = $2`,
    [projectId, version],
  );
  return rows[0] ?? null;
}

/** How long a closing cursor may take before its connection is discarded instead of pooled. */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * The rows of a query read from a server-side cursor (pg-query-stream) on a client of its own,
 * in a read-only transaction (one snapshot, as any single statement), `batchSize` rows per round trip, only as fast as the consumer pulls: however many rows there
 * are, about one batch is in memory. The client goes back to the pool once the cursor is closed,
 * whether the rows ran out, the query failed or the consumer stopped early (`return()`, as a
 * destroyed response does); a failed or lost connection is discarded rather than pooled.
 */
export async function* streamRows<Row>(pool: Pool, query: RowQuery, batchSize = 200): AsyncGenerator<Row, void, undefined> {
  const client = await pool.connect();
  // A checked-out client has no error listener of the pool's: without this one, a connection
  // lost mid-export would be an unhandled 'error' event and take the process down. It also ends
  // the read under way: pg-query-stream never settles one once its connection is gone (its
  // destroy waits for a cursor close that can not come).
  let lost: Error | undefined;
  let interrupt: ((error: Error) => void) | undefined;
  let onLost!: () => void;
  const gone = new Promise<void>((resolve) => (onLost = resolve));
  const lose = (error?: Error) => {
    lost ??= error ?? new Error('connection ended');
    onLost();
    interrupt?.(lost);
  };
  client.on('error', lose);
  client.on('end', lose);
  let failure: Error | undefined;
  try {
    // Read only, and without JIT: compiling costs ~0.5 s before the first row, and a plan of
    // per-row index lookups does not win it back.
    await client.query('BEGIN READ ONLY');
    await client.query('SET LOCAL jit = off');
  } catch (error) {
    client.off('error', lose);
    client.off('end', lose);
    client.release(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  const stream = client.query(new QueryStream(query.text, query.values, { batchSize }));
  // Errors reach the loop below; one raised while the cursor closes after it must not go unhandled.
  stream.on('error', () => undefined);
  const rows = stream[Symbol.asyncIterator]();
  // One settle-once promise per read, rather than a race against a long-lived "lost" promise:
  // every race would add a reaction to it that holds the row it resolved with, forever.
  const read = () =>
    new Promise<IteratorResult<unknown>>((resolve, reject) => {
      if (lost) return reject(lost);
      interrupt = reject;
      rows.next().then(resolve, reject);
    });
  try {
    for (;;) {
      const next = await read();
      interrupt = undefined;
      if (next.done) break;
      yield next.value as Row;
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    if (!stream.destroyed) stream.destroy();
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      stream.closed ? Promise.resolve(true) : new Promise<boolean>((resolve) => stream.once('close', () => resolve(true))),
      gone.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    let reusable = !failure && !lost && closed;
    if (reusable) reusable = await client.query('COMMIT').then(() => true, () => false);
    client.off('error', lose);
    client.off('end', lose);
    client.release(reusable ? undefined : (failure ?? lost ?? new Error('the cursor did not close cleanly')));
  }
}
