import type { Queryable } from '@alder/db';
import type { EventEnvelope, RetentionTarget } from '@alder/queues';
import type { AttemptOutcome } from './send';

// The one module with SQL on `webhook_events`, `webhook_deliveries` and `webhook_attempts`
// (migration 0017). Times are Postgres's clock, so every dispatcher process agrees on what is due.

/** The body receivers get: Standard Webhooks' `{ type, timestamp, data }`, the project in `data`. */
export function eventBody(event: EventEnvelope): string {
  return JSON.stringify({ type: event.type, timestamp: event.occurredAt, data: { project_id: event.projectId, ...event.data } });
}

/**
 * The fan-out: stores the event (its body's exact text) and one pending delivery per enabled
 * subscription of the project that wants its type and existed when it occurred, the first attempt
 * due after `firstDelayMs`. Idempotent: a second run of the same event writes nothing. Returns how
 * many deliveries it wrote.
 */
export async function insertEventDeliveries(db: Queryable, event: EventEnvelope, firstDelayMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `WITH subs AS (
       SELECT id FROM webhook_subscriptions
       WHERE project_id = $2 AND enabled AND (events IS NULL OR $3 = ANY (events)) AND created_at <= $5::timestamptz
       FOR KEY SHARE
     ), event AS (
       INSERT INTO webhook_events (id, project_id, type, body, occurred_at)
       SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM subs)
       ON CONFLICT (id) DO NOTHING
       RETURNING id
     )
     INSERT INTO webhook_deliveries (subscription_id, event_id, next_attempt_at)
     SELECT subs.id, event.id, now() + $6::int * interval '1 millisecond' FROM subs CROSS JOIN event`,
    [event.eventId, event.projectId, event.type, eventBody(event), event.occurredAt, firstDelayMs],
  );
  return rowCount ?? 0;
}

/** A delivery taken for an attempt, with what the attempt needs. */
export interface ClaimedDelivery {
  id: number;
  subscription_id: string;
  project_id: string;
  url: string;
  /** The current secret first, the previous one during a rotation's overlap. */
  secrets: string[];
  event_id: string;
  body: string;
  /** Attempts made before this one. */
  attempts: number;
  schedule_step: number;
}

/**
 * Takes up to `limit` due deliveries of enabled subscriptions, soonest first, and pushes their
 * next_attempt_at `leaseMs` ahead: while the attempt is in flight nobody else takes it, and if
 * this process dies with it, it is due again then. SKIP LOCKED: any number of dispatchers.
 */
export async function claimDueDeliveries(db: Queryable, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const { rows } = await db.query<ClaimedDelivery & { secret: string; previous_secret: string | null }>({
    name: 'webhook-claim',
    text: `WITH due AS (
       SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
       WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND s.enabled
       ORDER BY d.next_attempt_at LIMIT $1
       FOR UPDATE OF d SKIP LOCKED
     )
     UPDATE webhook_deliveries d SET next_attempt_at = now() + $2::int * interval '1 millisecond'
     FROM due, webhook_subscriptions s, webhook_events e
     WHERE d.id = due.id AND s.id = d.subscription_id AND e.id = d.event_id
     RETURNING d.id, d.subscription_id, s.project_id, s.url, s.secret,
               CASE WHEN s.previous_secret_expires_at > now() THEN s.previous_secret END AS previous_secret,
               e.id AS event_id, e.body, d.attempts, d.schedule_step`,
    values: [limit, leaseMs],
  });
  return rows.map(({ secret, previous_secret, ...row }) => ({ ...row, id: Number(row.id), secrets: previous_secret ? [secret, previous_secret] : [secret] }));
}

/** One attempt's record and what it decides for its delivery. */
export interface AttemptRecord extends Omit<AttemptOutcome, 'ok'> {
  deliveryId: number;
  attempt: number;
  /** delivered, dead, or pending again after `retryInMs`. */
  status: 'pending' | 'delivered' | 'dead';
  retryInMs: number | null;
  scheduleStep: number;
}

/**
 * Logs attempts and moves their deliveries on, a batch in two statements. Only a delivery still
 * pending changes (one replayed or deleted meanwhile is left as it is now; its attempt is logged
 * while it exists).
 */
export async function recordAttempts(db: Queryable, records: readonly AttemptRecord[]): Promise<void> {
  if (!records.length) return;
  const col = <K extends keyof AttemptRecord>(key: K) => records.map((r) => r[key]);
  await db.query(
    `INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt, url)
     SELECT t.* FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[])
            AS t(delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt, url)
     WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = t.delivery_id)
     ON CONFLICT (delivery_id, attempt) DO NOTHING`,
    [col('deliveryId'), col('attempt'), col('startedAt'), col('durationMs'), col('statusCode'), col('error'), col('responseExcerpt'), col('url')],
  );
  await db.query(
    `UPDATE webhook_deliveries d SET
        status = r.status, attempts = r.attempt, schedule_step = r.step,
        next_attempt_at = CASE WHEN r.status = 'pending' THEN now() + r.retry_ms * interval '1 millisecond' END,
        ended_at = CASE WHEN r.status <> 'pending' THEN now() END,
        last_status_code = r.status_code, last_error = r.error
       FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[], $7::text[]) AS r(id, status, attempt, step, retry_ms, status_code, error)
      WHERE d.id = r.id AND d.status = 'pending'`,
    [col('deliveryId'), col('status'), col('attempt'), col('scheduleStep'), col('retryInMs'), col('statusCode'), col('error')],
  );
}

export interface StoredAttempt {
  attempt: number;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
  url: string;
}

export interface StoredDelivery {
  id: number;
  subscription_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  ended_at: Date | null;
  attempt_log: StoredAttempt[];
}

const DELIVERY_SELECT = `SELECT d.id::int AS id, d.subscription_id, d.event_id, e.type AS event_type, d.status, d.attempts, d.next_attempt_at,
         d.last_status_code, d.last_error, d.created_at, d.ended_at,
         coalesce((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'started_at', a.started_at, 'duration_ms', a.duration_ms,
                     'status_code', a.status_code, 'error', a.error, 'response_excerpt', a.response_excerpt, 'url', a.url) ORDER BY a.attempt)
                   FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]'::jsonb) AS attempt_log
  FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id`;

/** A subscription's deliveries, newest first, with every attempt, and how many match in all. */
export async function listDeliveries(db: Queryable, subscriptionId: string, filter: { status?: string; limit: number; offset: number }): Promise<{ rows: StoredDelivery[]; total: number }> {
  const status = filter.status ?? null;
  const [page, count] = await Promise.all([
    db.query<StoredDelivery>(`${DELIVERY_SELECT} WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.status = $2) ORDER BY d.id DESC LIMIT $3 OFFSET $4`, [subscriptionId, status, filter.limit, filter.offset]),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM webhook_deliveries WHERE subscription_id = $1 AND ($2::text IS NULL OR status = $2)`, [subscriptionId, status]),
  ]);
  return { rows: page.rows, total: count.rows[0]!.total };
}

/** One delivery of the subscription, locked for a change. */
export async function lockDelivery(db: Queryable, subscriptionId: string, id: number): Promise<{ status: StoredDelivery['status'] } | null> {
  const { rows } = await db.query<{ status: StoredDelivery['status'] }>('SELECT status FROM webhook_deliveries WHERE id = $1 AND subscription_id = $2 FOR UPDATE', [id, subscriptionId]);
  return rows[0] ?? null;
}

/** Makes an ended delivery pending again, due now, at the start of the schedule; its log stays. */
export async function replayDelivery(db: Queryable, id: number): Promise<StoredDelivery> {
  await db.query(`UPDATE webhook_deliveries SET status = 'pending', schedule_step = 0, next_attempt_at = now(), ended_at = NULL WHERE id = $1`, [id]);
  const { rows } = await db.query<StoredDelivery>(`${DELIVERY_SELECT} WHERE d.id = $1`, [id]);
  return rows[0]!;
}

/**
 * Ended deliveries (delivered, and dead letters, which stay replayable until then) past the
 * horizon, with their attempts (the foreign key cascades).
 */
async function deleteEndedDeliveriesBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM webhook_deliveries WHERE id IN (
       SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND ended_at < $1 ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED
     )`,
    [before, limit],
  );
  return rowCount ?? 0;
}

/** Stored events past the horizon that no delivery needs any more. */
async function deleteSpentEventsBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM webhook_events WHERE id IN (
       SELECT e.id FROM webhook_events e
       WHERE e.created_at < $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
       ORDER BY e.created_at LIMIT $2 FOR UPDATE SKIP LOCKED
     )`,
    [before, limit],
  );
  return rowCount ?? 0;
}

/**
 * For `startRetention` (@alder/queues): the outbound tables that grow with every event delivered.
 * Deliveries first, so the events they held are spent by the time the second target runs.
 */
export const webhookDeliveriesRetention: RetentionTarget = { table: 'webhook_deliveries', deleteBatch: deleteEndedDeliveriesBefore };
export const webhookEventsRetention: RetentionTarget = { table: 'webhook_events', deleteBatch: deleteSpentEventsBefore };
