import type { Rng } from './rng';

/** The per-item scores: query strategies that need only one model's class probabilities. */
export type ScoreName = 'random' | 'least_confidence' | 'margin' | 'entropy';

/** Every ScoreName. */
export const SCORE_NAMES: readonly ScoreName[] = ['random', 'least_confidence', 'margin', 'entropy'];

/**
 * Every query strategy a project can use: the per-item scores, and the batch strategies of
 * selection.ts (diversity in the model's embedding space, hybrids, a bootstrap committee,
 * gradient embeddings, MC dropout, and `auto`, which blends them by the number of labels).
 */
export type StrategyName = ScoreName | 'coreset' | 'kmeans' | 'hybrid' | 'committee' | 'badge' | 'bald' | 'auto';

/** Every StrategyName, for validation and listings. */
export const STRATEGY_NAMES: readonly StrategyName[] = [...SCORE_NAMES, 'coreset', 'kmeans', 'hybrid', 'committee', 'badge', 'bald', 'auto'];

/** Whether a strategy name is a per-item score (as opposed to a batch strategy). */
export function isScoreName(name: string): name is ScoreName {
  return (SCORE_NAMES as readonly string[]).includes(name);
}

type Probs = Float32Array | readonly number[];

/** Indices of the largest and second-largest probability; the lower index wins ties. */
export function topTwo(probs: Probs): [number, number] {
  let first = 0;
  let second = -1;
  for (let c = 1; c < probs.length; c++) {
    if (probs[c] > probs[first]) {
      second = first;
      first = c;
    } else if (second < 0 || probs[c] > probs[second]) {
      second = c;
    }
  }
  return [first, second];
}

/**
 * How informative labelling this item would be; higher is more informative. In [0, 1] for
 * every strategy: random draws rng(), least_confidence is 1 - p(top), margin is
 * 1 - (p(top) - p(second)), entropy is the Shannon entropy divided by log(k).
 */
export function uncertainty(name: ScoreName, probs: Probs, rng?: Rng): number {
  switch (name) {
    case 'random':
      // No silent Math.random fallback: sampling must be reproducible from a seed.
      if (!rng) throw new TypeError('the random strategy needs an rng');
      return rng();
    case 'least_confidence':
      return 1 - probs[topTwo(probs)[0]];
    case 'margin': {
      const [a, b] = topTwo(probs);
      return 1 - (probs[a] - (b < 0 ? 0 : probs[b]));
    }
    case 'entropy': {
      if (probs.length < 2) return 0;
      let h = 0;
      for (let c = 0; c < probs.length; c++) if (probs[c] > 0) h -= probs[c] * Math.log(probs[c]);
      return h / Math.log(probs.length);
    }
    default:
      throw new RangeError(`unknown strategy ${String(name)}`);
  }
}

const fmt = (p: number) => p.toFixed(2);

/** One line saying why the strategy picked this item, for annotators and logs. */
export function rationale(name: ScoreName, probs: Probs, labels: readonly string[]): string {
  const [a, b] = topTwo(probs);
  const label = (c: number) => labels[c] ?? `#${c}`;
  switch (name) {
    case 'random':
      return 'random baseline';
    case 'least_confidence':
      return `least confident: top label ${label(a)} at ${fmt(probs[a])}`;
    case 'margin':
      return b < 0
        ? `small margin: only label ${label(a)} at ${fmt(probs[a])}`
        : `model torn between ${label(a)} (${fmt(probs[a])}) and ${label(b)} (${fmt(probs[b])})`;
    case 'entropy':
      return `high entropy ${fmt(uncertainty('entropy', probs))} over ${probs.length} labels, top ${label(a)} (${fmt(probs[a])})`;
    default:
      throw new RangeError(`unknown strategy ${String(name)}`);
  }
}

/** Scores every row of an n x numClasses probability matrix with `uncertainty`. */
export function scorePool(name: ScoreName, probs: Float32Array, numClasses: number, rng?: Rng): Float32Array {
  if (probs.length % numClasses !== 0) throw new RangeError('probability matrix is not n x numClasses');
  const n = probs.length / numClasses;
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) scores[i] = uncertainty(name, probs.subarray(i * numClasses, (i + 1) * numClasses), rng);
  return scores;
}
