import type { Compute, ModelHandle } from '@alder/compute';
import { coldStartPriority } from '@alder/contracts';
import type { PoolClient } from '@alder/db';
import { createRng, drawKey, isScoreName, scorePool, type StrategyName } from '@alder/learning';
import { rankBatchWithModel } from './batch-ranker';
import { recentUnlabeled } from './pool-items.repository';
import { RANK_CHUNK, scoredPages, yieldToEventLoop } from './scored-pages';
import { copyEntries, type RankingEntry } from './ranking-entries.copy';
import type { StoredModel } from './ranking.repository';

/**
 * The cold start orders at most this many unlabeled pool items, the most recent ones: the
 * diversity cover is quadratic-ish, and the API serves unranked items (oldest first) anyway.
 */
export const COLD_START_CAP = 20_000;
/**
 * The cold-start order opens with its most diverse picks (one representative per cluster of the
 * pool); this many leading positions are labelled "diverse pick i of n" for annotators, the rest
 * "representative of the pool". It only words the rationale: the order is the learning package's.
 */
export const COLD_START_HEAD = 50;

/** Batch size of a batch strategy when the caller gives none (projects pass retrain_every). */
export const DEFAULT_BATCH = 25;

/** A stable 32-bit seed from a string (FNV-1a), so re-running a job ranks the same way. */
export function seedOf(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Scores the whole unlabeled pool with `model`, chunk by chunk in id order (keyset pagination),
 * and writes one entry per item: priority = uncertainty score, probabilities in the model's
 * label order, and no rationale (the labeling API derives it from strategy and probs). A batch strategy (see batch-ranker.ts) also
 * raises its `batch` picks to the top. Returns the number of entries.
 */
export async function rankWithModel(
  client: PoolClient,
  input: { projectId: string; rankingId: number; stored: StoredModel; model: ModelHandle; strategy: StrategyName; seed: number; drawSeed: number; batch?: number },
): Promise<number> {
  const { projectId, rankingId, stored, strategy, model } = input;
  const k = stored.labels.length;
  if (!isScoreName(strategy)) {
    return rankBatchWithModel(client, { projectId, rankingId, modelId: stored.id, model, labels: stored.labels, strategy, batch: input.batch ?? DEFAULT_BATCH, seed: input.seed, drawSeed: input.drawSeed });
  }
  // Random ranks by each item's place in the project's fixed random order (drawKey), so the
  // queue does not reshuffle on every retrain, and auto's random share draws from that same order.
  const rng = createRng(input.seed);
  let count = 0;
  for await (const { page, probs } of scoredPages(client, projectId, model)) {
    checkOutputs(stored, probs, page.length);
    const scores = strategy === 'random' ? Float32Array.from(page, (item) => 1 - drawKey(input.drawSeed, item.id)) : scorePool(strategy, probs, k, rng);
    const entries: RankingEntry[] = page.map((item, i) => {
      const row = probs.subarray(i * k, (i + 1) * k);
      // The rationale is derived from strategy and probs when the entry is read (migration 0005).
      return { itemId: item.id, priority: scores[i]!, score: scores[i]!, probs: row, rationale: null };
    });
    await copyEntries(client, rankingId, entries);
    count += page.length;
  }
  return count;
}

/** A stored model whose outputs do not match its label list is corrupt: fail the job, loudly. */
export function checkOutputs(stored: StoredModel, probs: Float32Array, rows: number): void {
  if (probs.length !== rows * stored.labels.length) {
    throw new Error(`model ${stored.id} gave ${probs.length / Math.max(1, rows)} outputs per item but has ${stored.labels.length} labels`);
  }
}

/**
 * Ranks without a model: the learning package's diversity cold start over the COLD_START_CAP
 * most recent unlabeled pool items. Priority falls with position; score and probs are NULL.
 */
export async function rankColdStart(client: PoolClient, input: { projectId: string; rankingId: number; seed: number; compute: Compute }): Promise<number> {
  const items = await recentUnlabeled(client, input.projectId, COLD_START_CAP);
  if (!items.length) return 0;
  const headSize = Math.min(items.length, COLD_START_HEAD);
  // Clustering 20,000 texts takes seconds: on the compute threads, off the lock-renewing loop.
  const order = await input.compute.coldStart(items.map((item) => item.text), input.seed);
  const n = order.length;
  for (let start = 0; start < n; start += RANK_CHUNK) {
    const entries: RankingEntry[] = [];
    for (let position = start; position < Math.min(n, start + RANK_CHUNK); position++) {
      entries.push({
        itemId: items[order[position]!]!.id,
        priority: coldStartPriority(position, n),
        score: null,
        probs: null,
        rationale: position < headSize ? `cold start: diverse pick ${position + 1} of ${headSize}` : 'cold start: representative of the pool',
      });
    }
    await copyEntries(client, input.rankingId, entries);
    await yieldToEventLoop();
  }
  return n;
}
