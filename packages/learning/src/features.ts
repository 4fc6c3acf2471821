import { fmix32 } from './rng';
import { tokenize } from './tokenize';

/** How text becomes hashed feature ids; recorded in every model so inference matches training. */
export interface FeatureConfig {
  /** Number of hash buckets, i.e. rows of the embedding table. */
  readonly buckets: number;
  /** Longest word n-gram: 1 for unigrams only, 2 adds bigrams. */
  readonly wordNgrams: number;
  /** Shortest character n-gram taken inside `<token>`. */
  readonly charNgramMin: number;
  /** Longest character n-gram; 0 turns character n-grams off. */
  readonly charNgramMax: number;
  /** 'word': n-grams inside each `<token>`; 'text': across the whole text, spaces included. */
  readonly charNgramScope: 'word' | 'text';
  /**
   * Characters of a text that are featurised, from its start; 0 for all. A text's work in
   * training and scoring grows with its length (30 texts of 200,000 characters kept a trainer busy
   * for 19 minutes): past this, more of a text adds time, not signal.
   */
  readonly maxTextChars: number;
}

/** The featurised part of a text in new models (models trained before it have no limit: 0). */
export const MAX_TEXT_CHARS = 10_000;

/**
 * Word 1-2-grams and character 2-4-grams across the text in 2^18 buckets. Text scope beat
 * within-word n-grams on the held-out part of train for trec, subj and chnsenticorp (Chinese
 * gains most: n-grams spanning segmenter boundaries repair segmentation errors).
 */
export const DEFAULT_FEATURE_CONFIG: FeatureConfig = Object.freeze({
  buckets: 1 << 18,
  wordNgrams: 2,
  charNgramMin: 2,
  charNgramMax: 4,
  charNgramScope: 'text',
  maxTextChars: MAX_TEXT_CHARS,
});

/** Fills in defaults and rejects configurations that cannot hash into a table. */
export function resolveFeatureConfig(partial: Partial<FeatureConfig> = {}): FeatureConfig {
  const cfg = { ...DEFAULT_FEATURE_CONFIG, ...partial };
  const ok =
    Number.isInteger(cfg.buckets) && cfg.buckets >= 1 && cfg.buckets <= 2 ** 26 &&
    Number.isInteger(cfg.wordNgrams) && cfg.wordNgrams >= 1 &&
    Number.isInteger(cfg.charNgramMin) && Number.isInteger(cfg.charNgramMax) &&
    cfg.charNgramMin >= 1 && (cfg.charNgramScope === 'word' || cfg.charNgramScope === 'text') && (cfg.charNgramMax === 0 || cfg.charNgramMax >= cfg.charNgramMin) &&
    Number.isInteger(cfg.maxTextChars) && cfg.maxTextChars >= 0;
  if (!ok) throw new RangeError(`invalid feature config ${JSON.stringify(cfg)}`);
  return Object.freeze(cfg);
}

// Distinct FNV offset bases per feature kind, so the word "ab" and the character bigram "ab"
// land in unrelated buckets.
const WORD_SEED = 0x811c9dc5;
const CHAR_SEED = 0x050c5d1f;
const FNV_PRIME = 0x01000193;
const BOUNDARY_START = 0x3c; // '<'
const BOUNDARY_END = 0x3e; // '>'

// fmix32 (murmur3's finaliser) after FNV-1a: FNV over UTF-16 units mixes high bits poorly.

function hashToken(token: string): number {
  let h = WORD_SEED;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/** A growable buffer of bucket ids, reused across calls (featurize is synchronous). */
let scratch = new Uint32Array(4096);
let used = 0;
function push(id: number): void {
  if (used === scratch.length) {
    const bigger = new Uint32Array(scratch.length * 2);
    bigger.set(scratch);
    scratch = bigger;
  }
  scratch[used++] = id;
}

/** Bucket of a mixed hash: a mask when the bucket count is a power of two (the same value). */
const bucketOf = (h: number, buckets: number) => ((buckets & (buckets - 1)) === 0 ? (h & (buckets - 1)) >>> 0 : h % buckets);

/** Character n-grams of `<token>`, hashed incrementally so no substring is ever allocated. */
function addCharNgrams(token: string, cfg: FeatureConfig): void {
  const n = token.length + 2;
  const units = new Uint16Array(n);
  units[0] = BOUNDARY_START;
  units[n - 1] = BOUNDARY_END;
  for (let i = 0; i < token.length; i++) units[i + 1] = token.charCodeAt(i);
  const { charNgramMin, charNgramMax, buckets } = cfg;
  for (let start = 0; start < n; start++) {
    let h = CHAR_SEED;
    const end = Math.min(n, start + charNgramMax);
    for (let i = start; i < end; i++) {
      h = Math.imul(h ^ units[i], FNV_PRIME);
      // A bare "<" or ">" (only possible with charNgramMin 1) would be in every text.
      if (i - start + 1 >= charNgramMin && !(i === start && (i === 0 || i === n - 1))) push(bucketOf(fmix32(h), buckets));
    }
  }
}

/** An opt-in memo of featurize's results, keyed by feature config and text. */
interface FeatureMemo {
  readonly limit: number;
  readonly byConfig: Map<string, Map<string, Uint32Array>>;
  size: number;
}
let memo: FeatureMemo | null = null;

const configKey = (cfg: FeatureConfig) => `${cfg.buckets}/${cfg.wordNgrams}/${cfg.charNgramMin}/${cfg.charNgramMax}/${cfg.charNgramScope}/${cfg.maxTextChars}`;

/**
 * Makes featurize remember up to `limit` results in this thread (0 turns it off and frees them).
 * For callers that featurise the same texts over and over, such as the simulator, which trains,
 * scores and evaluates on one dataset every round; services leave it off, as their pools are
 * too large to keep. featurize is a pure function, so a remembered result is the same array
 * content it would compute; callers must not write into the arrays it returns.
 */
export function memoizeFeatures(limit: number): void {
  memo = limit > 0 ? { limit, byConfig: new Map(), size: 0 } : null;
}

/**
 * Hashes a text into the sorted, de-duplicated bucket ids of its word n-grams and character
 * n-grams (remembered when memoizeFeatures is on). See computeFeatures.
 */
export function featurize(text: string, cfg: FeatureConfig = DEFAULT_FEATURE_CONFIG): Uint32Array {
  if (!memo) return computeFeatures(text, cfg);
  const key = configKey(cfg);
  let texts = memo.byConfig.get(key);
  if (!texts) memo.byConfig.set(key, (texts = new Map()));
  let ids = texts.get(text);
  if (!ids) {
    ids = computeFeatures(text, cfg);
    // Past the limit, start over rather than track recency: the simulator's working set fits.
    if (memo.size >= memo.limit) {
      memo.byConfig.forEach((m) => m.clear());
      memo.size = 0;
    }
    texts.set(text, ids);
    memo.size++;
  }
  return ids;
}

/**
 * Hashes a text into the sorted, de-duplicated bucket ids of its word n-grams and character
 * n-grams. Presence rather than counts: texts here are short, repeats add little, and a set
 * keeps the pooled embedding from being dominated by one repeated word in long texts.
 */
function computeFeatures(text: string, cfg: FeatureConfig): Uint32Array {
  const tokens = tokenize(cfg.maxTextChars > 0 && text.length > cfg.maxTextChars ? text.slice(0, cfg.maxTextChars) : text);
  const hashes = tokens.map(hashToken);
  used = 0;
  for (let i = 0; i < tokens.length; i++) {
    let h = hashes[i];
    push(bucketOf(fmix32(h), cfg.buckets));
    // An n-gram's hash chains the token hashes, multiplying before mixing in the next one so
    // that "a b" and "b a" differ (a plain XOR of the two would not).
    for (let k = 1; k < cfg.wordNgrams && i + k < tokens.length; k++) {
      h = Math.imul(h, FNV_PRIME) ^ hashes[i + k];
      push(bucketOf(fmix32(h + k), cfg.buckets));
    }
    if (cfg.charNgramMax > 0 && cfg.charNgramScope === 'word') addCharNgrams(tokens[i], cfg);
  }
  if (cfg.charNgramMax > 0 && cfg.charNgramScope === 'text' && tokens.length > 0) addCharNgrams(tokens.join(' '), cfg);
  const sorted = scratch.subarray(0, used).sort();
  let w = 0;
  for (let r = 0; r < sorted.length; r++) if (r === 0 || sorted[r] !== sorted[r - 1]) sorted[w++] = sorted[r];
  return sorted.slice(0, w);
}
