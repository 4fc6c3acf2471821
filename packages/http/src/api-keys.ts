import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_PREFIX = 'alder_';
const SHOWN_PREFIX_LENGTH = KEY_PREFIX.length + 6;

/** The stored form of a key: SHA-256, hex. Keys are long random strings, so no salt is needed. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** `alder_` + 32 uniformly random base62 characters (about 190 bits). */
export function generateApiKey(): string {
  let out = KEY_PREFIX;
  while (out.length < KEY_PREFIX.length + 32) {
    for (const byte of randomBytes(48)) {
      // 248 = 4 * 62: rejecting the bytes above it keeps every character equally likely.
      if (byte < 248 && out.length < KEY_PREFIX.length + 32) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

/** The start of a key that is stored and shown so people can tell their keys apart. */
export function shownPrefix(key: string): string {
  return key.slice(0, SHOWN_PREFIX_LENGTH);
}
