import type { Queryable } from '@alder/db';
import type { Actor } from '@alder/http';
import type { AuditEntry } from './audit';
import { assess, REVIEW_BANDS, type Policy, type ResolutionRule } from './resolution';
import { activeAnnotations, insertResolution, queueForReview } from './resolution.repository';
import type { LeaseState } from './tasks.repository';
import { itemOfLease, probabilitiesOf } from './tasks.mapping';

/**
 * The rule by which this annotation alone resolves its item, decided before it is written, so
 * that the submit writes the annotation, the resolution, its audit event and the label count in
 * one statement: one annotator needed, no gold answer, nothing the policy sends to review (the
 * same assessment afterAnnotation makes). Null otherwise: afterAnnotation decides once it is stored.
 */
export function resolvesAlone(lease: LeaseState, label: string, late: boolean): ResolutionRule | null {
  if (lease.gold_answer !== null || lease.required_annotations !== 1) return null;
  const outcome = assess([{ id: 0, label, late }], 1, lease, probabilitiesOf(lease.model_labels, lease.selection_probs));
  return outcome.kind === 'resolve' ? outcome.rule : null;
}

/**
 * What follows an annotation, in its transaction; returns the audit entries to record with it, and
 * the resolution when the annotation alone resolved its item (the annotation's event carries it).
 * On a gold item, a wrong answer queues the item for review (a gold failure of that annotator);
 * on an item that now has all its annotations, the item resolves at once (agreement, majority,
 * single annotator) or goes to review. An item that needs one annotation is assessed on this one
 * alone, without reading its annotations back (the common case, on the annotator's hot path).
 */
export async function afterAnnotation(
  db: Queryable,
  actor: Actor,
  lease: LeaseState,
  annotation: { id: number; label: string; late: boolean },
  completed: boolean,
): Promise<{ entries: AuditEntry[]; resolution: { resolution_id: number; label: string; rule: string } | null }> {
  if (lease.gold_answer !== null) {
    if (annotation.label === lease.gold_answer) return { entries: [], resolution: null };
    await queueForReview(db, {
      projectId: lease.project_id,
      itemId: lease.item_id,
      priority: REVIEW_BANDS.gold_failure + 0.5,
      reasons: ['gold_failure'],
      proposedLabel: lease.gold_answer,
      aboutUserId: actor.userId,
    });
    return {
      resolution: null,
      entries: [
        { projectId: lease.project_id, kind: 'review.queued', subject: { type: 'item', id: String(lease.item_id) }, item: itemOfLease(lease), after: { reasons: ['gold_failure'], user_id: actor.userId } },
      ],
    };
  }
  if (!completed) return { entries: [], resolution: null };
  const policy: Policy = lease;
  let annotations = [annotation];
  let model = probabilitiesOf(lease.model_labels, lease.selection_probs);
  if (lease.required_annotations > 1) {
    const active = await activeAnnotations(db, lease.item_id);
    annotations = active;
    // What the model showed with the last annotation.
    const last = active[active.length - 1]!;
    model = probabilitiesOf(last.model_labels, last.probs);
  }
  const outcome = assess(annotations, lease.required_annotations, policy, model);
  if (outcome.kind === 'resolve') {
    const resolution = await insertResolution(db, { projectId: lease.project_id, itemId: lease.item_id, label: outcome.label, rule: outcome.rule, annotationIds: outcome.annotationIds });
    // A single annotator's label resolves its item in the same change: the annotation's event
    // records it (one event a label on the hot path, not two).
    if (outcome.rule === 'single_annotator') return { resolution: { resolution_id: resolution.id, label: outcome.label, rule: outcome.rule }, entries: [] };
    return {
      resolution: null,
      entries: [
        {
          projectId: lease.project_id,
          kind: 'item.resolved',
          subject: { type: 'item', id: String(lease.item_id) },
          item: itemOfLease(lease),
          after: { resolution_id: resolution.id, label: outcome.label, rule: outcome.rule, annotation_ids: outcome.annotationIds },
        },
      ],
    };
  }
  await queueForReview(db, { projectId: lease.project_id, itemId: lease.item_id, priority: outcome.priority, reasons: outcome.reasons, proposedLabel: outcome.proposedLabel });
  return {
    resolution: null,
    entries: [
      {
        projectId: lease.project_id,
        kind: 'review.queued',
        subject: { type: 'item', id: String(lease.item_id) },
        item: itemOfLease(lease),
        after: { reasons: outcome.reasons, proposed_label: outcome.proposedLabel, priority: outcome.priority },
      },
    ],
  };
}

/** The rationale the project's policy asks for, as a 422 field error, or null when none is missing. */
export function missingRationale(lease: LeaseState, label: string, rationale: string | undefined): { path: string; message: string } | null {
  const required = lease.rationale_required === 'always' || (lease.rationale_required === 'labels' && lease.rationale_labels.includes(label));
  if (!required || (rationale !== undefined && rationale.trim() !== '')) return null;
  return { path: 'body/rationale', message: `is required for the label "${label}" by the project's policy` };
}
