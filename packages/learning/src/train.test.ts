import { initBackend } from './backend';
import { argmaxRows, evaluate } from './metrics';
import { embed, predictProba, predictProbaTf } from './predict';
import { createRng, permutation } from './rng';
import { loadSplit } from './test-data';
import { trainClassifier } from './train';
import type { TrainedModel } from './model';

const train = loadSplit('trec', 'train');
const test = loadSplit('trec', 'test');

// Explicit budgets, well over ten times what these take on 2 quiet cores, so a loaded machine
// does not fail them: the full trec split (5,452 texts) trains in about 3 s, the three
// 300-label trainings with and without dropout take about 7 s.
const FULL_SPLIT_BUDGET_MS = 180_000;
const DROPOUT_BUDGET_MS = 120_000;

function subset(n: number, seed: number) {
  const idx = Array.from(permutation(train.texts.length, createRng(seed)).subarray(0, n));
  return { texts: idx.map((i) => train.texts[i]), y: idx.map((i) => train.y[i]) };
}

describe('trainClassifier on the full trec train split', () => {
  let model: TrainedModel;
  let probs: Float32Array;
  beforeAll(async () => {
    model = await trainClassifier(train.texts, train.y, train.labels.length, { seed: 1 });
    probs = predictProba(model, test.texts);
  }, FULL_SPLIT_BUDGET_MS);

  it('reaches at least 0.85 test accuracy', () => {
    const { accuracy } = evaluate(test.y, argmaxRows(probs, model.numClasses), test.labels);
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
  });

  it('records the backend that ran the TF.js half', async () => {
    expect(model.meta.backend).toBe(await initBackend());
    expect(model.meta.steps).toBeGreaterThan(0);
  });

  it('gives rows that are probability distributions', () => {
    expect(probs).toHaveLength(test.texts.length * model.numClasses);
    for (let i = 0; i < test.texts.length; i++) {
      const row = probs.subarray(i * model.numClasses, (i + 1) * model.numClasses);
      expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
    }
  });

  it('agrees with the TF.js forward pass to 1e-4', () => {
    const texts = [...test.texts.slice(0, 150), '', 'zzqx unseen words only', '房间很大'];
    const fast = predictProba(model, texts);
    const reference = predictProbaTf(model, texts);
    let maxDiff = 0;
    for (let i = 0; i < fast.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fast[i] - reference[i]));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('embeds texts as the pooled representation', () => {
    const e = embed(model, test.texts.slice(0, 3));
    expect(e).toHaveLength(3 * model.dim);
    expect(e.some((v) => v !== 0)).toBe(true);
  });
});

describe('trainClassifier on small label sets', () => {
  it('learns from 60 labels well above the majority class', async () => {
    const s = subset(60, 3);
    const model = await trainClassifier(s.texts, s.y, train.labels.length, { seed: 1 });
    const { accuracy } = evaluate(test.y, argmaxRows(predictProba(model, test.texts), model.numClasses), test.labels);
    const majority = Math.max(...test.labels.map((_, c) => test.y.filter((y) => y === c).length)) / test.y.length;
    expect(accuracy).toBeGreaterThan(majority + 0.1);
  });

  it('is deterministic for a seed and varies with it', async () => {
    const s = subset(40, 4);
    const a = await trainClassifier(s.texts, s.y, 6, { seed: 5, minSteps: 20 });
    const b = await trainClassifier(s.texts, s.y, 6, { seed: 5, minSteps: 20 });
    const c = await trainClassifier(s.texts, s.y, 6, { seed: 6, minSteps: 20 });
    expect(b.table).toEqual(a.table);
    expect(b.outWeights).toEqual(a.outWeights);
    expect(c.outWeights).not.toEqual(a.outWeights);
  });

  it('trains a hidden layer, reports epochs and keeps the event loop turning', async () => {
    const s = subset(200, 5);
    const losses: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const model = await trainClassifier(s.texts, s.y, 6, { seed: 1, hidden: 16, epochs: 4, minSteps: 0, onEpoch: (e) => void losses.push(e.loss) });
    clearInterval(timer);
    expect(losses).toHaveLength(4);
    expect(losses[3]).toBeLessThan(losses[0]);
    expect(ticks).toBeGreaterThan(4);
    expect(embed(model, ['what is this ?'])).toHaveLength(16);
    const fast = predictProba(model, test.texts.slice(0, 50));
    const reference = predictProbaTf(model, test.texts.slice(0, 50));
    fast.forEach((p, i) => expect(Math.abs(p - reference[i])).toBeLessThan(1e-4));
  });

  it('weights classes when asked', async () => {
    const s = subset(100, 6);
    const plain = await trainClassifier(s.texts, s.y, 6, { seed: 1, minSteps: 30 });
    const balanced = await trainClassifier(s.texts, s.y, 6, { seed: 1, minSteps: 30, classWeight: 'balanced' });
    expect(balanced.outWeights).not.toEqual(plain.outWeights);
    await expect(trainClassifier(s.texts, s.y, 6, { classWeight: [1, 2] })).rejects.toThrow(RangeError);
  });

  it('trains with dropout on the pooled embedding when asked, deterministically', async () => {
    const s = subset(300, 7);
    const plain = await trainClassifier(s.texts, s.y, 6, { seed: 1 });
    const a = await trainClassifier(s.texts, s.y, 6, { seed: 1, dropout: 0.2 });
    const b = await trainClassifier(s.texts, s.y, 6, { seed: 1, dropout: 0.2 });
    expect(plain.meta.dropout).toBe(0);
    expect(a.meta.dropout).toBe(0.2);
    expect(b.outWeights).toEqual(a.outWeights);
    expect(a.outWeights).not.toEqual(plain.outWeights);
    // Still a working classifier: within a few points of the same labels trained without it.
    const accuracy = (m: TrainedModel) => evaluate(test.y, argmaxRows(predictProba(m, test.texts), 6), test.labels).accuracy;
    expect(accuracy(a)).toBeGreaterThan(accuracy(plain) - 0.05);
    await expect(trainClassifier(s.texts, s.y, 6, { dropout: 1 })).rejects.toThrow(RangeError);
    await expect(trainClassifier(s.texts, s.y, 6, { dropout: -0.1 })).rejects.toThrow(RangeError);
  }, DROPOUT_BUDGET_MS);

  it('copes with texts that have no features', async () => {
    const model = await trainClassifier(['', ' ', 'what ?'], [0, 0, 1], 2, { minSteps: 10 });
    const texts = ['', 'what ?', 'never seen'];
    const fast = predictProba(model, texts);
    predictProbaTf(model, texts).forEach((p, i) => expect(Math.abs(p - fast[i])).toBeLessThan(1e-4));
    const empty = await trainClassifier(['', ''], [0, 1], 2, { minSteps: 5 });
    expect(empty.rowBuckets).toHaveLength(0);
    expect(Array.from(predictProbaTf(empty, ['x']), (p) => +p.toFixed(4))).toEqual(Array.from(predictProba(empty, ['x']), (p) => +p.toFixed(4)));
  });

  it('rejects malformed input', async () => {
    await expect(trainClassifier(['a'], [3], 2)).rejects.toThrow(RangeError);
    await expect(trainClassifier(['a', 'b'], [0], 2)).rejects.toThrow(RangeError);
    await expect(trainClassifier([], [], 2)).rejects.toThrow(RangeError);
  });
});
