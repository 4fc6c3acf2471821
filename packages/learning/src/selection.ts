import { denseKMeans, kCenterGreedy, kMeansPlusPlus, sqDist, type DenseRows } from './diversity';
import { committeeScores } from './committee';
import { badgeEmbeddings, baldScores } from './uncertainty-models';
import type { Rng } from './rng';
import { isScoreName, rationale, scorePool, topTwo, type StrategyName } from './strategies';

/** What a batch strategy sees of the unlabeled pool and the labels so far. */
export interface SelectionContext {
  /** n x numClasses class probabilities of the unlabeled candidates. */
  readonly probs: Float32Array;
  readonly numClasses: number;
  /** n x dim: the model's dense representation of each candidate (`embed`). */
  readonly embeddings: Float32Array;
  readonly dim: number;
  /** Class names in the model's order, for rationales. */
  readonly labels: readonly string[];
  /** How many labels the model was trained on. */
  readonly labeledCount: number;
  /** m x dim: embeddings of (a sample of) the labelled items, for core-set. */
  readonly labeledEmbeddings?: Float32Array;
  /** Labels so far per class, for class coverage. */
  readonly labeledClassCounts?: readonly number[];
  /** The softmax head (dim x numClasses weights, bias), for MC dropout (bald). */
  readonly head?: { readonly weights: Float32Array; readonly bias: Float32Array };
  /** Per committee member, its n x numClasses probabilities of the candidates (committee). */
  readonly committee?: readonly Float32Array[];
  /**
   * Per candidate, its place in the pool's fixed random order (`drawKey(seed, item id)`, lowest
   * drawn first). When present, `random` and auto's random share draw in this order instead of
   * from rng, so a paired comparison with random shares its draws (common random numbers).
   */
  readonly drawKeys?: Float32Array | Float64Array;
  readonly rng: Rng;
}

/** A ranking of the candidates: `order[0..batch)` is the selected batch, the rest follow by score. */
export interface RankedPool {
  /** Every candidate index once, most wanted first. */
  readonly order: number[];
  /** Per candidate (by index, not position): the strategy's informativeness score, higher = more. */
  readonly scores: Float32Array;
  /** Per candidate (by index): one line saying why it is where it is. */
  readonly rationales: string[];
  /** How many leading entries of order were chosen as a batch (0 for per-item scores). */
  readonly batch: number;
}

/** Shortlist size of hybrid, as a multiple of the batch (Zhdanov 2019 used about 10). */
export const HYBRID_SHORTLIST_FACTOR = 10;
/** auto: labels below which the batch is all representative (density and class coverage). */
export const AUTO_RAMP_START = 50;
/** auto: labels from which the batch is all hybrid (uncertainty shortlist, then diversity). */
export const AUTO_RAMP_END = 300;
/**
 * auto: exponent of the class-coverage weight of its random draws, ((mean + 1) / (count + 1))^(tilt / 2);
 * 0 = plain random. A tilt of 1 cost 1-2 points against random at 100-275 labels on held-out trec.
 */
export const AUTO_COVERAGE_TILT = 0;
/** Candidates clustered for representative picks (a seeded sample of the pool). */
export const REPRESENTATIVE_SAMPLE = 3000;
/** MC dropout: passes and rate over the head's input (see uncertainty-models.ts). */
export const BALD_PASSES = 20;
export const BALD_DROPOUT = 0.2;

/**
 * What a strategy needs of training: bald's model trains with dropout at the rate it samples
 * with, so its MC-dropout passes draw from the approximate posterior that training fitted;
 * every other strategy scores a model trained without it.
 */
export function trainOptionsFor(strategy: string): { dropout?: number } {
  return strategy === 'bald' ? { dropout: BALD_DROPOUT } : {};
}

const fmt = (x: number) => x.toFixed(2);

function sizeOf(ctx: SelectionContext): number {
  if (ctx.probs.length % ctx.numClasses !== 0) throw new RangeError('probability matrix is not n x numClasses');
  const n = ctx.probs.length / ctx.numClasses;
  if (ctx.embeddings.length !== n * ctx.dim) throw new RangeError('embeddings are not n x dim');
  return n;
}

/** Margin in words: "margin 0.03 between DESC (0.41) and ENTY (0.38)". */
export function marginPhrase(row: ArrayLike<number>, labels: readonly string[]): string {
  const probs = Array.from(row);
  const [a, b] = topTwo(probs);
  const name = (c: number) => labels[c] ?? `#${c}`;
  if (b < 0) return `only label ${name(a)} (${fmt(probs[a])})`;
  return `margin ${fmt(probs[a] - probs[b])} between ${name(a)} (${fmt(probs[a])}) and ${name(b)} (${fmt(probs[b])})`;
}

/** Indices sorted by score, highest first; the lower index wins ties, so runs repeat exactly. */
export function byScore(scores: ArrayLike<number>, indices?: readonly number[]): number[] {
  const order = indices ? [...indices] : Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/** A seeded sample of at most `max` of the indices not in `exclude`, in index order. */
function sampleIndices(n: number, max: number, rng: Rng, exclude: ReadonlySet<number>): number[] {
  const pool: number[] = [];
  for (let i = 0; i < n; i++) if (!exclude.has(i)) pool.push(i);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, max).sort((a, b) => a - b);
}

/** Completes a ranking: the picks, then everything else by score (rationale from the margin). */
function finish(ctx: SelectionContext, n: number, scores: Float32Array, picks: number[], pickWhy: string[]): RankedPool {
  const rationales = new Array<string>(n);
  const k = ctx.numClasses;
  const inBatch = new Set(picks);
  for (let i = 0; i < n; i++) if (!inBatch.has(i)) rationales[i] = rationale('margin', ctx.probs.subarray(i * k, (i + 1) * k), ctx.labels);
  picks.forEach((p, t) => (rationales[p] = pickWhy[t]));
  const rest = byScore(scores).filter((i) => !inBatch.has(i));
  return { order: picks.concat(rest), scores, rationales, batch: picks.length };
}

const distancePhrase = (d: number, t: number, of: number) =>
  t === 0 || !Number.isFinite(d) ? `pick 1 of ${of}` : `pick ${t + 1} of ${of}, ${fmt(d)} from the nearest other pick`;

/**
 * hybrid: the `take` picks from a shortlist of the HYBRID_SHORTLIST_FACTOR x take most uncertain
 * (margin) candidates, chosen by greedy k-center weighted by uncertainty, so a batch is not
 * `take` near-duplicates of one confusing question. Returns picks and their rationales.
 */
export function hybridPicks(ctx: SelectionContext, margin: Float32Array, take: number, exclude: ReadonlySet<number> = new Set()): { picks: number[]; why: string[] } {
  const rows: DenseRows = { data: ctx.embeddings, dim: ctx.dim };
  const shortlist = byScore(margin).filter((i) => !exclude.has(i)).slice(0, take * HYBRID_SHORTLIST_FACTOR);
  const weights = shortlist.map((i) => margin[i]);
  const { picks, distances } = kCenterGreedy(rows, shortlist, take, { weights, first: 0 });
  const k = ctx.numClasses;
  const why = picks.map(
    (p, t) => `${marginPhrase(ctx.probs.subarray(p * k, (p + 1) * k), ctx.labels)}; ${distancePhrase(distances[t], t, picks.length)}`,
  );
  return { picks, why };
}

/**
 * Representative picks: a random sample of the candidates that takes at most one item per
 * region of the embedding space. The candidates (a seeded sample) are put in a weighted random
 * order (Efraimidis-Spirakis keys u^(1/w)) with w a class-coverage weight
 * sqrt((mean labels per class + 1) / (labels of the predicted class + 1)); k-means splits them
 * into 2 x take clusters; picks are taken in that order, skipping an item whose cluster already
 * has a pick, so a dense region is as likely to be hit as under random sampling but not twice.
 * Two variants lost to random on trec at 25-75 labels, where the model's space is still
 * poor: cluster medoids (the most typical items teach little) and one random member of each of
 * `take` clusters (k-means++ gives outliers clusters of their own, which that over-samples).
 */
export function representativePicks(ctx: SelectionContext, take: number, exclude: ReadonlySet<number> = new Set()): { picks: number[]; why: string[] } {
  const n = sizeOf(ctx);
  if (take <= 0) return { picks: [], why: [] };
  const rows: DenseRows = { data: ctx.embeddings, dim: ctx.dim };
  const sample = sampleIndices(n, REPRESENTATIVE_SAMPLE, ctx.rng, exclude);
  const clustering = denseKMeans(rows, sample, take * 2, ctx.rng);
  const k = ctx.numClasses;
  const counts = ctx.labeledClassCounts ?? new Array<number>(k).fill(0);
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, k);
  const predicted = (i: number) => topTwo(ctx.probs.subarray(i * k, (i + 1) * k))[0];
  const coverage = (i: number) => Math.sqrt((mean + 1) / ((counts[predicted(i)] ?? 0) + 1));
  const keys = sample.map((i) => Math.log(1 - ctx.rng()) / coverage(i));
  const order = sample.map((_, position) => position).sort((a, b) => keys[b] - keys[a] || a - b);
  const used = new Uint8Array(clustering.k);
  const picks: number[] = [];
  const why: string[] = [];
  for (const position of order) {
    if (picks.length >= take) break;
    const cluster = clustering.assign[position];
    if (used[cluster]) continue;
    used[cluster] = 1;
    const i = sample[position];
    const cls = predicted(i);
    picks.push(i);
    why.push(`representative: random draw from a region of ${clustering.sizes[cluster]} of ${sample.length} sampled items; predicted ${ctx.labels[cls] ?? `#${cls}`} (${counts[cls] ?? 0} labelled so far)`);
  }
  // Fewer regions than picks (a tiny pool or duplicates): fill in the same random order.
  for (const position of order) {
    if (picks.length >= take) break;
    const i = sample[position];
    if (!picks.includes(i)) {
      picks.push(i);
      why.push('representative: random draw from the sampled pool');
    }
  }
  return { picks, why };
}

/**
 * auto's representative share after the cold start: random draws (Efraimidis-Spirakis weighted
 * sampling without replacement), skipping a candidate whose embedding equals an earlier pick's (a
 * duplicate). `tilt` > 0 weights a candidate by ((mean labels per class + 1) / (labels of its
 * predicted class + 1))^(tilt / 2), towards classes with few labels; auto uses
 * AUTO_COVERAGE_TILT = 0, plain random: random is what this share must not fall below, and
 * every structured alternative tried (k-means medoids, one draw per region, tilt 1) fell below
 * it on held-out splits of trec or subj train.
 */
export function coverageRandomPicks(
  ctx: SelectionContext,
  take: number,
  exclude: ReadonlySet<number> = new Set(),
  tilt = AUTO_COVERAGE_TILT,
): { picks: number[]; why: string[] } {
  const n = sizeOf(ctx);
  const k = ctx.numClasses;
  const counts = ctx.labeledClassCounts ?? new Array<number>(k).fill(0);
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, k);
  const predicted = (i: number) => topTwo(ctx.probs.subarray(i * k, (i + 1) * k))[0];
  const keys = new Float64Array(n);
  // u in (0, 1]: 1 - the candidate's draw key when the context has them, else a fresh draw.
  const u = (i: number) => 1 - (ctx.drawKeys ? ctx.drawKeys[i] : ctx.rng());
  for (let i = 0; i < n; i++) keys[i] = exclude.has(i) ? -Infinity : Math.log(u(i)) / Math.pow((mean + 1) / ((counts[predicted(i)] ?? 0) + 1), tilt / 2);
  const order = byScore(keys).filter((i) => !exclude.has(i));
  const rows: DenseRows = { data: ctx.embeddings, dim: ctx.dim };
  const picks: number[] = [];
  const skipped: number[] = [];
  for (const i of order) {
    if (picks.length >= take) break;
    if (picks.some((p) => sqDist(rows, i, rows, p) === 0)) skipped.push(i);
    else picks.push(i);
  }
  for (const i of skipped) if (picks.length < take) picks.push(i);
  const why = picks.map((i) => {
    const cls = predicted(i);
    return `${tilt > 0 ? 'random draw tilted to rarely labelled classes' : 'random draw'}; predicted ${ctx.labels[cls] ?? `#${cls}`} (${counts[cls] ?? 0} labelled so far)`;
  });
  return { picks, why };
}

/** auto's share of the batch that comes from hybrid (the rest is representative), by labels so far. */
export function autoUncertainShare(labeledCount: number): number {
  return Math.min(1, Math.max(0, (labeledCount - AUTO_RAMP_START) / (AUTO_RAMP_END - AUTO_RAMP_START)));
}

/**
 * Ranks the candidates for `strategy`: per-item scores (random, least_confidence, margin,
 * entropy) rank by score with no batch; batch strategies choose `batchSize` picks first and
 * rank the rest by margin. Pure and seeded by ctx.rng.
 *
 * - coreset: greedy k-center from the labelled embeddings (Sener & Savarese 2018).
 * - kmeans: representative picks (random draws, one per k-means region, tilted to class coverage).
 * - hybrid: margin shortlist of 10 x batch, then uncertainty-weighted k-center inside it.
 * - committee: top vote entropy + mean KL to the consensus of ctx.committee (bootstrap members).
 * - badge: k-means++ seeding over gradient embeddings (Ash et al. 2020).
 * - bald: top BALD scores under MC dropout over the head's input (Gal et al. 2017).
 * - auto: a share autoUncertainShare(labels) of the batch from hybrid, the rest representative
 *   (coverageRandomPicks: random draws, in ctx.drawKeys' order when given). The cold start before
 *   any model is the sampling service's; once a model exists, auto's early batches are random:
 *   continuing the cold start's cluster medoids cost 1.6 points against random at 50 labels on
 *   a held-out part of subj train (and only helped on trec and chnsenticorp).
 */
export function rankPool(strategy: StrategyName, ctx: SelectionContext, batchSize: number): RankedPool {
  const n = sizeOf(ctx);
  const k = ctx.numClasses;
  const take = Math.max(0, Math.min(batchSize, n));
  if (isScoreName(strategy)) {
    const scores = strategy === 'random' && ctx.drawKeys ? Float32Array.from(ctx.drawKeys, (key) => 1 - key) : scorePool(strategy, ctx.probs, k, ctx.rng);
    const rationales = Array.from({ length: n }, (_, i) => rationale(strategy, ctx.probs.subarray(i * k, (i + 1) * k), ctx.labels));
    return { order: byScore(scores), scores, rationales, batch: 0 };
  }
  const margin = scorePool('margin', ctx.probs, k);
  const rows: DenseRows = { data: ctx.embeddings, dim: ctx.dim };
  switch (strategy) {
    case 'coreset': {
      const all = Array.from({ length: n }, (_, i) => i);
      const reference = ctx.labeledEmbeddings ? { data: ctx.labeledEmbeddings, dim: ctx.dim } : undefined;
      const { picks, distances } = kCenterGreedy(rows, all, take, { reference });
      const why = picks.map((_, t) =>
        Number.isFinite(distances[t]) ? `core-set pick ${t + 1} of ${picks.length}: ${fmt(distances[t])} from the nearest labelled item or earlier pick` : `core-set pick ${t + 1} of ${picks.length}`,
      );
      return finish(ctx, n, margin, picks, why);
    }
    case 'kmeans': {
      const { picks, why } = representativePicks(ctx, take);
      return finish(ctx, n, margin, picks, why);
    }
    case 'hybrid': {
      const { picks, why } = hybridPicks(ctx, margin, take);
      return finish(ctx, n, margin, picks, why);
    }
    case 'badge': {
      const grads = badgeEmbeddings(ctx.probs, k, ctx.embeddings, ctx.dim);
      const all = Array.from({ length: n }, (_, i) => i);
      const picks = kMeansPlusPlus({ data: grads, dim: k * ctx.dim }, all, take, ctx.rng);
      const why = picks.map((p, t) => `gradient-embedding pick ${t + 1} of ${picks.length}: ${marginPhrase(ctx.probs.subarray(p * k, (p + 1) * k), ctx.labels)}`);
      return finish(ctx, n, margin, picks, why);
    }
    case 'committee': {
      if (!ctx.committee?.length) throw new TypeError('the committee strategy needs member probabilities in the selection context');
      const { voteEntropy, kl } = committeeScores(ctx.committee, k);
      const scores = Float32Array.from(voteEntropy, (v, i) => v + kl[i]);
      const picks = byScore(scores).slice(0, take);
      const members = ctx.committee.length;
      const why = picks.map((p) => `committee of ${members} split: vote entropy ${fmt(voteEntropy[p])}, mean KL to consensus ${kl[p].toFixed(3)}; ${marginPhrase(ctx.probs.subarray(p * k, (p + 1) * k), ctx.labels)}`);
      return finish(ctx, n, scores, picks, why);
    }
    case 'bald': {
      if (!ctx.head) throw new TypeError('the bald strategy needs the model head in the selection context');
      const scores = baldScores(ctx.embeddings, ctx.dim, ctx.head.weights, ctx.head.bias, BALD_PASSES, BALD_DROPOUT, ctx.rng);
      const picks = byScore(scores).slice(0, take);
      const why = picks.map((p) => `MC-dropout disagreement (BALD) ${scores[p].toFixed(3)}; ${marginPhrase(ctx.probs.subarray(p * k, (p + 1) * k), ctx.labels)}`);
      return finish(ctx, n, scores, picks, why);
    }
    case 'auto': {
      const share = autoUncertainShare(ctx.labeledCount);
      const uncertain = Math.round(take * share);
      const hybrid = hybridPicks(ctx, margin, uncertain);
      const exclude = new Set(hybrid.picks);
      const rest = take - hybrid.picks.length;
      const rep = coverageRandomPicks(ctx, rest, exclude);
      const phase = `auto (${Math.round(share * 100)}% uncertainty at ${ctx.labeledCount} labels)`;
      const picks = hybrid.picks.concat(rep.picks);
      const why = hybrid.why.concat(rep.why).map((w) => `${phase}: ${w}`);
      return finish(ctx, n, margin, picks, why);
    }
    default:
      throw new RangeError(`unknown strategy ${String(strategy)}`);
  }
}

/** The batch alone: the first `batchSize` of rankPool's order. */
export function selectBatch(strategy: StrategyName, ctx: SelectionContext, batchSize: number): number[] {
  return rankPool(strategy, ctx, batchSize).order.slice(0, batchSize);
}
