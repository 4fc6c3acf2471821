import { asciiTokens, isAscii } from './tokenize-ascii';

// One segmenter for the process: constructing one loads ICU break rules, which costs far more
// than segmenting a sentence. The root locale still applies ICU's dictionary-based breaking to
// Chinese, Japanese, Thai, Khmer and Lao, so no per-language setup is needed.
const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/** A whitespace-only segment: never a token. */
const SPACE = /^\s+$/u;

/**
 * Splits text into lower-cased, NFKC-normalised tokens with `Intl.Segmenter` word boundaries.
 *
 * Punctuation and symbols are kept as their own tokens (not only word-like segments): "!" and
 * "£" carry signal in spam and sentiment, and the classifier learns to ignore them where not.
 */
export function tokenize(text: string): string[] {
  // ASCII needs neither NFKC nor ICU: the same segments, several times faster.
  if (isAscii(text)) return asciiTokens(text.toLowerCase());
  // NFKC first so full-width Latin, ligatures and compatibility CJK forms hash like their
  // plain forms; lower-casing after, since NFKC can produce upper-case letters.
  const normalized = text.normalize('NFKC').toLowerCase();
  const tokens: string[] = [];
  for (const { segment } of segmenter.segment(normalized)) {
    if (!SPACE.test(segment)) tokens.push(segment);
  }
  return tokens;
}
