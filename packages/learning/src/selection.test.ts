import { createRng, drawKey } from './rng';
import { autoUncertainShare, BALD_DROPOUT, byScore, coverageRandomPicks, marginPhrase, rankPool, selectBatch, trainOptionsFor, type SelectionContext } from './selection';
import { STRATEGY_NAMES } from './strategies';

const LABELS = ['DESC', 'ENTY', 'HUM'];

/** A context over explicit probability rows and 2-d embeddings. */
function context(probs: number[][], points: number[][], extra: Partial<SelectionContext> = {}): SelectionContext {
  return {
    probs: Float32Array.from(probs.flat()),
    numClasses: probs[0]!.length,
    embeddings: Float32Array.from(points.flat()),
    dim: points[0]!.length,
    labels: LABELS,
    labeledCount: 0,
    head: { weights: Float32Array.from([1, 0, 0, 0, 1, 0]), bias: new Float32Array(3) },
    committee: [Float32Array.from(probs.flat()), Float32Array.from(probs.flat().map((p, i) => (i % 3 === 0 ? 1 - p : p)))],
    rng: createRng(7),
    ...extra,
  };
}

/** 40 items: 20 copies of one very uncertain item, then 20 distinct moderately uncertain ones. */
function duplicatePool(): SelectionContext {
  const probs: number[][] = [];
  const points: number[][] = [];
  for (let i = 0; i < 20; i++) {
    probs.push([0.34, 0.33, 0.33]);
    points.push([0, 0]);
  }
  for (let i = 0; i < 20; i++) {
    probs.push([0.5, 0.4, 0.1]);
    points.push([Math.cos(i), Math.sin(i) * (1 + i)]);
  }
  return context(probs, points, { labeledCount: 1000 });
}

describe('rankPool', () => {
  it('orders every candidate once for every strategy', () => {
    const probs = [[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [1 / 3, 1 / 3, 1 / 3], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]];
    const points = [[0, 0], [1, 0], [0, 1], [5, 5], [2, 2]];
    for (const name of STRATEGY_NAMES) {
      const ranked = rankPool(name, context(probs, points, { labeledEmbeddings: Float32Array.from([0, 0]) }), 2);
      expect([...ranked.order].sort()).toEqual([0, 1, 2, 3, 4]);
      expect(ranked.rationales).toHaveLength(5);
      for (const r of ranked.rationales) expect(r).not.toMatch(/\n|undefined|NaN/);
    }
  });

  it('ranks per-item scores by score with no batch, ties to the lower index', () => {
    const ranked = rankPool('margin', context([[0.5, 0.5, 0], [0.5, 0.5, 0], [1, 0, 0]], [[0, 0], [0, 0], [1, 1]]), 2);
    expect(ranked.order).toEqual([0, 1, 2]);
    expect(ranked.batch).toBe(0);
  });

  it('hybrid does not fill a batch with near-duplicates of the most uncertain item', () => {
    const picks = selectBatch('hybrid', duplicatePool(), 5);
    expect(picks.filter((i) => i < 20)).toHaveLength(1);
    expect(new Set(picks).size).toBe(5);
  });

  it('auto late in the curve is the hybrid, and also avoids duplicates', () => {
    const picks = selectBatch('auto', duplicatePool(), 5);
    expect(picks.filter((i) => i < 20).length).toBeLessThanOrEqual(1);
  });

  it('auto between the cold start and the ramp draws at random; a coverage tilt favours classes with few labels', () => {
    // Two equally dense groups; the model assigns group A to DESC (50 labels) and B to HUM (0).
    const probs: number[][] = [];
    const points: number[][] = [];
    for (let i = 0; i < 30; i++) {
      probs.push(i < 15 ? [0.8, 0.1, 0.1] : [0.1, 0.1, 0.8]);
      points.push(i < 15 ? [i * 0.01, 0] : [10 + i * 0.01, 10]);
    }
    let humAuto = 0;
    let humTilted = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const ctx = context(probs, points, { labeledCount: 50, labeledClassCounts: [50, 10, 0], rng: createRng(seed) });
      const ranked = rankPool('auto', ctx, 1);
      if (ranked.order[0]! >= 15) humAuto++;
      expect(ranked.rationales[ranked.order[0]!]).toMatch(/^auto \(0% uncertainty at 50 labels\): random draw; predicted (DESC \(50|HUM \(0) labelled so far\)$/);
      const tilted = coverageRandomPicks({ ...ctx, rng: createRng(seed) }, 1, new Set(), 1);
      if (tilted.picks[0]! >= 15) humTilted++;
      expect(tilted.why[0]).toMatch(/^random draw tilted to rarely labelled classes; predicted/);
    }
    expect(humAuto).toBeGreaterThan(70);
    expect(humAuto).toBeLessThan(130);
    // Weights sqrt(21/51) vs sqrt(21/1): HUM is drawn about 88% of the time.
    expect(humTilted).toBeGreaterThan(155);
    expect(humTilted).toBeLessThan(200);
  });

  it('random and auto\'s random share draw in the context\'s shared order (drawKeys) when it has one', () => {
    const base = duplicatePool();
    const n = base.probs.length / base.numClasses;
    const drawKeys = Float64Array.from({ length: n }, (_, i) => drawKey(5, 1000 + i));
    const ascending = Array.from({ length: n }, (_, i) => i).sort((a, b) => drawKeys[a] - drawKeys[b]);
    const ctx = { ...base, labeledCount: 40, drawKeys };
    // Different rng streams, same draws: the order comes from the keys alone.
    expect(rankPool('random', { ...ctx, rng: createRng(1) }, 0).order.slice(0, 5)).toEqual(ascending.slice(0, 5));
    expect(rankPool('random', { ...ctx, rng: createRng(2) }, 0).order.slice(0, 5)).toEqual(ascending.slice(0, 5));
    // Below AUTO_RAMP_START labels auto is all random share: the same first picks as random,
    // except that it skips an exact duplicate of an earlier pick.
    const auto = selectBatch('auto', { ...ctx, rng: createRng(3) }, 3);
    const rows = (i: number) => Array.from(base.embeddings.subarray(i * base.dim, (i + 1) * base.dim)).join();
    const distinct = ascending.filter((i, t) => ascending.slice(0, t).every((j) => rows(j) !== rows(i)));
    expect(auto).toEqual(distinct.slice(0, 3));
  });

  it('auto\'s random draws skip exact duplicates while distinct items are left', () => {
    const points: number[][] = [];
    for (let i = 0; i < 30; i++) points.push(i < 28 ? [1, 1] : [i, 0]);
    for (let seed = 1; seed <= 10; seed++) {
      const ctx = context(points.map(() => [0.5, 0.3, 0.2]), points, { labeledCount: 60, rng: createRng(seed) });
      const picks = selectBatch('auto', { ...ctx, labeledCount: 50 }, 3);
      expect(picks.filter((i) => i < 28)).toHaveLength(1);
    }
  });

  it('kmeans takes no two picks from one region (exact duplicates here)', () => {
    const points: number[][] = [];
    for (let g = 0; g < 3; g++) for (let i = 0; i < 10; i++) points.push([g * 100, 0]);
    const ctx = context(points.map(() => [0.5, 0.3, 0.2]), points);
    const picks = selectBatch('kmeans', ctx, 3);
    expect(new Set(picks.map((i) => Math.floor(i / 10)))).toEqual(new Set([0, 1, 2]));
  });

  it('copes with uniform probabilities, one class and a batch larger than the pool', () => {
    const uniform = context([[1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]], [[0, 0], [0, 0]]);
    for (const name of STRATEGY_NAMES) expect([...selectBatch(name, uniform, 5)].sort()).toEqual([0, 1]);
    const oneClass = { ...context([[1], [1], [1]], [[0, 0], [1, 0], [2, 0]]), labels: ['ONLY'] };
    for (const name of STRATEGY_NAMES) expect(rankPool(name, oneClass, 2).order).toHaveLength(3);
  });

  it('core-set starts from the point farthest from the labelled items', () => {
    const ctx = context([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2], [0.5, 0.3, 0.2]], [[1, 0], [50, 0], [2, 0]], {
      labeledEmbeddings: Float32Array.from([0, 0]),
    });
    const ranked = rankPool('coreset', ctx, 2);
    expect(ranked.order.slice(0, 2)).toEqual([1, 2]);
    expect(ranked.rationales[1]).toBe('core-set pick 1 of 2: 50.00 from the nearest labelled item or earlier pick');
  });

  it('is reproducible for a seed', () => {
    for (const name of ['kmeans', 'badge', 'bald', 'auto', 'random'] as const) {
      expect(rankPool(name, duplicatePool(), 5).order).toEqual(rankPool(name, duplicatePool(), 5).order);
    }
  });

  it('bald needs the model head, committee its members', () => {
    expect(() => rankPool('bald', { ...duplicatePool(), head: undefined }, 3)).toThrow(TypeError);
    expect(() => rankPool('committee', { ...duplicatePool(), committee: [] }, 3)).toThrow(TypeError);
  });

  it('rejects malformed matrices', () => {
    expect(() => rankPool('hybrid', { ...duplicatePool(), embeddings: new Float32Array(3) }, 3)).toThrow(RangeError);
  });
});

describe('hybrid rationale', () => {
  it('names the margin, the two labels and the distance to the other picks', () => {
    const ranked = rankPool('hybrid', duplicatePool(), 3);
    expect(ranked.rationales[ranked.order[0]!]).toBe('margin 0.01 between DESC (0.34) and ENTY (0.33); pick 1 of 3');
    expect(ranked.rationales[ranked.order[1]!]).toMatch(/^margin 0\.10 between DESC \(0\.50\) and ENTY \(0\.40\); pick 2 of 3, \d+\.\d\d from the nearest other pick$/);
  });
});

describe('helpers', () => {
  it('marginPhrase handles one class', () => {
    expect(marginPhrase([1], ['ONLY'])).toBe('only label ONLY (1.00)');
  });

  it('byScore breaks ties by index', () => {
    expect(byScore([0.5, 0.9, 0.5])).toEqual([1, 0, 2]);
  });

  it('autoUncertainShare ramps from 0 to 1', () => {
    expect(autoUncertainShare(0)).toBe(0);
    expect(autoUncertainShare(50)).toBe(0);
    expect(autoUncertainShare(175)).toBeCloseTo(0.5, 6);
    expect(autoUncertainShare(5000)).toBe(1);
  });
});

describe('trainOptionsFor', () => {
  it('trains bald models with the dropout bald samples with, and no other strategy with any', () => {
    expect(trainOptionsFor('bald')).toEqual({ dropout: BALD_DROPOUT });
    for (const name of STRATEGY_NAMES.filter((n) => n !== 'bald')) expect(trainOptionsFor(name)).toEqual({});
  });
});
