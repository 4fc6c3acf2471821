import type { Queryable } from '@alder/db';
import type { RetentionTarget } from '@alder/queues';

// The one module with SQL on `integrations` and `received_webhooks` (migration 0015). The access
// hook's lookup of an integration's project is part of the auth round trip (packages/http).

export interface StoredIntegration {
  id: string;
  project_id: string;
  name: string;
  created_at: Date;
  created_by: string;
  secret_rotated_at: Date | null;
  previous_secret_expires_at: Date | null;
}

const COLUMNS = 'id, project_id, name, created_at, created_by, secret_rotated_at, previous_secret_expires_at';

export async function insertIntegration(db: Queryable, input: { projectId: string; name: string; secret: string; createdBy: string }): Promise<StoredIntegration> {
  const { rows } = await db.query<StoredIntegration>(
    `INSERT INTO integrations (project_id, name, secret, created_by) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [input.projectId, input.name, input.secret, input.createdBy],
  );
  return rows[0]!;
}

/** A project's integrations, oldest first; never their secrets. */
export async function listIntegrations(db: Queryable, projectId: string): Promise<StoredIntegration[]> {
  const { rows } = await db.query<StoredIntegration>(`SELECT ${COLUMNS} FROM integrations WHERE project_id = $1 ORDER BY created_at, id`, [projectId]);
  return rows;
}

/**
 * Makes `secret` the current one. The one it replaces stays valid until `now + overlapSeconds`
 * (with 0, not at all); a previous secret still in its overlap is dropped: two at most.
 */
export async function rotateIntegrationSecret(db: Queryable, id: string, input: { secret: string; now: Date; overlapSeconds: number }): Promise<StoredIntegration | null> {
  const { rows } = await db.query<StoredIntegration>(
    `UPDATE integrations
        SET previous_secret = CASE WHEN $3::int > 0 THEN secret END,
            previous_secret_expires_at = CASE WHEN $3::int > 0 THEN $4::timestamptz + make_interval(secs => $3::int) END,
            secret = $2, secret_rotated_at = $4
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [id, input.secret, input.overlapSeconds, input.now],
  );
  return rows[0] ?? null;
}

export async function deleteIntegration(db: Queryable, id: string): Promise<StoredIntegration | null> {
  const { rows } = await db.query<StoredIntegration>(`DELETE FROM integrations WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  return rows[0] ?? null;
}

/** An integration's project and the secrets a delivery may be signed with at `now` (the current one first). */
export async function findSigner(db: Queryable, id: string, now: Date): Promise<{ projectId: string; secrets: string[] } | null> {
  const { rows } = await db.query<{ project_id: string; secret: string; previous: string | null }>(
    `SELECT project_id, secret, CASE WHEN previous_secret_expires_at > $2 THEN previous_secret END AS previous FROM integrations WHERE id = $1`,
    [id, now],
  );
  const row = rows[0];
  return row ? { projectId: row.project_id, secrets: row.previous ? [row.secret, row.previous] : [row.secret] } : null;
}

/**
 * Holds the integration until the caller's transaction ends (a deletion waits), false when it is
 * gone. KEY SHARE, the lock a foreign key takes: a rotation (no key change) does not wait.
 */
export async function lockIntegration(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM integrations WHERE id = $1 FOR KEY SHARE', [id]);
  return rowCount === 1;
}

/** A webhook id seen before: whether its body was the same, and what its delivery answered. */
export interface ReceivedWebhook {
  sameBody: boolean;
  result: unknown;
}

/**
 * Takes the webhook id for this delivery inside its transaction, or, when it was taken before,
 * says by what. A concurrent delivery of the same id waits on the key until the first one ends:
 * its commit makes this one a replay, its rollback frees the id.
 */
export async function claimWebhookId(db: Queryable, integrationId: string, webhookId: string, bodySha256: Buffer): Promise<ReceivedWebhook | null> {
  const claimed = await db.query(
    `INSERT INTO received_webhooks (integration_id, webhook_id, body_sha256) VALUES ($1, $2, $3) ON CONFLICT (integration_id, webhook_id) DO NOTHING`,
    [integrationId, webhookId, bodySha256],
  );
  if (claimed.rowCount === 1) return null;
  const { rows } = await db.query<{ same_body: boolean; result: unknown }>(
    'SELECT body_sha256 = $3 AS same_body, result FROM received_webhooks WHERE integration_id = $1 AND webhook_id = $2',
    [integrationId, webhookId, bodySha256],
  );
  return { sameBody: rows[0]!.same_body, result: rows[0]!.result };
}

/** Stores what the delivery that claimed the id answered, for its retries. */
export async function recordWebhookResult(db: Queryable, integrationId: string, webhookId: string, result: unknown): Promise<void> {
  await db.query('UPDATE received_webhooks SET result = $3 WHERE integration_id = $1 AND webhook_id = $2', [integrationId, webhookId, JSON.stringify(result)]);
}

/** Received webhook ids past the horizon (a replay of them is refused by its timestamp long before). */
async function deleteReceivedBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM received_webhooks WHERE (integration_id, webhook_id) IN (
       SELECT integration_id, webhook_id FROM received_webhooks WHERE received_at < $1 ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED
     )`,
    [before, limit],
  );
  return rowCount ?? 0;
}

/** For `startRetention` (@alder/queues): ingest's table that grows with every delivery. */
export const receivedWebhooksRetention: RetentionTarget = { table: 'received_webhooks', deleteBatch: deleteReceivedBefore };
