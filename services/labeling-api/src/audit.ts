import { appendAuditEvents, INSTANCE_CHAIN, SYSTEM_ACTOR, type AuditEventInput } from '@alder/audit';
import type { Queryable } from '@alder/db';
import type { Actor } from '@alder/http';

/** An event as the routes describe it; the actor comes from the request. */
export type AuditEntry = Omit<AuditEventInput, 'actor'>;

/**
 * Appends the request's events to the audit trail, in the caller's transaction: the change and
 * its record commit together or not at all. `actor` null: the system.
 */
export async function audit(tx: Queryable, actor: Actor | null, entries: AuditEntry[]): Promise<void> {
  if (!entries.length) return;
  const who = actor ? { userId: actor.userId, keyId: actor.keyId } : SYSTEM_ACTOR;
  await appendAuditEvents(tx, entries.map((entry) => ({ ...entry, actor: who })));
}

/** Users and API keys belong to no project: their events go to the instance's chain. */
export const instanceEvent = (entry: Omit<AuditEntry, 'projectId'>): AuditEntry => ({ ...entry, projectId: INSTANCE_CHAIN });

/** The fields of `after` that differ from `before`, each as { before, after } halves. */
export function changedFields<T extends Record<string, unknown>>(before: T, after: T, fields: (keyof T)[]): { before: Partial<T>; after: Partial<T> } | null {
  const was: Partial<T> = {};
  const now: Partial<T> = {};
  for (const field of fields) {
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) {
      was[field] = before[field];
      now[field] = after[field];
    }
  }
  return Object.keys(now).length ? { before: was, after: now } : null;
}
