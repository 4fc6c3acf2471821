import type { PoolClient } from '@alder/db';
import { createRng, drawKey, predictProba, rankPool, scorePool, selectionContext, trainCommittee, type StrategyName, type TrainedModel } from '@alder/learning';
import type { PoolItem } from './pool-items.repository';
import { scoredPages, yieldToEventLoop } from './scored-pages';
import type { JobScorer } from './scoring-threads';
import { copyEntries, type RankingEntry } from './ranking-entries.copy';
import { trainingSample } from './training-labels.repository';

/**
 * Batch strategies look at at most this many candidates: the BATCH_CANDIDATE_CAP / 2 with the
 * smallest margin, plus a seeded uniform sample (reservoir) of the pool of the same size, so the
 * representative picks still see the pool's density. Embedding, k-center and k-means over 20k
 * items of a 32-wide representation take a few seconds; over a million they would not.
 */
export const BATCH_CANDIDATE_CAP = 20_000;
/**
 * Labelled items embedded for core-set's reference, counted for class coverage, and trained on by
 * the committee's bootstrap members (4 trainings of at most this many texts, a few seconds each).
 */
export const TRAINING_SAMPLE_CAP = 2_000;

interface Candidate extends PoolItem {
  margin: number;
}

/** Keeps the `cap` highest-margin candidates and a reservoir sample of `cap` of everything seen. */
class CandidateSet {
  private top: Candidate[] = [];
  private reservoir: Candidate[] = [];
  private seen = 0;

  constructor(
    private readonly cap: number,
    private readonly rng: () => number,
  ) {}

  add(item: Candidate): void {
    this.top.push(item);
    if (this.top.length >= 2 * this.cap) this.trim();
    this.seen++;
    if (this.reservoir.length < this.cap) this.reservoir.push(item);
    else {
      const j = Math.floor(this.rng() * this.seen);
      if (j < this.cap) this.reservoir[j] = item;
    }
  }

  private trim(): void {
    this.top.sort((a, b) => b.margin - a.margin || a.id - b.id);
    this.top.length = Math.min(this.top.length, this.cap);
  }

  /** The union, in id order. */
  all(): Candidate[] {
    this.trim();
    const byId = new Map<number, Candidate>();
    for (const c of this.top.concat(this.reservoir)) byId.set(c.id, c);
    return [...byId.values()].sort((a, b) => a.id - b.id);
  }
}

/**
 * Ranks the unlabeled pool for a batch strategy (coreset, kmeans, hybrid, badge, bald, auto).
 * Pass 1 writes every item with priority = margin score (as the margin strategy would), keeping
 * candidates (see BATCH_CANDIDATE_CAP). Then the learning package's rankPool chooses `batch`
 * picks among the candidates, and those entries are raised above every margin score (priority
 * 1 + batch - position, in selection order) with the batch rationale. The ranking is not
 * published until the caller does, so the two steps are never seen apart.
 */
export async function rankBatchWithModel(
  client: PoolClient,
  input: { projectId: string; rankingId: number; modelId: number; model: TrainedModel; labels: string[]; strategy: StrategyName; batch: number; seed: number; drawSeed: number; scorer: JobScorer },
): Promise<number> {
  const { projectId, rankingId, model, labels, strategy } = input;
  const k = model.numClasses;
  const rng = createRng(input.seed);
  const candidates = new CandidateSet(BATCH_CANDIDATE_CAP / 2, rng);
  let count = 0;
  for await (const { page, probs } of scoredPages(client, projectId, input.scorer)) {
    const margins = scorePool('margin', probs, k);
    const entries: RankingEntry[] = page.map((item, i) => {
      const row = probs.subarray(i * k, (i + 1) * k);
      candidates.add({ ...item, margin: margins[i]! });
      return { itemId: item.id, priority: margins[i]!, score: margins[i]!, probs: row, rationale: null };
    });
    await copyEntries(client, rankingId, entries);
    count += page.length;
  }
  if (count === 0) return 0;

  const pool = candidates.all();
  const trained = await trainingSample(client, input.modelId, TRAINING_SAMPLE_CAP);
  await yieldToEventLoop();
  // Labels outside the model's label set cannot be trained on or counted.
  const known = trained.labels.map((l, i) => [trained.texts[i]!, labels.indexOf(l)] as const).filter(([, y]) => y >= 0);
  const ctx = selectionContext(model, pool.map((c) => c.text), {
    labels,
    labeledTexts: known.map(([t]) => t),
    labeledY: known.map(([, y]) => y),
    labeledCount: trained.count,
    rng,
  });
  // A committee needs labelled texts to resample; without any it ranks by margin alone.
  const effective: StrategyName = strategy === 'committee' && known.length === 0 ? 'margin' : strategy;
  const committee =
    effective === 'committee'
      ? (await trainCommittee(known.map(([t]) => t), known.map(([, y]) => y), k, { seed: input.seed })).map((m) =>
          predictProba(m, pool.map((c) => c.text)),
        )
      : undefined;
  // auto's random share draws in the project's fixed random order of its items (see drawKey).
  const drawKeys = Float64Array.from(pool, (c) => drawKey(input.drawSeed, c.id));
  const ranked = rankPool(effective, { ...ctx, committee, drawKeys }, Math.min(input.batch, pool.length));
  const picks = ranked.order.slice(0, ranked.batch);
  await client.query(
    `UPDATE ranking_entries e SET priority = p.priority, rationale = p.rationale
       FROM unnest($2::bigint[], $3::real[], $4::text[]) AS p(item_id, priority, rationale)
      WHERE e.ranking_id = $1 AND e.item_id = p.item_id`,
    [rankingId, picks.map((i) => pool[i]!.id), picks.map((_, t) => 1 + picks.length - t), picks.map((i) => ranked.rationales[i]!)],
  );
  return count;
}
