import type { Queryable } from '@alder/db';
import { UNRANKED_STRATEGY } from '@alder/contracts';

/** A lease as leaseNextItem made it, with what the annotator is shown (tasks.mapping.ts parses it). */
export interface LeasedTask {
  task_id: string;
  project_id: string;
  item_id: number;
  external_id: string;
  text: string;
  meta: Record<string, unknown>;
  expires_at: Date;
  /** Lease provenance (copied into task_leases): null ranking for an unranked item. */
  ranking_id: number | null;
  model_id: number | null;
  model_version: number | null;
  model_labels: string[] | null;
  strategy: string;
  /** The ranking entry the item was leased from; null for an unranked item. */
  priority: number | null;
  score: number | null;
  probs: number[] | null;
  /** Null where it is derived from the strategy and probabilities (@alder/contracts, entryRationale). */
  rationale: string | null;
}

/**
 * Leases the next item in one statement: the highest-priority free unlabeled pool item of the
 * project's current ranking, else the oldest free unlabeled pool item the ranking does not
 * cover (items ingested since it was made). Before the project has a ranking with entries
 * it leases nothing: the first tasks come from the cold start, never in file order (see
 * whyNoTask).
 * Rows are claimed with FOR NO KEY UPDATE SKIP LOCKED, so concurrent callers never get the
 * same item; an expired lease counts as free. NO KEY: rows that reference an item (ranking
 * entries being written by sampling, annotations) hold FOR KEY SHARE locks on it, which a plain
 * FOR UPDATE would treat as taken and skip, emptying the queue while a ranking is built.
 * The lease and what the annotator is shown are logged
 * in task_leases by the same statement. Null when no item is free.
 */
export async function leaseNextItem(db: Queryable, projectId: string, annotator: string, apiKeyId: string | null): Promise<LeasedTask | null> {
  const { rows } = await db.query<LeasedTask>(
    `WITH ranked AS (
       -- The ranking id as a scalar subquery (an InitPlan), so the planner walks
       -- ranking_entries_order for exactly that ranking, highest priority first.
       SELECT i.id, re.ranking_id
       FROM ranking_entries re
       JOIN items i ON i.id = re.item_id
       WHERE re.ranking_id = (SELECT current_ranking_id FROM projects WHERE id = $1)
         AND i.project_id = $1 AND i.split = 'pool' AND i.status = 'unlabeled'
         AND (i.lease_id IS NULL OR i.lease_expires_at <= now())
       ORDER BY re.priority DESC, re.item_id
       LIMIT 1
       FOR NO KEY UPDATE OF i SKIP LOCKED
     ), unranked AS (
       SELECT i.id, NULL::bigint AS ranking_id
       FROM items i
       WHERE i.project_id = $1 AND i.split = 'pool' AND i.status = 'unlabeled'
         AND (i.lease_id IS NULL OR i.lease_expires_at <= now())
         -- Only once a ranking with entries exists (NULL before: no row qualifies).
         AND (SELECT r.item_count > 0 FROM projects p JOIN rankings r ON r.id = p.current_ranking_id WHERE p.id = $1)
         AND NOT EXISTS (
           SELECT 1 FROM ranking_entries re
           WHERE re.ranking_id = (SELECT current_ranking_id FROM projects WHERE id = $1) AND re.item_id = i.id
         )
       ORDER BY i.id
       LIMIT 1
       FOR NO KEY UPDATE OF i SKIP LOCKED
     ), picked AS (
       SELECT id, ranking_id FROM ranked
       UNION ALL
       SELECT id, ranking_id FROM unranked WHERE NOT EXISTS (SELECT 1 FROM ranked)
       LIMIT 1
     ), leased AS (
       UPDATE items i
       SET lease_id = gen_random_uuid(), leased_by = $2,
           lease_expires_at = now() + make_interval(secs => (SELECT lease_seconds FROM projects WHERE id = $1)),
           lease_ranking_id = picked.ranking_id
       FROM picked
       WHERE i.id = picked.id
       RETURNING i.id, i.project_id, i.external_id, i.text, i.meta, i.lease_id, i.lease_expires_at, i.lease_ranking_id
     ), shown AS (
       SELECT l.lease_id AS task_id, l.project_id, l.id AS item_id, l.external_id, l.text, l.meta,
              l.lease_expires_at AS expires_at, l.lease_ranking_id AS ranking_id,
              r.model_id, m.version AS model_version, m.labels AS model_labels,
              COALESCE(r.strategy, $4) AS strategy, re.priority, re.score, re.probs, re.rationale
       FROM leased l
       LEFT JOIN rankings r ON r.id = l.lease_ranking_id
       LEFT JOIN models m ON m.id = r.model_id
       LEFT JOIN ranking_entries re ON re.ranking_id = l.lease_ranking_id AND re.item_id = l.id
     ), logged AS (
       INSERT INTO task_leases (id, project_id, item_id, annotator, api_key_id, ranking_id, model_id, selection_score, selection_strategy, expires_at)
       SELECT task_id, project_id, item_id, $2, $3, ranking_id, model_id, score, strategy, expires_at FROM shown
     )
     SELECT task_id, project_id, item_id, external_id, text, meta, expires_at, ranking_id, model_id, model_version, model_labels,
            strategy, priority, score, probs, rationale
     FROM shown`,
    [projectId, annotator, apiKeyId, UNRANKED_STRATEGY],
  );
  return rows[0] ?? null;
}

/**
 * Why leaseNextItem found nothing: no such project; a ranking is pending (free pool items, but
 * no ranking, or only an empty one published before the items arrived: no order to serve them
 * in yet, and ingest has asked sampling for one); or no item is free.
 */
export async function whyNoTask(db: Queryable, projectId: string): Promise<'no-project' | 'ranking-pending' | 'none-free'> {
  const { rows } = await db.query<{ pending: boolean }>(
    `SELECT COALESCE(r.item_count, 0) = 0 AND EXISTS (
              SELECT 1 FROM items i
              WHERE i.project_id = p.id AND i.split = 'pool' AND i.status = 'unlabeled'
                AND (i.lease_id IS NULL OR i.lease_expires_at <= now())
            ) AS pending
     FROM projects p LEFT JOIN rankings r ON r.id = p.current_ranking_id
     WHERE p.id = $1`,
    [projectId],
  );
  if (!rows.length) return 'no-project';
  return rows[0]!.pending ? 'ranking-pending' : 'none-free';
}

export interface LeaseState {
  id: string;
  project_id: string;
  item_id: number;
  external_id: string;
  annotator: string;
  outcome: 'annotated' | 'released' | null;
  /** The item still carries this lease and it has not expired. */
  active: boolean;
  /** The item still carries this lease (expired or not). */
  current: boolean;
  labels: string[];
  /** Lease provenance as copied when the item was leased (@alder/contracts, leaseProvenanceSchema). */
  ranking_id: number | null;
  model_id: number | null;
  model_version: number | null;
  selection_score: number | null;
  selection_strategy: string;
}

/** A lease with its item locked (FOR NO KEY UPDATE), so submit and release see and change it alone. */
export async function lockLease(db: Queryable, taskId: string): Promise<LeaseState | null> {
  const { rows } = await db.query<LeaseState>(
    `SELECT l.id, l.project_id, l.item_id, i.external_id, l.annotator, l.outcome,
            (i.lease_id IS NOT DISTINCT FROM l.id AND i.lease_expires_at > now()) AS active,
            (i.lease_id IS NOT DISTINCT FROM l.id) AS current,
            p.labels, l.ranking_id, l.model_id, m.version AS model_version, l.selection_score, l.selection_strategy
     FROM task_leases l
     JOIN items i ON i.id = l.item_id
     JOIN projects p ON p.id = l.project_id
     LEFT JOIN models m ON m.id = l.model_id
     WHERE l.id = $1
     FOR NO KEY UPDATE OF l, i`,
    [taskId],
  );
  return rows[0] ?? null;
}

export interface NewAnnotation {
  lease: LeaseState;
  label: string;
  annotator: string;
  rationale: string | null;
  timeSpentMs: number | null;
  apiKeyId: string | null;
}

/** Stores the annotation with the lease's provenance, marks the item labeled and ends the lease. */
export async function insertAnnotation(db: Queryable, input: NewAnnotation): Promise<{ id: number; created_at: Date }> {
  const { lease } = input;
  const [stored] = await appendAnnotations(db, [
    {
      projectId: lease.project_id,
      itemId: lease.item_id,
      label: input.label,
      annotator: input.annotator,
      rationale: input.rationale,
      timeSpentMs: input.timeSpentMs,
      leaseId: lease.id,
      apiKeyId: input.apiKeyId,
      modelId: lease.model_id,
      selectionScore: lease.selection_score,
      selectionStrategy: lease.selection_strategy,
    },
  ]);
  await db.query(`UPDATE task_leases SET ended_at = now(), outcome = 'annotated' WHERE id = $1`, [lease.id]);
  return stored!;
}

/** An annotator's annotation as stored; the provenance fields are null where nothing was shown. */
export interface AnnotationInput {
  projectId: string;
  itemId: number;
  label: string;
  annotator: string;
  rationale?: string | null;
  timeSpentMs?: number | null;
  leaseId?: string | null;
  apiKeyId?: string | null;
  modelId?: number | null;
  selectionScore?: number | null;
  selectionStrategy?: string | null;
}

/**
 * Appends annotator annotations, ids in input order, and marks their items labeled and free of
 * any lease. The one write of `source = 'annotator'` rows: submit goes through it, and so do the
 * test fixtures that seed labels, so the two cannot drift. (Imports are written by ingest, in the
 * statement that inserts their items.) Counting the labels is the caller's: `recordLabels`.
 */
export async function appendAnnotations(db: Queryable, rows: AnnotationInput[]): Promise<{ id: number; created_at: Date }[]> {
  if (!rows.length) return [];
  const column = <T>(pick: (row: AnnotationInput) => T | undefined) => rows.map((row) => pick(row) ?? null);
  const { rows: stored } = await db.query<{ id: number; created_at: Date }>(
    `INSERT INTO annotations (project_id, item_id, label, rationale, time_spent_ms, annotator, source, lease_id,
                              api_key_id, model_id, selection_score, selection_strategy)
     SELECT p, i, l, r, t, a, 'annotator', le, k, m, sc, st
     FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::uuid[], $8::uuid[],
                 $9::bigint[], $10::real[], $11::text[]) WITH ORDINALITY AS u(p, i, l, r, t, a, le, k, m, sc, st, n)
     ORDER BY n
     RETURNING id, created_at`,
    [
      column((r) => r.projectId),
      column((r) => r.itemId),
      column((r) => r.label),
      column((r) => r.rationale),
      column((r) => r.timeSpentMs),
      column((r) => r.annotator),
      column((r) => r.leaseId),
      column((r) => r.apiKeyId),
      column((r) => r.modelId),
      column((r) => r.selectionScore),
      column((r) => r.selectionStrategy),
    ],
  );
  await db.query(
    `UPDATE items SET status = 'labeled', lease_id = NULL, leased_by = NULL, lease_expires_at = NULL, lease_ranking_id = NULL
     WHERE id = ANY($1::bigint[])`,
    [rows.map((row) => row.itemId)],
  );
  return stored;
}

/** Ends a lease by request; frees the item if it still carries this lease. */
export async function releaseLease(db: Queryable, lease: LeaseState): Promise<void> {
  await db.query(`UPDATE task_leases SET ended_at = now(), outcome = 'released' WHERE id = $1`, [lease.id]);
  if (lease.current) {
    await db.query(
      'UPDATE items SET lease_id = NULL, leased_by = NULL, lease_expires_at = NULL, lease_ranking_id = NULL WHERE id = $1 AND lease_id = $2',
      [lease.item_id, lease.id],
    );
  }
}

/**
 * Deletes up to `limit` leases that ended before `before` (released, or expired unanswered) and
 * that no annotation came from (retention). A submitted lease stays with its annotation: it is the
 * record of what the annotator was shown. A deleted lease's task id answers 404 instead of 409.
 */
export async function deleteEndedLeases(db: Queryable, before: Date, limit: number): Promise<number> {
  // SKIP LOCKED: a lease a late submit or release holds is left for the next sweep.
  const { rowCount } = await db.query(
    `DELETE FROM task_leases WHERE id IN (
       SELECT l.id FROM task_leases l
       WHERE l.outcome IS DISTINCT FROM 'annotated' AND coalesce(l.ended_at, l.expires_at) < $1
         AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.lease_id = l.id)
       ORDER BY coalesce(l.ended_at, l.expires_at)
       LIMIT $2
       FOR UPDATE OF l SKIP LOCKED
     )`,
    [before, limit],
  );
  return rowCount ?? 0;
}
