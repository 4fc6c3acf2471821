import { z } from 'zod';
import { COLD_START_STRATEGY, RANKING_STRATEGIES, type RankingStrategy } from './ranking-entry.contract';

// Lease provenance: when the labeling API leases an item (tasks.repository.ts, leaseNextItem) it
// copies into task_leases what the annotator is shown: the ranking, its model, the entry's score
// and the ranking's strategy. Copied values, not foreign keys, so they survive the ranking being
// replaced or pruned. The annotation made on the lease copies model, score and strategy again
// (annotations.model_id, selection_score, selection_strategy); imported labels carry none.

/** selection_strategy of an item served while no ranking covered it (oldest first). */
export const UNRANKED_STRATEGY = 'unranked';

/** What selection_strategy holds: the ranking's strategy, or `unranked`. */
export type SelectionStrategy = RankingStrategy | typeof UNRANKED_STRATEGY;

/** Every SelectionStrategy. */
export const SELECTION_STRATEGIES: readonly SelectionStrategy[] = [...RANKING_STRATEGIES, UNRANKED_STRATEGY];

export const selectionStrategySchema = z.enum(SELECTION_STRATEGIES as readonly [SelectionStrategy, ...SelectionStrategy[]]);

/**
 * The provenance columns of a task_leases row. Unranked: no ranking, model or score. Cold start:
 * a ranking without model or score. Any other strategy: a ranking, its model and a score. The
 * writer is one SQL statement, so Postgres checks the same rule as it writes (CHECK
 * task_leases_provenance, migrations 0007 and 0008); keep the two the same.
 */
export const leaseProvenanceSchema = z
  .object({
    ranking_id: z.number().int().positive().nullable(),
    model_id: z.number().int().positive().nullable(),
    selection_score: z.number().nullable(),
    selection_strategy: selectionStrategySchema,
  })
  .superRefine((p, ctx) => {
    const unranked = p.selection_strategy === UNRANKED_STRATEGY;
    const withoutModel = unranked || p.selection_strategy === COLD_START_STRATEGY;
    if (unranked !== (p.ranking_id === null)) {
      ctx.addIssue({ code: 'custom', path: ['ranking_id'], message: 'is null exactly when the strategy is unranked' });
    }
    if (withoutModel !== (p.model_id === null)) {
      ctx.addIssue({ code: 'custom', path: ['model_id'], message: 'is null exactly for the cold start and unranked items' });
    }
    if (withoutModel !== (p.selection_score === null)) {
      ctx.addIssue({ code: 'custom', path: ['selection_score'], message: 'is null exactly for the cold start and unranked items' });
    }
  });

export type LeaseProvenance = z.output<typeof leaseProvenanceSchema>;
