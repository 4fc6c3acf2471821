import { WebhookVerificationError } from './errors';

// fatal: bytes that are not UTF-8 throw instead of turning into U+FFFD; ignoreBOM: a leading BOM
// is kept as a character instead of being dropped. Both make text -> bytes give back exactly the
// bytes that arrived, so signing the text signs the raw body.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as the text that is signed. The reference libraries sign a body's UTF-8 text (they
 * decode a Buffer first), so bytes that are not UTF-8 have no signature every library agrees on,
 * and none is accepted for them.
 */
export function bodyText(body: string | Uint8Array): string {
  if (typeof body === 'string') return body;
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new WebhookVerificationError('bad-signature', 'the body is not UTF-8 text');
  }
}
