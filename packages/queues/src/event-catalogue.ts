import { z } from 'zod';

// The events outbound webhooks carry, declared once: the writers (ingest, labeling-api, trainer,
// sampling) emit them with emitEvent in the transaction of their change, ingest's fan-out
// delivers them. Data change only additively (receivers and old outbox rows outlive deploys).

const externalId = z.string().min(1);

/** Each event type's `data`, as receivers get it. */
export const eventDataSchemas = {
  'batch.completed': z.object({
    batch_id: z.string().uuid(),
    source: z.enum(['json', 'ndjson', 'webhook', 'file']),
    received: z.number().int().nonnegative(),
    inserted: z.number().int().nonnegative(),
    duplicates: z.number().int().nonnegative(),
    updated: z.number().int().nonnegative(),
    skipped_changes: z.number().int().nonnegative(),
    // Added with repeated texts: events written before have none.
    duplicate_texts: z.number().int().nonnegative().optional(),
    rejected: z.number().int().nonnegative(),
    labels_imported: z.number().int().nonnegative(),
  }),
  'item.labeled': z.object({
    external_id: externalId,
    annotation_id: z.number().int().positive(),
    label: z.string(),
    user_id: z.string().uuid().nullable(),
    task_id: z.string().uuid(),
    late: z.boolean(),
  }),
  'item.resolved': z.object({
    external_id: externalId,
    resolution_id: z.number().int().positive(),
    label: z.string(),
    rule: z.string(),
  }),
  'review.needed': z.object({
    external_id: externalId,
    stage: z.enum(['review', 'escalation']),
    reasons: z.array(z.string()),
    proposed_label: z.string().nullable(),
  }),
  'model.trained': z.object({
    version: z.number().int().positive(),
    trained_on: z.number().int().nonnegative(),
    // The model's test-split metrics as the API serves them (@alder/contracts, modelMetricsSchema).
    metrics: z.record(z.string(), z.unknown()),
  }),
  'ranking.published': z.object({
    ranking_id: z.number().int().positive(),
    model_version: z.number().int().positive().nullable(),
    strategy: z.string(),
    item_count: z.number().int().nonnegative(),
  }),
  'stop.recommended': z.object({
    model_version: z.number().int().positive(),
    label_count: z.number().int().nonnegative(),
    // The criteria that hold (stabilizing_predictions, budget_reached).
    criteria: z.array(z.string()),
  }),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

/**
 * Every event type, in bit order. Append only: a type's position is its bit in
 * `projects.webhook_events`, stored in every project row.
 */
export const EVENT_TYPES = ['batch.completed', 'item.labeled', 'item.resolved', 'review.needed', 'model.trained', 'ranking.published', 'stop.recommended'] as const satisfies readonly EventType[];

/** The mask bit of a type. */
export const eventBit = (type: EventType): number => 1 << EVENT_TYPES.indexOf(type);

/**
 * The mask of a subscription's types; null (every type) is all bits, so a type added later is
 * wanted by such a subscription without rewriting any mask.
 */
export function eventMask(types: readonly EventType[] | null): number {
  if (types === null) return -1;
  return types.reduce((mask, type) => mask | eventBit(type), 0);
}

/** Whether a project's mask says someone listens for this type. */
export const isWanted = (mask: number, type: EventType): boolean => (mask & eventBit(type)) !== 0;

/** An event on its way to the fan-out (the `fan-out` job's payload). */
export const eventEnvelopeSchema = z.object({
  eventId: z.string().uuid(),
  projectId: z.string().uuid(),
  type: z.enum(EVENT_TYPES),
  occurredAt: z.string().datetime({ offset: true }),
  data: z.record(z.string(), z.unknown()),
});
export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;
