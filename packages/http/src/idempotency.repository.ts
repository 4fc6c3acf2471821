import type { Queryable } from '@alder/db';

/** Whose key it is: an API key, an operation and the client's `Idempotency-Key`. */
export interface IdempotencyScope {
  apiKeyId: string;
  operationId: string;
  key: string;
}

/** The answer kept for a key: status, the headers that are replayed, the sealed body (null: too large to keep). */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  sealedBody: Buffer | null;
}

/** A row this request now holds (`attempt` tells it from a later takeover). */
export interface HeldKey {
  id: number;
  attempt: string;
}

export type ClaimOutcome =
  | ({ kind: 'claimed' } & HeldKey)
  /** The key was first used with another request (method, path or body). */
  | { kind: 'mismatch' }
  /** The first request with this key is done: its answer. */
  | { kind: 'done'; answer: StoredAnswer };

interface ClaimRow {
  outcome: 'claimed' | 'existing';
  id: string | number;
  attempt: string;
  state: 'in_flight' | 'done';
  same_request: boolean;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: Buffer | null;
}

/**
 * Claims a key for a request, or finds what it holds, in one statement. The caller holds the
 * key's advisory lock (idempotency-locks.ts), so no other request is running with this key: a row
 * still `in_flight` belongs to a request that died, and is taken over when the request is the
 * same (it keeps its first times, so a crash does not extend a key's life). An expired row starts
 * again, whatever the request. Times are Postgres's clock, as the retention sweep's.
 */
export async function claimIdempotencyKey(db: Queryable, scope: IdempotencyScope, requestHash: Buffer, ttlHours: number): Promise<ClaimOutcome> {
  const { rows } = await db.query<ClaimRow>(
    `WITH claimed AS (
       INSERT INTO idempotency_keys AS k (api_key_id, operation_id, idempotency_key, request_hash, state, attempt, expires_at)
       VALUES ($1, $2, $3, $4, 'in_flight', gen_random_uuid(), now() + $5::float8 * interval '1 hour')
       ON CONFLICT (api_key_id, operation_id, idempotency_key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash,
             state = 'in_flight',
             attempt = EXCLUDED.attempt,
             response_status = NULL,
             response_headers = NULL,
             response_body = NULL,
             created_at = CASE WHEN k.expires_at <= now() THEN now() ELSE k.created_at END,
             expires_at = CASE WHEN k.expires_at <= now() THEN EXCLUDED.expires_at ELSE k.expires_at END
         WHERE k.expires_at <= now() OR (k.state = 'in_flight' AND k.request_hash = EXCLUDED.request_hash)
       RETURNING k.id, k.attempt
     )
     SELECT 'claimed' AS outcome, id, attempt, 'in_flight' AS state, true AS same_request,
            NULL::smallint AS response_status, NULL::jsonb AS response_headers, NULL::bytea AS response_body
     FROM claimed
     UNION ALL
     SELECT 'existing', id, attempt, state, request_hash = $4, response_status, response_headers, response_body
     FROM idempotency_keys
     WHERE api_key_id = $1 AND operation_id = $2 AND idempotency_key = $3 AND NOT EXISTS (SELECT 1 FROM claimed)`,
    [scope.apiKeyId, scope.operationId, scope.key, requestHash, ttlHours],
  );
  const row = rows[0];
  if (!row) throw new Error('claimIdempotencyKey: neither claimed nor found');
  if (row.outcome === 'claimed') return { kind: 'claimed', id: Number(row.id), attempt: row.attempt };
  // An in-flight row of the same request would have been taken over: this one is another request's.
  if (!row.same_request || row.state !== 'done') return { kind: 'mismatch' };
  return { kind: 'done', answer: { status: row.response_status!, headers: row.response_headers!, sealedBody: row.response_body } };
}

/** Records the answer of the request that holds the row; false when it was taken over meanwhile. */
export async function completeIdempotencyKey(db: Queryable, held: HeldKey, answer: StoredAnswer): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE idempotency_keys SET state = 'done', response_status = $3, response_headers = $4, response_body = $5
     WHERE id = $1 AND attempt = $2 AND state = 'in_flight'`,
    [held.id, held.attempt, answer.status, JSON.stringify(answer.headers), answer.sealedBody],
  );
  return rowCount === 1;
}

/** Forgets the key of a request that failed (5xx), so that a retry with it runs again. */
export async function releaseIdempotencyKey(db: Queryable, held: HeldKey): Promise<void> {
  await db.query(`DELETE FROM idempotency_keys WHERE id = $1 AND attempt = $2 AND state = 'in_flight'`, [held.id, held.attempt]);
}

/**
 * Deletes up to `limit` expired keys, oldest first (the retention sweep). Each row carries its own
 * expiry (IDEMPOTENCY_KEY_TTL_HOURS when it was made), so the sweep's horizon is not used.
 */
export async function deleteExpiredIdempotencyKeys(db: Queryable, _before: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM idempotency_keys WHERE id IN (
       SELECT id FROM idempotency_keys WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
     )`,
    [limit],
  );
  return rowCount ?? 0;
}
