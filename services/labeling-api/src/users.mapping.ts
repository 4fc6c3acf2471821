import type { Schemas } from '@alder/api-types';
import type { StoredMember, StoredUser } from '@alder/http';

export function toUser(row: StoredUser): Schemas['User'] {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    active: row.active,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function toMember(row: StoredMember): Schemas['Member'] {
  return {
    project_id: row.project_id,
    user_id: row.user_id,
    name: row.name,
    email: row.email,
    role: row.role,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
