import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WebhookVerificationError } from './errors';

/** The prefix Standard Webhooks secrets carry, so that one is recognisable wherever it is pasted. */
export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` and the base64 of 32 random bytes (the key length of HMAC-SHA256). */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * The reference library's signer for a secret (`whsec_<base64>`, or bare base64 as the library
 * also takes). An empty or non-base64 secret is the verifier's or sender's own misconfiguration,
 * not the message's fault: `bad-secret`.
 */
export function signerFor(secret: string): Webhook {
  try {
    return new Webhook(secret);
  } catch (error) {
    throw new WebhookVerificationError('bad-secret', `the secret is not a Standard Webhooks secret (${(error as Error).message})`);
  }
}
