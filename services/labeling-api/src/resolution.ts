/**
 * How a fully annotated item ends: resolved at once (agreement, majority, single annotator), or
 * queued for review with its reasons and priority. Pure: the inputs are what the database holds.
 */

export type ResolutionRule = 'agreement' | 'majority' | 'reviewer' | 'expert' | 'single_annotator';
export type ReviewReason = 'disagreement' | 'gold_failure' | 'model_disagrees' | 'low_confidence' | 'late';

export interface Policy {
  min_agreement: number;
  review_model_disagreement: number | null;
  review_low_confidence: number | null;
  review_late: boolean;
}

export interface CountedAnnotation {
  id: number;
  label: string;
  late: boolean;
}

/** What the model thought of the item when it was leased: its probability per label. */
export type ModelView = Record<string, number> | null;

export type Assessment =
  | { kind: 'resolve'; label: string; rule: ResolutionRule; annotationIds: number[] }
  | { kind: 'review'; proposedLabel: string | null; reasons: ReviewReason[]; priority: number };

/**
 * The queue's order: what most needs a second look first. Each reason has a band; within it the
 * evidence decides (how split the annotators are, how sure the model is).
 */
export const REVIEW_BANDS: Record<ReviewReason, number> = { disagreement: 4, gold_failure: 3, model_disagrees: 2, low_confidence: 1, late: 0 };

export function assess(annotations: CountedAnnotation[], required: number, policy: Policy, model: ModelView): Assessment {
  const votes = new Map<string, number>();
  for (const a of annotations) votes.set(a.label, (votes.get(a.label) ?? 0) + 1);
  const ranked = [...votes.entries()].sort((x, y) => y[1] - x[1]);
  const [top, second] = ranked;
  const tie = second !== undefined && second[1] === top![1];
  const proposed = tie ? null : top![0];
  const share = top![1] / annotations.length;

  const reasons: ReviewReason[] = [];
  let priority = -Infinity;
  const flag = (reason: ReviewReason, strength: number) => {
    reasons.push(reason);
    priority = Math.max(priority, REVIEW_BANDS[reason] + Math.min(1, Math.max(0, strength)));
  };
  if (annotations.length > 1 && (tie || share < policy.min_agreement)) flag('disagreement', 1 - share);
  if (proposed !== null && model) {
    const [modelTop, modelP] = Object.entries(model).sort((x, y) => y[1] - x[1])[0] ?? [null, 0];
    if (policy.review_model_disagreement !== null && modelTop !== proposed && modelP >= policy.review_model_disagreement) flag('model_disagrees', modelP);
    const p = model[proposed] ?? 0;
    if (policy.review_low_confidence !== null && p < policy.review_low_confidence) flag('low_confidence', policy.review_low_confidence - p);
  }
  if (policy.review_late && annotations.some((a) => a.late)) flag('late', 0);
  if (reasons.length) return { kind: 'review', proposedLabel: proposed, reasons, priority };

  const rule: ResolutionRule = required === 1 && annotations.length === 1 ? 'single_annotator' : votes.size === 1 ? 'agreement' : 'majority';
  return { kind: 'resolve', label: proposed!, rule, annotationIds: annotations.map((a) => a.id) };
}
