import type { Schemas } from '@alder/api-types';
import type { StoredApiKey } from '@alder/http';

export function toApiKey(row: StoredApiKey): Schemas['ApiKey'] {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Schemas['ApiKeyRole'],
    key_prefix: row.key_prefix,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}
