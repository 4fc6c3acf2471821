import { z } from 'zod';

// models.stopping: written by the trainer (stopping.evaluator.ts) in the transaction that makes a
// model ready, read by the labeling API (each model version's evidence, and progress, which
// recomputes the budget criterion with the label count of now). The criteria come from
// @alder/learning's recommendStop; readers recompute nothing else.

/** One stopping criterion as judged (learning's CriterionResult). New names may be added. */
export const stoppingCriterionSchema = z.object({
  name: z.string().min(1),
  met: z.boolean(),
  /** Null while it can not be computed (too few models, no stop set, no budget). */
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  /** Part of the rule (any one met recommends stopping) rather than evidence only. */
  decides: z.boolean(),
  detail: z.string(),
});

/** The thresholds the criteria were judged with (learning's StoppingOptions). */
export const stoppingOptionsSchema = z.object({
  kappa: z.number(),
  window: z.number().int().positive(),
  minLabels: z.number().int().nonnegative(),
  uncertainty: z.number(),
  change: z.number(),
});

/**
 * What `models.stopping` holds: the recommendation when the model became ready, with the label
 * count and budget it was judged with, the stop-set size and the thresholds used.
 */
export const stoppingEvidenceSchema = z.object({
  stop_recommended: z.boolean(),
  criteria: z.array(stoppingCriterionSchema),
  label_count: z.number().int().nonnegative(),
  label_budget: z.number().int().positive().nullable(),
  stop_set_size: z.number().int().nonnegative(),
  options: stoppingOptionsSchema,
});

export type StoppingCriterion = z.output<typeof stoppingCriterionSchema>;
export type StoppingEvidence = z.output<typeof stoppingEvidenceSchema>;
