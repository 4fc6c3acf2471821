import { readFileSync } from 'node:fs';
import { createRng } from './rng';
import { asciiTokens, isAscii, segmentAscii } from './tokenize-ascii';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
const reference = (text: string) => Array.from(segmenter.segment(text), (s) => s.segment);

describe('segmentAscii', () => {
  it('splits like Intl.Segmenter on the cases the rules single out', () => {
    for (const text of [
      "don't stop", 'e.g. this', '3.14 and 1,000,000;2', 'a1b2 c_d _x x_ __', 'a:b', "rock'n'roll", "'quoted'",
      'end.', 'U.S.A.', '1.a', 'a.1', '..a..', 'x\r\ny', 'x\n\ny', 'tab\tsep', '  two  spaces ', '!!?', 'mail@host.com', '$100', '#tag',
      '', 'a', ' ', "a'", "'a", '1,', ',1',
    ]) {
      expect(segmentAscii(text)).toEqual(reference(text));
    }
  });

  it('matches Intl.Segmenter on random strings over letters, digits and every joiner', () => {
    const joiners = "aZ09.,;:'_ ";
    const everything = joiners + "\t\r\n\"-!?@$%&()/\\|+=<>`~^*#\x0b\x0c\x1f\x7f";
    const rng = createRng(7);
    for (let t = 0; t < 10_000; t++) {
      const alphabet = t % 2 ? joiners : everything;
      const length = 1 + Math.floor(rng() * 12);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(rng() * alphabet.length)];
      expect(segmentAscii(text)).toEqual(reference(text));
    }
  });

  it('matches Intl.Segmenter on every ASCII text of the shared datasets', () => {
    let checked = 0;
    for (const name of ['trec', 'sms_spam', 'subj', 'mr']) {
      for (const line of readFileSync(`../shared/datasets/${name}/train.jsonl`, 'utf8').trim().split('\n')) {
        const text = (JSON.parse(line) as { text: string }).text.toLowerCase();
        if (!isAscii(text)) continue;
        checked++;
        const ours = segmentAscii(text);
        const theirs = reference(text);
        if (ours.length !== theirs.length || ours.some((s, i) => s !== theirs[i])) expect({ text, ours }).toEqual({ text, ours: theirs });
      }
    }
    expect(checked).toBeGreaterThan(20_000);
  });

  it('drops exactly the whitespace segments for tokens', () => {
    const rng = createRng(11);
    const alphabet = "ab1 .,'\t\r\n\x0b\x0c\x1f!";
    for (let t = 0; t < 2000; t++) {
      let text = '';
      for (let i = 0; i < 10; i++) text += alphabet[Math.floor(rng() * alphabet.length)];
      expect(asciiTokens(text)).toEqual(reference(text).filter((s) => !/^\s+$/u.test(s)));
    }
  });

  it('tells ASCII from other text', () => {
    expect(isAscii('plain text, 100%')).toBe(true);
    expect(isAscii('café')).toBe(false);
    expect(isAscii('房间')).toBe(false);
  });
});
