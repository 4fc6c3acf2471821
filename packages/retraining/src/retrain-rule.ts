import type { Queryable } from '@alder/db';
import { enqueue, trainingQueue } from '@alder/queues';

// The retrain rule, whole, and the only SQL on the columns it keeps (projects.label_count,
// train_requested_at_count, retrain_every as the rule reads it). Three moments apply it:
//
// - labels arrive (annotations, imports) or the settings change: `recordLabels` counts them and,
//   when the labels since the last request reach `retrain_every`, moves the request point to now
//   and enqueues `train-model` (reason `labels`);
// - a manual training request: `markTrainingRequested` restarts the count;
// - a training commits: `requestFollowupIfDue` asks for another when labels arrived meanwhile
//   (`isFollowupDue`, below, says when).
//
// Each runs inside the caller's transaction, with the project row locked, and enqueues through
// the outbox, so the job exists if and only if the change that asked for it committed.

/**
 * One label counted and the rule applied, as a CTE (`label_counter`, returning train_due) for the
 * statement that writes the label (the annotator's submit: one round trip fewer, and the project
 * row, which every submit to the project waits for, is locked for the rest of that statement and
 * the commit alone). A plain UPDATE: Postgres re-reads a row changed meanwhile before it sets it,
 * so the due check and the request mark see the same counts. With one label added the request
 * point (at most the old count) moves to the new count exactly when training is due. `project`
 * is the statement's placeholder for the project id; the caller passes train_due to
 * `applyLabelCount`.
 */
export function countOneLabelCte(project: string): string {
  return `label_counter AS (
       UPDATE projects
       SET label_count = label_count + 1,
           train_requested_at_count = CASE WHEN label_count + 1 - train_requested_at_count >= retrain_every THEN label_count + 1 ELSE train_requested_at_count END
       WHERE id = ${project}
       RETURNING label_count, train_requested_at_count = label_count AS train_due
     )`;
}

/** What the rule decided when a label was counted (countOneLabelCte): the training job, when due, in the same transaction. */
export async function applyLabelCount(db: Queryable, projectId: string, trainDue: boolean, reason: 'labels' = 'labels'): Promise<void> {
  if (trainDue) await enqueue(db, trainingQueue, 'train-model', { projectId, reason });
}

/**
 * Counts `added` labels and applies the rule, inside the caller's transaction. `added = 0` only
 * re-checks it (e.g. after `retrain_every` was lowered). Ingest (imported labels) and
 * labeling-api (annotations, settings) both call this.
 */
export async function recordLabels(
  db: Queryable,
  projectId: string,
  added: number,
  reason: 'labels' = 'labels',
): Promise<{ labelCount: number; trainDue: boolean }> {
  // One statement, so the due check and the request mark read and write the same locked row.
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
  await applyLabelCount(db, projectId, row.train_due, reason);
  return { labelCount: row.label_count, trainDue: row.train_due };
}

/** A manual training request restarts the count towards the next automatic one. */
export async function markTrainingRequested(db: Queryable, projectId: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE projects SET train_requested_at_count = label_count WHERE id = $1', [projectId]);
  return rowCount === 1;
}

/** What the follow-up decision reads when a training commits. */
export interface FollowupInput {
  /** projects.label_count in the snapshot the training set was read from. */
  seen: number;
  /** projects.label_count at commit. */
  now: number;
  /** projects.train_requested_at_count at commit. */
  requested: number;
  retrainEvery: number;
}

/**
 * A finished training asks for a follow-up when labels arrived after its snapshot and either
 * enough of them for a retrain arrived, or a writer asked for a retrain after the snapshot
 * (`requested > seen`: that request's job most likely found this training running and ended as
 * `busy`, so nothing else would train on those labels).
 */
export function isFollowupDue({ seen, now, requested, retrainEvery }: FollowupInput): boolean {
  return now > seen && (now - seen >= retrainEvery || requested > seen);
}

/**
 * Applies the follow-up decision inside a training's commit transaction (the caller holds the
 * project row lock, so the counts cannot move until commit): when due, the request point moves
 * to now and `train-model` (reason `followup`) goes into the outbox. False when not due or when
 * the project is gone.
 */
export async function requestFollowupIfDue(db: Queryable, projectId: string, seen: number): Promise<boolean> {
  const { rows } = await db.query<{ label_count: number; train_requested_at_count: number; retrain_every: number }>(
    'SELECT label_count, train_requested_at_count, retrain_every FROM projects WHERE id = $1 FOR NO KEY UPDATE',
    [projectId],
  );
  const project = rows[0];
  if (!project) return false;
  const due = isFollowupDue({ seen, now: project.label_count, requested: project.train_requested_at_count, retrainEvery: project.retrain_every });
  if (!due) return false;
  await markTrainingRequested(db, projectId);
  await enqueue(db, trainingQueue, 'train-model', { projectId, reason: 'followup' });
  return true;
}

/**
 * Counts labels WITHOUT applying the rule: only for test fixtures that seed a project's labels
 * and decide themselves when training is requested (exported from `@alder/retraining/testing`,
 * not the main entry). Every writer in the services calls `recordLabels`.
 */
export async function countLabels(db: Queryable, projectId: string, added: number): Promise<void> {
  const { rowCount } = await db.query('UPDATE projects SET label_count = label_count + $2 WHERE id = $1', [projectId, added]);
  if (rowCount !== 1) throw new Error(`project ${projectId} does not exist`);
}
