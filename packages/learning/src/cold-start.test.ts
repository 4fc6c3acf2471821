import { coldStartOrder } from './cold-start';
import { resolveFeatureConfig } from './features';
import { loadSplit } from './test-data';
import { cosineToAll, tfidfVectors } from './tfidf';

const trec = loadSplit('trec', 'train');
const classesIn = (idx: number[]) => new Set(idx.map((i) => trec.y[i])).size;

describe('coldStartOrder', () => {
  const orders = [1, 2, 3, 4, 5, 6].map((seed) => coldStartOrder(trec.texts, { seed }));

  it('orders every index exactly once, reproducibly per seed', () => {
    expect([...orders[0]].sort((a, b) => a - b)).toEqual([...trec.texts.keys()]);
    expect(coldStartOrder(trec.texts, { seed: 1 })).toEqual(orders[0]);
    expect(orders[1].slice(0, 25)).not.toEqual(orders[0].slice(0, 25));
  });

  it('covers more trec classes in its first 25 than file order does on average', () => {
    const ours = orders.reduce((s, o) => s + classesIn(o.slice(0, 25)), 0) / orders.length;
    // File order, averaged over its consecutive windows of 25.
    const windows = Math.floor(trec.texts.length / 25);
    let fileOrder = 0;
    for (let w = 0; w < windows; w++) fileOrder += classesIn([...Array(25).keys()].map((k) => w * 25 + k));
    expect(ours).toBeGreaterThan(fileOrder / windows);
  });

  it('opens with texts that are not near-duplicates of each other', () => {
    const cfg = resolveFeatureConfig();
    const scratch = new Float32Array(cfg.buckets);
    for (const order of orders) {
      const vectors = tfidfVectors(order.slice(0, 25).map((i) => trec.texts[i]), cfg);
      const sims = new Float32Array(vectors.length);
      vectors.forEach((v, a) => {
        cosineToAll(v, vectors, scratch, sims);
        sims.forEach((s, b) => b !== a && expect(s).toBeLessThan(0.8));
      });
    }
  });

  it('clusters at most maxCandidates texts and appends the rest', () => {
    const texts = trec.texts.slice(0, 300);
    const order = coldStartOrder(texts, { seed: 1, maxCandidates: 100, clusters: 10 });
    expect([...order].sort((a, b) => a - b)).toEqual([...texts.keys()]);
    expect(coldStartOrder([], { seed: 1 })).toEqual([]);
    expect(coldStartOrder(['only one'], { seed: 1 })).toEqual([0]);
  });
});
