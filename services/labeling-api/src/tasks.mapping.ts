import type { Schemas } from '@alder/api-types';
import {
  entryRationale,
  leaseProvenanceSchema,
  parseContract,
  parseRankingEntry,
  probabilitiesByLabel,
  toStoredPrecision,
  type LeaseProvenance,
} from '@alder/contracts';
import { rankingContext } from './ranking.mapping';
import type { LeasedTask, LeaseState } from './tasks.repository';

/** Shown for an item no ranking covered (ingested since the current ranking was made). */
export const UNRANKED_RATIONALE = 'Not in the current ranking yet: served oldest first until the pool is re-ranked.';

const precise = (value: number | null) => (value === null ? null : toStoredPrecision(value));

/** A lease's provenance columns, checked against the contract the annotation copies them under. */
export function leaseProvenance(lease: Pick<LeaseState, 'ranking_id' | 'model_id' | 'selection_score' | 'selection_strategy'>): LeaseProvenance {
  return parseContract('task_leases', leaseProvenanceSchema, lease);
}

/** What the annotator is shown: the ranking entry the item was leased from, or that no ranking covered it. */
function selectionOf(task: LeasedTask, provenance: LeaseProvenance): Schemas['Task']['selection'] {
  const shown = { model_version: task.model_version, strategy: provenance.selection_strategy, score: precise(provenance.selection_score) };
  if (provenance.ranking_id === null) return { ...shown, probabilities: null, rationale: UNRANKED_RATIONALE };
  const ranking = rankingContext({ strategy: task.strategy, model_labels: task.model_labels });
  const entry = parseRankingEntry(ranking, { priority: task.priority, score: task.score, probs: task.probs, rationale: task.rationale });
  return { ...shown, probabilities: probabilitiesByLabel(ranking, entry), rationale: entryRationale(ranking, entry) };
}

export function toTask(task: LeasedTask): Schemas['Task'] {
  const provenance = leaseProvenance({ ranking_id: task.ranking_id, model_id: task.model_id, selection_score: task.score, selection_strategy: task.strategy });
  return {
    task_id: task.task_id,
    project_id: task.project_id,
    item: { id: task.item_id, external_id: task.external_id, text: task.text, meta: task.meta },
    expires_at: task.expires_at.toISOString(),
    guidelines: task.guidelines,
    label_descriptions: task.label_descriptions,
    selection: selectionOf(task, provenance),
  };
}

export interface StoredAnnotation {
  lease: LeaseState;
  provenance: LeaseProvenance;
  id: number;
  created_at: Date;
  label: string;
  rationale: string | null;
  time_spent_ms: number | null;
  late: boolean;
}

export function toAnnotation(a: StoredAnnotation): Schemas['Annotation'] {
  return {
    id: a.id,
    task_id: a.lease.id,
    project_id: a.lease.project_id,
    item_id: a.lease.item_id,
    external_id: a.lease.external_id,
    label: a.label,
    rationale: a.rationale,
    time_spent_ms: a.time_spent_ms,
    annotator: a.lease.annotator,
    user_id: a.lease.user_id,
    late: a.late,
    source: 'annotator',
    selection: { model_version: a.lease.model_version, strategy: a.provenance.selection_strategy, score: precise(a.provenance.selection_score) },
    created_at: a.created_at.toISOString(),
  };
}

/** The item a lease is on, as the audit trail names it. */
export const itemOfLease = (lease: Pick<LeaseState, 'item_id' | 'external_id'>) => ({ id: lease.item_id, externalId: lease.external_id });

/** Probabilities stored in a model's label order, by label; null when no model scored the item. */
export function probabilitiesOf(labels: string[] | null, probs: number[] | null): Record<string, number> | null {
  return probs && labels ? Object.fromEntries(labels.map((label, i) => [label, probs[i]!])) : null;
}
