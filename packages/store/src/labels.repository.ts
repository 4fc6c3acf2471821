import type { Queryable } from '@alder/db';
import { enqueue, trainingQueue } from '@alder/queues';

/**
 * Counts `added` labels and applies the retrain rule, inside the caller's transaction: when the
 * labels since the last request reach `retrain_every`, the request point moves to now and a
 * `train-model` job goes into the outbox. `added = 0` only re-checks the rule (e.g. after
 * `retrain_every` was lowered). Ingest (imported labels) and labeling-api (annotations, settings)
 * both call this, so the rule lives here only.
 */
export async function recordLabels(
  db: Queryable,
  projectId: string,
  added: number,
  reason: 'labels' = 'labels',
): Promise<{ labelCount: number; trainDue: boolean }> {
  const { rows } = await db.query<{ label_count: number; train_due: boolean }>(
    `WITH old AS (
       SELECT id, label_count + $2 - train_requested_at_count >= retrain_every
                  AND label_count + $2 > train_requested_at_count AS due
       FROM projects WHERE id = $1 FOR NO KEY UPDATE
     )
     UPDATE projects p
     SET label_count = p.label_count + $2,
         train_requested_at_count = CASE WHEN old.due THEN p.label_count + $2 ELSE p.train_requested_at_count END
     FROM old WHERE p.id = old.id
     RETURNING p.label_count, old.due AS train_due`,
    [projectId, added],
  );
  const row = rows[0];
  if (!row) throw new Error(`project ${projectId} does not exist`);
  if (row.train_due) await enqueue(db, trainingQueue, 'train-model', { projectId, reason });
  return { labelCount: row.label_count, trainDue: row.train_due };
}

/** A manual training request restarts the count towards the next automatic one. */
export async function markTrainingRequested(db: Queryable, projectId: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE projects SET train_requested_at_count = label_count WHERE id = $1', [projectId]);
  return rowCount === 1;
}
