import type { Queryable } from '@alder/db';
import type { ProjectRole } from './spec';

// The one module with SQL on `project_members`. (Reads for access checks are part of the
// authentication round trip in api-keys.repository.ts, which joins this table.)

export interface StoredMember {
  project_id: string;
  user_id: string;
  name: string;
  email: string | null;
  role: ProjectRole;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT m.project_id, m.user_id, u.name, u.email, m.role, m.created_at, m.updated_at
                FROM project_members m JOIN users u ON u.id = m.user_id`;

export async function listMembers(db: Queryable, projectId: string): Promise<StoredMember[]> {
  const { rows } = await db.query<StoredMember>(`${SELECT} WHERE m.project_id = $1 ORDER BY m.created_at, m.user_id`, [projectId]);
  return rows;
}

/** The member's row before the change (null if new) and after it. */
export async function upsertMember(db: Queryable, projectId: string, userId: string, role: ProjectRole): Promise<{ before: ProjectRole | null; member: StoredMember }> {
  const before = await db.query<{ role: ProjectRole }>('SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2 FOR UPDATE', [projectId, userId]);
  await db.query(
    `INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3)
     ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role,
       updated_at = CASE WHEN project_members.role = EXCLUDED.role THEN project_members.updated_at ELSE now() END`,
    [projectId, userId, role],
  );
  const { rows } = await db.query<StoredMember>(`${SELECT} WHERE m.project_id = $1 AND m.user_id = $2`, [projectId, userId]);
  return { before: before.rows[0]?.role ?? null, member: rows[0]! };
}

/** Removes a membership; the role it had, or null when the user was not a member. */
export async function removeMember(db: Queryable, projectId: string, userId: string): Promise<ProjectRole | null> {
  const { rows } = await db.query<{ role: ProjectRole }>('DELETE FROM project_members WHERE project_id = $1 AND user_id = $2 RETURNING role', [projectId, userId]);
  return rows[0]?.role ?? null;
}

/** Project ids the user is a member of (lists show only these to a member). */
export const MEMBER_PROJECTS_SQL = 'SELECT project_id FROM project_members WHERE user_id = $1';
