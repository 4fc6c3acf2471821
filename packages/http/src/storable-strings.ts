import type { ProblemFieldError } from './problem';

const MAX_LISTED = 100;

/** A high surrogate without its low half, or a low one without its high half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (text: string) => !LONE_SURROGATE.test(text);

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
 * stored in free-form JSON (`meta`) as null. Paths are JSON pointers under `body`.
 */
export function unstorableStrings(value: unknown, path = 'body', found: ProblemFieldError[] = []): ProblemFieldError[] {
  if (found.length >= MAX_LISTED) return found;
  if (typeof value === 'string') {
    const reason = unstorableReason(value);
    if (reason) found.push({ path, message: reason });
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) found.push({ path, message: 'must be a finite number (a double holds up to about 1.8e308)' });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => unstorableStrings(item, `${path}/${i}`, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const pointer = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (key.includes('\u0000') || !wellFormed(key)) found.push({ path: pointer, message: 'the key must not contain a NUL character or a lone surrogate' });
      unstorableStrings(item, pointer, found);
    }
  }
  return found;
}
