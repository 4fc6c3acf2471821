import type { Queryable } from '@alder/db';

export interface ItemRow {
  id: number;
  external_id: string;
  split: string;
  status: string;
  gold_answer: string | null;
  /** Annotations the item has (all of them, set aside ones too). */
  annotations: number;
  created_at: Date;
}

/** An item by its external id within a project (locked with `lock`); null when there is none. */
export async function findItem(db: Queryable, projectId: string, externalId: string, lock = false): Promise<ItemRow | null> {
  const { rows } = await db.query<ItemRow>(
    `SELECT i.id, i.external_id, i.split, i.status, i.gold_answer, i.created_at,
            (SELECT count(*) FROM annotations a WHERE a.item_id = i.id)::int AS annotations
     FROM items i WHERE i.project_id = $1 AND i.external_id = $2 ${lock ? 'FOR NO KEY UPDATE OF i' : ''}`,
    [projectId, externalId],
  );
  const row = rows[0];
  return row ? { ...row, id: Number(row.id) } : null;
}
