import type { Schemas } from '@alder/api-types';
import type { StoredDelivery } from './deliveries.repository';
import type { StoredSubscription } from './subscriptions.repository';

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** A subscription as the API shows it: never a secret. */
export function toWebhook(row: StoredSubscription): Schemas['Webhook'] {
  return {
    id: row.id,
    project_id: row.project_id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    disabled_at: iso(row.disabled_at),
    consecutive_failures: row.consecutive_failures,
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    secret_rotated_at: iso(row.secret_rotated_at),
    previous_secret_expires_at: iso(row.previous_secret_expires_at),
  };
}

/** A delivery with its attempt log. */
export function toDelivery(row: StoredDelivery): Schemas['WebhookDelivery'] {
  return {
    id: Number(row.id),
    webhook_id: row.subscription_id,
    event_id: row.event_id,
    event_type: row.event_type as Schemas['WebhookEventType'],
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: iso(row.next_attempt_at),
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    ended_at: iso(row.ended_at),
    attempt_log: row.attempt_log.map((a) => ({ ...a, started_at: iso(a.started_at)! })),
  };
}
