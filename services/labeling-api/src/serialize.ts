import type { Schemas } from '@alder/api-types';
import { isScoreName, rationale } from '@alder/learning';
import type { ProjectRow } from './projects.repository';

export function toProject(row: ProjectRow): Schemas['Project'] {
  return { ...row, strategy: row.strategy as Schemas['Strategy'], created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

/** float4 values read back as doubles (0.8999999761...): six decimals are all they hold. */
export function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1e6) / 1e6;
}

/** A ranking entry's probabilities, stored in the model's label order, as `{ label: p }`. */
export function probabilitiesByLabel(labels: readonly string[] | null, probs: readonly number[] | null): Record<string, number> | null {
  if (!labels || !probs || labels.length !== probs.length) return null;
  return Object.fromEntries(labels.map((label, i) => [label, round(probs[i]!)!]));
}

/**
 * A ranking entry's rationale: the stored one, else (sampling stores none where it can be
 * derived) the learning package's rationale for the ranking's strategy over the stored
 * probabilities; the rest of a batch ranking is in margin order, so margin's.
 */
export function entryRationale(stored: string | null, strategy: string, labels: readonly string[] | null, probs: readonly number[] | null): string {
  if (stored !== null) return stored;
  if (!labels || !probs || labels.length !== probs.length) return 'ranked by the model';
  return rationale(isScoreName(strategy) ? strategy : 'margin', probs, labels);
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The trainer's `models.metrics` (camelCase as `evaluate()` returns it, or snake_case) in API shape. */
export function toMetrics(raw: unknown): Schemas['ModelMetrics'] | null {
  if (!raw || typeof raw !== 'object') return null;
  const m = raw as Record<string, unknown>;
  const perClass = (m.per_class ?? m.perClass) as unknown;
  return {
    accuracy: num(m.accuracy),
    macro_f1: num(m.macro_f1 ?? m.macroF1),
    per_class: Array.isArray(perClass)
      ? perClass
          .filter((c): c is Record<string, unknown> => !!c && typeof c === 'object')
          .map((c) => ({
            label: String(c.label ?? ''),
            precision: num(c.precision) ?? 0,
            recall: num(c.recall) ?? 0,
            f1: num(c.f1) ?? 0,
            support: num(c.support) ?? 0,
          }))
      : [],
  };
}

export function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

type Criterion = Schemas['StoppingCriterion'];

/** Stopping criteria as the trainer stored them (models.stopping), in API shape; malformed entries are dropped. */
export function toCriteria(raw: unknown): Criterion[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((c): c is Record<string, unknown> => !!c && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string')
    .map((c) => ({
      name: c.name as string,
      met: c.met === true,
      value: num(c.value),
      threshold: num(c.threshold),
      decides: c.decides === true,
      detail: typeof c.detail === 'string' ? c.detail : '',
    }));
}

/** The trainer's `models.stopping` in API shape; null when absent or not an object. */
export function toModelStopping(raw: unknown): Schemas['ModelStopping'] | null {
  if (!raw || typeof raw !== 'object') return null;
  const s = raw as Record<string, unknown>;
  return {
    stop_recommended: s.stop_recommended === true,
    criteria: toCriteria(s.criteria),
    label_count: num(s.label_count) ?? 0,
    label_budget: num(s.label_budget),
    stop_set_size: num(s.stop_set_size) ?? 0,
  };
}
