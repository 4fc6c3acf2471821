import type { Schemas } from '@alder/api-types';
import type { StoredIntegration } from './integrations.repository';

/** Where an integration pushes its items: the path of `receiveItemsWebhook`. */
export const hookPath = (integrationId: string): string => `/v1/hooks/${integrationId}/items`;

/** An integration as the API shows it: never a secret. */
export function toIntegration(row: StoredIntegration): Schemas['Integration'] {
  return {
    id: row.id,
    project_id: row.project_id,
    name: row.name,
    hook_path: hookPath(row.id),
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    secret_rotated_at: row.secret_rotated_at?.toISOString() ?? null,
    previous_secret_expires_at: row.previous_secret_expires_at?.toISOString() ?? null,
  };
}
