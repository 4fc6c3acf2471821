import type { Queryable } from '@alder/db';
import type { InstanceRole } from './spec';

// The one module with SQL on `users`.

export interface StoredUser {
  id: string;
  name: string;
  email: string | null;
  role: InstanceRole;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, email, role, active, created_at, updated_at';

/** Postgres's unique_violation on the email index: the caller answers 409. */
export function isEmailTaken(error: unknown): boolean {
  return (error as { code?: string; constraint?: string })?.code === '23505' && (error as { constraint?: string }).constraint === 'users_email';
}

export async function insertUser(db: Queryable, input: { name: string; email?: string | null; role?: InstanceRole }): Promise<StoredUser> {
  const { rows } = await db.query<StoredUser>(`INSERT INTO users (name, email, role) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [
    input.name,
    input.email ?? null,
    input.role ?? 'member',
  ]);
  return rows[0]!;
}

export async function findUser(db: Queryable, id: string, lock = false): Promise<StoredUser | null> {
  const { rows } = await db.query<StoredUser>(`SELECT ${COLUMNS} FROM users WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
}

export async function listUsers(db: Queryable, limit: number, offset: number): Promise<{ rows: StoredUser[]; total: number }> {
  const [page, count] = await Promise.all([
    db.query<StoredUser>(`SELECT ${COLUMNS} FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2`, [limit, offset]),
    db.query<{ total: number }>('SELECT count(*)::int AS total FROM users'),
  ]);
  return { rows: page.rows, total: count.rows[0]!.total };
}

export interface UserChanges {
  name?: string;
  /** null clears it; undefined keeps it. */
  email?: string | null;
  role?: InstanceRole;
  active?: boolean;
}

export async function updateUser(db: Queryable, id: string, changes: UserChanges): Promise<StoredUser> {
  const { rows } = await db.query<StoredUser>(
    `UPDATE users SET name = COALESCE($2, name),
                      email = CASE WHEN $3 THEN $4 ELSE email END,
                      role = COALESCE($5, role),
                      active = COALESCE($6, active),
                      updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, changes.name ?? null, changes.email !== undefined, changes.email ?? null, changes.role ?? null, changes.active ?? null],
  );
  return rows[0]!;
}
