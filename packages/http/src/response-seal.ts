import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const INFO = 'alder idempotency answer v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The AES key of one API key's kept answers. Derived from the plain API key, which Alder never
 * stores (api_keys holds its SHA-256, which this HKDF does not reduce to): whoever reads the
 * database can not read the answers, among them a created API key's plain key.
 */
function keyOf(apiKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', apiKey, Buffer.alloc(0), INFO, 32));
}

/**
 * Seals an answer's body for storing: AES-256-GCM, nonce and tag first. `context` (the
 * operation and the Idempotency-Key) is authenticated too, so a body moved to another row does
 * not open.
 */
export function sealAnswer(apiKey: string, context: string, body: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(apiKey), nonce);
  cipher.setAAD(Buffer.from(context));
  const sealed = Buffer.concat([cipher.update(body), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), sealed]);
}

/** Opens what `sealAnswer` sealed with the same API key and context; throws on anything else. */
export function openAnswer(apiKey: string, context: string, sealed: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', keyOf(apiKey), sealed.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(sealed.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]);
}
