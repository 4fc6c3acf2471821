import { bodyText } from './body';
import { signerFor } from './secret';

/** The three headers of a signed message, named as the Standard Webhooks specification names them. */
// A type, not an interface: it is then a plain header record, as verifyWebhook and fetch take one.
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export interface SignInput {
  /** `whsec_<base64>`. */
  secret: string;
  /** The message id: unique per message, the same on every retry of it (receivers dedupe by it). */
  id: string;
  /** When this attempt is sent (a retry is signed anew with its own time); whole seconds are signed. */
  timestamp: Date;
  /** The exact body that will be sent. */
  body: string | Uint8Array;
}

/** Signs a message: `webhook-signature` is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export function signWebhook({ secret, id, timestamp, body }: SignInput): WebhookHeaders {
  // Receivers refuse such ids (verifyWebhook does): a full stop would make "id.timestamp.body" ambiguous.
  if (id === '' || id.includes('.')) throw new RangeError('a webhook id is not empty and holds no "."');
  const seconds = Math.floor(timestamp.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signerFor(secret).sign(id, new Date(seconds * 1000), bodyText(body)),
  };
}
