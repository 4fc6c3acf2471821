import type { ProblemFieldError } from './problem';

const MAX_LISTED = 100;

/**
 * How deep a JSON value may nest. V8 parses any depth, but what walks a value afterwards
 * recursively does not (JSON.stringify on the way into a jsonb column overflowed the stack at a
 * few thousand levels: a 500); no item's `meta` needs more than a few levels.
 */
export const MAX_JSON_DEPTH = 100;

/** More opening brackets than MAX_JSON_DEPTH (anchored: one linear pass). */
const MANY_BRACKETS = new RegExp(`^(?:[^[{]*[[{]){${MAX_JSON_DEPTH + 1}}`);
/** A number literal that may be past a double: a three-digit exponent, or 309 digits. */
const HUGE_NUMBER = /\d[eE]\+?\d{3}|\d{309}/;

/**
 * Whether JSON text may parse into something unstorableStrings refuses; when not, walking the
 * parsed value can be skipped (the NDJSON reader's fast path). Only a `\u` escape puts a NUL or
 * a lone surrogate into a parsed value (JSON refuses raw control characters; a strict UTF-8
 * decoder refuses encoded surrogates); only a huge literal parses as Infinity; only many
 * brackets nest deep.
 */
export function mayHoldUnstorable(jsonText: string): boolean {
  return jsonText.includes('\\u') || HUGE_NUMBER.test(jsonText) || MANY_BRACKETS.test(jsonText);
}

/** A high surrogate without its low half, or a low one without its high half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (text: string) => !LONE_SURROGATE.test(text);

/**
 * Text that holds what a client sent (a JSON pointer naming the client's key, a reason quoting
 * a value), made storable: each NUL and lone surrogate written as its JSON escape (`\u0000`,
 * `\ud800`), so the record says what was sent and Postgres takes it.
 */
export function escapeUnstorable(text: string): string {
  return text.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Why Postgres can not store a string as sent (a NUL, a lone surrogate), or null when it can. */
export function unstorableReason(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain a NUL character (\\u0000)';
  if (!wellFormed(text)) return 'must not contain a lone UTF-16 surrogate';
  return null;
}

/**
 * Where a parsed JSON body holds a string Postgres can not store as sent: a NUL character (text
 * columns refuse it) or a lone UTF-16 surrogate (UTF-8 has no form for it; the driver would
 * silently write U+FFFD instead). Keys are checked too: `meta` keeps them. So are numbers: JSON
 * can write one past what a double holds (`1e400`), which parses as Infinity and would be
 * stored in free-form JSON (`meta`) as null. And nesting past MAX_JSON_DEPTH (the walk stops
 * there, so it never recurses deeper itself). Paths are JSON pointers under `body`.
 */
export function unstorableStrings(value: unknown, path = 'body', found: ProblemFieldError[] = [], depth = 0): ProblemFieldError[] {
  if (found.length >= MAX_LISTED) return found;
  if (depth > MAX_JSON_DEPTH) {
    found.push({ path, message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` });
    return found;
  }
  if (typeof value === 'string') {
    const reason = unstorableReason(value);
    if (reason) found.push({ path, message: reason });
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) found.push({ path, message: 'must be a finite number (a double holds up to about 1.8e308)' });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => unstorableStrings(item, `${path}/${i}`, found, depth + 1));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const pointer = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (key.includes('\u0000') || !wellFormed(key)) found.push({ path: pointer, message: 'the key must not contain a NUL character or a lone surrogate' });
      unstorableStrings(item, pointer, found, depth + 1);
    }
  }
  return found;
}
