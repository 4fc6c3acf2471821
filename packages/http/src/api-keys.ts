import { createHash, randomBytes } from 'node:crypto';
import { withTransaction, type Pool, type Queryable } from '@alder/db';
import type { ApiKeyIdentity } from './handler';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_PREFIX = 'alder_';
const SHOWN_PREFIX_LENGTH = KEY_PREFIX.length + 6;
// Any constant works: it only has to be the same in every process that bootstraps.
const BOOTSTRAP_LOCK = 7_264_003;

/** The stored form of a key: SHA-256, hex. Keys are long random strings, so no salt is needed. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** `alder_` + 32 uniformly random base62 characters (about 190 bits). */
export function generateApiKey(): string {
  let out = KEY_PREFIX;
  while (out.length < KEY_PREFIX.length + 32) {
    for (const byte of randomBytes(48)) {
      // 248 = 4 * 62: rejecting the bytes above it keeps every character equally likely.
      if (byte < 248 && out.length < KEY_PREFIX.length + 32) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

export interface StoredApiKey {
  id: string;
  name: string;
  role: string;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** Creates a key and returns the plain key with its row: the only time the plain key exists. */
export async function createApiKey(db: Queryable, input: { name: string; role?: string }): Promise<StoredApiKey & { key: string }> {
  const key = generateApiKey();
  const { rows } = await db.query<StoredApiKey>(
    `INSERT INTO api_keys (name, key_hash, key_prefix, role) VALUES ($1, $2, $3, $4)
     RETURNING id, name, role, key_prefix, created_at, last_used_at, revoked_at`,
    [input.name, hashApiKey(key), key.slice(0, SHOWN_PREFIX_LENGTH), input.role ?? 'admin'],
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
    await client.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
    if (configuredKey) {
      const { rowCount } = await client.query(
        `INSERT INTO api_keys (name, key_hash, key_prefix, role) VALUES ('ALDER_ADMIN_KEY', $1, $2, 'admin')
         ON CONFLICT (key_hash) DO NOTHING`,
        [hashApiKey(configuredKey), configuredKey.slice(0, SHOWN_PREFIX_LENGTH)],
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
