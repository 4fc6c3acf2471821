import { z } from 'zod';

// models.metrics: written by the trainer (train-model.processor.ts) when a model becomes ready,
// read by the labeling API (model versions, progress). Field names are snake_case as stored.

/** A ratio of counts, in [0, 1] (z.number() refuses NaN and infinities). */
const fraction = z.number().min(0).max(1);

/** One class's scores on the held-out test items. */
export const classMetricsSchema = z.object({
  label: z.string(),
  precision: fraction,
  recall: fraction,
  f1: fraction,
  /** Test items whose true label is this class. */
  support: z.number().int().nonnegative(),
});

/**
 * What `models.metrics` holds: scores on the project's held-out `test` items with a gold label.
 * With no test items `accuracy` and `macro_f1` are null and `per_class` is empty.
 */
export const modelMetricsSchema = z
  .object({
    accuracy: fraction.nullable(),
    macro_f1: fraction.nullable(),
    /** One entry per label, in the model's label order. */
    per_class: z.array(classMetricsSchema),
    test_count: z.number().int().nonnegative(),
  })
  .refine((m) => (m.test_count === 0) === (m.accuracy === null) && (m.accuracy === null) === (m.macro_f1 === null), {
    message: 'accuracy and macro_f1 are null exactly when test_count is 0',
  });

export type ModelMetrics = z.output<typeof modelMetricsSchema>;
