import type { Schemas } from '@alder/api-types';

/** A project as the API answers it, for stand-in handlers of the HTTP layer's tests. */
export function stubProject(overrides: Partial<Schemas['Project']> = {}): Schemas['Project'] {
  const now = new Date(0).toISOString();
  return {
    id: crypto.randomUUID(),
    name: 'p',
    labels: ['a', 'b'],
    guidelines: '',
    strategy: 'auto',
    retrain_every: 20,
    on_resend: 'skip',
    on_duplicate_text: 'report',
    lease_seconds: 600,
    label_budget: null,
    overlap: { annotators: 1, fraction: 1 },
    label_descriptions: {},
    policy: { rationale_required: 'never', review_model_disagreement: 0.9, review_low_confidence: null, review_late: true, min_agreement: 0.5, gold_rate: 0 },
    label_count: 0,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}
