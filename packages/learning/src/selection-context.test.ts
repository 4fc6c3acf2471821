import { predictProba } from './predict';
import { createRng } from './rng';
import { selectionContext } from './selection-context';
import { rankPool } from './selection';
import { STRATEGY_NAMES } from './strategies';
import { trainClassifier } from './train';

describe('selectionContext', () => {
  it('derives probabilities equal to predictProba, embeddings, counts and the head from a model', async () => {
    const texts = ['good movie', 'great film', 'bad movie', 'awful film', 'good fun', 'bad plot'];
    const y = [0, 0, 1, 1, 0, 1];
    const model = await trainClassifier(texts, y, 2, { seed: 1, epochs: 2, minSteps: 20 });
    const candidates = ['good plot', 'awful movie', 'film', '', 'good movie'];
    const ctx = selectionContext(model, candidates, { labels: ['pos', 'neg'], labeledTexts: texts, labeledY: y, rng: createRng(1) });
    const expected = predictProba(model, candidates);
    ctx.probs.forEach((p, i) => expect(p).toBeCloseTo(expected[i], 6));
    expect(ctx.embeddings).toHaveLength(candidates.length * model.dim);
    expect(ctx.labeledEmbeddings).toHaveLength(texts.length * model.dim);
    expect(ctx.labeledClassCounts).toEqual([3, 3]);
    expect(ctx.labeledCount).toBe(6);
    // Every strategy runs on a real model's context (committee needs members: given here as the model twice).
    for (const name of STRATEGY_NAMES) {
      const ranked = rankPool(name, { ...ctx, committee: [ctx.probs, ctx.probs] }, 2);
      expect([...ranked.order].sort()).toEqual([0, 1, 2, 3, 4]);
    }
  });
});
