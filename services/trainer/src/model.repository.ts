import { appendAuditEvents, SYSTEM_ACTOR } from '@alder/audit';
import { LABEL_RULE } from './training-data.repository';
import type { Pool, PoolClient } from '@alder/db';
import { claimJob, enqueue, isJobProcessed, samplingQueue } from '@alder/queues';
import { requestFollowupIfDue } from '@alder/retraining';

/** A `training` row whose heartbeat is older than this is presumed dead (its trainer crashed) and may be taken over. */
export const STALE_TRAINING_SECONDS = 30;
/** How often a trainer beats for the training it runs: several beats fit in STALE_TRAINING_SECONDS. */
export const TRAINING_HEARTBEAT_MS = 5_000;

/** The training row a job owns; `token` (its started_at) tells this attempt from a later restart. */
export interface Training {
  projectId: string;
  modelId: number;
  version: number;
  labels: string[];
  /** The project's query strategy when training began: some strategies train differently (trainOptionsFor). */
  strategy: string;
  token: string;
}

/** The training is alive: its heartbeat now (a no-op once the row is no longer this attempt's training). */
export async function beatTraining(pool: Pool, training: Training): Promise<void> {
  await pool.query(`UPDATE models SET heartbeat_at = now() WHERE id = $1 AND status = 'training' AND started_at::text = $2`, [training.modelId, training.token]);
}

export type TrainingStart =
  | { kind: 'started'; training: Training; restarted: boolean; tookOverFrom: number | null }
  | { kind: 'skipped'; reason: 'no-project' | 'done' | 'busy' | 'up-to-date' };

/**
 * Claims the project's one training slot for a job, with the project row locked so that two jobs
 * never decide at once. A job is done once its key is in processed_jobs (committed with the ready
 * model, or with a permanent failure); a row of its own still `training` (crash) or `failed` by
 * an exception (BullMQ retry) is restarted in place.
 */
export async function beginTraining(
  client: PoolClient,
  input: { projectId: string; jobKey: string; reason?: string; staleSeconds?: number },
): Promise<TrainingStart> {
  const { projectId, jobKey } = input;
  const project = await client.query<{ labels: string[]; strategy: string }>(
    'SELECT labels, strategy FROM projects WHERE id = $1 FOR NO KEY UPDATE',
    [projectId],
  );
  if (!project.rowCount) return { kind: 'skipped', reason: 'no-project' };
  const { labels, strategy } = project.rows[0]!;

  const own = await client.query<{ id: number; status: string }>('SELECT id, status FROM models WHERE request_key = $1', [jobKey]);
  const ownRow = own.rows[0];
  // Under the project lock, so no other delivery of this job can claim it between the two reads.
  if (ownRow && (ownRow.status === 'ready' || (await isJobProcessed(client, jobKey)))) return { kind: 'skipped', reason: 'done' };

  // A label-triggered job queued behind a training (or a follow-up) that already saw every
  // annotation would only train the same model again. Manual requests always train.
  if (!ownRow && (input.reason === 'labels' || input.reason === 'followup') && (await isUpToDate(client, projectId))) {
    return { kind: 'skipped', reason: 'up-to-date' };
  }

  const running = await client.query<{ id: number; stale: boolean }>(
    `SELECT id, coalesce(heartbeat_at, started_at) < now() - make_interval(secs => $3) AS stale
       FROM models WHERE project_id = $1 AND status = 'training' AND request_key <> $2`,
    [projectId, jobKey, input.staleSeconds ?? STALE_TRAINING_SECONDS],
  );
  const other = running.rows[0];
  if (other && !other.stale) return { kind: 'skipped', reason: 'busy' };
  if (other) {
    await client.query(`UPDATE models SET status = 'failed', error = 'stale', finished_at = now() WHERE id = $1`, [other.id]);
  }

  const row = ownRow
    ? await client.query<{ id: number; version: number; token: string }>(
        `UPDATE models SET status = 'training', labels = $2, started_at = now(), heartbeat_at = now(), finished_at = NULL, error = NULL
          WHERE id = $1 RETURNING id, version, started_at::text AS token`,
        [ownRow.id, labels],
      )
    : await client.query<{ id: number; version: number; token: string }>(
        `INSERT INTO models (project_id, version, status, request_key, labels, heartbeat_at)
         VALUES ($1, (SELECT coalesce(max(version), 0) + 1 FROM models WHERE project_id = $1), 'training', $2, $3, now())
         RETURNING id, version, started_at::text AS token`,
        [projectId, jobKey, labels],
      );
  const { id, version, token } = row.rows[0]!;
  return {
    kind: 'started',
    training: { projectId, modelId: id, version, labels, strategy, token },
    restarted: Boolean(ownRow),
    tookOverFrom: other?.id ?? null,
  };
}

async function isUpToDate(client: PoolClient, projectId: string): Promise<boolean> {
  const { rows } = await client.query<{ fresh: boolean }>(
    `SELECT m.labels = p.labels
            AND coalesce(m.max_annotation_id, 0) >= coalesce((SELECT max(id) FROM annotations WHERE project_id = p.id), 0) AS fresh
       FROM projects p JOIN models m ON m.id = p.current_model_id AND m.status = 'ready'
      WHERE p.id = $1`,
    [projectId],
  );
  return rows[0]?.fresh === true;
}

/**
 * Marks this attempt's model failed, unless it was restarted or taken over meanwhile. With a
 * `jobKey` the failure is permanent: the job is claimed, so a redelivery will not restart it.
 */
export async function failTraining(pool: Pool, training: Training, error: string, jobKey?: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const failed = await client.query(
      `UPDATE models SET status = 'failed', error = $3, finished_at = now()
        WHERE id = $1 AND status = 'training' AND started_at = $2::timestamptz`,
      [training.modelId, training.token, error.slice(0, 2_000)],
    );
    if (failed.rowCount === 1) {
      await appendAuditEvents(client, [
        { projectId: training.projectId, kind: 'model.failed', actor: SYSTEM_ACTOR, subject: { type: 'model', id: String(training.modelId) }, after: { version: training.version, error: error.slice(0, 2_000) } },
      ]);
    }
    if (jobKey) await claimJob(client, jobKey);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export interface FinishedTraining {
  params: Uint8Array;
  metrics: unknown;
  backend: string;
  trainCount: number;
  testCount: number;
  trainMs: number;
  hyperparameters: Record<string, unknown>;
  annotationIds: number[];
  /** The exact training set: each item's label and where it came from. */
  examples: { itemId: number; label: string; source: 'resolution' | 'annotation'; sourceId: number }[];
  maxAnnotationId: number | null;
  /** projects.label_count in the snapshot the training set was read from. */
  labelCountSeen: number;
}

export type FinishOutcome = { kind: 'superseded' } | { kind: 'ready'; current: boolean; followup: boolean };

/**
 * Commits a trained model in one transaction: the model row, its lineage, the project's current
 * model, the rank-pool job, the follow-up decision (the retrain rule, `@alder/retraining`) and
 * the job claim.
 */
export async function finishTraining(client: PoolClient, training: Training, jobKey: string, done: FinishedTraining): Promise<FinishOutcome> {
  const { projectId, modelId } = training;
  // The project row first, as beginTraining and the label writers lock it: no deadlock, and the
  // label counts the follow-up decision reads stay put until commit.
  const project = await client.query('SELECT 1 FROM projects WHERE id = $1 FOR NO KEY UPDATE', [projectId]);
  const updated = await client.query(
    `UPDATE models SET status = 'ready', params = $3, metrics = $4, backend = $5, train_count = $6, test_count = $7,
            train_ms = $8, hyperparameters = $9, max_annotation_id = $10, finished_at = now(), error = NULL
      WHERE id = $1 AND status = 'training' AND started_at = $2::timestamptz`,
    [
      modelId,
      training.token,
      Buffer.from(done.params.buffer, done.params.byteOffset, done.params.byteLength),
      JSON.stringify(done.metrics),
      done.backend,
      done.trainCount,
      done.testCount,
      done.trainMs,
      JSON.stringify(done.hyperparameters),
      done.maxAnnotationId,
    ],
  );
  // Taken over as stale, or restarted by a redelivery of this job: that attempt owns the row now.
  if (!project.rowCount || updated.rowCount !== 1) return { kind: 'superseded' };

  await client.query(
    'INSERT INTO model_training_labels (model_id, annotation_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING',
    [modelId, done.annotationIds],
  );
  await client.query(
    `INSERT INTO model_training_set (model_id, item_id, label, source, source_id)
     SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[]) ON CONFLICT DO NOTHING`,
    [modelId, done.examples.map((e) => e.itemId), done.examples.map((e) => e.label), done.examples.map((e) => e.source), done.examples.map((e) => e.sourceId)],
  );
  await client.query('UPDATE models SET label_rule = $2 WHERE id = $1', [modelId, LABEL_RULE]);
  // Versions only grow, so this guard never refuses in practice; it keeps an old model from
  // replacing a newer one whatever the interleaving.
  const current = await client.query(
    `UPDATE projects p SET current_model_id = $2, updated_at = now()
      WHERE p.id = $1 AND (p.current_model_id IS NULL OR (SELECT version FROM models WHERE id = p.current_model_id) < $3)`,
    [projectId, modelId, training.version],
  );
  const isCurrent = current.rowCount === 1;
  await appendAuditEvents(client, [
    {
      projectId,
      kind: 'model.trained',
      actor: SYSTEM_ACTOR,
      subject: { type: 'model', id: String(modelId) },
      after: {
        version: training.version,
        metrics: done.metrics,
        train_count: done.trainCount,
        test_count: done.testCount,
        backend: done.backend,
        train_ms: done.trainMs,
        max_annotation_id: done.maxAnnotationId,
        current: isCurrent,
      },
    },
  ]);
  if (isCurrent) await enqueue(client, samplingQueue, 'rank-pool', { projectId, modelId, reason: 'model-trained' });

  const followup = await requestFollowupIfDue(client, projectId, done.labelCountSeen);
  await claimJob(client, jobKey);
  return { kind: 'ready', current: isCurrent, followup };
}
