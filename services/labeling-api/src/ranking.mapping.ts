import type { Schemas } from '@alder/api-types';
import {
  entryRationale,
  parseContract,
  parseRankingEntry,
  probabilitiesByLabel,
  rankingContextSchema,
  rankingStrategySchema,
  toStoredPrecision,
  type RankingContext,
} from '@alder/contracts';
import type { RankingEntryRow, RankingRow } from './ranking.repository';

/** What an entry needs to be read: the ranking's strategy and its model's labels, checked against the contract. */
export function rankingContext(row: Pick<RankingRow, 'strategy' | 'model_labels'>): RankingContext {
  return parseContract('rankings', rankingContextSchema, { strategy: row.strategy, labels: row.model_labels });
}

export function toRankingInfo(row: { id: number; strategy: string; model_version: number | null; item_count: number; created_at: Date }): Schemas['RankingInfo'] {
  return {
    id: row.id,
    strategy: parseContract('rankings.strategy', rankingStrategySchema, row.strategy),
    model_version: row.model_version,
    item_count: row.item_count,
    created_at: row.created_at.toISOString(),
  };
}

/** One entry of the ranking page (`position` is 1-based): stored rationale, else the derived one. */
export function toRankingEntry(ranking: RankingContext, row: RankingEntryRow, position: number): Schemas['RankingEntry'] {
  const entry = parseRankingEntry(ranking, { priority: row.priority, score: row.score, probs: row.probs, rationale: row.rationale });
  return {
    position,
    item: { id: row.item_id, external_id: row.external_id, text_excerpt: row.text_excerpt },
    priority: toStoredPrecision(entry.priority),
    score: entry.score === null ? null : toStoredPrecision(entry.score),
    probabilities: probabilitiesByLabel(ranking, entry),
    rationale: entryRationale(ranking, entry),
    leased: row.leased,
  };
}
