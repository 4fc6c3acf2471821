// Word segmentation of ASCII-only text without Intl.Segmenter: the Unicode word-boundary rules
// (UAX #29) as ICU's root locale applies them, restricted to the 128 ASCII characters. Segmenter
// costs about half of featurisation, and most pools (English) are pure ASCII; this gives the
// very same segments several times faster. tokenize-ascii.test.ts checks it against
// Intl.Segmenter on every shared dataset and on random strings over the characters that matter.

const OTHER = 0;
const LETTER = 1; // ALetter
const DIGIT = 2; // Numeric
const MID_LETTER = 3; // MidLetter ':': joins letters only ("a:b" is one word, as Node's ICU has it)
const MID_NUM_LET = 4; // MidNumLet '.' and Single_Quote "'": join letters and digits alike
const MID_NUM = 5; // MidNum ',' ';': join digits only
const EXTEND_NUM_LET = 6; // '_'
const SPACE = 7; // WSegSpace ' '
const NEWLINE = 8; // CR, LF, VT, FF: always a boundary on both sides (CR LF stays together)

const CLASS = new Uint8Array(128);
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = LETTER;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = LETTER;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT;
CLASS[0x3a] = MID_LETTER;
CLASS[0x2e] = MID_NUM_LET;
CLASS[0x27] = MID_NUM_LET;
CLASS[0x2c] = MID_NUM;
CLASS[0x3b] = MID_NUM;
CLASS[0x5f] = EXTEND_NUM_LET;
CLASS[0x20] = SPACE;
for (const c of [0x0a, 0x0b, 0x0c, 0x0d]) CLASS[c] = NEWLINE;

const isAlnum = (c: number) => c === LETTER || c === DIGIT;

/** Whether `text` is all ASCII, so `segmentAscii` applies. */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Whether there is no word boundary between positions i - 1 and i (0 < i < length). */
function joins(cls: Uint8Array, i: number): boolean {
  const before = cls[i - 1];
  const after = cls[i];
  if (before === NEWLINE || after === NEWLINE) return false; // WB3a, WB3b (CR LF: see segmentAscii)
  if (before === SPACE && after === SPACE) return true; // WB3d
  if (isAlnum(before) && isAlnum(after)) return true; // WB5, WB8, WB9, WB10
  if (after === EXTEND_NUM_LET && (isAlnum(before) || before === EXTEND_NUM_LET)) return true; // WB13a
  if (before === EXTEND_NUM_LET && isAlnum(after)) return true; // WB13b
  // WB6/WB7: letter (MidLetter | MidNumLet) letter; WB11/WB12: digit (MidNum | MidNumLet) digit.
  const next = cls[i + 1];
  const prev = i >= 2 ? cls[i - 2] : OTHER;
  if (before === LETTER && next === LETTER && (after === MID_LETTER || after === MID_NUM_LET)) return true;
  if (prev === LETTER && after === LETTER && (before === MID_LETTER || before === MID_NUM_LET)) return true;
  if (before === DIGIT && next === DIGIT && (after === MID_NUM || after === MID_NUM_LET)) return true;
  if (prev === DIGIT && after === DIGIT && (before === MID_NUM || before === MID_NUM_LET)) return true;
  return false;
}

/** Intl.Segmenter's word segments of an ASCII string, in order (whitespace runs included). */
export function segmentAscii(text: string): string[] {
  return splitAscii(text, false);
}

// What JavaScript's \s matches in ASCII: a segment starting with one is all whitespace (spaces
// only join spaces, CR only LF, and tab is a segment of its own).
const WHITESPACE = new Uint8Array(128);
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]) WHITESPACE[c] = 1;

/** segmentAscii without the whitespace segments: tokenize's fast path. */
export function asciiTokens(text: string): string[] {
  return splitAscii(text, true);
}

function splitAscii(text: string, dropWhitespace: boolean): string[] {
  const n = text.length;
  const cls = new Uint8Array(n + 1);
  for (let i = 0; i < n; i++) cls[i] = CLASS[text.charCodeAt(i)];
  cls[n] = OTHER;
  const segments: string[] = [];
  let start = 0;
  for (let i = 1; i < n; i++) {
    const crlf = text.charCodeAt(i - 1) === 0x0d && text.charCodeAt(i) === 0x0a; // WB3
    if (crlf || joins(cls, i)) continue;
    if (!dropWhitespace || !WHITESPACE[text.charCodeAt(start)]) segments.push(text.slice(start, i));
    start = i;
  }
  if (n > 0 && (!dropWhitespace || !WHITESPACE[text.charCodeAt(start)])) segments.push(text.slice(start));
  return segments;
}
