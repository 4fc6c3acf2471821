import type { Queryable } from '@alder/db';

export interface PoolItem {
  id: number;
  text: string;
}

/** One page of the project's unlabeled pool, by id after `afterId` (keyset pagination). */
export async function unlabeledPage(db: Queryable, projectId: string, afterId: number, limit: number): Promise<PoolItem[]> {
  const { rows } = await db.query<PoolItem>(
    `SELECT id, text FROM items
      WHERE project_id = $1 AND split = 'pool' AND status = 'unlabeled' AND id > $2
      ORDER BY id LIMIT $3`,
    [projectId, afterId, limit],
  );
  return rows;
}

/** The `limit` most recent unlabeled pool items, oldest first. */
export async function recentUnlabeled(db: Queryable, projectId: string, limit: number): Promise<PoolItem[]> {
  const { rows } = await db.query<PoolItem>(
    `SELECT id, text FROM (
       SELECT id, text FROM items
        WHERE project_id = $1 AND split = 'pool' AND status = 'unlabeled'
        ORDER BY id DESC LIMIT $2) recent
      ORDER BY id`,
    [projectId, limit],
  );
  return rows;
}
