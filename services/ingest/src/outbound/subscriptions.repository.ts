import type { Queryable } from '@alder/db';
import { EVENT_TYPES, eventMask, type EventType } from '@alder/queues';

/** Bit order of the event mask (@alder/queues, EVENT_TYPES). */
const EVENT_ORDER = [...EVENT_TYPES];

// The one module with SQL on `webhook_subscriptions` and `projects.webhook_events` (migration
// 0017). Every change of which subscriptions are enabled or what they want locks the project row
// first and then rewrites its mask, so two concurrent changes never leave a mask that misses a type.

export interface StoredSubscription {
  id: string;
  project_id: string;
  url: string;
  events: EventType[] | null;
  description: string;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: Date | null;
  consecutive_failures: number;
  created_at: Date;
  created_by: string;
  secret_rotated_at: Date | null;
  previous_secret_expires_at: Date | null;
}

const COLUMNS = `id, project_id, url, events, description, enabled, disabled_reason, disabled_at, consecutive_failures,
  created_at, created_by, secret_rotated_at, previous_secret_expires_at`;

/**
 * Locks the project row (NO KEY UPDATE: the annotator's label count takes the same, briefly) so
 * the mask this transaction writes is computed from every committed subscription. False when the
 * project is gone.
 */
export async function lockProjectForSubscriptions(db: Queryable, projectId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM projects WHERE id = $1 FOR NO KEY UPDATE', [projectId]);
  return rowCount === 1;
}

/** Rewrites the project's event mask from its enabled subscriptions. Call with the project locked. */
export async function refreshEventMask(db: Queryable, projectId: string): Promise<void> {
  // Masks of the subscriptions: NULL events (every type) is all bits (eventMask(null)).
  await db.query(
    `UPDATE projects SET webhook_events = coalesce((
       SELECT bit_or(CASE WHEN s.events IS NULL THEN $2::int ELSE (
                SELECT coalesce(bit_or(1 << (array_position($3::text[], t) - 1)), 0) FROM unnest(s.events) t) END)
       FROM webhook_subscriptions s WHERE s.project_id = $1 AND s.enabled), 0)
     WHERE id = $1`,
    [projectId, eventMask(null), EVENT_ORDER],
  );
}

export async function insertSubscription(
  db: Queryable,
  input: { projectId: string; url: string; events: EventType[] | null; description: string; secret: string; createdBy: string },
): Promise<StoredSubscription> {
  const { rows } = await db.query<StoredSubscription>(
    `INSERT INTO webhook_subscriptions (project_id, url, events, description, secret, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [input.projectId, input.url, input.events, input.description, input.secret, input.createdBy],
  );
  return rows[0]!;
}

export async function listSubscriptions(db: Queryable, projectId: string): Promise<StoredSubscription[]> {
  const { rows } = await db.query<StoredSubscription>(`SELECT ${COLUMNS} FROM webhook_subscriptions WHERE project_id = $1 ORDER BY created_at, id`, [projectId]);
  return rows;
}

/** A subscription of this project (null when it is another project's or none). */
export async function findSubscription(db: Queryable, projectId: string, id: string, lock = false): Promise<StoredSubscription | null> {
  const { rows } = await db.query<StoredSubscription>(
    `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE id = $2 AND project_id = $1${lock ? ' FOR NO KEY UPDATE' : ''}`,
    [projectId, id],
  );
  return rows[0] ?? null;
}

export interface SubscriptionChange {
  url?: string;
  /** null: every type. */
  events?: EventType[] | null;
  description?: string;
  enabled?: boolean;
  /** With enabled false: why (a manager, a 410, dead letters in a row). */
  disabledReason?: string;
}

/**
 * Applies a change to a subscription of the project. Enabling clears the reason and the failure
 * count; disabling records why. Call with the project locked, then refreshEventMask.
 */
export async function updateSubscription(db: Queryable, projectId: string, id: string, change: SubscriptionChange): Promise<StoredSubscription | null> {
  const { rows } = await db.query<StoredSubscription>(
    `UPDATE webhook_subscriptions SET
        url = coalesce($3, url),
        events = CASE WHEN $4::boolean THEN $5::text[] ELSE events END,
        description = coalesce($6, description),
        enabled = coalesce($7, enabled),
        disabled_reason = CASE WHEN $7 IS NULL OR $7 = enabled THEN disabled_reason WHEN $7 THEN NULL ELSE $8 END,
        disabled_at = CASE WHEN $7 IS NULL OR $7 = enabled THEN disabled_at WHEN $7 THEN NULL ELSE now() END,
        consecutive_failures = CASE WHEN $7 AND NOT enabled THEN 0 ELSE consecutive_failures END
      WHERE id = $2 AND project_id = $1
      RETURNING ${COLUMNS}`,
    [projectId, id, change.url ?? null, change.events !== undefined, change.events ?? null, change.description ?? null, change.enabled ?? null, change.disabledReason ?? null],
  );
  return rows[0] ?? null;
}

export async function deleteSubscription(db: Queryable, projectId: string, id: string): Promise<StoredSubscription | null> {
  const { rows } = await db.query<StoredSubscription>(`DELETE FROM webhook_subscriptions WHERE id = $2 AND project_id = $1 RETURNING ${COLUMNS}`, [projectId, id]);
  return rows[0] ?? null;
}

/** Makes `secret` the current one; the replaced one signs too until `now + overlapSeconds` (0: not at all). */
export async function rotateSubscriptionSecret(db: Queryable, projectId: string, id: string, input: { secret: string; overlapSeconds: number }): Promise<StoredSubscription | null> {
  const { rows } = await db.query<StoredSubscription>(
    `UPDATE webhook_subscriptions
        SET previous_secret = CASE WHEN $4::int > 0 THEN secret END,
            previous_secret_expires_at = CASE WHEN $4::int > 0 THEN now() + make_interval(secs => $4::int) END,
            secret = $3, secret_rotated_at = now()
      WHERE id = $2 AND project_id = $1
      RETURNING ${COLUMNS}`,
    [projectId, id, input.secret, input.overlapSeconds],
  );
  return rows[0] ?? null;
}

/**
 * Counts the outcome of ended deliveries against their subscriptions: a delivery delivered resets
 * the count, each dead letter adds one. Returns the subscriptions whose count reached `limit`
 * (still enabled), for the caller to disable.
 */
export async function countDeliveryOutcomes(db: Queryable, outcomes: { subscriptionId: string; dead: boolean }[], limit: number): Promise<{ id: string; project_id: string; consecutive_failures: number }[]> {
  if (!outcomes.length) return [];
  // Per subscription, in order: the count after the last success, and whether there was one.
  const tally = new Map<string, { reset: boolean; dead: number }>();
  for (const o of outcomes) {
    const t = tally.get(o.subscriptionId) ?? { reset: false, dead: 0 };
    if (o.dead) t.dead += 1;
    else Object.assign(t, { reset: true, dead: 0 });
    tally.set(o.subscriptionId, t);
  }
  const ids = [...tally.keys()].sort();
  const { rows } = await db.query<{ id: string; project_id: string; consecutive_failures: number; enabled: boolean }>(
    `UPDATE webhook_subscriptions s
        SET consecutive_failures = CASE WHEN t.reset THEN t.dead ELSE s.consecutive_failures + t.dead END
       FROM unnest($1::uuid[], $2::boolean[], $3::int[]) AS t(id, reset, dead)
      WHERE s.id = t.id AND (t.dead > 0 OR s.consecutive_failures <> 0)
      RETURNING s.id, s.project_id, s.consecutive_failures, s.enabled`,
    [ids, ids.map((id) => tally.get(id)!.reset), ids.map((id) => tally.get(id)!.dead)],
  );
  return rows.filter((r) => r.enabled && r.consecutive_failures >= limit);
}
