import type { AuditActor } from './audit-events.repository';

/** The system as actor (the trainer, a sweeper): no user, no key. */
export const SYSTEM_ACTOR: Readonly<AuditActor> = Object.freeze({ userId: null, keyId: null });

/**
 * An event's actor from what a request knows: a user id, an API key id, both, or nothing (then
 * the system). Missing and `undefined` fields are `null`.
 */
export function auditActor(who?: { userId?: string | null; keyId?: string | null } | null): AuditActor {
  return { userId: who?.userId ?? null, keyId: who?.keyId ?? null };
}

/**
 * The chain of events that belong to no project (users, API keys): kept under this fixed id,
 * which no project can have (projects get random v4 UUIDs).
 */
export const INSTANCE_CHAIN = '00000000-0000-0000-0000-000000000000';
