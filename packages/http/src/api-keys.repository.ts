import { ADVISORY_LOCKS, withTransaction, type Pool, type Queryable } from '@alder/db';
import { generateApiKey, hashApiKey, shownPrefix } from './api-keys';
import type { ApiKeyIdentity } from './handler';

// The one module with SQL on `api_keys`: authentication (every HTTP service), the bootstrap key
// (the service host) and the key routes (labeling-api) all go through it.

export interface StoredApiKey {
  id: string;
  name: string;
  role: string;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, role, key_prefix, created_at, last_used_at, revoked_at';

/** Creates a key and returns the plain key with its row: the only time the plain key exists. */
export async function createApiKey(db: Queryable, input: { name: string; role?: string }): Promise<StoredApiKey & { key: string }> {
  const key = generateApiKey();
  const { rows } = await db.query<StoredApiKey>(
    `INSERT INTO api_keys (name, key_hash, key_prefix, role) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [input.name, hashApiKey(key), shownPrefix(key), input.role ?? 'admin'],
  );
  return { ...rows[0]!, key };
}

/**
 * Makes sure the deployment can be administered. With `configuredKey` (ALDER_ADMIN_KEY), its hash
 * is stored if missing (a key revoked through the API stays revoked). Without, when no active
 * key exists, an admin key is created and returned so the caller can print it once.
 */
export async function ensureBootstrapKey(pool: Pool, configuredKey?: string): Promise<{ key?: string; created: boolean }> {
  return withTransaction(pool, async (client) => {
    // Replicas starting together must not each create a key.
    await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.bootstrapKey]);
    if (configuredKey) {
      const { rowCount } = await client.query(
        `INSERT INTO api_keys (name, key_hash, key_prefix, role) VALUES ('ALDER_ADMIN_KEY', $1, $2, 'admin')
         ON CONFLICT (key_hash) DO NOTHING`,
        [hashApiKey(configuredKey), shownPrefix(configuredKey)],
      );
      return { created: rowCount === 1 };
    }
    const active = await client.query(`SELECT 1 FROM api_keys WHERE revoked_at IS NULL AND role = 'admin' LIMIT 1`);
    if (active.rowCount) return { created: false };
    const { key } = await createApiKey(client, { name: 'bootstrap', role: 'admin' });
    return { key, created: true };
  });
}

/**
 * The key behind a presented secret, or null when unknown or revoked. Touches `last_used_at`
 * at most once a minute, in the same round trip.
 */
export async function authenticateApiKey(db: Queryable, presented: string): Promise<ApiKeyIdentity | null> {
  const { rows } = await db.query<ApiKeyIdentity>(
    `WITH found AS (
       SELECT id, name, role, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
     ), touched AS (
       UPDATE api_keys SET last_used_at = now()
       FROM found
       WHERE api_keys.id = found.id AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute')
     )
     SELECT id, name, role FROM found`,
    [hashApiKey(presented)],
  );
  return rows[0] ?? null;
}

/** Every key, newest first (revoked ones too: the list is the audit of who had access). */
export async function listApiKeys(db: Queryable): Promise<StoredApiKey[]> {
  const { rows } = await db.query<StoredApiKey>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC, id`);
  return rows;
}

export type RevokeOutcome = 'revoked' | 'already-revoked' | 'missing' | 'last-admin';

/**
 * Revokes a key inside the caller's transaction. 'missing' when there is no such key,
 * 'last-admin' when it is the only active admin key (nothing changes then).
 */
export async function revokeApiKey(db: Queryable, id: string): Promise<RevokeOutcome> {
  // Serialises revocations, so two concurrent ones can not remove the last two admin keys.
  await db.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.revokeKey]);
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
