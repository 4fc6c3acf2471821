import type { Schemas } from '@alder/api-types';
import { modelMetricsSchema, parseContract, stoppingEvidenceSchema } from '@alder/contracts';
import type { ModelRow } from './models.repository';

/** The trainer's `models.metrics` (@alder/contracts) in API shape; null while the model has none. */
export function toMetrics(stored: unknown): Schemas['ModelMetrics'] | null {
  if (stored === null) return null;
  const { accuracy, macro_f1, per_class } = parseContract('models.metrics', modelMetricsSchema, stored);
  return { accuracy, macro_f1, per_class };
}

/**
 * The trainer's `models.stopping` (@alder/contracts) in API shape; null for versions that are not
 * ready, or trained before stopping criteria existed.
 */
export function toModelStopping(stored: unknown): Schemas['ModelStopping'] | null {
  if (stored === null) return null;
  const { stop_recommended, criteria, label_count, label_budget, stop_set_size } = parseContract('models.stopping', stoppingEvidenceSchema, stored);
  return { stop_recommended, criteria, label_count, label_budget, stop_set_size };
}

export function toModel(row: ModelRow): Schemas['ModelVersion'] {
  return {
    version: row.version,
    status: row.status,
    is_current: row.is_current,
    labels: row.labels,
    backend: row.backend,
    train_count: row.train_count,
    test_count: row.test_count,
    metrics: toMetrics(row.metrics),
    stopping: toModelStopping(row.stopping),
    train_ms: row.train_ms,
    error: row.error,
    created_at: row.started_at.toISOString(),
    finished_at: row.finished_at?.toISOString() ?? null,
  };
}
