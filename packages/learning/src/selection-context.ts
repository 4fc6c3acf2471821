import { headInputDim, softmaxHead, type TrainedModel } from './model';
import { embed } from './predict';
import type { Rng } from './rng';
import type { SelectionContext } from './selection';

/** At most this many labelled items are embedded as core-set's reference (a seeded sample). */
export const LABELED_REFERENCE_CAP = 2000;

/**
 * Builds a SelectionContext from a model: embeds the candidates once and derives the
 * probabilities from the same representation (as predictProba does), embeds (a sample of) the
 * labelled texts for core-set, and counts labels per class for class coverage.
 */
export function selectionContext(
  model: TrainedModel,
  candidates: string[],
  input: {
    labels: readonly string[];
    labeledTexts?: readonly string[];
    labeledY?: readonly number[];
    labeledCount?: number;
    rng: Rng;
    /** The candidates' `embed()` rows when the caller already has them (scored on the compute threads). */
    embeddings?: Float32Array;
  },
): SelectionContext {
  const k = model.numClasses;
  const dim = headInputDim(model);
  if (input.embeddings && input.embeddings.length !== candidates.length * dim) {
    throw new RangeError(`selectionContext: ${input.embeddings.length} embedding values for ${candidates.length} candidates of width ${dim}`);
  }
  const embeddings = input.embeddings ?? embed(model, candidates);
  const probs = new Float32Array(candidates.length * k);
  for (let i = 0; i < candidates.length; i++) softmaxHead(embeddings, i * dim, model.outWeights, model.outBias, dim, probs, i * k);
  let labeledEmbeddings: Float32Array | undefined;
  if (input.labeledTexts?.length) {
    const texts = [...input.labeledTexts];
    for (let i = texts.length - 1; i > 0 && texts.length > LABELED_REFERENCE_CAP; i--) {
      const j = Math.floor(input.rng() * (i + 1));
      [texts[i], texts[j]] = [texts[j], texts[i]];
    }
    labeledEmbeddings = embed(model, texts.slice(0, LABELED_REFERENCE_CAP));
  }
  const counts = new Array<number>(k).fill(0);
  for (const y of input.labeledY ?? []) if (y >= 0 && y < k) counts[y]++;
  return {
    probs,
    numClasses: k,
    embeddings,
    dim,
    labels: input.labels,
    labeledCount: input.labeledCount ?? input.labeledY?.length ?? input.labeledTexts?.length ?? 0,
    labeledEmbeddings,
    labeledClassCounts: counts,
    head: { weights: model.outWeights, bias: model.outBias },
    rng: input.rng,
  };
}
