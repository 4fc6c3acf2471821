import { appendAuditEvents, auditActor } from '@alder/audit';
import { withTransaction, type Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import { findSubscription, lockProjectForSubscriptions, refreshEventMask, updateSubscription } from './subscriptions.repository';

/**
 * Disables a subscription the dispatcher gave up on, saying why (on the subscription, in the
 * audit trail, in the log), and drops its types from the project's mask. Its own transaction,
 * project row first, as the subscription routes lock them.
 */
export async function disableSubscription(pool: Pool, projectId: string, subscriptionId: string, reason: string, log: Logger): Promise<void> {
  const disabled = await withTransaction(pool, async (client) => {
    if (!(await lockProjectForSubscriptions(client, projectId))) return false;
    const current = await findSubscription(client, projectId, subscriptionId, true);
    if (!current?.enabled) return false;
    await updateSubscription(client, projectId, subscriptionId, { enabled: false, disabledReason: reason });
    await refreshEventMask(client, projectId);
    await appendAuditEvents(client, [{ projectId, kind: 'webhook.disabled', actor: auditActor(null), subject: { type: 'webhook', id: subscriptionId }, after: { reason } }]);
    return true;
  });
  if (disabled) log.warn({ projectId, subscriptionId, reason }, 'webhook subscription disabled');
}
