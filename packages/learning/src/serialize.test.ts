import type { TrainedModel } from './model';
import { predictProba } from './predict';
import { createRng, permutation } from './rng';
import { deserializeModel, serializeModel } from './serialize';
import { loadSplit } from './test-data';
import { trainClassifier } from './train';

const trec = loadSplit('trec', 'train');
const idx = Array.from(permutation(trec.texts.length, createRng(2)).subarray(0, 300));
const texts = idx.map((i) => trec.texts[i]);
const y = idx.map((i) => trec.y[i]);

// Field by field, typed arrays as bytes: jest's deep equality walks a 2^18-entry array slowly.
function expectSameModel(a: TrainedModel, b: TrainedModel): void {
  const { rowBuckets, rowOf, rowWeights, table, hiddenWeights, hiddenBias, outWeights, outBias, ...rest } = a;
  const arrays = { rowBuckets, rowOf, rowWeights, table, hiddenWeights, hiddenBias, outWeights, outBias };
  for (const [key, value] of Object.entries(arrays)) {
    const other = b[key as keyof typeof arrays];
    expect(other.constructor).toBe(value.constructor);
    expect(Buffer.from(other.buffer, other.byteOffset, other.byteLength).equals(Buffer.from(value.buffer, value.byteOffset, value.byteLength))).toBe(true);
  }
  const { rowBuckets: _1, rowOf: _2, rowWeights: _3, table: _4, hiddenWeights: _5, hiddenBias: _6, outWeights: _7, outBias: _8, ...restB } = b;
  expect(restB).toEqual(rest);
}

describe.each([0, 8])('serializeModel / deserializeModel (hidden %i)', (hidden) => {
  it('round-trips every weight and prediction', async () => {
    const model = await trainClassifier(texts, y, 6, { seed: 1, hidden, epochs: 2, minSteps: 0 });
    const bytes = serializeModel(model);
    // Only seen buckets are stored: far below buckets x dim x 4 bytes.
    expect(bytes.length).toBeLessThan((model.featureConfig.buckets * model.dim * 4) / 4);
    const back = deserializeModel(bytes);
    expectSameModel(back, model);
    const probe = ['What is the capital of France ?', 'who wrote hamlet', ''];
    expect(predictProba(back, probe)).toEqual(predictProba(model, probe));
    // A copy at an odd offset in a larger buffer reads the same.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expectSameModel(deserializeModel(shifted.subarray(3)), model);
  });
});

describe('deserializeModel', () => {
  it('reads a model from before the text limit as featurising whole texts', async () => {
    const model = await trainClassifier(texts.slice(0, 30), y.slice(0, 30), 6, { seed: 1, minSteps: 5 });
    const { maxTextChars: _limit, ...before } = model.featureConfig;
    const back = deserializeModel(serializeModel({ ...model, featureConfig: before as typeof model.featureConfig }));
    expect(back.featureConfig.maxTextChars).toBe(0);
    expect(deserializeModel(serializeModel(model)).featureConfig.maxTextChars).toBe(10_000);
  });

  it('rejects bytes that are not a whole model', async () => {
    const model = await trainClassifier(texts.slice(0, 30), y.slice(0, 30), 6, { seed: 1, minSteps: 5 });
    const bytes = serializeModel(model);
    expect(() => deserializeModel(new Uint8Array([1, 2, 3]))).toThrow('not an Alder model');
    expect(() => deserializeModel(bytes.subarray(0, bytes.length - 4))).toThrow(/bytes/);
  });
});
