import { DEFAULT_FEATURE_CONFIG, featurize, resolveFeatureConfig } from './features';
import { tokenize } from './tokenize';

describe('tokenize', () => {
  it('lower-cases, applies NFKC and keeps punctuation as tokens', () => {
    expect(tokenize('Ｈｅｌｌｏ,  WORLD!')).toEqual(['hello', ',', 'world', '!']);
    expect(tokenize('ﬁne')).toEqual(['fine']); // the fi ligature
  });

  it('segments scripts written without spaces', () => {
    expect(tokenize('房间很大，整体感觉经济实惠不错').length).toBeGreaterThan(5);
    expect(tokenize('東京都に住んでいます').length).toBeGreaterThan(3);
    expect(tokenize('ภาษาไทยง่ายนิดเดียว').length).toBeGreaterThan(2);
  });

  it('returns nothing for blank text', () => {
    expect(tokenize('  \n\t ')).toEqual([]);
  });
});

describe('featurize', () => {
  const cfg = DEFAULT_FEATURE_CONFIG;

  it('returns sorted, distinct bucket ids within range', () => {
    const ids = featurize('What is the capital of France ? What is it ?', cfg);
    expect(ids.length).toBeGreaterThan(20);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
    expect(Math.max(...ids)).toBeLessThan(cfg.buckets);
  });

  it('is deterministic and normalises before hashing', () => {
    expect(featurize('Hello World', cfg)).toEqual(featurize('hello world', cfg));
    expect(featurize('ＡＢＣ', cfg)).toEqual(featurize('abc', cfg));
  });

  it('tells word order apart through bigrams', () => {
    const unigramsOnly = resolveFeatureConfig({ wordNgrams: 1, charNgramMax: 0 });
    expect(featurize('dog bites man', unigramsOnly)).toEqual(featurize('man bites dog', unigramsOnly));
    const words = resolveFeatureConfig({ charNgramMax: 0 });
    expect(featurize('dog bites man', words)).not.toEqual(featurize('man bites dog', words));
  });

  it('shares character n-grams between related words', () => {
    const chars = resolveFeatureConfig({ wordNgrams: 1 });
    const a = new Set(featurize('running', chars));
    const shared = [...featurize('runner', chars)].filter((id) => a.has(id));
    expect(shared.length).toBeGreaterThan(3);
  });

  it('gives empty text no features', () => {
    expect(featurize('', cfg).length).toBe(0);
  });

  it('takes character n-grams across words in text scope', () => {
    const word = resolveFeatureConfig({ charNgramScope: 'word' });
    const text = resolveFeatureConfig({ charNgramScope: 'text' });
    expect(featurize('ab cd', text)).not.toEqual(featurize('ab cd', word));
  });
});

describe('resolveFeatureConfig', () => {
  it('fills defaults and rejects impossible settings', () => {
    expect(resolveFeatureConfig({ buckets: 1024 }).wordNgrams).toBe(DEFAULT_FEATURE_CONFIG.wordNgrams);
    expect(() => resolveFeatureConfig({ buckets: 0 })).toThrow(RangeError);
    expect(() => resolveFeatureConfig({ charNgramMin: 4, charNgramMax: 2 })).toThrow(RangeError);
  });
});
