import { randomUUID } from 'node:crypto';
import type { Queryable } from '@alder/db';
import { eventDataSchemas, isWanted, type EventData, type EventType } from './event-catalogue';
import { enqueue } from './outbox';
import { webhooksQueue } from './queues';

/**
 * Writes an event into the outbox inside the caller's transaction, so it exists exactly when the
 * change committed. With `mask` (the project's `webhook_events`, read with the caller's own rows)
 * it writes nothing when nobody listens; without, it reads the mask first (one short statement).
 * Returns the event id, or null when nothing was written.
 */
export async function emitEvent<T extends EventType>(db: Queryable, projectId: string, type: T, data: EventData<T>, options: { mask?: number; now?: Date } = {}): Promise<string | null> {
  const mask = options.mask ?? (await projectEventMask(db, projectId));
  if (!isWanted(mask, type)) return null;
  const valid = eventDataSchemas[type].parse(data) as Record<string, unknown>;
  const eventId = randomUUID();
  await enqueue(db, webhooksQueue, 'fan-out', { eventId, projectId, type, occurredAt: (options.now ?? new Date()).toISOString(), data: valid });
  return eventId;
}

/** The project's event mask (0 for a project that is gone). */
export async function projectEventMask(db: Queryable, projectId: string): Promise<number> {
  const { rows } = await db.query<{ webhook_events: number }>({ name: 'project-event-mask', text: 'SELECT webhook_events FROM projects WHERE id = $1', values: [projectId] });
  return rows[0]?.webhook_events ?? 0;
}
