import { readFileSync } from 'node:fs';
import { DEFAULT_FEATURE_CONFIG, featurize, memoizeFeatures, resolveFeatureConfig, type FeatureConfig } from './features';
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

  it('keeps Devanagari words whole, combining vowel signs included', () => {
    expect(tokenize('मुझे यह होटल बहुत पसंद आया।')).toEqual(['मुझे', 'यह', 'होटल', 'बहुत', 'पसंद', 'आया', '।']);
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

  it('featurises a long text up to maxTextChars characters (0: all of it)', () => {
    const long = `${'the first part of a long document, '.repeat(400)}and then something else entirely at the end`;
    const capped = resolveFeatureConfig({ maxTextChars: 1000 });
    expect(featurize(long, capped)).toEqual(featurize(long.slice(0, 1000), capped));
    const whole = resolveFeatureConfig({ maxTextChars: 0 });
    expect(featurize(long, whole)).not.toEqual(featurize(long.slice(0, 1000), whole));
    expect(DEFAULT_FEATURE_CONFIG.maxTextChars).toBe(10_000);
    expect(() => resolveFeatureConfig({ maxTextChars: -1 })).toThrow(RangeError);
  });

  it('takes character n-grams across words in text scope', () => {
    const word = resolveFeatureConfig({ charNgramScope: 'word' });
    const text = resolveFeatureConfig({ charNgramScope: 'text' });
    expect(featurize('ab cd', text)).not.toEqual(featurize('ab cd', word));
  });
});

describe('memoizeFeatures', () => {
  afterEach(() => memoizeFeatures(0));

  it('remembers results per config and text, and gives what featurize computes', () => {
    const words = resolveFeatureConfig({ charNgramMax: 0 });
    const plain = [featurize('Who wrote Hamlet ?'), featurize('Who wrote Hamlet ?', words)];
    memoizeFeatures(10);
    const first = featurize('Who wrote Hamlet ?');
    expect(featurize('Who wrote Hamlet ?')).toBe(first);
    expect(first).toEqual(plain[0]);
    // Another config of the same text is its own entry, not the first one's ids.
    expect(featurize('Who wrote Hamlet ?', words)).toEqual(plain[1]);
    expect(featurize('Who wrote Hamlet ?', resolveFeatureConfig({ charNgramMax: 0 }))).toBe(featurize('Who wrote Hamlet ?', words));
  });

  it('starts over past its limit and stops remembering when turned off', () => {
    memoizeFeatures(2);
    const a = featurize('alpha');
    featurize('beta');
    expect(featurize('alpha')).toBe(a);
    featurize('gamma'); // third entry: the memo is cleared first
    expect(featurize('alpha')).not.toBe(a);
    expect(featurize('alpha')).toEqual(a);
    memoizeFeatures(0);
    expect(featurize('beta')).not.toBe(featurize('beta'));
  });
});

describe('resolveFeatureConfig', () => {
  it('fills defaults and rejects impossible settings', () => {
    expect(resolveFeatureConfig({ buckets: 1024 }).wordNgrams).toBe(DEFAULT_FEATURE_CONFIG.wordNgrams);
    expect(() => resolveFeatureConfig({ buckets: 0 })).toThrow(RangeError);
    expect(() => resolveFeatureConfig({ charNgramMin: 4, charNgramMax: 2 })).toThrow(RangeError);
  });
});

describe('featurize against its plain reference', () => {
  // The straightforward version the optimised featurize must equal id for id: number[] pushes,
  // a closure per character, modulo buckets.
  const fmix = (h: number) => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  function reference(text: string, cfg: FeatureConfig): number[] {
    const tokens = tokenize(text);
    const hashes = tokens.map((t) => {
      let h = 0x811c9dc5;
      for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193);
      return h >>> 0;
    });
    const ids: number[] = [];
    const chars = (token: string) => {
      const n = token.length + 2;
      const unit = (i: number) => (i === 0 ? 0x3c : i === n - 1 ? 0x3e : token.charCodeAt(i - 1));
      for (let start = 0; start < n; start++) {
        let h = 0x050c5d1f;
        for (let i = start; i < Math.min(n, start + cfg.charNgramMax); i++) {
          h = Math.imul(h ^ unit(i), 0x01000193);
          if (i - start + 1 >= cfg.charNgramMin && !(i === start && (i === 0 || i === n - 1))) ids.push(fmix(h) % cfg.buckets);
        }
      }
    };
    for (let i = 0; i < tokens.length; i++) {
      let h = hashes[i];
      ids.push(fmix(h) % cfg.buckets);
      for (let k = 1; k < cfg.wordNgrams && i + k < tokens.length; k++) {
        h = Math.imul(h, 0x01000193) ^ hashes[i + k];
        ids.push(fmix(h + k) % cfg.buckets);
      }
      if (cfg.charNgramMax > 0 && cfg.charNgramScope === 'word') chars(tokens[i]);
    }
    if (cfg.charNgramMax > 0 && cfg.charNgramScope === 'text' && tokens.length > 0) chars(tokens.join(' '));
    return [...new Set(ids)].sort((a, b) => a - b);
  }

  it('gives the same ids on real texts in every script, for several configurations', () => {
    const texts = ['trec', 'sms_spam', 'chnsenticorp_htl'].flatMap((name) =>
      readFileSync(`../shared/datasets/${name}/test.jsonl`, 'utf8').trim().split('\n').slice(0, 300).map((l) => (JSON.parse(l) as { text: string }).text),
    );
    texts.push('', '   ', 'x', 'a'.repeat(5000));
    const configs = [
      DEFAULT_FEATURE_CONFIG,
      resolveFeatureConfig({ buckets: 1_000_003, charNgramScope: 'word', charNgramMin: 1, charNgramMax: 5, wordNgrams: 3 }),
      resolveFeatureConfig({ buckets: 1 << 10, charNgramMax: 0 }),
    ];
    for (const cfg of configs) for (const text of texts) expect(Array.from(featurize(text, cfg))).toEqual(reference(text, cfg));
  });
});
