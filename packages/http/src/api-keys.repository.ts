import { ADVISORY_LOCKS, withTransaction, type Pool, type Queryable } from '@alder/db';
import { generateApiKey, hashApiKey, shownPrefix } from './api-keys';
import type { InstanceRole, ProjectResolver, ProjectRole } from './spec';

// The one module with SQL on `api_keys`: authentication (every HTTP service), the bootstrap key
// (the service host) and the key routes (labeling-api) all go through it.

export interface StoredApiKey {
  id: string;
  name: string;
  user_id: string;
  key_prefix: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, user_id, key_prefix, created_at, expires_at, last_used_at, revoked_at';

/** A key that works now: not revoked, not expired, of an active user. */
const USABLE = `k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.active`;

/** Creates a key for a user and returns the plain key with its row: the only time the plain key exists. */
export async function createApiKey(db: Queryable, input: { name: string; userId: string; expiresAt?: Date | null }): Promise<StoredApiKey & { key: string }> {
  const key = generateApiKey();
  const { rows } = await db.query<StoredApiKey>(
    `INSERT INTO api_keys (name, key_hash, key_prefix, user_id, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [input.name, hashApiKey(key), shownPrefix(key), input.userId, input.expiresAt ?? null],
  );
  return { ...rows[0]!, key };
}

/** The admin user the bootstrap key belongs to, created once. */
async function bootstrapAdmin(db: Queryable): Promise<string> {
  const found = await db.query<{ id: string }>(`SELECT id FROM users WHERE role = 'admin' AND active ORDER BY created_at LIMIT 1`);
  if (found.rows[0]) return found.rows[0].id;
  const { rows } = await db.query<{ id: string }>(`INSERT INTO users (name, role) VALUES ('admin', 'admin') RETURNING id`);
  return rows[0]!.id;
}

/**
 * Makes sure the deployment can be administered. With `configuredKey` (ALDER_ADMIN_KEY), its hash
 * is stored if missing, as a key of the first active admin user (created if none; a key revoked
 * through the API stays revoked). Without, when no usable admin key exists, an admin key is
 * created and returned so the caller can print it once.
 */
export async function ensureBootstrapKey(pool: Pool, configuredKey?: string): Promise<{ key?: string; created: boolean }> {
  return withTransaction(pool, async (client) => {
    // Replicas starting together must not each create a key.
    await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.bootstrapKey]);
    if (configuredKey) {
      const known = await client.query('SELECT 1 FROM api_keys WHERE key_hash = $1', [hashApiKey(configuredKey)]);
      if (known.rowCount) return { created: false };
      const userId = await bootstrapAdmin(client);
      await client.query(`INSERT INTO api_keys (name, key_hash, key_prefix, user_id) VALUES ('ALDER_ADMIN_KEY', $1, $2, $3)`, [
        hashApiKey(configuredKey),
        shownPrefix(configuredKey),
        userId,
      ]);
      return { created: true };
    }
    const usable = await client.query(`SELECT 1 FROM api_keys k JOIN users u ON u.id = k.user_id WHERE ${USABLE} AND u.role = 'admin' LIMIT 1`);
    if (usable.rowCount) return { created: false };
    const { key } = await createApiKey(client, { name: 'bootstrap', userId: await bootstrapAdmin(client) });
    return { key, created: true };
  });
}

/** The user behind a usable key, with the project an operation is about and their role in it. */
export interface KeyIdentity {
  key_id: string;
  user_id: string;
  name: string;
  role: InstanceRole;
  /** The scope's project, when it exists (whether or not the user is a member). */
  project_id: string | null;
  project_role: ProjectRole | null;
}

/** How each resolver finds the project from the id in the path ($2). */
const PROJECT_OF: Record<ProjectResolver, string> = {
  path: 'SELECT id FROM projects WHERE id = $2::uuid',
  task: 'SELECT project_id FROM task_leases WHERE id = $2::uuid',
  review: 'SELECT project_id FROM reviews WHERE id = $2::uuid',
  integration: 'SELECT project_id FROM integrations WHERE id = $2::uuid',
};

/**
 * The identity behind a presented secret, or null when the key is unknown, revoked or expired or
 * its user inactive. With a scope, the same round trip finds the project and the user's
 * membership. Touches `last_used_at` at most once a minute.
 */
export async function authenticateApiKey(db: Queryable, presented: string, scope?: { resolver: ProjectResolver; id: string }): Promise<KeyIdentity | null> {
  // Named: every request runs it, so each connection parses and plans it once per resolver.
  const { rows } = await db.query<KeyIdentity>({ name: `authenticate-${scope?.resolver ?? 'instance'}`, text:
    `WITH found AS (
       SELECT k.id AS key_id, k.last_used_at, u.id AS user_id, u.name, u.role
       FROM api_keys k JOIN users u ON u.id = k.user_id
       WHERE k.key_hash = $1 AND ${USABLE}
     ), touched AS (
       UPDATE api_keys SET last_used_at = now()
       FROM found
       WHERE api_keys.id = found.key_id AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute')
     ), scope AS (
       SELECT (${scope ? PROJECT_OF[scope.resolver] : 'SELECT NULL::uuid WHERE $2::text IS NULL'}) AS project_id
     )
     SELECT f.key_id, f.user_id, f.name, f.role, s.project_id, m.role AS project_role
     FROM found f CROSS JOIN scope s
     LEFT JOIN project_members m ON m.project_id = s.project_id AND m.user_id = f.user_id`,
    values: [hashApiKey(presented), scope?.id ?? null] });
  return rows[0] ?? null;
}

/** Keys newest first (revoked ones too: the list is the audit of who had access); one user's with `userId`. */
export async function listApiKeys(db: Queryable, filter: { userId?: string } = {}): Promise<StoredApiKey[]> {
  const { rows } = await db.query<StoredApiKey>(
    `SELECT ${COLUMNS} FROM api_keys WHERE $1::uuid IS NULL OR user_id = $1 ORDER BY created_at DESC, id`,
    [filter.userId ?? null],
  );
  return rows;
}

export type RevokeOutcome = 'revoked' | 'already-revoked' | 'missing' | 'last-admin';

/**
 * Revokes a key inside the caller's transaction. 'missing' when there is no such key (or, with
 * `ownerId`, it is someone else's), 'last-admin' when it is the last usable key of an active
 * admin (nothing changes then: the deployment would lock itself out).
 */
export async function revokeApiKey(db: Queryable, id: string, filter: { ownerId?: string } = {}): Promise<{ outcome: RevokeOutcome; key?: StoredApiKey }> {
  // Serialises revocations (and admin changes), so two at once can not remove the last two admin keys.
  await db.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.revokeKey]);
  const { rows } = await db.query<StoredApiKey & { revoked: boolean; admin_usable: boolean; other_admin_keys: number }>(
    `SELECT ${COLUMNS.split(', ').map((c) => `k.${c}`).join(', ')}, k.revoked_at IS NOT NULL AS revoked,
            (u.role = 'admin' AND ${USABLE}) AS admin_usable,
            (SELECT count(*) FROM api_keys o JOIN users ou ON ou.id = o.user_id
              WHERE o.id <> k.id AND ou.role = 'admin' AND o.revoked_at IS NULL AND (o.expires_at IS NULL OR o.expires_at > now()) AND ou.active)::int AS other_admin_keys
     FROM api_keys k JOIN users u ON u.id = k.user_id
     WHERE k.id = $1 AND ($2::uuid IS NULL OR k.user_id = $2)`,
    [id, filter.ownerId ?? null],
  );
  const key = rows[0];
  if (!key) return { outcome: 'missing' };
  if (key.revoked) return { outcome: 'already-revoked', key };
  if (key.admin_usable && key.other_admin_keys === 0) return { outcome: 'last-admin', key };
  await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
  return { outcome: 'revoked', key };
}

/** Whether an admin other than `exceptUserId` has a usable key (the deployment stays administrable). */
export async function anotherAdminCanSignIn(db: Queryable, exceptUserId: string): Promise<boolean> {
  await db.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.revokeKey]);
  const { rowCount } = await db.query(
    `SELECT 1 FROM api_keys k JOIN users u ON u.id = k.user_id WHERE ${USABLE} AND u.role = 'admin' AND u.id <> $1 LIMIT 1`,
    [exceptUserId],
  );
  return rowCount === 1;
}
