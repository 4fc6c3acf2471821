import type { Queryable } from '@alder/db';
import type { StoredApiKey } from '@alder/http';

// Serialises revocations, so two concurrent ones can not remove the last two admin keys.
const REVOKE_LOCK = 7_264_004;

export async function listApiKeys(db: Queryable): Promise<StoredApiKey[]> {
  const { rows } = await db.query<StoredApiKey>(
    'SELECT id, name, role, key_prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at DESC, id',
  );
  return rows;
}

/**
 * Revokes a key inside the caller's transaction. 'missing' when there is no such key,
 * 'last-admin' when it is the only active admin key (nothing changes then).
 */
export async function revokeApiKey(db: Queryable, id: string): Promise<'revoked' | 'already-revoked' | 'missing' | 'last-admin'> {
  await db.query('SELECT pg_advisory_xact_lock($1)', [REVOKE_LOCK]);
  const { rows } = await db.query<{ role: string; revoked: boolean; other_admins: number }>(
    `SELECT role, revoked_at IS NOT NULL AS revoked,
            (SELECT count(*) FROM api_keys o WHERE o.role = 'admin' AND o.revoked_at IS NULL AND o.id <> k.id)::int AS other_admins
     FROM api_keys k WHERE id = $1`,
    [id],
  );
  const key = rows[0];
  if (!key) return 'missing';
  if (key.revoked) return 'already-revoked';
  if (key.role === 'admin' && key.other_admins === 0) return 'last-admin';
  await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
  return 'revoked';
}
