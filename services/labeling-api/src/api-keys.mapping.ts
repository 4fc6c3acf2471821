import type { Schemas } from '@alder/api-types';
import type { StoredApiKey } from '@alder/http';

export function toApiKey(row: StoredApiKey): Schemas['ApiKey'] {
  return {
    id: row.id,
    name: row.name,
    user_id: row.user_id,
    key_prefix: row.key_prefix,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}
