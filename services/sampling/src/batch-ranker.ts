import type { ModelHandle } from '@alder/compute';
import type { PoolClient } from '@alder/db';
import { createRng, drawKey, scorePool, type StrategyName } from '@alder/learning';
import type { PoolItem } from './pool-items.repository';
import { scoredPages } from './scored-pages';
import { copyEntries, raiseBatchPicks, type RankingEntry } from './ranking-entries.copy';
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
  /** Its row of the model's representation, kept from scoring so selection does not embed it again. */
  embedding: Float32Array;
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
  input: { projectId: string; rankingId: number; modelId: number; model: ModelHandle; labels: string[]; strategy: StrategyName; batch: number; seed: number; drawSeed: number },
): Promise<number> {
  const { projectId, rankingId, model, labels, strategy } = input;
  const k = labels.length;
  const rng = createRng(input.seed);
  const candidates = new CandidateSet(BATCH_CANDIDATE_CAP / 2, rng);
  let count = 0;
  let width = 0;
  for await (const { page, probs, embeddings } of scoredPages(client, projectId, model, { embeddings: true })) {
    if (probs.length !== page.length * k) throw new Error(`model ${input.modelId} gave ${probs.length / page.length} outputs per item but has ${k} labels`);
    width = embeddings!.length / page.length;
    const margins = scorePool('margin', probs, k);
    const entries: RankingEntry[] = page.map((item, i) => {
      const row = probs.subarray(i * k, (i + 1) * k);
      candidates.add({ ...item, margin: margins[i]!, embedding: embeddings!.slice(i * width, (i + 1) * width) });
      return { itemId: item.id, priority: margins[i]!, score: margins[i]!, probs: row, rationale: null };
    });
    await copyEntries(client, rankingId, entries);
    count += page.length;
  }
  if (count === 0) return 0;

  const pool = candidates.all();
  const trained = await trainingSample(client, input.modelId, TRAINING_SAMPLE_CAP);
  // Labels outside the model's label set cannot be trained on or counted.
  const known = trained.labels.map((l, i) => [trained.texts[i]!, labels.indexOf(l)] as const).filter(([, y]) => y >= 0);
  const candidateEmbeddings = new Float32Array(pool.length * width);
  pool.forEach((c, i) => candidateEmbeddings.set(c.embedding, i * width));
  // Selection (k-center, k-means, a committee's trainings) runs on the compute threads, with the
  // model those threads already hold for this job and the embeddings scoring computed.
  const { picks, rationales } = await model.select({
    strategy,
    labels,
    candidateTexts: pool.map((c) => c.text),
    candidateEmbeddings,
    // auto's random share draws in the project's fixed random order of its items (see drawKey).
    drawKeys: Float64Array.from(pool, (c) => drawKey(input.drawSeed, c.id)),
    labeledTexts: known.map(([t]) => t),
    labeledY: known.map(([, y]) => y),
    labeledCount: trained.count,
    batch: input.batch,
    // Its own stream: the reservoir above drew from input.seed's.
    seed: (input.seed ^ 0x5bd1e995) >>> 0,
  });
  await raiseBatchPicks(client, rankingId, picks.map((i) => pool[i]!.id), rationales);
  return count;
}
