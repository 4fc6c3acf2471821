import type { Schemas } from '@alder/api-types';
import type { ProjectRow } from './projects.repository';

// real in Postgres: 0.3 comes back as 0.30000001192...; the setting is what was sent.
const setting = (value: number) => Number(value.toPrecision(6));
const optionalSetting = (value: number | null) => (value === null ? null : setting(value));

export function toProject(row: ProjectRow): Schemas['Project'] {
  const {
    overlap_annotators,
    overlap_fraction,
    rationale_required,
    rationale_labels,
    review_model_disagreement,
    review_low_confidence,
    review_late,
    min_agreement,
    gold_rate,
    ...rest
  } = row;
  return {
    ...rest,
    // Written only through this API, whose spec allows only a Strategy.
    strategy: row.strategy as Schemas['Strategy'],
    overlap: { annotators: overlap_annotators, fraction: setting(overlap_fraction) },
    policy: {
      rationale_required: rationale_required === 'labels' ? rationale_labels : rationale_required,
      review_model_disagreement: optionalSetting(review_model_disagreement),
      review_low_confidence: optionalSetting(review_low_confidence),
      review_late,
      min_agreement: setting(min_agreement),
      gold_rate: setting(gold_rate),
    },
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
