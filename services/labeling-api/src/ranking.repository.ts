import type { Queryable } from '@alder/db';

export interface RankingRow {
  id: number;
  strategy: string;
  model_version: number | null;
  model_labels: string[] | null;
  item_count: number;
  created_at: Date;
}

export interface RankingEntryRow {
  item_id: number;
  external_id: string;
  text_excerpt: string;
  priority: number;
  score: number | null;
  probs: number[] | null;
  /** Null where it is derived from the strategy and probabilities (@alder/contracts, entryRationale). */
  rationale: string | null;
  leased: boolean;
}

/** The project's current ranking: undefined without a project, null before the first ranking. */
export async function findCurrentRanking(db: Queryable, projectId: string): Promise<RankingRow | null | undefined> {
  const { rows } = await db.query<RankingRow & { project_id: string }>(
    `SELECT p.id AS project_id, r.id, r.strategy, m.version AS model_version, m.labels AS model_labels, r.item_count, r.created_at
     FROM projects p
     LEFT JOIN rankings r ON r.id = p.current_ranking_id
     LEFT JOIN models m ON m.id = r.model_id
     WHERE p.id = $1`,
    [projectId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return row.id === null ? null : row;
}

/** One page of the ranking's entries whose items are still unlabeled, highest priority first. */
export async function listRankingEntries(db: Queryable, rankingId: number, limit: number, offset: number): Promise<{ rows: RankingEntryRow[]; total: number }> {
  const [page, count] = await Promise.all([
    db.query<RankingEntryRow>(
      `SELECT i.id AS item_id, i.external_id, left(i.text, 200) AS text_excerpt, re.priority, re.score, re.probs, re.rationale,
              EXISTS (SELECT 1 FROM item_slots s WHERE s.item_id = i.id AND s.expires_at > now()) AS leased
       FROM ranking_entries re JOIN items i ON i.id = re.item_id
       WHERE re.ranking_id = $1 AND NOT re.item_labeled AND i.status = 'unlabeled'
       ORDER BY re.priority DESC, i.id
       LIMIT $2 OFFSET $3`,
      [rankingId, limit, offset],
    ),
    db.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM ranking_entries re JOIN items i ON i.id = re.item_id
       WHERE re.ranking_id = $1 AND NOT re.item_labeled AND i.status = 'unlabeled'`,
      [rankingId],
    ),
  ]);
  return { rows: page.rows, total: count.rows[0]!.total };
}
