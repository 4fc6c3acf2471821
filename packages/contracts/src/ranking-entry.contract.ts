import { z } from 'zod';
import { isScoreName, rationale, STRATEGY_NAMES, type StrategyName } from '@alder/learning/pure';
import { ContractViolation, parseContract } from './contract-violation';

// rankings + ranking_entries: written by sampling (rankers.ts, batch-ranker.ts with COPY in
// ranking-entries.copy.ts), read by the labeling API (next task, ranking page, progress).
//
// What an entry means:
// - Order: higher `priority` first; equal priorities in ascending item id.
// - `score` is the uncertainty score under the ranking's strategy, in [0, 1]; an entry ranked by
//   score has priority = score. Batch strategies raise their picks above every score
//   (batchPickPriority); the cold start orders by position (coldStartPriority).
// - `probs` are the model's probabilities in the model's label order (`models.labels` of the
//   ranking's model), stored to PROBABILITY_DECIMALS decimals. score and probs are both null for
//   the cold start (no model) and both set otherwise.
// - `rationale` is stored only where it cannot be derived: batch picks and the cold start. The
//   writer stores null for every other entry, and the reader derives it (derivedRationale).

/** rankings.strategy of a ranking made without a model: the diversity cold start. */
export const COLD_START_STRATEGY = 'cold_start';

/** What rankings.strategy holds: the project strategy the pool was ranked with, or the cold start. */
export type RankingStrategy = StrategyName | typeof COLD_START_STRATEGY;

/** Every RankingStrategy; `cold_start` is not a project strategy (the `Strategy` of the API). */
export const RANKING_STRATEGIES: readonly RankingStrategy[] = [...STRATEGY_NAMES, COLD_START_STRATEGY];

export const rankingStrategySchema = z.enum(RANKING_STRATEGIES as readonly [RankingStrategy, ...RankingStrategy[]]);

/** Probabilities are stored, and shown, to this many decimals. */
export const PROBABILITY_DECIMALS = 6;
const SCALE = 10 ** PROBABILITY_DECIMALS;

/**
 * A value to the stored precision. Probabilities are written that way; `real` columns read back
 * as doubles (0.8999999761...), and six decimals are all a float4 holds of a value in [0, 1].
 */
export function toStoredPrecision(value: number): number {
  return Math.round(value * SCALE) / SCALE;
}

/** Rounding to six decimals moves each probability by at most 5e-7; float32 softmax adds a little. */
const SUM_TOLERANCE = 1e-3;

function probabilityIssue(values: ArrayLike<number>): string | null {
  if (values.length < 1) return 'has no probabilities';
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const p = values[i]!;
    if (!(p >= 0 && p <= 1)) return `probability ${i} is ${p}, outside [0, 1]`;
    sum += p;
  }
  return Math.abs(sum - 1) <= SUM_TOLERANCE ? null : `probabilities sum to ${sum}, not 1`;
}

/** A probability vector: an array, or a Float32Array row as the writer holds it. */
const probabilitiesSchema = z
  .custom<Float32Array | readonly number[]>(
    // isView, not instanceof: rows scored on a compute thread may come from another realm (jest's vm).
    (value) => Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView)),
    { message: 'probabilities must be an array of numbers' },
  )
  .superRefine((value, ctx) => {
    // The detailed reason (which probability, or what they sum to) reaches the log.
    const issue = probabilityIssue(value as ArrayLike<number>);
    if (issue) ctx.addIssue({ code: 'custom', message: issue });
  });

/** A stored rationale: one line an annotator is shown. */
export const storedRationaleSchema = z.string().min(1);

/** One ranking_entries row, apart from its keys (ranking id and item id, which foreign keys check). */
export const rankingEntrySchema = z
  .object({
    priority: z.number(),
    /** The strategy's informativeness score, higher = more informative, in [0, 1]. */
    score: z.number().min(0).max(1).nullable(),
    probs: probabilitiesSchema.nullable(),
    /** Stored only where it cannot be derived (batch picks, the cold start); null means "derive it". */
    rationale: storedRationaleSchema.nullable(),
  })
  .refine((e) => (e.score === null) === (e.probs === null), {
    message: 'score and probs are both set (a model scored the item) or both null (the cold start)',
  })
  .refine((e) => e.rationale !== null || e.probs !== null, {
    message: 'an entry without probabilities must store its rationale: there is nothing to derive it from',
    path: ['rationale'],
  })
  // An entry ranked by its score alone (rationale derived) sits at its score, below every batch
  // pick (priority above 1), which is what puts the picks first.
  .refine((e) => e.rationale !== null || e.priority === e.score, {
    message: 'an entry whose rationale is derived is ranked by its score: priority = score',
    path: ['priority'],
  });

export type RankingEntry = z.output<typeof rankingEntrySchema>;

/** What a reader knows of the ranking an entry belongs to: its strategy and its model's labels (null for the cold start). */
export const rankingContextSchema = z
  .object({
    strategy: rankingStrategySchema,
    labels: z.array(z.string()).min(1).nullable(),
  })
  .refine((r) => (r.strategy === COLD_START_STRATEGY) === (r.labels === null), {
    message: 'the cold start has no model (no labels); every other ranking has one',
  });

export type RankingContext = z.output<typeof rankingContextSchema>;

/** Priority of the batch pick at `position` (0 first) of `batchSize`: all above 1, so above every score. */
export function batchPickPriority(position: number, batchSize: number): number {
  return 1 + batchSize - position;
}

/** Priority of the cold-start entry at `position` (0 first) of `count`. */
export function coldStartPriority(position: number, count: number): number {
  return count - position;
}

/**
 * The rationale of an entry stored without one: the learning package's rationale for the
 * ranking's strategy over its probabilities. The entries of a batch ranking that are not picks
 * are in margin order, so theirs is margin's.
 */
export function derivedRationale(strategy: string, probs: Float32Array | readonly number[], labels: readonly string[]): string {
  return rationale(isScoreName(strategy) ? strategy : 'margin', probs, labels);
}

/** The rationale shown for an entry: the stored one, else the derived one. */
export function entryRationale(ranking: RankingContext, entry: RankingEntry): string {
  if (entry.rationale !== null) return entry.rationale;
  // rankingEntrySchema guarantees probs where rationale is null, parseRankingEntry the labels.
  return derivedRationale(ranking.strategy, entry.probs!, ranking.labels!);
}

/** A stored entry, parsed and checked against its ranking (probabilities only with a model, one per label). */
export function parseRankingEntry(ranking: RankingContext, raw: unknown): RankingEntry {
  const entry = parseContract('ranking_entries', rankingEntrySchema, raw);
  const fits =
    ranking.labels === null
      ? entry.probs === null || 'a cold-start entry has no probabilities'
      : entry.probs === null
        ? 'an entry of a model ranking has probabilities'
        : entry.probs.length === ranking.labels.length || `${entry.probs.length} probabilities for ${ranking.labels.length} labels`;
  if (fits !== true) throw new ContractViolation('ranking_entries', [{ path: 'probs', message: fits }]);
  return entry;
}

/** A ranking entry's probabilities as `{ label: p }` in the model's label order, to the stored precision. */
export function probabilitiesByLabel(ranking: RankingContext, entry: RankingEntry): Record<string, number> | null {
  if (ranking.labels === null || entry.probs === null) return null;
  const probs = entry.probs;
  return Object.fromEntries(ranking.labels.map((label, i) => [label, toStoredPrecision(probs[i]!)]));
}
