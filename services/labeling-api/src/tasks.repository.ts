import type { Queryable } from '@alder/db';

export const UNRANKED_STRATEGY = 'unranked';
export const UNRANKED_RATIONALE = 'Not in the current ranking yet: served oldest first until the pool is re-ranked.';

export interface LeasedTask {
  task_id: string;
  project_id: string;
  item_id: number;
  external_id: string;
  text: string;
  meta: Record<string, unknown>;
  expires_at: Date;
  model_version: number | null;
  model_labels: string[] | null;
  strategy: string;
  score: number | null;
  probs: number[] | null;
  /** Null where it is derived from the strategy and probabilities (serialize.ts, entryRationale). */
  rationale: string | null;
}

/**
 * Leases the next item in one statement: the highest-priority free unlabeled pool item of the
 * project's current ranking, else the oldest free unlabeled pool item the ranking does not
 * cover. Rows are claimed with FOR NO KEY UPDATE SKIP LOCKED, so concurrent callers never get the
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
              COALESCE(r.strategy, $4) AS strategy, re.score, re.probs,
              CASE WHEN l.lease_ranking_id IS NULL THEN $5 ELSE re.rationale END AS rationale
       FROM leased l
       LEFT JOIN rankings r ON r.id = l.lease_ranking_id
       LEFT JOIN models m ON m.id = r.model_id
       LEFT JOIN ranking_entries re ON re.ranking_id = l.lease_ranking_id AND re.item_id = l.id
     ), logged AS (
       INSERT INTO task_leases (id, project_id, item_id, annotator, api_key_id, ranking_id, model_id, selection_score, selection_strategy, expires_at)
       SELECT task_id, project_id, item_id, $2, $3, ranking_id, model_id, score, strategy, expires_at FROM shown
     )
     SELECT task_id, project_id, item_id, external_id, text, meta, expires_at, model_version, model_labels, strategy, score, probs, rationale
     FROM shown`,
    [projectId, annotator, apiKeyId, UNRANKED_STRATEGY, UNRANKED_RATIONALE],
  );
  return rows[0] ?? null;
}

export async function projectExists(db: Queryable, projectId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM projects WHERE id = $1', [projectId]);
  return rowCount === 1;
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
            p.labels, l.model_id, m.version AS model_version, l.selection_score, l.selection_strategy
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
  const { rows } = await db.query<{ id: number; created_at: Date }>(
    `INSERT INTO annotations (project_id, item_id, label, rationale, time_spent_ms, annotator, source, lease_id,
                              api_key_id, model_id, selection_score, selection_strategy)
     VALUES ($1, $2, $3, $4, $5, $6, 'annotator', $7, $8, $9, $10, $11)
     RETURNING id, created_at`,
    [lease.project_id, lease.item_id, input.label, input.rationale, input.timeSpentMs, input.annotator, lease.id,
      input.apiKeyId, lease.model_id, lease.selection_score, lease.selection_strategy],
  );
  await db.query(
    `UPDATE items SET status = 'labeled', lease_id = NULL, leased_by = NULL, lease_expires_at = NULL, lease_ranking_id = NULL
     WHERE id = $1`,
    [lease.item_id],
  );
  await db.query(`UPDATE task_leases SET ended_at = now(), outcome = 'annotated' WHERE id = $1`, [lease.id]);
  return rows[0]!;
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
