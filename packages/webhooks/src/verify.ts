import { timingSafeEqual } from 'node:crypto';
import { bodyText } from './body';
import { WebhookVerificationError } from './errors';
import { signerFor } from './secret';

/** The specification's default: a message more than five minutes off the receiver's clock is refused. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Headers as Node (`IncomingHttpHeaders`, names lowercase) or fetch (`Headers`) give them. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface VerifyInput {
  /**
   * The secrets a valid message may be signed with: the current one and, during a rotation's
   * overlap, the previous one. Any signature matching any of them passes.
   */
  secrets: readonly string[];
  headers: HeaderSource;
  /** The body exactly as received: verify before parsing it. */
  rawBody: string | Uint8Array;
  /** The receiver's clock (default: now). */
  now?: Date;
  toleranceSeconds?: number;
}

export interface VerifiedWebhook {
  /** `webhook-id`: the message id, to refuse replays of. */
  id: string;
  timestamp: Date;
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = name in record ? name : Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  // A repeated header is ambiguous (which id, which time?): treated as missing.
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Whole seconds, as the specification writes them; a bound far beyond any real date keeps Date arithmetic exact. */
const SECONDS = /^[0-9]{1,12}$/;

/**
 * Verifies a Standard Webhooks message and returns its id and time, or throws a
 * `WebhookVerificationError` naming the first check that failed: the secrets (`bad-secret`), the
 * headers (`missing-headers`, also for a timestamp that is not whole seconds or an id with a "."), the time
 * (`timestamp-too-old`, `timestamp-too-new`), then the signatures (`bad-signature`). The checks
 * before the signature depend on the message alone, not on which secret is right.
 */
export function verifyWebhook({ secrets, headers, rawBody, now = new Date(), toleranceSeconds = DEFAULT_TOLERANCE_SECONDS }: VerifyInput): VerifiedWebhook {
  if (secrets.length === 0) throw new WebhookVerificationError('bad-secret', 'no secret to verify with');
  const signers = secrets.map(signerFor);
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) throw new WebhookVerificationError('missing-headers', 'webhook-id, webhook-timestamp and webhook-signature are all required');
  if (!SECONDS.test(timestampText)) throw new WebhookVerificationError('missing-headers', 'webhook-timestamp is not a Unix time in whole seconds');
  // The specification: ids must not hold a full stop, which would make "id.timestamp.body" ambiguous.
  if (id.includes('.')) throw new WebhookVerificationError('missing-headers', 'webhook-id must not contain "."');
  const seconds = Number(timestampText);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (nowSeconds - seconds > toleranceSeconds) throw new WebhookVerificationError('timestamp-too-old', `webhook-timestamp is more than ${toleranceSeconds} s in the past`);
  if (seconds - nowSeconds > toleranceSeconds) throw new WebhookVerificationError('timestamp-too-new', `webhook-timestamp is more than ${toleranceSeconds} s in the future`);
  const timestamp = new Date(seconds * 1000);
  const text = bodyText(rawBody);
  const expected = signers.map((signer) => Buffer.from(signer.sign(id, timestamp, text)));
  // Space-separated `version,signature` pairs; versions other than v1 (v1a: asymmetric) are not ours to check.
  const offered = signatures.split(' ').filter((s) => s.startsWith('v1,')).map((s) => Buffer.from(s));
  const matches = offered.some((signature) => expected.some((want) => want.length === signature.length && timingSafeEqual(want, signature)));
  if (!matches) throw new WebhookVerificationError('bad-signature', 'no signature matches');
  return { id, timestamp };
}
