const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Percent-encodes text for a path segment or a query value, as encodeURIComponent does, except
 * that a lone surrogate (which encodeURIComponent throws on) is written as the three bytes UTF-8
 * would give it were it allowed (`%ED%A0%80`): what a careless client sends, and not UTF-8.
 */
export function percentEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
    } else {
      const char = text[i]!;
      out += UNRESERVED.test(char) ? char : encodeURIComponent(char);
    }
  }
  return out;
}
